// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. Software prefetch of a contiguous range, line by line in memory order. Kernels that
// are about to read several rows across (a transpose through registers, a packing copy that walks
// B row by row) request the rows first: the hardware prefetchers ramp up on each new sequential
// stream, and a read across rows gives them little to follow.
#pragma once

#include <cstdint>

#include "fusedops/config/macros.hpp"
#include "fusedops/core/shape.hpp"

namespace fusedops {

/// Bytes of the cache line the requests step by (64 on every CPU backend: x86-64, Armv8 cores).
inline constexpr index_t prefetch_line_bytes = 64;

/// Requests the cache lines of p[0, n) for reading, in order. p need not be dereferenceable.
template <class T>
FUSEDOPS_INLINE void prefetch_range(const T* p, index_t n) noexcept {
  constexpr index_t step = prefetch_line_bytes / index_t(sizeof(T));
  for (index_t i = 0; i < n; i += step) FUSEDOPS_PREFETCH_READ(p + i);
}

/// Requests the line `bytes` past p, if that address is below `end` (the end of the memory the
/// caller may read; p's tensor's byte range). For requests a fixed distance ahead of a loop: the
/// address is computed as an integer, so no pointer is formed past the end of its array.
template <class T>
FUSEDOPS_INLINE void prefetch_ahead(const T* p, std::uintptr_t bytes, std::uintptr_t end) noexcept {
  const std::uintptr_t target = reinterpret_cast<std::uintptr_t>(p) + bytes;
  if (target < end) FUSEDOPS_PREFETCH_READ(reinterpret_cast<const T*>(target));
}

}  // namespace fusedops
