// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: fusedops::attention, ONNX Attention (opsets 23-24) in fp32 on the CPU backends,
// as one flash-style pass over K and V (ops/attention/tile_loop.hpp): no Sq × Skv buffer, every
// mask fused into the tile loop, whole key blocks the causal rule, the window or the valid length
// remove are skipped. Validates, then runs impl_for<attention_op, backend> (default: the
// width-generic implementation in ops/attention/attention_generic.hpp).
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
#pragma once

#include <cstddef>
#include <type_traits>

#include "fusedops/core/aligned_buffer.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/ops/attention/attention_generic.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/attention/kv_cache.hpp"
#include "fusedops/ops/attention/masks.hpp"
#include "fusedops/ops/attention/qk_output.hpp"

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
///            window_right, alibi_slopes, sinks; threads, workspace (attention_workspace_size),
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
  if constexpr (B::is_cpu) {
    using impl = impl_for_t<ops::attention_op, B>;
    const auto pl = impl::make_plan(pr, p.threads.concurrency());
    const std::size_t need = static_cast<std::size_t>(pl.total_floats());
    const bool want_qk = !p.qk_output.empty();
    if (need == 0) {  // no output rows: only the cache (and the debugging scores) to fill
      ops::kv_cache::append(k, v, p, cache, p.threads);
      if (want_qk)
        ops::attention_detail::write_qk_output(pr, p.qk_output, p.qk_output_mode, score_mod,
                                               p.threads);
      return {};
    }
    float* ws = p.workspace.data();
    aligned_buffer<float> owned;
    if (need > static_cast<std::size_t>(p.workspace.shape(0))) {
      if (!p.allow_allocation)
        return status::error(errc::buffer_too_small,
                             "attention: 'workspace' holds %td floats; this call needs %zu "
                             "(attention_workspace_size), and allow_allocation is false",
                             p.workspace.shape(0), need);
      FUSEDOPS_RETURN_IF_ERROR(owned.allocate(need));
      ws = owned.data();
    }
    ops::kv_cache::append(k, v, p, cache, p.threads);
    impl::run(pr, pl, ws, p.threads, score_mod);
    if (want_qk)
      ops::attention_detail::write_qk_output(pr, p.qk_output, p.qk_output_mode, score_mod,
                                             p.threads);
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
      !ops::attention_op::validate(q, cache.k, cache.v, out, p, pr).ok())
    return 0;
  using impl = impl_for_t<ops::attention_op, B>;
  return static_cast<std::size_t>(impl::make_plan(pr, p.threads.concurrency()).total_floats());
}

}  // namespace fusedops
