// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/activation. How the element-wise and softmax operators walk an N-d strided view:
// as `lines`, the index space of every dimension except the ones the kernel loops over itself
// (the last dimension for element-wise ops, the softmax axis, ...). line_space<R, N> holds up to
// R kept dimensions of N tensors that share their extents but each have their own strides; seek(i)
// gives the element offsets of line i in every tensor. No ISA code, no allocation.
#pragma once

#include <cstddef>

#include "fusedops/core/shape.hpp"

namespace fusedops::ops {

template <int R, int N>
struct line_space {
  int kept = 0;                            ///< kept dimensions (extent > 1 only)
  index_t extent[R > 0 ? R : 1] = {};      ///< outermost first
  index_t stride[N][R > 0 ? R : 1] = {};   ///< stride of each kept dimension, per tensor
  index_t lines = 1;                       ///< product of the kept extents

  /// Keeps every dimension d of `shape` with keep[d] true; strides[t] are tensor t's strides.
  static line_space make(const dims<R>& shape, const dims<R>* const (&strides)[N],
                         const bool (&keep)[R > 0 ? R : 1]) noexcept {
    line_space s;
    for (int d = 0; d < R; ++d) {
      if (!keep[d]) continue;
      const index_t e = shape[std::size_t(d)];
      s.lines *= e;
      if (e == 1) continue;  // contributes no offset
      s.extent[s.kept] = e;
      for (int t = 0; t < N; ++t) s.stride[t][s.kept] = (*strides[t])[std::size_t(d)];
      ++s.kept;
    }
    return s;
  }

  /// Offsets (elements) of line i in every tensor.
  void seek(index_t i, index_t (&off)[N]) const noexcept {
    for (int t = 0; t < N; ++t) off[t] = 0;
    for (int d = kept - 1; d >= 0; --d) {
      const index_t k = i % extent[d];
      i /= extent[d];
      for (int t = 0; t < N; ++t) off[t] += k * stride[t][d];
    }
  }
};

}  // namespace fusedops::ops
