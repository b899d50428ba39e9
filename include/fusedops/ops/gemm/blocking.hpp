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
#include "fusedops/core/cache_sizes.hpp"
#include "fusedops/core/shape.hpp"

namespace fusedops::ops {

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

/// Bytes of a cache of `cache_bytes` that runs of `run_bytes` at a stride of `stride_bytes` can
/// occupy, with sets indexed by the low bits of the line address: strides of 2^p lines use only
/// every 2^p-th set. A panel of B read in place (runs of one panel width, ldb apart) stays cached
/// only if it fits in this: ldb = 768 floats (48 lines, 2^4) leaves 1/8 of the cache to two-line
/// runs, ldb = 3072 (2^6 lines) 1/32, ldb = 4096 1/128.
constexpr index_t strided_capacity(index_t cache_bytes, index_t stride_bytes,
                                   index_t run_bytes) noexcept {
  constexpr index_t line = 64;
  const index_t stride_lines = stride_bytes % line == 0 ? stride_bytes / line : 1;
  const index_t pow2 = stride_lines & -stride_lines;  // largest power of two dividing it
  const index_t run_lines = (run_bytes + line - 1) / line;
  return pow2 <= run_lines ? cache_bytes : cache_bytes / pow2 * run_lines;
}

}  // namespace fusedops::ops
