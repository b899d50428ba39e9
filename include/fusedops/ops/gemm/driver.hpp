// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. The width-generic GEMM driver, the BLIS loops around the micro-kernel, written
// once for every CPU backend:
//
//   split the panels (or the rows) of C between threads; per thread:
//   for each block of nc columns (whole panels)
//     for each pass of kc over K             B block: prepacked panels, packed now, or read
//                                             straight from B when packing would not pay
//       for each block of mc rows            A tiles packed k-major (skipped for M <= 4)
//         for each row tile (<= tile rows)   its packed A stays in L1/L2 ...
//           for each panel of the block      ... while the B panels stream past (blocking.hpp)
//             micro-kernel, then finish_tile (alpha, beta, epilogue) and one store
//
// Earlier passes over K store partial sums in C; only the last runs the epilogue. Gated GEMMs
// run one pass (kc = K), since their output is half as wide as their accumulators.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/fused/epilogue/gated.hpp"
#include "fusedops/ops/gemm/blocking.hpp"
#include "fusedops/ops/gemm/gemv.hpp"
#include "fusedops/ops/gemm/microkernel.hpp"
#include "fusedops/ops/gemm/packing.hpp"

namespace fusedops::ops {

namespace gemm_detail {

/// One product C = epilogue(alpha · A·B + beta · C_in) with everything resolved.
struct problem {
  view<const float, 2> a;     // [m, k]
  const float* packed;        // prepacked panels (panel stride k · width), or nullptr
  b_source b;                 // unpacked B (used when packed == nullptr)
  view<float, 2> c;           // [m, n]
  view<const float, 2> c_in;  // beta source (beta != 0 only)
  float alpha, beta;
  index_t m, n, k, batch;
  bool gated() const noexcept { return b.parts == 2; }
};

/// B is read in place rather than packed for few rows: packing costs a pass over B, which a
/// handful of row tiles cannot amortise. The micro-kernel then requests the next panel's rows as
/// it goes (B's rows lie ldb apart, a stride the hardware prefetchers do not follow), and passes
/// over K are half as deep (the rows of a panel in place fall into a fraction of the cache sets).
/// Two orders (make_plan's panel_outer):
///  * panel by panel, every row tile of a block on one panel, when the panel's rows stay in L2
///    (strided_capacity): B then comes from L3 once per block of rows, and reading it in place
///    beats packing it up to direct_b_panel_rows. Measured against row tile by row tile
///    (1 thread, fraction of the FMA peak): 16 × 768 × 768 0.80-0.86 → 0.89, 128 × 3072 × 768
///    0.90-0.91 → 0.92; against packing 192 × 768 × 768 0.90 → 0.93, 256 and 384 × 3072 × 768
///    0.87-0.89 → 0.92; AVX2 (6-row tiles) 100 × 768 × 768 0.87 → 0.93, 384 × 3072 × 768
///    0.90 → 0.92-0.93; 512 × 768 × 768 level, so packing from there on.
///  * else row tile by row tile, each reading the panels in turn from L3, up to
///    direct_b_max_rows rows and direct_b_max_tiles tiles: 16 × 768 × 768 0.70 → 0.85,
///    128 × 768 × 3072 0.87 → 0.90 against packing; with AVX2's 6-row tiles 64 rows (11 tiles)
///    gained as much, 100 rows (17 tiles) lost (0.84 → 0.77). Beyond those limits, with
///    panels that do not stay in L2 (ldb = 1024), 512 × 1024 × 1024 ran at 0.80-0.91 in place
///    against 0.91-0.95 packed.
inline constexpr index_t direct_b_panel_rows = 384;
inline constexpr index_t direct_b_max_rows = 128;
inline constexpr index_t direct_b_max_tiles = 11;
/// Up to this many rows, A is read in place (a few rows stay in L1 on their own).
inline constexpr index_t direct_a_max_rows = 4;
/// A GEMV over a row-major W splits K between threads only if each gets at least this many rows.
inline constexpr index_t gemv_split_k_min_rows = 64;

struct plan {
  gemm_blocking blocks;
  index_t kc;  // depth of a pass (K for gated GEMMs)
  bool direct_a, direct_b;
  bool panel_outer;           // B in place, panel by panel (each runs every row tile of a block)
  index_t per_thread_floats;  // workspace of one thread
  int threads;                // sub-problems run in parallel
  bool split_rows;            // sub-problems split the rows (else the panels)
  bool gemv;                  // handled by a GEMV path
  bool split_k;               // GEMV over a row-major W: threads split K (partial sums in scratch)
  /// Scratch floats of the whole product (every thread's part).
  std::size_t scratch_floats() const noexcept {
    return static_cast<std::size_t>(per_thread_floats) * static_cast<std::size_t>(threads);
  }
};

}  // namespace gemm_detail

template <class B>
struct gemm_generic {
  using S = gemm_shape<B>;
  using V = simd::vec_t<float, B>;
  using problem = gemm_detail::problem;
  using plan = gemm_detail::plan;

  static index_t cols_per_panel(const problem& p) noexcept {
    return p.gated() ? S::width / 2 : S::width;
  }
  static index_t panel_count(const problem& p) noexcept {
    return (p.n + cols_per_panel(p) - 1) / cols_per_panel(p);
  }

  /// GEMV path that applies, if any: 1 rows (M = 1, B row-major), 2 dots over B^T (M = 1,
  /// B column-major), 3 dots over A (N = 1), 4 prepacked B panels (M = 1); 0 none.
  static int gemv_kind(const problem& p) noexcept {
    if (p.gated()) return 0;
    if (p.packed != nullptr) return p.m == 1 ? 4 : 0;
    const view<const float, 2>& b = p.b.part[0];
    if (p.m == 1 && b.stride(1) == 1) return 1;
    if (p.m == 1 && b.stride(0) == 1 && p.a.stride(1) == 1) return 2;
    if (p.n == 1 && p.a.stride(1) == 1 && b.stride(0) == 1) return 3;
    return 0;
  }

  /// The blocking, the split between threads and the scratch of one product. `may_split_k`:
  /// whether a GEMV over a row-major W may split K between the threads, which needs scratch for
  /// the partial sums; else the threads split the columns, with none.
  static plan make_plan(const problem& p, int max_threads, bool may_split_k = true) noexcept {
    plan pl{};
    pl.blocks = blocking_for<B>(cache_sizes::detected());
    const int gemv = gemv_kind(p);
    pl.gemv = gemv != 0;
    pl.kc =
        p.gated() ? std::max<index_t>(p.k, 1) : std::min(pl.blocks.kc, std::max<index_t>(p.k, 1));
    pl.direct_a = p.m <= gemm_detail::direct_a_max_rows && p.a.stride(1) == 1;
    // B in place (see direct_b_panel_rows): in which order, and whether at all.
    const bool b_rows = p.packed == nullptr && !p.gated() && p.b.part[0].stride(1) == 1;
    const index_t kc_in_place = std::min(pl.kc, std::max<index_t>(pl.blocks.kc / 2, 1));
    constexpr index_t panel_bytes = S::width * index_t(sizeof(float));
    pl.panel_outer =
        b_rows && p.m <= gemm_detail::direct_b_panel_rows &&
        2 * kc_in_place * panel_bytes <=
            strided_capacity(cache_sizes::detected().l2,
                             p.b.part[0].stride(0) * index_t(sizeof(float)), panel_bytes);
    pl.direct_b = pl.panel_outer ||
                  (b_rows && p.m <= std::min<index_t>(gemm_detail::direct_b_max_rows,
                                                      gemm_detail::direct_b_max_tiles * S::rows));
    if (pl.direct_b) pl.kc = kc_in_place;
    const index_t panels = panel_count(p);
    const index_t tiles = gemm_detail::row_tiling(p.m, S::rows).count;
    // Splitting the panels keeps each thread's B private (what small M, bound by reading B,
    // needs) but makes every thread pack all of A; splitting the rows makes every thread pack all
    // of B, unless B is prepacked. Split rows when there are rows enough for every thread and
    // the copy it duplicates is the cheaper one (relative to the work, K·N/M vs K·M/N).
    const index_t t = max_threads;
    const bool rows_enough = tiles >= 8 * t;
    const bool dup_b_cheaper = p.packed != nullptr ? !pl.direct_a : p.n < p.m;
    pl.split_rows = (panels < 2 * t && tiles > panels) || (t > 1 && rows_enough && dup_b_cheaper);
    const index_t gemv_units = gemv == 4 ? panels : (p.m == 1 ? p.n : p.m) / S::lanes;
    const index_t units = pl.gemv ? gemv_units : (pl.split_rows ? tiles : panels);
    pl.threads = static_cast<int>(std::clamp<index_t>(units, 1, max_threads));
    if (pl.gemv) {
      // Split K: every thread reads one contiguous part of W. Split by columns, each W row is
      // read in pieces, every thread's stream restarting at every row: from memory (2 threads,
      // 1 x 4096 x 4096) 0.76-0.78 of the read bandwidth measured alongside, against 0.80-0.85
      // for the K split when two cores read at ~90 GB/s (0.97 at ~55). A W that fits in the
      // last-level cache may well be read from there, where the column split measured 7-10 %
      // faster when K < N (1 x 768 x 3072, 1 x 512 x 3072) and 10-20 % slower when K >= N:
      // split K for those, and for any W larger than that cache.
      const bool w_fits_llc = p.k * p.n * index_t(sizeof(float)) <= cache_sizes::detected().l3;
      pl.split_k = may_split_k && gemv == 1 && max_threads > 1 &&
                   p.k >= 2 * gemm_detail::gemv_split_k_min_rows && (p.k >= p.n || !w_fits_llc);
      if (pl.split_k) {
        pl.threads = static_cast<int>(
            std::clamp<index_t>(p.k / gemm_detail::gemv_split_k_min_rows, 1, max_threads));
        pl.per_thread_floats = gemv_part_stride(p) + 16;  // + slack to 64-byte align the parts
      }
      return pl;
    }
    index_t ws = 0;
    if (!pl.direct_a) ws += std::min(pl.blocks.mc, p.m + S::rows) * pl.kc;
    if (p.packed == nullptr) ws += (pl.direct_b ? S::width : pl.blocks.nc) * pl.kc;
    pl.per_thread_floats = ws == 0 ? 0 : ws + 16;  // + slack to 64-byte align each thread's part
    return pl;
  }

  template <class E>
  static void run(const problem& p, const plan& pl, float* workspace, const threading& threads,
                  const E& ep) noexcept {
    if (p.m == 0 || p.n == 0) return;
    if constexpr (!epilogue::is_gated_v<E>) {  // gated products never take a GEMV path
      if (pl.gemv) {
        run_gemv(p, pl, workspace, threads, ep);
        return;
      }
    }
    const index_t panels = panel_count(p);
    const gemm_detail::row_tiling tiles(p.m, S::rows);
    parallel_for(threads, pl.threads, 1, [&](index_t t0, index_t t1) {
      for (index_t t = t0; t < t1; ++t) {
        float* ws = align64(workspace + t * pl.per_thread_floats);
        if (pl.split_rows) {
          const index_t r0 = tiles.start(tiles.count * t / pl.threads);
          const index_t r1 = tiles.start(tiles.count * (t + 1) / pl.threads);
          serial(p, pl, r0, r1, 0, panels, ws, ep);
        } else {
          serial(p, pl, 0, p.m, panels * t / pl.threads, panels * (t + 1) / pl.threads, ws, ep);
        }
      }
    });
  }

 private:
  static float* align64(float* ptr) noexcept {
    const auto u = reinterpret_cast<std::uintptr_t>(ptr);
    return reinterpret_cast<float*>((u + 63) / 64 * 64);
  }

  /// Floats between the partial sums of a split-K GEMV: whole cache lines.
  static index_t gemv_part_stride(const problem& p) noexcept { return (p.n + 15) / 16 * 16; }

  template <class E>
  static void run_gemv(const problem& p, const plan& pl, float* workspace, const threading& threads,
                       const E& ep) noexcept {
    gemm_detail::gemv_out o{};
    o.alpha = p.alpha, o.beta = p.beta, o.batch = p.batch;
    const int kind = gemv_kind(p);
    const view<const float, 2>& b = p.b.part[0];
    o.along_row = kind != 3;
    o.c = p.c.data();
    o.c_stride = o.along_row ? p.c.stride(1) : p.c.stride(0);
    o.c_in = p.c_in.data();
    o.in_stride = o.along_row ? p.c_in.stride(1) : p.c_in.stride(0);
    if (kind == 4) {  // contiguous ranges of panels, i.e. of the packed weights
      const index_t panels = panel_count(p);
      parallel_for(threads, pl.threads, 1, [&](index_t t0, index_t t1) {
        gemm_detail::gemv_packed_range<B, S::width>(p.k, p.a.data(), p.a.stride(1), p.packed, p.n,
                                                    panels * t0 / pl.threads,
                                                    panels * t1 / pl.threads, o, ep);
      });
      return;
    }
    if (pl.split_k) {  // partial sums over parts of K, then one pass adds and finishes them
      float* parts = align64(workspace);
      const index_t stride = gemv_part_stride(p);
      parallel_for(threads, pl.threads, 1, [&](index_t t0, index_t t1) {
        for (index_t t = t0; t < t1; ++t)
          gemm_detail::gemv_rows_partial<B>(p.k * t / pl.threads, p.k * (t + 1) / pl.threads, p.n,
                                            p.a.data(), p.a.stride(1), b.data(), b.stride(0),
                                            parts + t * stride);
      });
      gemm_detail::gemv_finish_parts<B>(parts, stride, pl.threads, 0, p.n, o, ep);
      return;
    }
    const index_t results = o.along_row ? p.n : p.m;
    // Chunks of whole vectors, so threads never share a cache line of C.
    const index_t vecs = (results + S::lanes - 1) / S::lanes;
    parallel_for(threads, pl.threads, 1, [&](index_t t0, index_t t1) {
      const index_t j0 = std::min(results, vecs * t0 / pl.threads * S::lanes);
      const index_t j1 = std::min(results, vecs * t1 / pl.threads * S::lanes);
      if (j0 >= j1) return;
      if (kind == 1)
        gemm_detail::gemv_rows_range<B>(p.k, p.a.data(), p.a.stride(1), b.data(), b.stride(0), j0,
                                        j1, o, ep);
      else if (kind == 2)
        gemm_detail::gemv_dots_range<B>(p.k, p.a.data(), b.data(), b.stride(1), j0, j1, o, ep);
      else
        gemm_detail::gemv_dots_range<B>(p.k, b.data(), p.a.data(), p.a.stride(0), j0, j1, o, ep);
    });
  }

  /// Rows [r0, r1) × panels [q0, q1) of the product, on the calling thread.
  template <class E>
  static void serial(const problem& p, const plan& pl, index_t r0, index_t r1, index_t q0,
                     index_t q1, float* ws, const E& ep) noexcept {
    if (r0 >= r1 || q0 >= q1) return;
    const gemm_detail::row_tiling tiles(r1 - r0, S::rows);
    const index_t cpp = cols_per_panel(p);
    const index_t panels_per_block = std::max<index_t>(1, pl.blocks.nc / S::width);
    float* ws_a = ws;
    float* ws_b = ws + (pl.direct_a ? 0 : std::min(pl.blocks.mc, p.m + S::rows) * pl.kc);
    const view<const float, 2>& b = p.b.part[0];
    const index_t full_panels = p.n / S::width;  // panels B can be read from in place

    for (index_t q = q0; q < q1; q += panels_per_block) {
      const index_t nq = std::min(panels_per_block, q1 - q);
      index_t k0 = 0;
      do {
        const index_t kc = std::min(pl.kc, p.k - k0);
        const bool first = k0 == 0, last = k0 + kc >= p.k;
        // The B block: where panel q + j starts for this pass, and its row stride.
        const float* b_base;
        index_t b_panel_stride, ldb;
        if (p.packed != nullptr) {
          b_base = p.packed + q * p.k * S::width + k0 * S::width;
          b_panel_stride = p.k * S::width;
          ldb = S::width;
        } else if (pl.direct_b) {
          b_base = b.data() + k0 * b.stride(0) + q * S::width;
          b_panel_stride = S::width;
          ldb = b.stride(0);
          if (q + nq > full_panels)  // the last, partial panel cannot be read in place: pack it
            gemm_detail::pack_b_panels<B>(p.b, k0, kc, full_panels, 1, ws_b, kc * S::width);
        } else {
          gemm_detail::pack_b_panels<B>(p.b, k0, kc, q, nq, ws_b, kc * S::width);
          b_base = ws_b;
          b_panel_stride = kc * S::width;
          ldb = S::width;
        }
        auto panel_ptr = [&](index_t j, index_t& ld) {
          ld = ldb;
          if (pl.direct_b && q + j >= full_panels) {
            ld = S::width;
            return static_cast<const float*>(ws_b);
          }
          return b_base + j * b_panel_stride;
        };

        for (index_t t_begin = 0; t_begin < tiles.count;) {
          // Row tiles of this block: as many as fit in mc rows (at least one).
          index_t t_end = t_begin + 1;
          while (t_end < tiles.count &&
                 tiles.start(t_end + 1) - tiles.start(t_begin) <= pl.blocks.mc)
            ++t_end;
          if (!pl.direct_a) {
            float* dst = ws_a;
            for (index_t t = t_begin; t < t_end; ++t) {
              gemm_detail::pack_a_tile<B>(p.a, r0 + tiles.start(t), tiles.height(t), k0, kc, dst);
              dst += tiles.height(t) * kc;
            }
          }
          auto tile_job = [&](index_t t, index_t j, bool request_next) {
            const int h = tiles.height(t);
            const index_t row = r0 + tiles.start(t);
            const float* a_ptr = pl.direct_a ? p.a.data() + row * p.a.stride(0) + k0
                                             : ws_a + (tiles.start(t) - tiles.start(t_begin)) * kc;
            const index_t col = (q + j) * cpp;
            gemm_detail::tile_store st{};
            st.c = p.c.data() + row * p.c.stride(0) + col * p.c.stride(1);
            st.c_rs = p.c.stride(0), st.c_cs = p.c.stride(1);
            st.c_in = p.beta != 0.0f
                          ? p.c_in.data() + row * p.c_in.stride(0) + col * p.c_in.stride(1)
                          : nullptr;
            st.in_rs = p.c_in.stride(0), st.in_cs = p.c_in.stride(1);
            st.alpha = p.alpha, st.beta = p.beta;
            st.first_pass = first, st.last_pass = last;
            st.row0 = row, st.col0 = col, st.batch = p.batch;
            st.cols = static_cast<int>(std::min(cpp, p.n - col));
            index_t ld;
            const float* b_ptr = panel_ptr(j, ld);
            // In place, the next panel's rows are worth requesting while this one is read.
            const index_t next_panel =
                request_next && pl.direct_b && q + j + 1 < full_panels ? S::width : 0;
            run_tile(h, kc, a_ptr, pl.direct_a ? p.a.stride(0) : h, b_ptr, ld, next_panel, st, ep,
                     pl.direct_a);
          };
          if (pl.panel_outer) {
            // Each panel once from L3 into L2 (requested during its predecessor's first tile),
            // then every row tile of the block reads it from there.
            for (index_t j = 0; j < nq; ++j)
              for (index_t t = t_begin; t < t_end; ++t) tile_job(t, j, t == t_begin);
          } else {
            // The A tile stays in L1 while the block's panels stream past.
            for (index_t t = t_begin; t < t_end; ++t)
              for (index_t j = 0; j < nq; ++j) tile_job(t, j, true);
          }
          t_begin = t_end;
        }
        k0 += kc;
      } while (k0 < p.k);
    }
  }

  template <class E>
  static void run_tile(int h, index_t kc, const float* a, index_t lda, const float* b, index_t ldb,
                       index_t next_panel, const gemm_detail::tile_store& st, const E& ep,
                       bool direct_a) noexcept {
    // The C tile (and what the epilogue reads) is read and written after the k loop: start
    // fetching it now, so its misses overlap the arithmetic (C rows can be far apart).
    for (int i = 0; i < h; ++i) {
      FUSEDOPS_PREFETCH_WRITE(st.c + i * st.c_rs);
      FUSEDOPS_PREFETCH_WRITE(st.c + i * st.c_rs + (S::width - 1) * st.c_cs);
      if (st.last_pass && st.cols > 0)
        epilogue::prefetch(ep, epilogue::coord{st.row0 + i, st.col0, st.cols, st.batch});
    }
    alignas(64) float acc[S::rows * S::width];
    // A is read in place only for M <= direct_a_max_rows, so only those heights are instantiated.
    constexpr int direct_heights = std::min<int>(S::rows, gemm_detail::direct_a_max_rows);
    if (direct_a)
      gemm_detail::tile_table<V, direct_heights, S::vectors, false>::make(h)(kc, a, lda, b, ldb,
                                                                             next_panel, acc);
    else
      gemm_detail::tile_table<V, S::rows, S::vectors, true>::make(h)(kc, a, lda, b, ldb, next_panel,
                                                                     acc);
    gemm_detail::finish_tile<V, S::vectors>(acc, h, st, ep);
  }
};

}  // namespace fusedops::ops
