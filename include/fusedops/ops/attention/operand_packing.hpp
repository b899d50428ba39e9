// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. The copies that put Q and K in the order the score tile reads them:
//   pack_q_tile        a row tile of Q, scaled, k-major ([d][h]): the A operand of S = Q·Kᵀ;
//   transpose_k_block  a block of K rows as a [d][key] panel: the B operand.
// Both are transposes. They move lanes × lanes blocks through registers (simd::transpose), so
// each source row is read with whole-vector loads and each destination row written with
// whole-vector stores; the edges go element by element. The source rows are first requested in
// memory order (this is usually the first touch of Q and K, from L3): the blocks read them across
// rows, which the hardware prefetchers follow less well than a sequential sweep. Element by
// element, the two copies took 17 % of a BERT-128 prefill (4 × 12 heads, 128 × 64) on the Zen 4
// VM; with blocks and the requests, BERT-128 ran 68 -> 74 GFLOP/s at 1 thread and 128 -> 145 at
// 2 (medians of 8 and 5 alternated runs), BERT-512 unchanged.
#pragma once

#include <algorithm>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/prefetch.hpp"
#include "fusedops/core/shape.hpp"
#include "fusedops/ops/gemm/packing.hpp"

namespace fusedops::ops::attention_detail {

/// dst[d · h + i] = row(i)[d] · scale for rows i < h and d < D, where row(i) points at query row
/// i (unit stride along D): the GEMM's k-major copy (gemm/packing.hpp), after requesting the rows.
/// The multiply is the one the element-wise copy did, so the packed values are the same bit for
/// bit.
template <class V, class RowPtr>
void pack_q_tile(int h, index_t D, RowPtr&& row, float scale, float* dst) noexcept {
  for (int i = 0; i < h; ++i) prefetch_range(row(i), D);
  gemm_detail::pack_rows_k_major<V>(h, D, row, scale, dst);
}

/// kt[d · ldt + c] = k[c · k_rs + d · k_cs] for keys c < n and d < D.
template <class V>
void transpose_k_block(const float* k, index_t k_rs, index_t k_cs, int n, index_t D, float* kt,
                       index_t ldt) noexcept {
  constexpr int L = simd::lanes<V>;
  int c_full = 0;
  index_t d_full = 0;
  if (k_cs == 1) {
    for (int c = 0; c < n; ++c) prefetch_range(k + c * k_rs, D);
    c_full = n / L * L;
    d_full = D / L * L;
    for (int c0 = 0; c0 < c_full; c0 += L)
      for (index_t d0 = 0; d0 < d_full; d0 += L) {
        V r[L];
        for (int i = 0; i < L; ++i) r[i] = simd::load<V>(k + (c0 + i) * k_rs + d0);
        simd::transpose(r);
        for (int j = 0; j < L; ++j) simd::store(kt + (d0 + j) * ldt + c0, r[j]);
      }
  }
  // What the blocks left (all of it for a strided D): column by column, so the first pass asks
  // for every key row's first line at once and each pass writes one contiguous panel row.
  for (index_t d = 0; d < D; ++d) {
    float* dst = kt + d * ldt;
    const float* src = k + d * k_cs;
    for (int c = d < d_full ? c_full : 0; c < n; ++c) dst[c] = src[c * k_rs];
  }
}

}  // namespace fusedops::ops::attention_detail
