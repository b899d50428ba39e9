// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. GEMV fast paths for unpacked operands (M = 1 or N = 1). A matrix-vector
// product reads every weight once and does 2 flops per weight: it is bound by memory bandwidth,
// so these paths only make sure the weights stream sequentially, one contiguous run at a time,
// on every thread:
//  * rows:  y[0, :] = sum_k x[k] · W[k, :]   W row-major (M = 1, B as given): walks W four rows
//           at a time, accumulating a chunk of y in L1. Threads split K (each reads one
//           contiguous part of W; partial sums added at the end) when the driver's plan says so
//           and scratch is at hand, else the columns.
//  * dots:  y[j] = sum_k W[j, k] · x[k]       W with unit stride along k (M = 1 with a
//           transposed B, i.e. PyTorch's [out, in] weights; or N = 1 with A as W): four dot
//           products at once.
//  * packed: y[0, :] over prepacked panels (M = 1 with packed_weights): four panels side by side.
// Both finish through the same steps as the tiles: alpha, beta · C_in, the epilogue, one store.
#pragma once

#include <algorithm>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/fused/epilogue/nodes.hpp"

namespace fusedops::ops::gemm_detail {

/// Output of a GEMV: `count` results along one output row (along_row) or column.
struct gemv_out {
  float* c;
  index_t c_stride;   // between consecutive results
  const float* c_in;  // beta source at result 0 (used when beta != 0)
  index_t in_stride;
  float alpha, beta;
  index_t row0, col0, batch;
  bool along_row;  // results are columns col0.. of row row0 (else rows row0.. of column col0)
};

/// Finishes and stores results r[0..n) (n <= lanes) that start at result index j.
template <class V, class E>
FUSEDOPS_INLINE void gemv_finish(V r, index_t j, int n, const gemv_out& o, const E& ep) noexcept {
  r = r * simd::broadcast<V>(o.alpha);
  if (o.beta != 0.0f)
    r = simd::fma(simd::broadcast<V>(o.beta),
                  simd::load_segment<V>(o.c_in + j * o.in_stride, o.in_stride, n), r);
  if (o.along_row) {
    const epilogue::coord at{o.row0, o.col0 + j, n, o.batch};
    simd::store_segment(o.c + j * o.c_stride, o.c_stride, ep(r, at), n);
    return;
  }
  alignas(64) float buf[simd::lanes<V>];
  simd::store(buf, r);
  for (int i = 0; i < n; ++i) {  // one output column: the epilogue sees one element per row
    const epilogue::coord at{o.row0 + j + i, o.col0, 1, o.batch};
    o.c[(j + i) * o.c_stride] = ep(buf[i], at);
  }
}

/// acc[0..width) += sum over k in [k0, k1) of x[k] · W[k, j0 + ..] for W [K, N] row-major (unit
/// column stride), x[k] = x_ptr[k · x_stride]. acc (a chunk of at most gemv_rows_chunk floats)
/// stays in L1 while the rows of W stream past.
template <class B>
void gemv_rows_accumulate(index_t k0, index_t k1, const float* x, index_t x_stride, const float* w,
                          index_t w_rs, index_t j0, index_t width, float* acc) noexcept {
  using V = simd::vec_t<float, B>;
  constexpr int lanes = simd::lanes<V>;
  const index_t full = width / lanes * lanes;
  const int tail = static_cast<int>(width - full);
  const float* wrow = w + k0 * w_rs + j0;
  index_t k = k0;
  // Four rows of W per sweep of the chunk: four sequential read streams, and the chunk loaded
  // and stored once per four rows instead of once per row. On the EPYC with full-width AVX-512
  // (1 thread, weights from memory) four streams read 1.05-1.10x faster than eight; two streams,
  // with twice the chunk traffic, 0.8x.
  constexpr int rows = 4;
  for (; k + rows <= k1; k += rows, wrow += rows * w_rs) {
    V xr[rows];
    for (int r = 0; r < rows; ++r) xr[r] = simd::broadcast<V>(x[(k + r) * x_stride]);
    for (index_t j = 0; j < full; j += lanes) {
      V s0 = simd::load<V>(acc + j);
      V s1 = simd::broadcast<V>(0.0f);
      for (int r = 0; r < rows; r += 2) {
        s0 = simd::fma(xr[r], simd::load<V>(wrow + r * w_rs + j), s0);
        s1 = simd::fma(xr[r + 1], simd::load<V>(wrow + (r + 1) * w_rs + j), s1);
      }
      simd::store(acc + j, s0 + s1);
    }
    for (int t = 0; t < tail; ++t)
      for (int r = 0; r < rows; ++r)
        acc[full + t] += x[(k + r) * x_stride] * wrow[r * w_rs + full + t];
  }
  for (; k < k1; ++k, wrow += w_rs) {
    const V xk = simd::broadcast<V>(x[k * x_stride]);
    for (index_t j = 0; j < full; j += lanes)
      simd::store(acc + j, simd::fma(xk, simd::load<V>(wrow + j), simd::load<V>(acc + j)));
    for (int t = 0; t < tail; ++t) acc[full + t] += x[k * x_stride] * wrow[full + t];
  }
}

/// Columns of y accumulated at once by the rows GEMV: 16 KiB stays in L1 while W streams past.
/// It is also the length of each W row's contiguous run between jumps: 2048 floats (8 KiB) read
/// 4096 × 4096 weights from memory at 18-19 GB/s on one AVX-512 core, 4096 at 21-22 (single-
/// stream read: ~23).
inline constexpr index_t gemv_rows_chunk = 4096;

/// y[0, j0..j1) for W [K, N] row-major (unit column stride), x[k] = x_ptr[k · x_stride].
template <class B, class E>
void gemv_rows_range(index_t k_total, const float* x, index_t x_stride, const float* w,
                     index_t w_rs, index_t j0, index_t j1, const gemv_out& o,
                     const E& ep) noexcept {
  using V = simd::vec_t<float, B>;
  constexpr int lanes = simd::lanes<V>;
  alignas(64) float acc[gemv_rows_chunk];
  for (index_t c0 = j0; c0 < j1; c0 += gemv_rows_chunk) {
    const index_t width = std::min(gemv_rows_chunk, j1 - c0);
    std::fill(acc, acc + width, 0.0f);
    gemv_rows_accumulate<B>(0, k_total, x, x_stride, w, w_rs, c0, width, acc);
    for (index_t j = 0; j < width; j += lanes) {
      const int n = static_cast<int>(std::min<index_t>(lanes, width - j));
      gemv_finish(simd::load_segment<V>(acc + j, 1, n), c0 + j, n, o, ep);
    }
  }
}

/// The partial sums of rows [k0, k1) of W for all n columns into part[0..n), chunk by chunk.
template <class B>
void gemv_rows_partial(index_t k0, index_t k1, index_t n, const float* x, index_t x_stride,
                       const float* w, index_t w_rs, float* part) noexcept {
  for (index_t c0 = 0; c0 < n; c0 += gemv_rows_chunk) {
    const index_t width = std::min(gemv_rows_chunk, n - c0);
    std::fill(part + c0, part + c0 + width, 0.0f);
    gemv_rows_accumulate<B>(k0, k1, x, x_stride, w, w_rs, c0, width, part + c0);
  }
}

/// Finishes y[0, j0..j1) from `parts` partial sums (part p at parts + p · part_stride), added in
/// order p = 0, 1, ...
template <class B, class E>
void gemv_finish_parts(const float* parts, index_t part_stride, int count, index_t j0, index_t j1,
                       const gemv_out& o, const E& ep) noexcept {
  using V = simd::vec_t<float, B>;
  constexpr int lanes = simd::lanes<V>;
  for (index_t j = j0; j < j1; j += lanes) {
    const int n = static_cast<int>(std::min<index_t>(lanes, j1 - j));
    V r = simd::load_segment<V>(parts + j, 1, n);
    for (int q = 1; q < count; ++q)
      r = r + simd::load_segment<V>(parts + q * part_stride + j, 1, n);
    gemv_finish(r, j, n, o, ep);
  }
}

/// y[j] for j in [j0, j1): dot of W row j (unit stride along k, row stride w_rs) with x (unit
/// stride). Four rows at a time, so four independent accumulator chains hide FMA latency.
template <class B, class E>
void gemv_dots_range(index_t k_total, const float* x, const float* w, index_t w_rs, index_t j0,
                     index_t j1, const gemv_out& o, const E& ep) noexcept {
  using V = simd::vec_t<float, B>;
  constexpr int lanes = simd::lanes<V>;
  const index_t full = k_total / lanes * lanes;
  const int tail = static_cast<int>(k_total - full);
  alignas(64) float res[lanes];
  index_t j = j0;
  while (j < j1) {
    const int n = static_cast<int>(std::min<index_t>(lanes, j1 - j));
    for (int r = 0; r < n; r += 4) {
      const int rows = std::min(4, n - r);
      const float* w0 = w + (j + r) * w_rs;
      V s[4] = {simd::broadcast<V>(0.0f), simd::broadcast<V>(0.0f), simd::broadcast<V>(0.0f),
                simd::broadcast<V>(0.0f)};
      for (index_t k = 0; k < full; k += lanes) {
        const V xv = simd::load<V>(x + k);
        for (int q = 0; q < 4; ++q)
          if (q < rows) s[q] = simd::fma(simd::load<V>(w0 + q * w_rs + k), xv, s[q]);
      }
      if (tail > 0) {
        const V xv = simd::load_partial<V>(x + full, tail);
        for (int q = 0; q < rows; ++q)
          s[q] = simd::fma(simd::load_partial<V>(w0 + q * w_rs + full, tail), xv, s[q]);
      }
      for (int q = 0; q < rows; ++q) res[r + q] = simd::reduce_add(s[q]);
    }
    gemv_finish(simd::load_segment<V>(res, 1, n), j, n, o, ep);
    j += n;
  }
}

/// y[0, (q0 + p) · WIDTH ..] += the NP panels from panel q0 on, over all of K: acc[p][v] holds
/// lanes v·lanes.. of panel p.
template <class V, int NP, int WIDTH>
FUSEDOPS_INLINE void gemv_panels(index_t k_total, const float* x, index_t x_stride, const float* b,
                                 index_t panel_stride,
                                 V (&acc)[4][WIDTH / simd::lanes<V>]) noexcept {
  constexpr int lanes = simd::lanes<V>, vecs = WIDTH / lanes;
  for (index_t k = 0; k < k_total; ++k) {
    const V xk = simd::broadcast<V>(x[k * x_stride]);
    for (int p = 0; p < NP; ++p)
      for (int v = 0; v < vecs; ++v)
        acc[p][v] =
            simd::fma(xk, simd::load<V>(b + p * panel_stride + k * WIDTH + v * lanes), acc[p][v]);
  }
}

/// y[0, j) for the columns j of panels [q0, q1) of a prepacked B (panel q holds columns
/// q·WIDTH.. as K rows of WIDTH floats at q · K · WIDTH, the last one zero-padded; n_total
/// columns in all), x[k] = x_ptr[k · x_stride]. Each panel is one contiguous run of K · WIDTH
/// floats; four panels side by side make four sequential read streams (one panel at a time
/// through the GEMM tile read 4096 × 4096 packed weights at 86-88 % of the read bandwidth
/// measured alongside on the Zen 4 VM) and 4 · WIDTH / lanes independent accumulators.
template <class B, int WIDTH, class E>
void gemv_packed_range(index_t k_total, const float* x, index_t x_stride, const float* packed,
                       index_t n_total, index_t q0, index_t q1, const gemv_out& o,
                       const E& ep) noexcept {
  using V = simd::vec_t<float, B>;
  constexpr int lanes = simd::lanes<V>, vecs = WIDTH / lanes;
  static_assert(WIDTH % lanes == 0, "a panel holds whole vectors");
  const index_t ps = k_total * WIDTH;
  for (index_t q = q0; q < q1; q += 4) {
    const int np = static_cast<int>(std::min<index_t>(4, q1 - q));
    V acc[4][vecs];
    for (auto& panel : acc)
      for (V& a : panel) a = simd::broadcast<V>(0.0f);
    const float* b = packed + q * ps;
    switch (np) {
      // clang-format off
      case 4: gemv_panels<V, 4, WIDTH>(k_total, x, x_stride, b, ps, acc); break;
      case 3: gemv_panels<V, 3, WIDTH>(k_total, x, x_stride, b, ps, acc); break;
      case 2: gemv_panels<V, 2, WIDTH>(k_total, x, x_stride, b, ps, acc); break;
      default: gemv_panels<V, 1, WIDTH>(k_total, x, x_stride, b, ps, acc); break;
        // clang-format on
    }
    for (int p = 0; p < np; ++p)
      for (int v = 0; v < vecs; ++v) {
        const index_t col = (q + p) * WIDTH + v * lanes;
        if (col >= n_total) break;
        gemv_finish(acc[p][v], col, static_cast<int>(std::min<index_t>(lanes, n_total - col)), o,
                    ep);
      }
  }
}

}  // namespace fusedops::ops::gemm_detail
