// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. Argument checks shared by every public operator. Each returns a status whose
// message names the operator, the argument and the shapes, so users never have to guess which of
// six tensors was wrong. Operators run all checks before writing any output.
#pragma once

#include <algorithm>
#include <cstdint>

#include "fusedops/core/status.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::checks {

/// Extents must be >= 0; a non-empty view needs a non-null pointer.
template <class T, int R, class S>
status tensor(const char* op, const char* name, const view<T, R, S>& v) noexcept {
  for (int d = 0; d < R; ++d)
    if (v.shape(d) < 0)
      return status::error(errc::invalid_argument, "%s: argument '%s' has a negative extent: shape %s",
                           op, name, v.shape_string().c_str());
  if (v.data() == nullptr && !v.empty())
    return status::error(errc::null_pointer, "%s: argument '%s' (shape %s) has a null data pointer",
                         op, name, v.shape_string().c_str());
  return {};
}

/// Distinct indices of an output must address distinct elements. Sufficient condition checked:
/// ordering the dimensions (extent > 1) by |stride|, each stride exceeds the span of the smaller
/// ones. Rejects stride-0 (broadcast) outputs and overlapping rows (leading dimension too small).
template <class T, int R, class S>
status output(const char* op, const char* name, const view<T, R, S>& v) noexcept {
  FUSEDOPS_RETURN_IF_ERROR(tensor(op, name, v));
  if (v.empty()) return {};
  std::array<index_t, R == 0 ? 1 : R> ext{}, str{};
  int n = 0;
  for (int d = 0; d < R; ++d) {
    if (v.shape(d) <= 1) continue;
    ext[static_cast<std::size_t>(n)] = v.shape(d);
    str[static_cast<std::size_t>(n)] = v.stride(d) < 0 ? -v.stride(d) : v.stride(d);
    ++n;
  }
  // Insertion sort by stride: rank is tiny.
  for (int i = 1; i < n; ++i)
    for (int j = i; j > 0 && str[std::size_t(j - 1)] > str[std::size_t(j)]; --j) {
      std::swap(str[std::size_t(j - 1)], str[std::size_t(j)]);
      std::swap(ext[std::size_t(j - 1)], ext[std::size_t(j)]);
    }
  index_t span = 0;  // largest offset reachable with the dimensions seen so far
  for (int i = 0; i < n; ++i) {
    if (str[std::size_t(i)] <= span)
      return status::error(errc::bad_stride,
                           "%s: output '%s' (shape %s) has strides under which distinct elements "
                           "overlap (a stride of 0 or a leading dimension smaller than the row)",
                           op, name, v.shape_string().c_str());
    span += (ext[std::size_t(i)] - 1) * str[std::size_t(i)];
  }
  return {};
}

/// `got` must have exactly shape `expected`; `what` says where the expectation came from.
template <int R>
status shape_equals(const char* op, const char* name, const dims<R>& got, const dims<R>& expected,
                    const char* what) noexcept {
  if (got == expected) return {};
  return status::error(errc::shape_mismatch, "%s: argument '%s' has shape %s, expected %s (%s)", op,
                       name, to_text<R>(got).c_str(), to_text<R>(expected).c_str(), what);
}

/// Byte range [lo, hi) touched by a view (empty views touch nothing).
template <class T, int R, class S>
void byte_range(const view<T, R, S>& v, std::uintptr_t& lo, std::uintptr_t& hi) noexcept {
  lo = hi = reinterpret_cast<std::uintptr_t>(v.data());
  if (v.empty()) return;
  index_t min_off = 0, max_off = 0;
  for (int d = 0; d < R; ++d) {
    const index_t reach = (v.shape(d) - 1) * v.stride(d);
    (reach < 0 ? min_off : max_off) += reach;
  }
  lo += static_cast<std::uintptr_t>(min_off * index_t(sizeof(T)));
  hi += static_cast<std::uintptr_t>((max_off + 1) * index_t(sizeof(T)));
}

/// An output may be the very same view as an input (in-place) or disjoint from it; any partial
/// overlap would let the operator read an element it already overwrote, so it is rejected.
template <class T, class U, int R, int Q, class S>
status in_place_or_disjoint(const char* op, const char* out_name, const view<T, R, S>& out,
                            const char* in_name, const view<U, Q, S>& in) noexcept {
  std::uintptr_t olo, ohi, ilo, ihi;
  byte_range(out, olo, ohi);
  byte_range(in, ilo, ihi);
  if (ohi <= ilo || ihi <= olo) return {};
  if constexpr (R == Q) {
    if (static_cast<const void*>(out.data()) == static_cast<const void*>(in.data()) &&
        out.shape() == in.shape() && out.strides() == in.strides())
      return {};
  }
  return status::error(errc::invalid_argument,
                       "%s: output '%s' (shape %s) partially overlaps input '%s' (shape %s); pass "
                       "the same view for in-place operation or use disjoint memory",
                       op, out_name, out.shape_string().c_str(), in_name,
                       in.shape_string().c_str());
}

/// Every entry of the position ids `ids` (a [B, S] view) must index a row of a cache of `rows`
/// rows: 0 <= id < rows. The message names the first one that does not, and the cache (any view;
/// its shape is formatted only then).
template <class S, class Cache>
status ids_in_range(const char* op, const char* name, const view<const std::int64_t, 2, S>& ids,
                    index_t rows, const char* cache_name, const Cache& cache) noexcept {
  for (index_t b = 0; b < ids.shape(0); ++b)
    for (index_t s = 0; s < ids.shape(1); ++s) {
      const std::int64_t id = ids(b, s);
      if (id < 0 || id >= rows)
        return status::error(errc::invalid_argument,
                             "%s: %s[%td, %td] = %lld is outside the rows [0, %td) of '%s' %s", op,
                             name, b, s, static_cast<long long>(id), rows, cache_name,
                             cache.shape_string().c_str());
    }
  return {};
}

}  // namespace fusedops::checks
