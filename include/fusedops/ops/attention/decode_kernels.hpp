// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. The kernels of a unit of a few query rows (decode: one KV head's G query
// heads for one new token), where K and V are each read once from memory and the GEMM-shaped
// tiles, made for many rows sharing a block, fit badly.
//
// Scores: one dot product per (row, key), vectorised along the head dimension, with a horizontal
// sum at the end. The score tile needs each K block transposed into a [D][keys] panel first, a
// scalar pass over every K element that only pays off when many query rows share the block; in
// decode that transpose cost as much as the whole memory-bound read. Here each K element is
// loaded once, straight into the FMAs.
//
// P·V: V rows read whole and in order. The tile's pv kernel walks V in column groups of one
// panel width (128 bytes on AVX-512), so each pass over a block touches two lines of every 512-byte
// row: measured on this project's AVX-512 machine, that pattern reads memory at ~12 GB/s where
// reading the same rows in order gives ~21 (one thread). Rows are taken in passes of a few
// (accumulators for whole rows must fit in registers); the later passes find the block in L1/L2.
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
template <class V, int R>
void dot_scores_rows(index_t D, const float* q, const float* k, index_t ks, int n, int padded,
                     float* s, index_t ld) noexcept {
  constexpr int lanes = simd::lanes<V>;
  const index_t full = D / lanes * lanes;
  const int tail = static_cast<int>(D - full);
  for (int j = 0; j < n; ++j) {
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

/// o[i·ldo + d] = alpha[i] · o[i·ldo + d] + Σ_{j<n} p[i·ldp + j] · v[j·vs + d] for rows i < R and
/// columns d < C·lanes: each V row's C vectors loaded once for the R rows. The same operations in
/// the same order as pv_tile (o · alpha, then one FMA per key in key order), so the result is
/// bit-identical to it.
template <class V, int R, int C>
void pv_rows(int n, const float* p, index_t ldp, const float* v, index_t vs, float* o, index_t ldo,
             const float* alpha) noexcept {
  constexpr int lanes = simd::lanes<V>;
  V acc[R][C];
  for (int i = 0; i < R; ++i) {
    const V a = simd::broadcast<V>(alpha[i]);
    for (int c = 0; c < C; ++c) acc[i][c] = simd::load<V>(o + i * ldo + c * lanes) * a;
  }
  for (int j = 0; j < n; ++j) {
    const float* vj = v + j * vs;
    V pj[R];
    for (int i = 0; i < R; ++i) pj[i] = simd::broadcast<V>(p[i * ldp + j]);
    for (int c = 0; c < C; ++c) {
      const V x = simd::load<V>(vj + c * lanes);
      for (int i = 0; i < R; ++i) acc[i][c] = simd::fma(pj[i], x, acc[i][c]);
    }
  }
  for (int i = 0; i < R; ++i)
    for (int c = 0; c < C; ++c) simd::store(o + i * ldo + c * lanes, acc[i][c]);
}

/// Rows [0, R) of pv_rows over columns [0, dv), dv a multiple of the lanes: chunks of 8 vectors,
/// then 4, 2, 1 for the rest (a head of 128 floats is one chunk on AVX-512).
template <class V, int R>
void pv_rows_all_columns(int n, const float* p, index_t ldp, const float* v, index_t vs,
                         index_t dv, float* o, index_t ldo, const float* alpha) noexcept {
  constexpr int lanes = simd::lanes<V>;
  index_t d = 0;
  for (; d + 8 * lanes <= dv; d += 8 * lanes) pv_rows<V, R, 8>(n, p, ldp, v + d, vs, o + d, ldo, alpha);
  if (d + 4 * lanes <= dv) pv_rows<V, R, 4>(n, p, ldp, v + d, vs, o + d, ldo, alpha), d += 4 * lanes;
  if (d + 2 * lanes <= dv) pv_rows<V, R, 2>(n, p, ldp, v + d, vs, o + d, ldo, alpha), d += 2 * lanes;
  if (d + lanes <= dv) pv_rows<V, R, 1>(n, p, ldp, v + d, vs, o + d, ldo, alpha);
}

/// O = alpha · O + P · V for h <= dot_rows_max rows, V unit-stride along Dv with dv a multiple of
/// the lanes. PairRows: two rows share a pass (16 accumulators: backends with 32 vector
/// registers); otherwise one row per pass.
template <class V, bool PairRows>
void pv_few_rows(int h, int n, const float* p, index_t ldp, const float* v, index_t vs, index_t dv,
                 float* o, index_t ldo, const float* alpha) noexcept {
  int i = 0;
  if constexpr (PairRows)
    for (; i + 2 <= h; i += 2)
      pv_rows_all_columns<V, 2>(n, p + i * ldp, ldp, v, vs, dv, o + i * ldo, ldo, alpha + i);
  for (; i < h; ++i)
    pv_rows_all_columns<V, 1>(n, p + i * ldp, ldp, v, vs, dv, o + i * ldo, ldo, alpha + i);
}

}  // namespace fusedops::ops::attention_detail
