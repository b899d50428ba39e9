// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. The micro-kernel, written once in the vector vocabulary for every backend:
// a ROWS × (VECS · lanes) block of C accumulates in ROWS · VECS registers while the kernel walks
// k, broadcasting one element of A per row against VECS vectors of B; then finish_tile applies
// alpha, beta · C_in and the epilogue vector by vector and stores each result once.
//
// A comes packed ([k][ROWS], contiguous) or straight from a row-major matrix (row stride lda)
// when packing would not pay; B is a panel of `width` columns with row stride ldb (the packed
// layout has ldb = width). ROWS is a template parameter so that edge tiles of any height run a
// full-speed kernel instead of a scalar loop.
#pragma once

#include <algorithm>
#include <array>
#include <utility>

#include "fusedops/arch/simd.hpp"
#include "fusedops/config/macros.hpp"
#include "fusedops/core/prefetch.hpp"
#include "fusedops/fused/epilogue/gated.hpp"

namespace fusedops::ops::gemm_detail {

/// Calls f(std::integral_constant<int, I>{}) for I = 0 .. N-1, fully unrolled.
template <class F, int... I>
FUSEDOPS_INLINE void unroll_each(F& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, class F>
FUSEDOPS_INLINE void unroll(F&& f) {
  unroll_each(f, std::make_integer_sequence<int, N>{});
}

/// acc[i][v] += sum over k < kc of A(i, k) · B(k, v·lanes .. v·lanes + lanes).
/// If `next_panel` is not 0, each step also requests into L2 the row's continuation that many
/// floats further (VECS vectors' worth): the same rows of the next panel when B is read in
/// place, whose rows are too far apart for the hardware prefetchers to follow.
template <class V, int ROWS, int VECS, bool PACKED_A>
FUSEDOPS_INLINE void accumulate(V (&acc)[ROWS][VECS], index_t kc, const float* FUSEDOPS_RESTRICT a,
                                index_t lda, const float* FUSEDOPS_RESTRICT b, index_t ldb,
                                index_t next_panel = 0) noexcept {
  constexpr int lanes = simd::lanes<V>;
  constexpr int floats_per_line = int(prefetch_line_bytes / sizeof(float));
  for (index_t k = 0; k < kc; ++k) {
    if (next_panel != 0) {
      for (int f = 0; f < VECS * lanes; f += floats_per_line)
        FUSEDOPS_PREFETCH_READ_L2(b + next_panel + f);
    }
    V bv[VECS];
    unroll<VECS>([&](auto v) {
      bv[v] = simd::load<V>(b + v * lanes);
      if constexpr (ROWS > 1) simd::keep_in_register(bv[v]);  // else re-read once per row
    });
    unroll<ROWS>([&](auto i) {
      const V ai = simd::broadcast<V>(PACKED_A ? a[i] : a[i * lda]);
      unroll<VECS>([&](auto v) { acc[i][v] = simd::fma(ai, bv[v], acc[i][v]); });
    });
    a += PACKED_A ? ROWS : 1;
    b += ldb;
  }
}

/// Where and how a finished tile is written.
struct tile_store {
  float* c;            // output at the tile's first element
  index_t c_rs, c_cs;  // output strides
  const float* c_in;   // beta source at the tile's first element (beta != 0 only)
  index_t in_rs, in_cs;
  float alpha, beta;
  bool first_pass;            // first pass over K: C holds nothing of ours yet
  bool last_pass;             // last pass over K: apply the epilogue, store the final value
  index_t row0, col0, batch;  // output coordinates of the tile, for the epilogue
  int cols;                   // output columns that exist in this tile (the rest is padding)
};

/// Finishes a tile of accumulators (row-major, VECS·lanes floats per row, `rows` rows) and
/// stores it. Passes other than the last store alpha·acc (+ what earlier passes left); the last
/// adds beta·C_in (first pass only) or the partial sum, runs the epilogue and stores the result.
/// Gated epilogues combine vector v (gate) with vector v + VECS/2 (up).
/// A runtime loop over rows, so each epilogue is instantiated once per backend rather than once
/// per tile height and row: the tile round-trips through L1 once per pass, which is noise next
/// to the k loop.
template <class V, int VECS, class E>
void finish_tile(const float* acc, int rows, const tile_store& t, const E& ep) noexcept {
  constexpr int lanes = simd::lanes<V>;
  constexpr bool gated = epilogue::is_gated_v<E>;
  constexpr int out_vecs = gated ? VECS / 2 : VECS;
  const V alpha = simd::broadcast<V>(t.alpha), beta = simd::broadcast<V>(t.beta);
  for (int i = 0; i < rows; ++i) {
    float* crow = t.c + i * t.c_rs;
    const float* arow = acc + i * VECS * lanes;
    V x[VECS];
    unroll<VECS>([&](auto v) {
      const int out_v = gated ? v % out_vecs : int(v);
      const int n = std::min(lanes, t.cols - out_v * lanes);
      x[v] = simd::load<V>(arow + v * lanes) * alpha;
      if (gated || n <= 0) return;  // gated GEMMs run in one pass with beta = 0
      if (!t.first_pass) {
        x[v] = x[v] + simd::load_segment<V>(crow + v * lanes * t.c_cs, t.c_cs, n);
      } else if (t.beta != 0.0f) {
        const float* in = t.c_in + i * t.in_rs + out_v * lanes * t.in_cs;
        x[v] = simd::fma(beta, simd::load_segment<V>(in, t.in_cs, n), x[v]);
      }
    });
    unroll<out_vecs>([&](auto v) {
      const int n = std::min(lanes, t.cols - int(v) * lanes);
      if (n <= 0) return;
      float* dst = crow + v * lanes * t.c_cs;
      if constexpr (gated) {
        const epilogue::coord at{t.row0 + i, t.col0 + v * lanes, n, t.batch};
        simd::store_segment(dst, t.c_cs, ep.combine(x[v], x[v + out_vecs], at), n);
      } else if (t.last_pass) {
        const epilogue::coord at{t.row0 + i, t.col0 + v * lanes, n, t.batch};
        simd::store_segment(dst, t.c_cs, ep(x[v], at), n);
      } else {
        simd::store_segment(dst, t.c_cs, x[v], n);
      }
    });
  }
}

/// One tile's k loop: accumulates in registers and writes the sums to `out` (ROWS × VECS·lanes).
/// Not templated on the epilogue: one kernel per height serves every fusion.
template <class V, int ROWS, int VECS, bool PACKED_A>
void run_tile(index_t kc, const float* a, index_t lda, const float* b, index_t ldb,
              index_t next_panel, float* out) noexcept {
  V acc[ROWS][VECS];
  unroll<ROWS>(
      [&](auto i) { unroll<VECS>([&](auto v) { acc[i][v] = simd::broadcast<V>(0.0f); }); });
  accumulate<V, ROWS, VECS, PACKED_A>(acc, kc, a, lda, b, ldb, next_panel);
  constexpr int lanes = simd::lanes<V>;
  unroll<ROWS>([&](auto i) {
    unroll<VECS>([&](auto v) { simd::store(out + (i * VECS + v) * lanes, acc[i][v]); });
  });
}

/// run_tile for every height 1..HEIGHTS, indexed by height - 1: edge tiles get their own kernel.
template <class V, int HEIGHTS, int VECS, bool PACKED_A>
struct tile_table {
  using fn = void (*)(index_t, const float*, index_t, const float*, index_t, index_t,
                      float*) noexcept;
  static constexpr fn make(int h) noexcept {
    return h <= 0 || h > HEIGHTS ? nullptr : entries()[h - 1];
  }

 private:
  template <int... I>
  static constexpr std::array<fn, HEIGHTS> build(std::integer_sequence<int, I...>) noexcept {
    return {&run_tile<V, I + 1, VECS, PACKED_A>...};
  }
  static constexpr std::array<fn, HEIGHTS> entries() noexcept {
    return build(std::make_integer_sequence<int, HEIGHTS>{});
  }
};

}  // namespace fusedops::ops::gemm_detail
