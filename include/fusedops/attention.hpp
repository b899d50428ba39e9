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
#pragma once

#include <cstddef>
#include <type_traits>

#include "fusedops/core/aligned_buffer.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/ops/attention/attention_generic.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/attention/masks.hpp"

namespace fusedops {

/// Default implementation on every CPU backend: the width-generic one.
template <class B>
struct impl_for<ops::attention_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::attention_generic<B>;
};

/// ONNX Attention (opsets 23-24), fp32:
///   out[b, h, i, :] = Σ_j softmax_j(mask(softcap(scale · Q[b,h,i,:]·K[b,h/G,j,:]))) · V[b,h/G,j,:]
///
/// @tparam B  backend (default: the best this TU's flags enable).
/// @param q   ONNX input Q as [B, Hq, Sq, Dqk], any non-negative strides (ONNX's 3-D
///            [B, Sq, Hq·Dqk] through split_heads; the attribute q_num_heads is Hq).
/// @param k   ONNX input K as [B, Hkv, Skv, Dqk] (kv_num_heads = Hkv); Hq must be a multiple of
///            Hkv: G = Hq / Hkv query heads share a KV head (GQA; Hkv = 1 is MQA; query head h
///            uses KV head h / G, ONNX's repeat order). Keys past the valid length are never read.
/// @param v   ONNX input V as [B, Hkv, Skv, Dv]; Dv may differ from Dqk. Unit stride along Dv is
///            fastest (rows are read in place); other strides are packed per block.
/// @param out ONNX output Y as [B, Hq, Sq, Dv] (split_heads for 3-D), any non-overlapping strides;
///            must not overlap any input.
/// @param p   ONNX attributes scale, softcap, is_causal; inputs attn_mask (float_mask / bool_mask,
///            attention_mask_view), nonpad_kv_seqlen; beyond ONNX: causal_offset, window_left /
///            window_right; threads, workspace (attention_workspace_size), allow_allocation.
/// @return ok; or an error naming the argument and the shapes, with out untouched.
/// Semantics: causal alignment is bottom-right (query i sits at position i + Skv - Sq, or
/// i + nonpad_kv_seqlen[b] - Sq), as ONNX with past_key or nonpad_kv_seqlen; a query row with no
/// attendable key (every mask entry false / -inf, window empty, valid length 0) gives a zero row,
/// never NaN; NaN in Q/K/V reaches the rows whose computed scores or weighted values it enters.
/// Accuracy: fp32 FMAs (Q·K over Dqk, P·V over Skv, the running max/sum), exp within ~2 ulp;
/// tests bound the error by the derivation in tests/support/tolerance.hpp (ATTENTION).
template <class B = default_backend>
status attention(view<const float, 4> q, view<const float, 4> k, view<const float, 4> v,
                 view<float, 4> out, const attention_params& p = {}) noexcept {
  require_backend<B, host_memory>();
  ops::attention_problem pr;
  FUSEDOPS_RETURN_IF_ERROR(ops::attention_op::validate(q, k, v, out, p, pr));
  if constexpr (B::is_cpu) {
    using impl = impl_for_t<ops::attention_op, B>;
    const auto pl = impl::make_plan(pr, p.threads.concurrency());
    const std::size_t need = static_cast<std::size_t>(pl.total_floats());
    if (need == 0) {  // empty output or no rows: nothing to compute, nothing to write
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
    impl::run(pr, pl, ws, p.threads);
  }
  return {};
}

/// Floats of workspace attention(q, k, v, out, p) needs with p's thread count; pass at least this
/// much in attention_params::workspace to make the call allocation-free. 0 for invalid arguments
/// (the call itself reports them).
template <class B = default_backend>
std::size_t attention_workspace_size(view<const float, 4> q, view<const float, 4> k,
                                     view<const float, 4> v, view<float, 4> out,
                                     const attention_params& p = {}) noexcept {
  ops::attention_problem pr;
  if (!ops::attention_op::validate(q, k, v, out, p, pr).ok()) return 0;
  using impl = impl_for_t<ops::attention_op, B>;
  return static_cast<std::size_t>(impl::make_plan(pr, p.threads.concurrency()).total_floats());
}

}  // namespace fusedops
