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
#include "fusedops/core/prefetch.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::ops::attention_detail {

/// Most query rows a unit may have to take the dot-product path (measured on AVX-512 decode:
/// beyond 4 rows the per-(row, key) horizontal sums cost more than the transpose saves).
inline constexpr index_t dot_rows_max = 4;

/// Rows as laid out in a vector of scores: R rounded up to a power of two (3 rows take 4 slots).
template <int R>
inline constexpr int sum_rows = R == 3 ? 4 : R;

/// Keys ahead whose K rows a step of several query rows requests (whole steps of 8 or fewer
/// keys). A step reads its keys' rows across, a line of each in turn, a pattern the hardware
/// prefetchers do not follow from memory once the FMAs of several rows slow the stream down.
/// Measured on AVX-512 decode, 16384 keys from memory, 1 thread, ns per key and KV head: 4 rows
/// 44 -> 35 (8 or 12 keys ahead alike; 4 ahead 39), and 12.4 -> 11.3 with K/V in L2; 2 rows
/// 34.5 -> 32 (16 ahead: 33.6); an AVX2 build on the same machine 79 -> 56 and 58 -> 48. One
/// row already streams at the plain read's 29 ns, and the requests only cost (28.8 -> 32.3), so
/// it makes none.
inline constexpr int prefetch_keys_ahead = 8;

/// s[i·ld + c] = Σ_d q[i·D + d] · k[c·ks + d] for rows i < R and keys c < KEYS: the R·KEYS dot
/// products accumulate in registers, each Q and K vector loaded once (and, where it feeds several
/// FMAs, held in a register) per step along D. A full vector of them (KEYS · sum_rows<R> =
/// lanes) ends in one reduce_add_each; fewer in one horizontal sum each. PREFETCH: also requests
/// the K rows prefetch_keys_ahead keys on, line by line alongside the loads (they must exist).
template <class V, int R, int KEYS, bool PREFETCH>
FUSEDOPS_INLINE void score_keys(index_t D, const float* q, const float* k, index_t ks, float* s,
                                index_t ld) noexcept {
  constexpr int lanes = simd::lanes<V>;
  constexpr index_t line = prefetch_line_bytes / index_t(sizeof(float));
  constexpr int RP = sum_rows<R>;
  constexpr bool one_tree = RP * KEYS == lanes;
  V acc[RP * KEYS];
  for (V& a : acc) a = simd::broadcast<V>(0.0f);
  auto step = [&](index_t d, int cnt) {
    V qv[R];
    for (int i = 0; i < R; ++i) {
      qv[i] = simd::load_segment<V>(q + i * D + d, 1, cnt);
      if constexpr (KEYS > 1) simd::keep_in_register(qv[i]);
    }
    for (int c = 0; c < KEYS; ++c) {
      V kv = simd::load_segment<V>(k + c * ks + d, 1, cnt);
      if constexpr (PREFETCH)
        if (lanes >= line || d % line == 0)
          FUSEDOPS_PREFETCH_READ(k + (c + prefetch_keys_ahead) * ks + d);
      if constexpr (R > 1) simd::keep_in_register(kv);
      for (int i = 0; i < R; ++i) acc[i * KEYS + c] = simd::fma(qv[i], kv, acc[i * KEYS + c]);
    }
  };
  const index_t full = D / lanes * lanes;
  for (index_t d = 0; d < full; d += lanes) step(d, lanes);
  if (D > full) step(full, static_cast<int>(D - full));
  alignas(64) float sums[RP * KEYS];
  if constexpr (one_tree) {
    simd::store(sums, simd::reduce_add_each(acc));
  } else {
    for (int t = 0; t < R * KEYS; ++t) sums[t] = float(simd::reduce_add(acc[t]));
  }
  for (int i = 0; i < R; ++i)
    for (int c = 0; c < KEYS; ++c) s[i * ld + c] = sums[i * KEYS + c];
}

/// s[i·ld + j] = Σ_d q[i·D + d] · k[j·ks + d] for rows i < R and keys j < n (K unit-stride along
/// D); s[i·ld + j] = 0 for n <= j < padded, so the row can be read as whole vectors. K rows
/// j < readable exist (readable >= n: the keys after the block that the caller will read next),
/// and the steps request those ahead of them.
/// Keys go J = lanes / R at a time (R rounded up to a power of two), the last n mod J one at a
/// time. On AVX-512 with 4 rows a step is 4 Q + 4 K loads per 16 FMAs and one shuffle tree,
/// against 40 loads (Q re-read for every key) and 4 horizontal sums per key of one key at a time;
/// measured, decode with 4 rows per KV head ran 1.2x faster with a data set in L2.
template <class V, int R>
void dot_scores_rows(index_t D, const float* q, const float* k, index_t ks, int n,
                     index_t readable, int padded, float* s, index_t ld) noexcept {
  constexpr int lanes = simd::lanes<V>;
  constexpr int J = lanes / sum_rows<R>;
  static_assert(R <= lanes && J * sum_rows<R> == lanes, "a step's scores fill one vector");
  static_assert(R == 1 || prefetch_keys_ahead % J == 0, "requests run whole steps ahead");
  int j = 0;
  if constexpr (R > 1)
    for (; j + J <= n && j + J + prefetch_keys_ahead <= readable; j += J)
      score_keys<V, R, J, true>(D, q, k + j * ks, ks, s + j, ld);
  for (; j + J <= n; j += J) score_keys<V, R, J, false>(D, q, k + j * ks, ks, s + j, ld);
  for (; j < n; ++j) score_keys<V, R, 1, false>(D, q, k + j * ks, ks, s + j, ld);
  for (int i = 0; i < R; ++i) std::fill(s + i * ld + n, s + i * ld + padded, 0.0f);
}

/// The same for any h in 1..dot_rows_max rows (dispatched to a fixed row count).
template <class V>
void dot_scores(int h, index_t D, const float* q, const float* k, index_t ks, int n,
                index_t readable, int padded, float* s, index_t ld) noexcept {
  switch (h) {
    case 1: return dot_scores_rows<V, 1>(D, q, k, ks, n, readable, padded, s, ld);
    case 2: return dot_scores_rows<V, 2>(D, q, k, ks, n, readable, padded, s, ld);
    case 3: return dot_scores_rows<V, 3>(D, q, k, ks, n, readable, padded, s, ld);
    default: return dot_scores_rows<V, 4>(D, q, k, ks, n, readable, padded, s, ld);
  }
}

}  // namespace fusedops::ops::attention_detail
