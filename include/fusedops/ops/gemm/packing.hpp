// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. Packing: copies of A and B in the order the micro-kernel reads them.
//  * B panels: `width` columns (the tile's VECS · lanes), row after row: panel p, row k, column c
//    at p·panel_stride + k·width + c. Columns past N are zero, so the kernel never branches on
//    them. A gated B puts width/2 gate columns and the matching width/2 up columns in each panel.
//  * A tiles: a tile of h rows is stored k-major ([k][h]) so each k step reads h consecutive
//    floats to broadcast.
// Both read any strides; each chooses the loop order that reads its source sequentially.
#pragma once

#include <algorithm>
#include <cstring>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/prefetch.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/gemm/blocking.hpp"

namespace fusedops::ops::gemm_detail {

/// Balanced split of m rows into tiles of at most `max_rows`: heights differ by at most one, so
/// M = 16 on a 14-row kernel runs two 8-row tiles rather than 14 + 2.
struct row_tiling {
  index_t count = 0, base = 0, extra = 0;  // `extra` tiles have base + 1 rows
  row_tiling(index_t m, int max_rows) noexcept {
    if (m <= 0) return;
    count = (m + max_rows - 1) / max_rows;
    base = m / count;
    extra = m % count;
  }
  index_t start(index_t t) const noexcept { return t * base + std::min(t, extra); }
  int height(index_t t) const noexcept { return static_cast<int>(base + (t < extra ? 1 : 0)); }
};

/// The source of packed panels: one matrix, or for a gated GEMM the gate and up matrices (each
/// [K, n_out]), whose columns the panels interleave half a panel at a time.
struct b_source {
  view<const float, 2> part[2];
  int parts = 1;  // 1 plain, 2 gated
  index_t n_out = 0;
};

/// Packs rows [k0, k0 + kc) of panels [p0, p0 + np) of b into dst (panel q at q·panel_stride),
/// in backend B's panel width. (Templates on B keep per-ISA copies apart in multi-ISA builds.)
template <class B>
void pack_b_panels(const b_source& b, index_t k0, index_t kc, index_t p0, index_t np, float* dst,
                   index_t panel_stride) noexcept {
  constexpr int WIDTH = gemm_shape<B>::width;
  const int seg_w = WIDTH / b.parts;
  // Row-major B whose panels are all full: row by row across the block, so B is read in runs of
  // np · seg_w floats (4 KiB for a 1024-column block) rather than a panel width per row, with the
  // rows kB_prefetch_rows ahead requested meanwhile (each run is a new stream that the hardware
  // prefetcher would otherwise ramp up on). Measured on the 2-core Zen 4 VM, unpacked
  // 128 × 3072 × 768: 80–88 -> 90–96 GFLOP/s; the panel-by-panel copy read B at ~7 GB/s.
  // At most kPanelsPerSweep panels per sweep down the rows: the panels lie kc · width floats
  // apart (a multiple of 4 KiB), so each one's writes map to the same L1 sets, and 32 of them
  // (a whole 1024-column block) overflow the sets' ways; 768 × 3072 packed at 14 GB/s in whole
  // blocks, 48 GB/s in sweeps of 4–8 panels (16: 31) on the AVX-512 EPYC VM.
  const bool all_full = (p0 + np) * seg_w <= b.n_out;
  if (all_full && b.part[0].stride(1) == 1 && (b.parts == 1 || b.part[1].stride(1) == 1)) {
    constexpr index_t kB_prefetch_rows = 4, kPanelsPerSweep = 8;
    for (index_t g = 0; g < np; g += kPanelsPerSweep) {
      const index_t ng = std::min(kPanelsPerSweep, np - g);
      for (int s = 0; s < b.parts; ++s) {
        const index_t rs = b.part[s].stride(0);
        const float* src = b.part[s].data() + k0 * rs + (p0 + g) * seg_w;
        for (index_t k = 0; k < kc; ++k) {
          const float* row = src + k * rs;
          const float* ahead = k + kB_prefetch_rows < kc ? row + kB_prefetch_rows * rs : nullptr;
          float* out = dst + g * panel_stride + k * WIDTH + s * seg_w;
          for (index_t q = 0; q < ng; ++q) {
            if (ahead != nullptr) prefetch_range(ahead + q * seg_w, seg_w);
            for (int c = 0; c < seg_w; ++c) out[q * panel_stride + c] = row[q * seg_w + c];
          }
        }
      }
    }
    return;
  }
  for (index_t q = 0; q < np; ++q) {
    float* panel = dst + q * panel_stride;
    const index_t first_out = (p0 + q) * seg_w;  // first output column of this panel
    const int valid = static_cast<int>(std::clamp<index_t>(b.n_out - first_out, 0, seg_w));
    for (int s = 0; s < b.parts; ++s) {
      const index_t rs = b.part[s].stride(0), cs = b.part[s].stride(1);
      const float* src = b.part[s].data() + k0 * rs + first_out * cs;
      float* out = panel + s * seg_w;
      if (cs == 1 && valid == seg_w) {
        for (index_t k = 0; k < kc; ++k)
          for (int c = 0; c < seg_w; ++c) out[k * WIDTH + c] = src[k * rs + c];
      } else if (cs == 1) {
        for (index_t k = 0; k < kc; ++k) {
          std::copy(src + k * rs, src + k * rs + valid, out + k * WIDTH);
          std::fill(out + k * WIDTH + valid, out + k * WIDTH + seg_w, 0.0f);
        }
      } else {
        for (int c = 0; c < valid; ++c)  // column by column: sequential when B is transposed
          for (index_t k = 0; k < kc; ++k) out[k * WIDTH + c] = src[k * rs + c * cs];
        for (index_t k = 0; k < kc; ++k)
          std::fill(out + k * WIDTH + valid, out + k * WIDTH + seg_w, 0.0f);
      }
    }
  }
}

/// dst[d · h + i] = row(i)[d] · scale for rows i < h and d < D, where row(i) points at row i
/// (unit stride along D): h rows copied k-major, the layout of the micro-kernel's A operand (the
/// GEMM's A tiles, attention's scaled Q tiles). A transpose: lanes × lanes blocks go through
/// registers (simd::transpose), so each row is read with whole-vector loads and each k-major
/// row written with whole-vector stores; the last D mod lanes columns go element by element.
/// Multiplying by the scale is the only arithmetic (scale 1 copies the bits).
template <class V, class RowPtr>
void pack_rows_k_major(int h, index_t D, RowPtr&& row, float scale, float* dst) noexcept {
  constexpr int L = simd::lanes<V>;
  const V sv = simd::broadcast<V>(scale);
  const V zero = simd::broadcast<V>(0.0f);
  const index_t d_full = D / L * L;
  for (int i0 = 0; i0 < h; i0 += L) {
    const int hh = std::min(L, h - i0);
    const float* src[L];
    for (int i = 0; i < hh; ++i) src[i] = row(i0 + i);
    for (index_t d0 = 0; d0 < d_full; d0 += L) {
      V r[L];
      for (int i = 0; i < L; ++i) r[i] = i < hh ? simd::load<V>(src[i] + d0) * sv : zero;
      simd::transpose(r);  // r[j] = column d0 + j of the hh rows (and zeros)
      if (hh == h && 2 * h >= L) {
        // The h-float runs of consecutive columns are adjacent: whole-vector stores, each
        // overwriting the previous one's surplus lanes, and a partial store for the last. (With
        // 2h >= L no store reaches past this block of L columns.)
        float* out = dst + d0 * h;
        for (int j = 0; j + 1 < L; ++j) simd::store(out + j * h, r[j]);
        simd::store_partial(out + (L - 1) * h, r[L - 1], hh);
      } else {
        for (int j = 0; j < L; ++j) simd::store_partial(dst + (d0 + j) * h + i0, r[j], hh);
      }
    }
    for (index_t d = d_full; d < D; ++d)
      for (int i = 0; i < hh; ++i) dst[d * h + i0 + i] = src[i][d] * scale;
  }
}

/// Packs rows [row0, row0 + h) × columns [k0, k0 + kc) of a, k-major, into dst.
template <class B>
void pack_a_tile(const view<const float, 2>& a, index_t row0, int h, index_t k0, index_t kc,
                 float* dst) noexcept {
  const index_t rs = a.stride(0), cs = a.stride(1);
  const float* src = a.data() + row0 * rs + k0 * cs;
  if (cs == 1) {
    // Row-major A through register transposes. The element-by-element copy (k outer, rows inner)
    // spent ~2 cycles per float, 5–6 % of an unpacked 1024³ GEMM's time.
    pack_rows_k_major<simd::vec_t<float, B>>(
        h, kc, [&](int i) { return src + i * rs; }, 1.0f, dst);
    return;
  }
  // k outer, rows inner: reads down the columns of a transposed A, writes sequential.
  for (index_t k = 0; k < kc; ++k)
    for (int i = 0; i < h; ++i) dst[k * h + i] = src[i * rs + k * cs];
}

}  // namespace fusedops::ops::gemm_detail
