// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. Which keys a query may attend, in two parts:
//  * structure (causal rule, sliding window, valid KV length, a mask shorter than Skv): for each
//    query an interval [lo, hi) of keys, monotone in the query index, so whole KV blocks outside
//    the union of a row tile's intervals are skipped (never loaded) and blocks inside every
//    row's interval need no per-element test;
//  * element masks (float additive, boolean): read per element inside the tile loop.
// Plus attention_mask_view, which turns ONNX's 2/3/4-D attn_mask into the 4-D stride-0 view the
// operator takes. No ISA code here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/attention/attention_op.hpp"

namespace fusedops {

/// ONNX's attn_mask of rank R (2: [Sq, M], 3: [Hq or 1, Sq or 1, M], 4: [B or 1, Hq or 1, Sq or 1,
/// M]; numpy broadcasting from the right, extent 1 broadcasts) as the [B, Hq, Sq, M] view that
/// attention_params::float_mask / bool_mask take, with stride 0 on broadcast dimensions. The last
/// dimension M is kept (M < Skv masks keys M.. out, as ONNX pads). nullopt if it cannot
/// broadcast.
template <class T, int R>
std::optional<view<const T, 4>> attention_mask_view(const view<const T, R>& mask, index_t batch,
                                                    index_t q_heads, index_t q_len) noexcept {
  static_assert(R >= 2 && R <= 4, "ONNX's attn_mask has rank 2, 3 or 4");
  const index_t want[3] = {batch, q_heads, q_len};
  dims<4> shape{batch, q_heads, q_len, mask.shape(R - 1)};
  dims<4> strides{0, 0, 0, mask.stride(R - 1)};
  for (int d = 0; d < R - 1; ++d) {
    const int out_d = 3 - (R - 1) + d;  // right-aligned
    const index_t e = mask.shape(d);
    if (e == want[out_d]) {
      strides[static_cast<std::size_t>(out_d)] = e == 1 ? 0 : mask.stride(d);
    } else if (e != 1) {
      return std::nullopt;
    }
  }
  return view<const T, 4>(mask.data(), shape, strides);
}

/// Q, K, V or the output in ONNX's 3-D layout [B, S, H·D] seen as the 4-D [B, H, S, D] view the
/// operator takes (no copy). `heads` must divide the last extent (unchecked here: the operator's
/// shape checks catch a wrong head size).
template <class T>
view<T, 4> split_heads(const view<T, 3>& x, index_t heads) noexcept {
  const index_t d = heads > 0 ? x.shape(2) / heads : 0;
  return view<T, 4>(x.data(), dims<4>{x.shape(0), heads, x.shape(1), d},
                    dims<4>{x.stride(0), d * x.stride(2), x.stride(1), x.stride(2)});
}

namespace ops::attention_detail {

/// The structural part of the masks for one batch entry.
struct key_bounds {
  index_t limit = 0;   ///< keys [0, limit) exist (valid length, short masks)
  index_t offset = 0;  ///< absolute position of query i is i + offset
  bool causal = false;
  index_t left = -1, right = -1;

  static key_bounds make(const attention_problem& p, index_t b) noexcept {
    key_bounds kb;
    const index_t valid = p.kv_lens != nullptr ? index_t(p.kv_lens[b * p.kv_lens_stride]) : p.skv;
    kb.limit = valid;
    if (p.fmask != nullptr) kb.limit = std::min(kb.limit, p.fmask_len);
    if (p.bmask != nullptr) kb.limit = std::min(kb.limit, p.bmask_len);
    kb.offset = p.causal_offset == attention_params::bottom_right ? valid - p.sq : p.causal_offset;
    kb.causal = p.causal, kb.left = p.left, kb.right = p.right;
    return kb;
  }
  /// First key query i may attend (nondecreasing in i).
  index_t lo(index_t i) const noexcept {
    return left >= 0 ? std::clamp<index_t>(i + offset - left, 0, limit) : 0;
  }
  /// One past the last key query i may attend (nondecreasing in i); lo(i) >= hi(i): none.
  index_t hi(index_t i) const noexcept {
    index_t h = limit;
    if (causal) h = std::min(h, i + offset + 1);
    if (right >= 0) h = std::min(h, i + offset + right + 1);
    return std::max<index_t>(h, 0);
  }
};

}  // namespace ops::attention_detail
}  // namespace fusedops
