// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: fusedops::attention, ONNX Attention (opsets 23-24) in fp32 on the CPU backends,
// as one flash-style pass over K and V (ops/attention/tile_loop.hpp): no Sq × Skv buffer, every
// mask fused into the tile loop, whole key blocks the causal rule, the window or the valid length
// remove are skipped. Validates, then runs impl_for<attention_op, backend> (default: the
// width-generic implementation in ops/attention/attention_generic.hpp). On device memory
// (backend::cuda, .cu TUs only) the same operator runs the FlashAttention-2-style kernels of
// arch/cuda/attention/ on fp32, fp16 or bf16 views, with device_attention_params and a stream.
//
// Example: Llama-style GQA prefill over [B, S, H·D] projections (no copies):
//   using namespace fusedops;
//   attention_params ap;  ap.is_causal = true;  ap.threads = threading::openmp(2);
//   status s = attention(split_heads(make_view(q, {B, S, 32 * 128}), 32),
//                        split_heads(make_view(k, {B, S, 8 * 128}), 8),
//                        split_heads(make_view(v, {B, S, 8 * 128}), 8),
//                        split_heads(make_view(y, {B, S, 32 * 128}), 32), ap);
//
// Score modifiers beyond ONNX (each costs nothing when absent): ALiBi slopes and attention sinks
// per head in attention_params, and a user score functor, FlexAttention's score_mod, as a
// template argument. Example: a T5-style relative-position bias, one learned value per head and
// log-spaced distance bucket (table: [Hq][32], bidirectional buckets):
//   struct t5_bias {
//     const float* table;  // [Hq][32]
//     float operator()(float s, index_t b, index_t h, index_t i, index_t j) const noexcept {
//       const index_t rel = j - i, n = rel < 0 ? -rel : rel, half = rel > 0 ? 16 : 0;
//       const index_t bucket = n < 8 ? n
//           : std::min<index_t>(15, 8 + index_t(std::log(n / 8.0) / std::log(128 / 8.0) * 8));
//       return s + table[h * 32 + half + bucket];
//     }
//   };
//   status s = attention(q, k, v, y, ap, t5_bias{table});
// (Query index i here is the row in q; add the causal offset yourself for absolute positions.)
//
// RoPE fused in (attention_params::rotary): a decode step over an engine's cache buffer, whose
// new key the call rotates in place at position P (the past length) while Q is rotated as read:
//   ap.past_key = kc.slice(2, 0, P);      ap.present_key = kc.slice(2, 0, P + 1);   (V alike)
//   ap.rotary.cos_cache = cos;  ap.rotary.sin_cache = sin;             // [max_pos, Dqk / 2]
//   attention(q, kc.slice(2, P, P + 1), vc.slice(2, P, P + 1), y, ap);
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "fusedops/core/cuda_stream.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/scratch.hpp"
#include "fusedops/ops/attention/attention_generic.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/attention/kv_cache.hpp"
#include "fusedops/ops/attention/masks.hpp"
#include "fusedops/ops/attention/qk_output.hpp"
#include "fusedops/ops/attention/rotary.hpp"

#if FUSEDOPS_HAS_CUDA
#include "fusedops/arch/cuda/attention.cuh"
#endif

namespace fusedops {

/// Default implementation on every CPU backend: the width-generic one.
template <class B>
struct impl_for<ops::attention_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::attention_generic<B>;
};

/// ONNX Attention (opsets 23-24), fp32, with score modifiers beyond ONNX:
///   x_ij = softcap(scale · Q[b,h,i,:]·K[b,h/G,j,:]) - slope_h·|pos_i - j|
///   s_ij = mask(score_mod(x_ij, b, h, i, j))
///   out[b, h, i, :] = Σ_j e^{s_ij} V[b,h/G,j,:] / (e^{sink_h} + Σ_j e^{s_ij})
/// (no sink: e^{sink} = 0, i.e. the softmax; no ALiBi: slope 0; no score_mod: the identity).
///
/// @tparam B  backend (default: the best this TU's flags enable).
/// @tparam ScoreMod  the score functor (FlexAttention's score_mod): called as
///            `float(float score, index_t batch, index_t head, index_t query, index_t key)` with
///            the score after scale, softcap and ALiBi (FlexAttention applies score_mod to the
///            scaled QKᵀ; softcap stays first so ONNX's order is kept), before the masks; query
///            is the row index in q (0..Sq-1; its absolute position is query + the causal offset),
///            key the index in K (0..Skv-1), head the query head. It must be noexcept, pure (the
///            same arguments give the same result) and thread-safe: it may run concurrently on
///            several threads, for each key the causal rule / window / valid length admit (also
///            for keys a float/bool mask then removes) and possibly more than once per (query,
///            key) in the qk_output pass. Returning -inf masks the key. no_score_mod (the
///            default) compiles to nothing.
/// @param q   ONNX input Q as [B, Hq, Sq, Dqk], any non-negative strides (ONNX's 3-D
///            [B, Sq, Hq·Dqk] through split_heads; the attribute q_num_heads is Hq).
/// @param k   ONNX input K as [B, Hkv, Skv, Dqk] (kv_num_heads = Hkv); Hq must be a multiple of
///            Hkv: G = Hq / Hkv query heads share a KV head (GQA; Hkv = 1 is MQA; query head h
///            uses KV head h / G, ONNX's repeat order). Keys past the valid length are never read.
/// @param v   ONNX input V as [B, Hkv, Skv, Dv]; Dv may differ from Dqk. Unit stride along Dv is
///            fastest (rows are read in place); other strides are packed per block.
/// @param out ONNX output Y as [B, Hq, Sq, Dv] (split_heads for 3-D), any non-overlapping strides;
///            must not overlap any input.
/// @param p   ONNX attributes scale, softcap, is_causal, qk_matmul_output_mode (qk_output_mode);
///            inputs attn_mask (float_mask / bool_mask, attention_mask_view), past_key /
///            past_value, nonpad_kv_seqlen; outputs present_key / present_value,
///            qk_matmul_output (qk_output); beyond ONNX: causal_offset, window_left /
///            window_right, alibi_slopes, sinks, rotary (RoPE on Q and the new K, fused:
///            ops/attention/rotary.hpp); threads, workspace (attention_workspace_size),
///            allow_allocation.
/// @param score_mod  the score functor (see ScoreMod).
/// @return ok; or an error naming the argument and the shapes, with every output untouched.
/// Semantics: causal alignment is bottom-right (query i sits at position i + Skv - Sq, or
/// i + nonpad_kv_seqlen[b] - Sq), as ONNX with past_key or nonpad_kv_seqlen; a query row with no
/// attendable key (every mask entry false / -inf, window empty, valid length 0), with or without
/// a sink, gives a zero row, never NaN; NaN in Q/K/V reaches the rows whose computed scores or
/// weighted values it enters. qk_output, when given, is written by a separate plain pass
/// (ops/attention/qk_output.hpp); the fused path never materialises scores.
/// Accuracy: fp32 FMAs (Q·K over Dqk, P·V over Skv, the running max/sum), exp within ~2 ulp;
/// tests bound the error by the derivation in tests/support/tolerance.hpp (ATTENTION).
template <class B = default_backend, class ScoreMod>
status attention(view<const float, 4> q, view<const float, 4> k, view<const float, 4> v,
                 view<float, 4> out, const attention_params& p,
                 const ScoreMod& score_mod) noexcept {
  static_assert(std::is_invocable_r_v<float, const ScoreMod&, float, index_t, index_t, index_t,
                                      index_t>,
                "attention: score_mod must be callable as float(float score, index_t batch, "
                "index_t head, index_t query, index_t key) const");
  require_backend<B, host_memory>();
  // KV cache (past/present): the kernel attends over present, written below once all checks pass.
  ops::kv_cache::resolved cache;
  FUSEDOPS_RETURN_IF_ERROR(ops::kv_cache::resolve(q, k, v, p, cache));
  ops::attention_problem pr;
  FUSEDOPS_RETURN_IF_ERROR(ops::attention_op::validate(q, cache.k, cache.v, out, p, pr));
  FUSEDOPS_RETURN_IF_ERROR(
      ops::attention_detail::check_rotary(k, cache.writes_present, cache.past_len, p, pr));
  if constexpr (B::is_cpu) {
    using impl = impl_for_t<ops::attention_op, B>;
    const auto pl = impl::make_plan(pr, p.threads.concurrency());
    const std::size_t need = static_cast<std::size_t>(pl.total_floats());
    const bool want_qk = !p.qk_output.empty();
    // need 0 (no output rows): only the cache and the debugging scores are written.
    return with_scratch("attention", p.workspace, p.allow_allocation, need, [&](float* ws) {
      ops::kv_cache::append<B>(k, v, p, cache, pr.rope, p.threads);
      if (need != 0) impl::run(pr, pl, ws, p.threads, score_mod);
      if (want_qk)
        ops::attention_detail::write_qk_output(pr, p.qk_output, p.qk_output_mode, score_mod,
                                               p.threads);
    });
  }
  return {};
}

/// attention without a score functor (score_mod = no_score_mod: nothing per score).
template <class B = default_backend>
status attention(view<const float, 4> q, view<const float, 4> k, view<const float, 4> v,
                 view<float, 4> out, const attention_params& p = {}) noexcept {
  return attention<B>(q, k, v, out, p, no_score_mod{});
}

/// Floats of workspace attention(q, k, v, out, p) needs with p's thread count; pass at least this
/// much in attention_params::workspace to make the call allocation-free. 0 for invalid arguments
/// (the call itself reports them).
template <class B = default_backend>
std::size_t attention_workspace_size(view<const float, 4> q, view<const float, 4> k,
                                     view<const float, 4> v, view<float, 4> out,
                                     const attention_params& p = {}) noexcept {
  ops::kv_cache::resolved cache;
  ops::attention_problem pr;
  if (!ops::kv_cache::resolve(q, k, v, p, cache).ok() ||
      !ops::attention_op::validate(q, cache.k, cache.v, out, p, pr).ok() ||
      !ops::attention_detail::check_rotary(k, cache.writes_present, cache.past_len, p, pr).ok())
    return 0;
  using impl = impl_for_t<ops::attention_op, B>;
  return caller_workspace_floats(
      static_cast<std::size_t>(impl::make_plan(pr, p.threads.concurrency()).total_floats()));
}

/// fusedops::attention on device memory: `attention<backend::cuda>(q, k, v, out, params,
/// stream)`, the same operator on fp32, fp16 or bf16 tensors (q, k, v, out all of one type).
///
/// Only usable in a .cu translation unit compiled by nvcc. fp16/bf16 with Dqk = Dv in {64, 128},
/// unit stride along D, other strides multiples of 8 and 16-byte aligned pointers run the
/// FlashAttention-2-style tensor-core kernel (mma.sync, sm_80+; fp32 accumulation, P rounded to
/// the input type before P·V, as FlashAttention does); everything else (fp32, other head sizes up
/// to Dv = 256, any strides) runs a SIMT kernel with fp32 arithmetic. Same semantics as the CPU
/// operator for the features of device_attention_params (causal with offset, windows, float and
/// bool masks, softcap, GQA/MQA, valid lengths; fully masked rows give 0). NaN in Q or K reaches
/// the rows whose scores it enters; on the tensor-core kernel NaN in V may also reach rows that
/// share the key tile but do not attend the key (0 · NaN in P·V).
/// @param p       device_attention_params; workspace per attention_workspace_size.
/// @param stream  the CUDA stream the kernels are enqueued on (nullptr: the default stream).
/// @return ok once enqueued (asynchronous), an argument error (nothing enqueued, out untouched),
///         errc::buffer_too_small for a too small workspace, errc::unsupported for shapes the
///         kernels do not cover, or errc::device_error if a launch failed. No allocation, no
///         synchronisation.
template <class B, class TQ, class TK, class TV, class TO>
status attention(device_view<TQ, 4> q, device_view<TK, 4> k, device_view<TV, 4> v,
                 device_view<TO, 4> out, const device_attention_params& p = {},
                 cuda_stream stream = nullptr) noexcept {
  using T = std::remove_const_t<TQ>;
  static_assert(std::is_same_v<T, std::remove_const_t<TK>> &&
                    std::is_same_v<T, std::remove_const_t<TV>> && std::is_same_v<T, TO>,
                "fusedops: attention on backend::cuda needs q, k, v and out of one element type "
                "(float, __half or __nv_bfloat16) and a non-const out");
  require_backend<B, device_memory>();
  const device_view<const T, 4> cq(q), ck(k), cv(v);
  FUSEDOPS_RETURN_IF_ERROR(ops::attention_op::validate_device(cq, ck, cv, out, p));
#if FUSEDOPS_HAS_CUDA
  const auto pl = ops::attention_detail::device_plan::make(
      q.shape(0), q.shape(1), k.shape(1), q.shape(2), k.shape(2), v.shape(3), p.kv_splits);
  return arch::cuda::launch_attention(cq, ck, cv, out, p, pl, stream);
#else
  // Unreachable: require_backend has already stopped the compilation. Keeps the body well formed.
  static_cast<void>(stream);
  return status::error(errc::unsupported,
                       "attention: backend::cuda needs a .cu TU compiled by nvcc");
#endif
}

/// Floats of device workspace attention<backend::cuda>(q, k, v, out, p) needs (0 when the call
/// does not split the keys); pass at least this much in device_attention_params::workspace.
/// 0 for invalid arguments (the call itself reports them).
template <class B, class TQ, class TK, class TV, class TO>
std::size_t attention_workspace_size(device_view<TQ, 4> q, device_view<TK, 4> k,
                                     device_view<TV, 4> v, device_view<TO, 4> out,
                                     const device_attention_params& p = {}) noexcept {
  using T = std::remove_const_t<TQ>;
  const device_view<const T, 4> cq(q), ck(k), cv(v);
  if (!ops::attention_op::validate_device(cq, ck, cv, out, p).ok()) return 0;
  return ops::attention_detail::device_plan::make(q.shape(0), q.shape(1), k.shape(1), q.shape(2),
                                                  k.shape(2), v.shape(3), p.kv_splits)
      .workspace_floats;
}

}  // namespace fusedops
