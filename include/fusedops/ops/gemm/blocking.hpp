// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. Cache blocking (the BLIS loops around the micro-kernel), derived from the
// cache sizes and the backend's register tile:
//   kc  depth of one pass over K: an A tile (tile rows × kc) takes 1/16 of L2 (56 KiB for the
//       14-row AVX-512 tile with 1 MiB L2, kc = 1024);
//   nc  width of a B block: kc × nc is 4 × L2, so the block lives in L3;
//   mc  rows of A packed at once: a quarter of L2, bounding the workspace.
// Why deeper and wider than the textbook (A tile in L1, B block in L2): every pass over K costs
// a read and write of the C block and every B block a repack of A, while the kernel needs only
// ~9 B/cycle of B (2 vectors per 14 cycles) and ~4 B/cycle of A, which L2 and L3 sustain. On the
// Cascade Lake reference machine, 1024³ went from 66 GFLOP/s (kc 288, nc 448) to 96 (kc = nc =
// 1024), with 12 settings measured between them.
#pragma once

#include <algorithm>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/shape.hpp"

#if defined(__linux__)
#include <unistd.h>
#endif

namespace fusedops::ops {

/// Data cache sizes in bytes.
struct cache_sizes {
  index_t l1d = 32 * 1024;
  index_t l2 = 1024 * 1024;

  /// This CPU's caches where the OS reports them (Linux sysconf), otherwise the defaults above
  /// (32 KiB / 1 MiB: Skylake-SP and later server cores, Neoverse N1/V1). Read once; immutable.
  static const cache_sizes& detected() noexcept {
    static const cache_sizes sizes = [] {
      cache_sizes s;
#if defined(__linux__) && defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
      const long os_l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), os_l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
      if (os_l1 >= 8 * 1024 && os_l1 <= 1024 * 1024) s.l1d = os_l1;
      if (os_l2 >= 128 * 1024 && os_l2 <= 64 * 1024 * 1024) s.l2 = os_l2;
#endif
      return s;
    }();
    return sizes;
  }
};

/// Register tile and block sizes of backend B's fp32 GEMM.
template <class B>
struct gemm_shape {
  using V = simd::vec_t<float, B>;
  static constexpr int rows = arch::gemm_tile<B>::rows;        // MR
  static constexpr int vectors = arch::gemm_tile<B>::vectors;  // NR / lanes
  static constexpr int lanes = simd::lanes<V>;
  static constexpr int width = vectors * lanes;  // NR: columns of a packed panel
};

struct gemm_blocking {
  index_t kc, mc, nc;  // nc is a multiple of the panel width, mc of the tile rows
};

template <class B>
gemm_blocking blocking_for(const cache_sizes& caches) noexcept {
  using S = gemm_shape<B>;
  constexpr index_t f = sizeof(float);
  gemm_blocking b{};
  b.kc = std::clamp<index_t>(caches.l2 / 16 / (S::rows * f) / 64 * 64, 128, 1024);
  b.nc = std::max<index_t>(S::width, 4 * caches.l2 / (b.kc * f) / S::width * S::width);
  b.mc = std::max<index_t>(S::rows, caches.l2 / 4 / (b.kc * f) / S::rows * S::rows);
  return b;
}

}  // namespace fusedops::ops
