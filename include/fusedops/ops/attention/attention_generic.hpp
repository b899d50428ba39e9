// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. The width-generic attention implementation: how the work is cut into
// units, how threads share them, and the scratch each needs.
//
//   units    (batch, KV head, block of up to ~256 query rows of that head's group); the block
//            shrinks (to one register tile at least) until every thread has units to run;
//   split    when there are still too few units (decode: Sq·G rows fit one block) and more than
//            one thread, the key range of every unit is cut in `splits` block-aligned chunks run
//            as separate tasks; their partial (m, l, O) states are merged afterwards
//            (flash-decoding, online_softmax.hpp: merge_states);
//   threads  tasks are dealt out in contiguous runs of about equal cost (key blocks × row tiles
//            each task computes), so causal prefill, whose later query blocks cost more, stays
//            balanced; one parallel_for of `workers` items, each with its own scratch slice.
//
// Scratch (floats), all from one workspace: per worker Q (rows × Dqk), O (rows × Dv_pad), m, l,
// one S tile, the transposed K block, packed V columns and `lanes` rotated rows (fused RoPE); plus
// the partial states of a split call. It depends on the block sizes, Dqk and Dv, never on
// Sq × Skv.
#pragma once

#include <algorithm>
#include <cstdint>

#include "fusedops/core/threading.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/attention/masks.hpp"
#include "fusedops/ops/attention/online_softmax.hpp"
#include "fusedops/ops/attention/tile_loop.hpp"

namespace fusedops::ops {

namespace attention_detail {

struct plan {
  index_t rows = 0;        ///< G·Sq query rows per KV head
  index_t block_rows = 0;  ///< rows of one unit (a multiple of the tile height, or all rows)
  index_t row_blocks = 0;  ///< units per (batch, KV head)
  index_t units = 0;
  int splits = 1;          ///< key chunks per unit (1: no split)
  index_t split_keys = 0;  ///< keys per chunk (a multiple of split_granule)
  index_t tasks = 0;
  int workers = 1;
  index_t worker_floats = 0;   ///< scratch of one worker
  index_t partial_floats = 0;  ///< partial states of one task (splits > 1 only)
  index_t total_floats() const noexcept {
    return tasks == 0 ? 0 : worker_floats * workers + partial_floats * tasks + 16;  // + alignment
  }
};

inline constexpr index_t align16(index_t n) noexcept { return (n + 15) / 16 * 16; }

/// Keys of the split-KV chunks and of the cost estimate are counted in units of this many (a
/// chunk may start inside a tile-loop block: the loop starts at any key).
inline constexpr index_t split_granule = 64;

}  // namespace attention_detail

template <class B>
struct attention_generic {
  using loop = attention_detail::tile_loop<B>;
  using plan = attention_detail::plan;
  static constexpr int ROWS = loop::ROWS;
  static constexpr index_t target_rows = (256 + ROWS - 1) / ROWS * ROWS;
  static constexpr int max_splits = 64;  // merge_states' bound

  static plan make_plan(const attention_problem& p, int threads) noexcept {
    using attention_detail::block_keys;
    using attention_detail::split_granule;
    plan pl;
    pl.rows = p.group * p.sq;
    if (p.batch == 0 || p.hkv == 0 || pl.rows == 0 || p.dv == 0) return pl;
    const index_t heads = p.batch * p.hkv;
    pl.block_rows = std::min(pl.rows, target_rows);
    auto blocks_of = [&](index_t br) { return (pl.rows + br - 1) / br; };
    while (pl.block_rows > ROWS && heads * blocks_of(pl.block_rows) < 4 * index_t(threads))
      pl.block_rows = std::max<index_t>(ROWS, (pl.block_rows / 2 + ROWS - 1) / ROWS * ROWS);
    pl.row_blocks = blocks_of(pl.block_rows);
    pl.units = heads * pl.row_blocks;
    const index_t key_blocks = (p.skv + split_granule - 1) / split_granule;
    if (threads > 1 && pl.units < 4 * index_t(threads) && key_blocks >= 4) {
      const index_t want = (4 * index_t(threads) + pl.units - 1) / pl.units;
      const index_t splits = std::min<index_t>({want, key_blocks / 2, max_splits});
      if (splits > 1) {
        const index_t per = (key_blocks + splits - 1) / splits;
        pl.split_keys = per * split_granule;
        pl.splits = static_cast<int>((key_blocks + per - 1) / per);
      }
    }
    pl.tasks = pl.units * pl.splits;
    pl.workers = static_cast<int>(std::clamp<index_t>(pl.tasks, 1, threads));
    const index_t br = pl.block_rows, dvp = loop::dv_pad(p.dv), d = p.dqk;
    using attention_detail::align16;
    pl.worker_floats = align16(br * d) + align16(br * dvp) + 2 * align16(br) +
                       align16(loop::s_floats) + align16(d * block_keys) +
                       align16(block_keys * dvp) + align16(simd::lanes<typename loop::V> * d) + 16;
    pl.partial_floats = pl.splits > 1 ? align16(br * (dvp + 2)) : 0;
    return pl;
  }

  /// Runs the plan; `mod` is the score functor (no_score_mod: none), shared by every thread.
  template <class Mod = no_score_mod>
  static void run(const attention_problem& p, const plan& pl, float* workspace,
                  const threading& threads, const Mod& mod = {}) noexcept {
    using namespace attention_detail;
    if (pl.tasks == 0) return;
    const index_t dvp = loop::dv_pad(p.dv);
    float* base = align64(workspace);
    float* partials = base + pl.worker_floats * pl.workers;

    auto task_unit = [&](index_t t) {
      const index_t u = t / pl.splits, c = t % pl.splits;
      const index_t bh = u / pl.row_blocks, blk = u % pl.row_blocks;
      unit un{};
      un.b = bh / p.hkv, un.kvh = bh % p.hkv;
      un.r0 = blk * pl.block_rows, un.r1 = std::min(pl.rows, un.r0 + pl.block_rows);
      un.k0 = pl.splits > 1 ? c * pl.split_keys : 0;
      un.k1 = pl.splits > 1 ? std::min(p.skv, un.k0 + pl.split_keys) : p.skv;
      return un;
    };
    // Cost of a task: key blocks its first and last row tiles may attend, times its tiles.
    auto cost = [&](index_t t) -> index_t {
      const unit un = task_unit(t);
      const key_bounds kb = key_bounds::make(p, un.b);
      const index_t lo = std::max(un.k0, kb.lo((un.r0) / p.group));
      const index_t hi = std::min(un.k1, kb.hi((un.r1 - 1) / p.group));
      const index_t tiles = (un.r1 - un.r0 + ROWS - 1) / ROWS;
      const index_t blocks = hi > lo ? (hi - lo + split_granule - 1) / split_granule : 0;
      return 1 + tiles * (blocks + 1);
    };
    index_t total = 0;
    for (index_t t = 0; t < pl.tasks; ++t) total += cost(t);

    parallel_for(threads, pl.workers, 1, [&](index_t w0, index_t w1) {
      for (index_t w = w0; w < w1; ++w) {
        float* mine = base + w * pl.worker_floats;
        unit_scratch ws{};
        ws.q = mine;
        ws.o = ws.q + align16(pl.block_rows * p.dqk);
        ws.m = ws.o + align16(pl.block_rows * dvp);
        ws.l = ws.m + align16(pl.block_rows);
        ws.s = ws.l + align16(pl.block_rows);
        ws.kt = ws.s + align16(loop::s_floats);
        ws.vp = ws.kt + align16(p.dqk * block_keys);
        ws.rot = ws.vp + align16(block_keys * dvp);
        // Worker w runs the tasks whose cumulative cost midpoint falls in its share.
        index_t before = 0;
        for (index_t t = 0; t < pl.tasks; ++t) {
          const index_t c = cost(t);
          const index_t mid2 = 2 * before + c;  // twice the midpoint
          before += c;
          const index_t owner = std::min<index_t>(pl.workers - 1, mid2 * pl.workers / (2 * total));
          if (owner != w) continue;
          loop::run(p, task_unit(t), ws, pl.splits > 1 ? partials + t * pl.partial_floats : nullptr,
                    mod);
        }
      }
    });
    if (pl.splits == 1) return;

    // Flash-decoding merge: every row of every unit combines its splits' states.
    parallel_for(threads, pl.units, 1, [&](index_t u0, index_t u1) {
      for (index_t u = u0; u < u1; ++u) {
        const unit un = task_unit(u * pl.splits);
        const index_t rows = un.r1 - un.r0;
        const float* first = partials + u * pl.splits * pl.partial_floats;
        for (index_t r = 0; r < rows; ++r) {
          const index_t qi = (un.r0 + r) / p.group, hh = un.kvh * p.group + (un.r0 + r) % p.group;
          merge_states<typename loop::V>(pl.splits, first + r, first + rows + r, pl.partial_floats,
                                         first + 2 * rows + r * dvp, pl.partial_floats, p.dv,
                                         &p.out(un.b, hh, qi, 0), p.out.stride(3));
        }
      }
    });
  }

 private:
  static float* align64(float* ptr) noexcept {
    const auto u = reinterpret_cast<std::uintptr_t>(ptr);
    return reinterpret_cast<float*>((u + 63) / 64 * 64);
  }
};

}  // namespace fusedops::ops
