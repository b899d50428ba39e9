// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. Scores of a few query rows against K rows read in place: one dot product
// per (row, key), vectorised along the head dimension, with a horizontal sum at the end.
// Why: the GEMM-shaped score tile needs each K block transposed into a [D][keys] panel first, a
// scalar pass over every K element that only pays off when many query rows share the block. In
// decode a unit has 1..G rows (G query heads per KV head), K is read once from memory, and that
// transpose cost as much as the whole memory-bound read; here each K element is loaded once,
// straight into the FMAs.
#pragma once

#include <algorithm>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::ops::attention_detail {

/// Most query rows a unit may have to take the dot-product path (measured on AVX-512 decode:
/// beyond 4 rows the per-(row, key) horizontal sums cost more than the transpose saves).
inline constexpr index_t dot_rows_max = 4;

/// s[i·ld + j] = Σ_d q[i·D + d] · k[j·ks + d] for rows i < R and keys j < n (K unit-stride along
/// D); s[i·ld + j] = 0 for n <= j < padded, so the row can be read as whole vectors.
///
/// Keys go J at a time, J = lanes / R (R rounded up to a power of two): the R·J dot products
/// accumulate in R·J vectors, each Q vector and each K vector is loaded once per step and held
/// in a register for all its FMAs, and one reduce_add_each turns the R·J vectors into a vector
/// of the R·J scores (row-major, J per row). On AVX-512 with 4 rows that is 4 Q + 4 K loads per
/// 16 FMAs, against 40 loads (Q re-read for every key) and 4 horizontal sums per key of one key
/// at a time; measured, decode with 4 rows per KV head ran 1.2x faster with a data set in L2.
/// The last n mod J keys go one at a time.
template <class V, int R>
void dot_scores_rows(index_t D, const float* q, const float* k, index_t ks, int n, int padded,
                     float* s, index_t ld) noexcept {
  constexpr int lanes = simd::lanes<V>;
  constexpr int RP = R == 3 ? 4 : R;  // rows as laid out in the sum vector
  constexpr int J = lanes / RP >= 1 ? lanes / RP : 1;
  static_assert(R <= lanes && RP * J == lanes, "a step's scores fill one vector exactly");
  const index_t full = D / lanes * lanes;
  const int tail = static_cast<int>(D - full);
  int j = 0;
  for (; j + J <= n; j += J) {
    const float* kj = k + j * ks;
    V acc[lanes];
    for (int t = 0; t < lanes; ++t) acc[t] = simd::broadcast<V>(0.0f);
    auto step = [&](index_t d, int cnt) {
      V qv[R];
      for (int i = 0; i < R; ++i) {
        qv[i] = simd::load_segment<V>(q + i * D + d, 1, cnt);
        simd::keep_in_register(qv[i]);
      }
      for (int c = 0; c < J; ++c) {
        V kv = simd::load_segment<V>(kj + c * ks + d, 1, cnt);
        if constexpr (R > 1) simd::keep_in_register(kv);
        for (int i = 0; i < R; ++i) acc[i * J + c] = simd::fma(qv[i], kv, acc[i * J + c]);
      }
    };
    for (index_t d = 0; d < full; d += lanes) step(d, lanes);
    if (tail > 0) step(full, tail);
    alignas(64) float sums[lanes];
    simd::store(sums, simd::reduce_add_each(acc));
    for (int i = 0; i < R; ++i)
      for (int c = 0; c < J; ++c) s[i * ld + j + c] = sums[i * J + c];
  }
  for (; j < n; ++j) {
    const float* kj = k + j * ks;
    V acc[R];
    for (int i = 0; i < R; ++i) acc[i] = simd::broadcast<V>(0.0f);
    for (index_t d = 0; d < full; d += lanes) {
      const V kv = simd::load<V>(kj + d);
      for (int i = 0; i < R; ++i) acc[i] = simd::fma(simd::load<V>(q + i * D + d), kv, acc[i]);
    }
    if (tail > 0) {
      const V kv = simd::load_segment<V>(kj + full, 1, tail);
      for (int i = 0; i < R; ++i)
        acc[i] = simd::fma(simd::load_segment<V>(q + i * D + full, 1, tail), kv, acc[i]);
    }
    for (int i = 0; i < R; ++i) s[i * ld + j] = float(simd::reduce_add(acc[i]));
  }
  for (int i = 0; i < R; ++i) std::fill(s + i * ld + n, s + i * ld + padded, 0.0f);
}

/// The same for any h in 1..dot_rows_max rows (dispatched to a fixed row count).
template <class V>
void dot_scores(int h, index_t D, const float* q, const float* k, index_t ks, int n, int padded,
                float* s, index_t ld) noexcept {
  switch (h) {
    case 1: return dot_scores_rows<V, 1>(D, q, k, ks, n, padded, s, ld);
    case 2: return dot_scores_rows<V, 2>(D, q, k, ks, n, padded, s, ld);
    case 3: return dot_scores_rows<V, 3>(D, q, k, ks, n, padded, s, ld);
    default: return dot_scores_rows<V, 4>(D, q, k, ks, n, padded, s, ld);
  }
}

}  // namespace fusedops::ops::attention_detail
