// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. The tile loop of one work unit, FlashAttention-2 style, written once for
// every CPU backend over the GEMM micro-kernel (ops/gemm/microkernel.hpp: accumulate):
//
//   unit = (batch b, KV head, rows [r0, r1) of the G·Sq query rows of that KV head's group,
//           ordered query-major: row r is query r / G of head kv·G + r % G), key range [k0, k1)
//   pack Q rows k-major per row tile, pre-multiplied by scale      (the A operand of S)
//     (rotated first with fused RoPE: rotary.hpp; a plain unit-stride Q is packed instead at
//     each tile's first key block, operand_packing.hpp)
//   for each block of bc keys that some row of the unit may attend:
//     transpose the K block into a [Dqk][bc] panel                 (the B operand of S)
//       (each row rotated first with fused RoPE and no KV cache)
//     pack the V columns that cannot be read in place              (a Dv tail, strided V)
//     for each row tile (gemm_shape rows) that may attend the block:
//       S = Q_tile · K_blockᵀ                 accumulate<ROWS, VECS, packed A> per panel
//       softcap, ALiBi, score functor, float / bool masks, structural masks (only on blocks
//       the causal rule, window or valid length cut), row max      (score_row)
//       P = exp(S - m_new), (m, l) updated, alpha                  (online_softmax.hpp)
//       O_tile = alpha · O_tile + P · V_block  accumulate<ROWS, VECS, direct A>, V rows as B
//   finish: O / l into the output (or the partial state for a split KV range)
//
// Score policies: ALiBi (a template flag; run() picks the instantiation once per unit from the
// slopes pointer) and the user's score functor (a template parameter; no_score_mod compiles
// away), so a call without them runs exactly the plain loop. Sinks only change each row's
// initial (m, l) (online_softmax.hpp: start_row), in the chunk that holds key 0.
//
// GQA: the G query heads of a KV head are rows of one unit, so each K/V block is transposed and
// loaded once for all of them (and decode with G heads runs G-row tiles). Extra memory: the
// workspace slice of one thread (attention_generic.hpp), independent of Sq × Skv.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "fusedops/arch/simd.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/attention/dot_scores.hpp"
#include "fusedops/ops/attention/masks.hpp"
#include "fusedops/ops/attention/online_softmax.hpp"
#include "fusedops/ops/attention/operand_packing.hpp"
#include "fusedops/ops/attention/rotary.hpp"
#include "fusedops/ops/gemm/blocking.hpp"
#include "fusedops/ops/gemm/microkernel.hpp"
#include "fusedops/ops/gemm/packing.hpp"

namespace fusedops::ops::attention_detail {

/// Most keys per block, the row stride of the S tile and the transposed K block: a multiple of
/// every backend's panel width (16 or 32 columns).
inline constexpr int block_keys = 128;

/// Keys per block for head size `dqk`. Per block each row pays a fixed cost (its modifiers, the
/// scalar alpha, the horizontal max, the O rescale) against FMA work proportional to the keys
/// times D: at D <= 64 128-key blocks amortise it (~10 % faster prefill, measured on AVX-512);
/// at larger D it is already small and 64-key blocks waste less on causal diagonal blocks.
constexpr index_t keys_per_block(index_t dqk) noexcept { return dqk <= 64 ? 128 : 64; }

/// Keys per block of a unit of a few rows (decode: dot-product scores, P·V over whole V rows):
/// K and V are then read in runs of 1024 rows each, which on this project's AVX-512 machine
/// streamed from memory faster than shorter runs (1 thread, 16384 keys, 4 rows per KV head, ns
/// per key and KV head, alternated rounds: 128 keys 31.3-31.9, 512 30.6-31.3, 1024 29.8-30.5;
/// 768 and 1024 alike in another set). Longer ones lost (1536 32.0-32.6, 2048 38.6-41.4): a
/// block's K and V then no longer fit in the 1 MiB L2 together for P·V's second row pair.
inline constexpr int decode_block_keys = 1024;

/// 0, 1, ..., 15: the key offsets of a vector's lanes (the vector masks add the vector's first).
struct key_offset_table {
  alignas(64) float v[16];
};
constexpr key_offset_table make_key_offsets() noexcept {
  key_offset_table t{};
  for (int i = 0; i < 16; ++i) t.v[i] = float(i);
  return t;
}
inline constexpr key_offset_table key_offsets = make_key_offsets();

/// S tile: s[i][p·width ..] = Q_tile(i, :) · K panel p, for `panels` panels of `width` columns
/// of the transposed K block kt (row stride ldk).
template <class V, int H, int VECS>
void score_tile(index_t d, const float* qp, const float* kt, index_t ldk, int panels,
                float* s) noexcept {
  constexpr int lanes = simd::lanes<V>;
  for (int p = 0; p < panels; ++p) {
    V acc[H][VECS];
    gemm_detail::unroll<H>([&](auto i) {
      gemm_detail::unroll<VECS>([&](auto v) { acc[i][v] = simd::broadcast<V>(0.0f); });
    });
    gemm_detail::accumulate<V, H, VECS, true>(acc, d, qp, H, kt + p * VECS * lanes, ldk);
    gemm_detail::unroll<H>([&](auto i) {
      gemm_detail::unroll<VECS>([&](auto v) {
        simd::store(s + i * block_keys + (p * VECS + v) * lanes, acc[i][v]);
      });
    });
  }
}

/// O_tile[:, cols] = alpha · O_tile[:, cols] + P(H × n, rows ldp apart) · V(n × cols) for one
/// column group.
template <class V, int H, int VECS>
void pv_tile(index_t n, const float* p, index_t ldp, const float* v, index_t ldv, float* o,
             index_t ldo, const float* alpha) noexcept {
  constexpr int lanes = simd::lanes<V>;
  V acc[H][VECS];
  gemm_detail::unroll<H>([&](auto i) {
    const V a = simd::broadcast<V>(alpha[i]);
    gemm_detail::unroll<VECS>([&](auto c) { acc[i][c] = simd::load<V>(o + i * ldo + c * lanes) * a; });
  });
  gemm_detail::accumulate<V, H, VECS, false>(acc, n, p, ldp, v, ldv);
  gemm_detail::unroll<H>([&](auto i) {
    gemm_detail::unroll<VECS>([&](auto c) { simd::store(o + i * ldo + c * lanes, acc[i][c]); });
  });
}

/// P·V for a unit of a few rows (decode), V unit-stride along Dv with dv a multiple of the lanes:
/// pv_tile over whole V rows, in column chunks of 8 vectors, then 4, 2, 1 (a head of 128 floats
/// is one chunk on AVX-512), so each pass reads every V row of the block whole and in order. The
/// tile loop's column groups of one panel width touch two lines of every 512-byte row per pass:
/// measured on this project's AVX-512 machine, that pattern reads memory at ~12 GB/s where the
/// same rows in order read at ~21 (one thread). PairRows: two rows share a pass (16 accumulators,
/// for backends with 32 vector registers), else one row per pass; later passes find the block in
/// L1/L2.
template <class V, int R>
void pv_whole_rows(index_t n, const float* p, index_t ldp, const float* v, index_t ldv,
                   index_t dv, float* o, index_t ldo, const float* alpha) noexcept {
  constexpr int lanes = simd::lanes<V>;
  index_t d = 0;
  for (; d + 8 * lanes <= dv; d += 8 * lanes)
    pv_tile<V, R, 8>(n, p, ldp, v + d, ldv, o + d, ldo, alpha);
  if (d + 4 * lanes <= dv)
    pv_tile<V, R, 4>(n, p, ldp, v + d, ldv, o + d, ldo, alpha), d += 4 * lanes;
  if (d + 2 * lanes <= dv)
    pv_tile<V, R, 2>(n, p, ldp, v + d, ldv, o + d, ldo, alpha), d += 2 * lanes;
  if (d + lanes <= dv) pv_tile<V, R, 1>(n, p, ldp, v + d, ldv, o + d, ldo, alpha);
}
/// O = alpha · O + P · V for h <= dot_rows_max rows of the unit (P rows ldp apart).
template <class V, bool PairRows>
void pv_few_rows(int h, index_t n, const float* p, index_t ldp, const float* v, index_t ldv,
                 index_t dv, float* o, index_t ldo, const float* alpha) noexcept {
  int i = 0;
  if constexpr (PairRows)
    for (; i + 2 <= h; i += 2)
      pv_whole_rows<V, 2>(n, p + i * ldp, ldp, v, ldv, dv, o + i * ldo, ldo, alpha + i);
  for (; i < h; ++i)
    pv_whole_rows<V, 1>(n, p + i * ldp, ldp, v, ldv, dv, o + i * ldo, ldo, alpha + i);
}

using score_fn = void (*)(index_t, const float*, const float*, index_t, int, float*) noexcept;
using pv_fn = void (*)(index_t, const float*, index_t, const float*, index_t, float*, index_t,
                       const float*) noexcept;

template <class V, int VECS, int... I>
constexpr std::array<score_fn, sizeof...(I)> score_kernels(std::integer_sequence<int, I...>) noexcept {
  return {&score_tile<V, I + 1, VECS>...};
}
template <class V, int VECS, int... I>
constexpr std::array<pv_fn, sizeof...(I)> pv_kernels(std::integer_sequence<int, I...>) noexcept {
  return {&pv_tile<V, I + 1, VECS>...};
}

/// score_tile / pv_tile for every tile height 1..ROWS (edge tiles run a full-speed kernel).
template <class V, int ROWS, int VECS>
struct tile_kernels {
  static score_fn score(int h) noexcept {
    static constexpr auto table = score_kernels<V, VECS>(std::make_integer_sequence<int, ROWS>{});
    return table[std::size_t(h - 1)];
  }
  static pv_fn pv(int h) noexcept {
    static constexpr auto table = pv_kernels<V, VECS>(std::make_integer_sequence<int, ROWS>{});
    return table[std::size_t(h - 1)];
  }
};

/// Where one thread's scratch lives (floats; see attention_generic.hpp for the sizes).
struct unit_scratch {
  float* q;      ///< packed, scaled Q: [rows][dqk], tile by tile k-major
  float* o;      ///< output accumulators [rows][dv_pad]
  float* m;      ///< running max per row
  float* l;      ///< running sum per row
  float* s;      ///< one S / P tile [ROWS][block_keys], or [dot_rows_max][decode_block_keys]
  float* kt;     ///< K block transposed [dqk][bk], bk = keys_per_block(dqk) <= block_keys
  float* vp;     ///< packed V columns [block_keys][dv_pad]
  float* rot;    ///< rotated Q or K rows (fused RoPE): [lanes][dqk]
};

/// One work unit: rows [r0, r1) of KV head `kvh` of batch `b`, keys [k0, k1).
struct unit {
  index_t b, kvh, r0, r1, k0, k1;
};

/// The score modifiers of one row: softcap, ALiBi, element masks, structural bounds, and the
/// coordinates the score functor receives.
struct row_mods {
  float softcap, inv_softcap;
  float neg_slope;          ///< ALiBi: -slope of this row's head
  float key0_minus_pos;     ///< ALiBi: first key of the block minus the query's position (exact)
  index_t b, h, qi, key0;   ///< score functor coordinates (key = key0 + column)
  const float* fmask;  ///< at key 0 of this row, or null
  index_t fs;
  const bool* bmask;
  index_t bs;
  index_t lo, hi;  ///< structural key interval, relative to the block's first key, in [0, n]
  bool structural;
};

/// Applies the modifiers to row s[0, vecs·lanes) (n valid keys) in place; returns the row max.
/// Order: softcap, ALiBi (if Alibi), mod (unless no_score_mod; called for the keys the structural
/// bounds admit), float mask, boolean mask, structural bounds.
/// The running max need not propagate NaN (max_unchecked, one instruction): a NaN score left in
/// the row becomes a NaN probability, exp(NaN - m), and so reaches l and O whatever m is.
template <class V, bool Alibi, class Mod>
FUSEDOPS_INLINE float score_row(float* s, int vecs, int n, const row_mods& r,
                                const Mod& mod) noexcept {
  constexpr int lanes = simd::lanes<V>;
  const V ninf = simd::broadcast<V>(neg_inf);
  const bool plain = !Alibi && std::is_same_v<Mod, no_score_mod> && !(r.softcap > 0.0f) &&
                     r.fmask == nullptr && r.bmask == nullptr && !r.structural;
  if (plain) {  // nothing to apply: the max only, and the row is not stored back
    V m0 = ninf, m1 = ninf;
    int j = 0;
    for (; j + 2 <= vecs; j += 2) {
      m0 = simd::max_unchecked(m0, simd::load<V>(s + j * lanes));
      m1 = simd::max_unchecked(m1, simd::load<V>(s + (j + 1) * lanes));
    }
    if (j < vecs) m0 = simd::max_unchecked(m0, simd::load<V>(s + j * lanes));
    return simd::reduce_max(simd::max_unchecked(m0, m1));
  }
  const V iota = simd::load<V>(key_offsets.v);
  const V lo = simd::broadcast<V>(float(r.lo)), hi = simd::broadcast<V>(float(r.hi));
  V mx = ninf;
  for (int j = 0; j < vecs; ++j) {
    V x = simd::load<V>(s + j * lanes);
    const int cnt = std::min(lanes, n - j * lanes);
    if (r.softcap > 0.0f)
      x = simd::tanh(x * simd::broadcast<V>(r.inv_softcap)) * simd::broadcast<V>(r.softcap);
    if constexpr (Alibi) {  // -slope · |p - j|, the distance exact in float below 2^24
      const V dist =
          simd::abs(iota + simd::broadcast<V>(float(j * lanes) + r.key0_minus_pos));
      x = simd::fma(simd::broadcast<V>(r.neg_slope), dist, x);
    }
    if constexpr (!std::is_same_v<Mod, no_score_mod>) {
      alignas(64) float buf[lanes];
      simd::store(buf, x);
      const int t0 = std::max(r.structural ? int(r.lo) - j * lanes : 0, 0);
      const int t1 = std::min(r.structural ? int(r.hi) - j * lanes : cnt, cnt);
      for (int t = t0; t < t1; ++t)
        buf[t] = float(mod(buf[t], r.b, r.h, r.qi, r.key0 + j * lanes + t));
      x = simd::load<V>(buf);
    }
    if (r.fmask != nullptr && cnt > 0)
      x = x + simd::load_segment<V>(r.fmask + j * lanes * r.fs, r.fs, cnt);
    if (r.bmask != nullptr && cnt > 0) {
      alignas(64) float keep[lanes] = {};  // 1 where the boolean mask attends
      for (int t = 0; t < cnt; ++t) keep[t] = r.bmask[(j * lanes + t) * r.bs] ? 1.0f : 0.0f;
      x = simd::select(simd::load<V>(keep) == simd::broadcast<V>(0.0f), ninf, x);
    }
    if (r.structural) {
      const V col = iota + simd::broadcast<V>(float(j * lanes));
      x = simd::select(col < lo, ninf, x);
      x = simd::select(col >= hi, ninf, x);
    }
    simd::store(s + j * lanes, x);
    mx = simd::max_unchecked(mx, x);
  }
  return simd::reduce_max(mx);
}

template <class B>
struct tile_loop {
  using S = gemm_shape<B>;
  using V = simd::vec_t<float, B>;
  static constexpr int ROWS = S::rows;
  static constexpr int WIDTH = S::width;
  /// Decode P·V takes two rows per pass where two whole 128-float rows of accumulators (16
  /// vectors on AVX-512 and NEON) leave registers to spare: a micro-kernel of >= 20 accumulators.
  static constexpr bool pair_rows = S::rows * S::vectors >= 20;
  static_assert(block_keys % WIDTH == 0 && decode_block_keys % WIDTH == 0,
                "a key block must hold whole panels");
  static_assert(S::lanes <= 16, "key_offsets covers one vector");
  /// Floats of the S / P tile (unit_scratch::s).
  static constexpr index_t s_floats =
      std::max<index_t>(ROWS * block_keys, dot_rows_max * decode_block_keys);
  using kernels = tile_kernels<V, ROWS, S::vectors>;

  static index_t dv_pad(index_t dv) noexcept { return (dv + WIDTH - 1) / WIDTH * WIDTH; }

  /// Runs unit u. `partial` null: writes the output rows; else writes (m, l, O) there:
  /// m at partial[r], l at partial[rows + r], O at partial[2·rows + r·dv_pad] (r in the unit).
  /// `mod`: the score functor (no_score_mod: none).
  template <class Mod>
  static void run(const attention_problem& p, const unit& u, const unit_scratch& ws,
                  float* partial, const Mod& mod) noexcept {
    if (p.alibi != nullptr) run_unit<true>(p, u, ws, partial, mod);
    else run_unit<false>(p, u, ws, partial, mod);
  }

 private:
  template <bool Alibi, class Mod>
  static void run_unit(const attention_problem& p, const unit& u, const unit_scratch& ws,
                       float* partial, const Mod& mod) noexcept {
    const index_t G = p.group, D = p.dqk, dvp = dv_pad(p.dv);
    const index_t rows = u.r1 - u.r0;
    const key_bounds kb = key_bounds::make(p, u.b);
    const gemm_detail::row_tiling tiles(rows, ROWS);
    auto query = [&](index_t r) { return (u.r0 + r) / G; };
    auto head = [&](index_t r) { return u.kvh * G + (u.r0 + r) % G; };

    // A unit of a few rows (decode) scores by dot products against K rows in place
    // (dot_scores.hpp) instead of transposing every K block for the GEMM tile; K rows that
    // need rotating first (fused RoPE without a KV cache) go through the transpose. Its P·V reads
    // whole V rows in order when V is unit-stride with whole vectors per row.
    const bool dot = rows <= dot_rows_max && p.k.stride(3) == 1 && !p.rope.keys_in_loop;
    const bool v_rows = dot && p.v.stride(3) == 1 && p.dv % S::lanes == 0;
    // Q, scaled (rotated first with fused RoPE), packed per tile: [d][h] for the score tile,
    // [h][d] (rows) for dot products.
    const float scale = p.scale;  // a local: the stores below could alias p for the compiler
    // Unit-stride Q without RoPE is packed tile by tile at the tile's first key block, with the
    // next tile's rows requested meanwhile, so that reading Q (usually from L3) overlaps the
    // tiles' work instead of preceding all of it.
    const bool q_lazy = !dot && !p.rope.queries() && p.q.stride(3) == 1;
    auto q_row_of = [&](index_t t0) {
      return [&, t0](int i) { return &p.q(u.b, head(t0 + i), query(t0 + i), 0); };
    };
    for (index_t t = 0; t < tiles.count && !q_lazy; ++t) {
      const index_t t0 = tiles.start(t);
      const int h = tiles.height(t);
      float* dst = ws.q + t0 * D;
      const index_t row_step = dot ? D : 1, d_step = dot ? 1 : h;
      for (int i = 0; i < h; ++i) {
        const float* src = &p.q(u.b, head(t0 + i), query(t0 + i), 0);
        index_t qs = p.q.stride(3);
        if (p.rope.queries()) {
          rotate_row<B>(p.rope, src, ws.rot, D, query_position(p.rope, u.b, query(t0 + i), kb.offset));
          src = ws.rot, qs = 1;
        }
        for (index_t d = 0; d < D; ++d) dst[i * row_step + d * d_step] = src[d * qs] * scale;
      }
    }
    std::fill(ws.o, ws.o + rows * dvp, 0.0f);
    if (p.sinks != nullptr && u.k0 == 0) {  // the sink counts once: in the chunk with key 0
      for (index_t r = 0; r < rows; ++r)
        start_row(p.sinks + head(r) * p.sinks_stride, ws.m[r], ws.l[r]);
    } else {
      std::fill(ws.m, ws.m + rows, neg_inf);
      std::fill(ws.l, ws.l + rows, 0.0f);
    }

    // Keys some row may attend, within the unit's range.
    const index_t ulo = std::max(u.k0, kb.lo(query(0)));
    const index_t uhi = std::min(u.k1, kb.hi(query(rows - 1)));
    // The dot-product path transposes nothing and takes longer blocks: K and V are then read
    // in longer runs, which stream faster from memory (decode_block_keys); V read as whole
    // rows is never packed, so its blocks may be longer still. ld_s: the S tile's row stride.
    const index_t bk = v_rows ? index_t(decode_block_keys) : dot ? index_t(block_keys)
                                                                 : keys_per_block(D);
    const index_t ld_s = v_rows ? index_t(decode_block_keys) : index_t(block_keys);
    const index_t first_block = ulo / bk * bk;
    const index_t v_rs = p.v.stride(2), v_cs = p.v.stride(3);
    const index_t groups = dvp / WIDTH;
    // Column groups of V read in place: whole groups of a unit-stride V.
    const index_t direct_groups = v_cs == 1 ? p.dv / WIDTH : 0;

    const index_t block_start = std::max(first_block, u.k0);
    for (index_t key0 = block_start; key0 < uhi; key0 += bk) {
      const index_t key_end = std::min({key0 + bk, uhi});
      const int n = static_cast<int>(key_end - key0);
      if (key_end <= ulo) continue;
      const int panels = (n + WIDTH - 1) / WIDTH;
      const int vecs = (n + S::lanes - 1) / S::lanes;
      // K block → [D][bk] panel (row stride bk keeps it dense in L1), columns n ..
      // panels·WIDTH zeroed.
      const float* kbase = &p.k(u.b, u.kvh, key0, 0);
      const index_t k_rs = p.k.stride(2);
      if (!dot) {
        const index_t k_cs = p.k.stride(3);
        if (p.rope.keys_in_loop) {  // a vector's worth of rows rotated, then transposed
          for (int c0 = 0; c0 < n; c0 += S::lanes) {
            const int cnt = std::min(S::lanes, n - c0);
            for (int c = 0; c < cnt; ++c)
              rotate_row<B>(p.rope, kbase + (c0 + c) * k_rs, ws.rot + c * D, D,
                            key_position(p.rope, u.b, key0 + c0 + c));
            transpose_k_block<V>(ws.rot, D, 1, cnt, D, ws.kt + c0, bk);
          }
        } else {
          transpose_k_block<V>(kbase, k_rs, k_cs, n, D, ws.kt, bk);
        }
        if (n < panels * WIDTH)
          for (index_t d = 0; d < D; ++d)
            std::fill(ws.kt + d * bk + n, ws.kt + d * bk + panels * WIDTH, 0.0f);
      }
      const float* vbase = &p.v(u.b, u.kvh, key0, 0);
      if (direct_groups < groups && !v_rows) {
        for (int c = 0; c < n; ++c) {
          const float* src = vbase + c * v_rs;
          float* dst = ws.vp + c * dvp;
          for (index_t d = direct_groups * WIDTH; d < p.dv; ++d) dst[d] = src[d * v_cs];
          std::fill(dst + p.dv, dst + dvp, 0.0f);
        }
      }

      for (index_t t = 0; t < tiles.count; ++t) {
        const index_t t0 = tiles.start(t);
        const int h = tiles.height(t);
        const index_t i_first = query(t0), i_last = query(t0 + h - 1);
        const index_t tile_lo = kb.lo(i_first), tile_hi = kb.hi(i_last);
        if (key_end <= tile_lo || key0 >= tile_hi) continue;
        // The tile's first key block: the blocks are contiguous from block_start, and the one
        // before this was inactive for the tile exactly when it ended at or before tile_lo.
        if (q_lazy && (key0 == block_start || key0 <= tile_lo)) {
          pack_q_tile<V>(h, D, q_row_of(t0), scale, ws.q + t0 * D);
          if (t + 1 < tiles.count) {
            const auto next = q_row_of(tiles.start(t + 1));
            for (int i = 0; i < tiles.height(t + 1); ++i) prefetch_range(next(i), D);
          }
        }
        // Structural masking is needed unless the block lies inside every row's interval.
        const bool structural =
            !(key0 >= kb.lo(i_last) && key_end <= kb.hi(i_first)) || n % S::lanes != 0;
        if (dot)
          dot_scores<V>(h, D, ws.q + t0 * D, kbase, k_rs, n, uhi - key0, vecs * S::lanes, ws.s,
                        ld_s);
        else
          kernels::score(h)(D, ws.q + t0 * D, ws.kt, bk, panels, ws.s);
        alignas(64) float alpha[ROWS];
        for (int i = 0; i < h; ++i) {
          const index_t r = t0 + i, qi = query(r), hh = head(r);
          row_mods mods{};
          mods.softcap = p.softcap;
          mods.inv_softcap = p.softcap > 0.0f ? 1.0f / p.softcap : 0.0f;
          if (p.fmask != nullptr) {
            mods.fmask = p.fmask + u.b * p.fmask_strides[0] + hh * p.fmask_strides[1] +
                         qi * p.fmask_strides[2] + key0 * p.fmask_strides[3];
            mods.fs = p.fmask_strides[3];
          }
          if (p.bmask != nullptr) {
            mods.bmask = p.bmask + u.b * p.bmask_strides[0] + hh * p.bmask_strides[1] +
                         qi * p.bmask_strides[2] + key0 * p.bmask_strides[3];
            mods.bs = p.bmask_strides[3];
          }
          if constexpr (Alibi) {
            mods.neg_slope = -p.alibi[hh * p.alibi_stride];
            mods.key0_minus_pos = float(key0 - (qi + kb.offset));
          }
          if constexpr (!std::is_same_v<Mod, no_score_mod>)
            mods.b = u.b, mods.h = hh, mods.qi = qi, mods.key0 = key0;
          mods.structural = structural;
          mods.lo = std::clamp<index_t>(kb.lo(qi) - key0, 0, n);
          mods.hi = std::clamp<index_t>(std::min(kb.hi(qi), key_end) - key0, 0, n);
          float* srow = ws.s + i * ld_s;
          const float mx = score_row<V, Alibi>(srow, vecs, n, mods, mod);
          alpha[i] = update_row<V>(srow, vecs, mx, ws.m[r], ws.l[r]);
        }
        if (v_rows) {
          pv_few_rows<V, pair_rows>(h, n, ws.s, ld_s, vbase, v_rs, p.dv, ws.o + t0 * dvp, dvp,
                                    alpha);
          continue;
        }
        for (index_t g = 0; g < groups; ++g) {
          const bool direct = g < direct_groups;
          const float* vsrc = direct ? vbase + g * WIDTH : ws.vp + g * WIDTH;
          kernels::pv(h)(n, ws.s, ld_s, vsrc, direct ? v_rs : dvp,
                         ws.o + t0 * dvp + g * WIDTH, dvp, alpha);
        }
      }
    }

    if (partial != nullptr) {
      std::copy(ws.m, ws.m + rows, partial);
      std::copy(ws.l, ws.l + rows, partial + rows);
      std::copy(ws.o, ws.o + rows * dvp, partial + 2 * rows);
      return;
    }
    const index_t os = p.out.stride(3);
    for (index_t r = 0; r < rows; ++r) {
      const float l = ws.l[r];
      const float inv = l > 0.0f ? 1.0f / l : (l == l ? 0.0f : l);  // fully masked: 0; NaN stays
      const V vinv = simd::broadcast<V>(inv);
      float* dst = &p.out(u.b, head(r), query(r), 0);
      const float* src = ws.o + r * dvp;
      for (index_t d = 0; d < p.dv; d += S::lanes) {
        const int cnt = static_cast<int>(std::min<index_t>(S::lanes, p.dv - d));
        simd::store_segment(dst + d * os, os, simd::load<V>(src + d) * vinv, cnt);
      }
    }
  }
};

}  // namespace fusedops::ops::attention_detail
