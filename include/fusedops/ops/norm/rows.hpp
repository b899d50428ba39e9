// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/norm. How row-wise operators (normalizations, RoPE) walk the rows of N-d strided
// views: the leading dimensions of a tensor (those before the normalized axis) are an index space
// of `rows` rows; each of up to N tensors sharing that leading shape has its own strides.
// Adjacent leading dimensions whose strides chain in every tensor are merged first, so the usual
// contiguous (or row-padded) tensors reach one leading dimension and a row offset is one multiply.
// Also: hidden_is_contiguous, the "normalized dims flatten to one unit-stride run" test.
// No ISA code, no allocation.
#pragma once

#include "fusedops/core/shape.hpp"

namespace fusedops::ops {

/// The leading index space of N tensors: row r of tensor t starts at offset(t) after seek(r).
template <int N>
struct row_layout {
  static constexpr int max_dims = 8;
  int ndims = 0;                  ///< leading dims left after merging (0: a single row)
  index_t extent[max_dims] = {};  ///< their extents, outermost first
  index_t stride[N][max_dims] = {};
  index_t rows = 1;

  /// From the first `lead` dimensions of `shape` and each tensor's strides (strides[t]).
  template <int R>
  static row_layout make(const dims<R>& shape, const dims<R>* const (&strides)[N],
                         int lead) noexcept {
    row_layout l;
    l.template assign<R>(shape, strides, lead);
    return l;
  }

  /// make(), in place: no temporary of this (N = 4: 336-byte) struct to copy.
  template <int R>
  void assign(const dims<R>& shape, const dims<R>* const (&strides)[N], int lead) noexcept {
    *this = row_layout{};
    for (int d = 0; d < lead; ++d) {
      const index_t e = shape[std::size_t(d)];
      rows *= e;
      if (e == 1) continue;  // contributes nothing to any offset
      bool merge = ndims > 0;
      for (int t = 0; t < N && merge; ++t)
        merge = stride[t][ndims - 1] == (*strides[t])[std::size_t(d)] * e;
      if (merge) {
        extent[ndims - 1] *= e;
        for (int t = 0; t < N; ++t) stride[t][ndims - 1] = (*strides[t])[std::size_t(d)];
        continue;
      }
      extent[ndims] = e;
      for (int t = 0; t < N; ++t) stride[t][ndims] = (*strides[t])[std::size_t(d)];
      ++ndims;
    }
  }

  /// Offsets (in elements) of row r in every tensor.
  void offsets(index_t r, index_t (&off)[N]) const noexcept {
    for (int t = 0; t < N; ++t) off[t] = 0;
    if (ndims == 1) {
      for (int t = 0; t < N; ++t) off[t] = r * stride[t][0];
      return;
    }
    for (int d = ndims - 1; d >= 0; --d) {
      const index_t i = r % extent[d];
      r /= extent[d];
      for (int t = 0; t < N; ++t) off[t] += i * stride[t][d];
    }
  }
};

/// True when dimensions [from, R) of a view (shape, strides) hold their elements as one
/// contiguous run with unit stride (size-1 dimensions ignored).
template <int R>
constexpr bool hidden_is_contiguous(const dims<R>& shape, const dims<R>& strides,
                                    int from) noexcept {
  index_t expected = 1;
  for (int d = R - 1; d >= from; --d) {
    if (shape[std::size_t(d)] == 1) continue;
    if (strides[std::size_t(d)] != expected) return false;
    expected *= shape[std::size_t(d)];
  }
  return true;
}

}  // namespace fusedops::ops
