// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/norm. The width-generic CPU implementation of LayerNorm / RMSNorm and their fused
// residual forms, written once in the vector vocabulary (arch/simd.hpp). Rows are independent and
// split between threads. Per row:
//   pass 1  reads x (and residual, residual_bias: sum = (x + residual) + residual_bias, stored),
//           accumulating the statistics in registers: one read of the data from memory;
//   pass 2  reads the row again (x, or the sum just stored) and writes y. The row was touched a
//           moment ago, so this read hits L1/L2 (4096 floats = 16 KiB).
// Streaming stores (norm_problem::stream, core/store_policy.hpp): y, and for the fused forms the
// sum, are written with non-temporal stores in pass 2 (rows whose outputs start aligned to the
// vector size; others with plain stores). The sum is then not stored in pass 1 (a streamed line
// must not be read back): pass 2 recomputes it from x and the residual, still in L1, with the
// same additions in the same order, so every output is bit for bit what the cached path writes.
// LayerNorm statistics, shifted two-moment: with K = the row's first element, S1 = Σ(v - K) and
// S2 = Σ(v - K)² in fp32 (4 independent vector accumulators each), then
//   d = S1/n,  var = S2/n - d²,  mean = K + d,  y = ((v - K) - d) · rstd · scale + bias.
// Shifting by a sample of the row removes the catastrophic cancellation of the textbook
// E[v²] - E[v]² for rows whose mean is large against their spread (mean 1e4, spread 1: v - K is
// then exact), and keeping the mean as K + d (two floats) keeps (v - mean) accurate to the fp32
// resolution of the spread rather than of the mean. The remaining cancellation grows with
// ((mean - K)/std)², which Samuelson's inequality bounds by n - 1 and is O(1) for typical rows; the
// tests' bound (tests/support/tolerance.hpp) states it exactly. Constant rows give S1 = S2 = 0:
// var = 0 exactly. RMSNorm: S2 = Σv² (no cancellation possible). NaN and ±Inf propagate (a row
// holding ±Inf normalizes to NaN, as (inf - inf) does in the exact formula). All in fp32.
#pragma once

#include <algorithm>
#include <cmath>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/norm/norm_op.hpp"

namespace fusedops::ops {

template <class B>
struct norm_generic {
  using V = simd::vec_t<float, B>;
  static constexpr int L = simd::lanes<V>;
  static constexpr int U = 4;  // independent accumulators: hides the add latency

  /// Pointers of one row. Passed by value, and the problem's own pointers are copied to locals
  /// before a loop: vector stores may alias anything (the intrinsics' types are may_alias), so a
  /// pointer read through a reference would be reloaded after every store.
  struct row {
    const float* x;
    const float* r;   // residual (fused only)
    const float* rb;  // residual bias (fused only; null without)
    float* s;         // sum (fused only)
    float* y;
  };

  /// Loads elements [j, j + n) of the row's input (n < L: the tail, other lanes 0), computing the
  /// sum for the fused forms, and storing it when StoreSum.
  template <bool Fused, bool RBias, bool StoreSum = Fused>
  static FUSEDOPS_INLINE V input(const row w, index_t j, int n) noexcept {
    if (n == L) {
      V v = simd::load<V>(w.x + j);
      if constexpr (Fused) {
        v = v + simd::load<V>(w.r + j);
        if constexpr (RBias) v = v + simd::load<V>(w.rb + j);
        if constexpr (StoreSum) simd::store(w.s + j, v);
      }
      return v;
    }
    V v = simd::load_partial<V>(w.x + j, n);
    if constexpr (Fused) {
      v = v + simd::load_partial<V>(w.r + j, n);
      if constexpr (RBias) v = v + simd::load_partial<V>(w.rb + j, n);
      if constexpr (StoreSum) simd::store_partial(w.s + j, v, n);
    }
    return v;
  }

  /// Pass 2 of a row: y[j] = f(v_j, j, count) with v the row's input (x; the fused forms read the
  /// sum pass 1 stored, or with Stream recompute it and write it here). Stream: non-temporal
  /// stores where the row's outputs start aligned.
  template <bool Fused, bool RBias, bool Stream, class F>
  static FUSEDOPS_INLINE void output_pass(const norm_problem& p, const row w, F&& f) noexcept {
    constexpr bool write_sum = Fused && Stream;
    const float* src = Fused ? w.s : w.x;
    const bool nt =
        Stream && simd::stream_aligned<V>(w.y) && (!write_sum || simd::stream_aligned<V>(w.s));
    const index_t nh = p.hidden;
    index_t j = 0;
    for (; j + L <= nh; j += L) {
      const V v = write_sum ? input<Fused, RBias, false>(w, j, L) : simd::load<V>(src + j);
      const V out = f(v, j, L);
      if (nt) {
        if constexpr (write_sum) simd::stream(w.s + j, v);
        simd::stream(w.y + j, out);
      } else {
        if constexpr (write_sum) simd::store(w.s + j, v);
        simd::store(w.y + j, out);
      }
    }
    if (j < nh) {
      const int t = static_cast<int>(nh - j);
      const V v =
          write_sum ? input<Fused, RBias, false>(w, j, t) : simd::load_partial<V>(src + j, t);
      if constexpr (write_sum) simd::store_partial(w.s + j, v, t);
      simd::store_partial(w.y + j, f(v, j, t), t);
    }
  }

  /// Lanes [n, L) of v replaced by `fill` (so that v - fill is 0 there).
  static FUSEDOPS_INLINE V pad(const V& v, int n, float fill) noexcept {
    alignas(64) float buf[L];
    simd::store(buf, v);
    for (int i = n; i < L; ++i) buf[i] = fill;
    return simd::load<V>(buf);
  }

  /// Pass 1 of LayerNorm: S1 = Σ(v - K), S2 = Σ(v - K)², K = the first input element.
  template <bool Fused, bool RBias, bool StoreSum>
  static void ln_moments(const norm_problem& p, const row w, float& k, float& s1,
                         float& s2) noexcept {
    const index_t n = p.hidden;
    if constexpr (Fused) {
      k = w.x[0] + w.r[0];
      if constexpr (RBias) k = k + w.rb[0];
    } else {
      k = w.x[0];
    }
    const V kv(k);
    V a1[U], a2[U];
    for (int u = 0; u < U; ++u) a1[u] = V(0.0f), a2[u] = V(0.0f);
    index_t j = 0;
    for (; j + U * L <= n; j += U * L)
      for (int u = 0; u < U; ++u) {
        const V d = input<Fused, RBias, StoreSum>(w, j + u * L, L) - kv;
        a1[u] = a1[u] + d;
        a2[u] = simd::fma(d, d, a2[u]);
      }
    for (int u = 0; j + L <= n; j += L, ++u) {
      const V d = input<Fused, RBias, StoreSum>(w, j, L) - kv;
      a1[u] = a1[u] + d;
      a2[u] = simd::fma(d, d, a2[u]);
    }
    if (j < n) {
      const int t = static_cast<int>(n - j);
      const V d = pad(input<Fused, RBias, StoreSum>(w, j, t), t, k) - kv;
      a1[U - 1] = a1[U - 1] + d;
      a2[U - 1] = simd::fma(d, d, a2[U - 1]);
    }
    s1 = simd::reduce_add((a1[0] + a1[1]) + (a1[2] + a1[3]));
    s2 = simd::reduce_add((a2[0] + a2[1]) + (a2[2] + a2[3]));
  }

  /// Pass 1 of RMSNorm: Σv².
  template <bool Fused, bool RBias, bool StoreSum>
  static float rms_moment(const norm_problem& p, const row w) noexcept {
    const index_t n = p.hidden;
    V a[U];
    for (int u = 0; u < U; ++u) a[u] = V(0.0f);
    index_t j = 0;
    for (; j + U * L <= n; j += U * L)
      for (int u = 0; u < U; ++u) {
        const V v = input<Fused, RBias, StoreSum>(w, j + u * L, L);
        a[u] = simd::fma(v, v, a[u]);
      }
    for (int u = 0; j + L <= n; j += L, ++u) {
      const V v = input<Fused, RBias, StoreSum>(w, j, L);
      a[u] = simd::fma(v, v, a[u]);
    }
    if (j < n) {
      const V v = input<Fused, RBias, StoreSum>(w, j, static_cast<int>(n - j));  // other lanes 0
      a[U - 1] = simd::fma(v, v, a[U - 1]);
    }
    return simd::reduce_add((a[0] + a[1]) + (a[2] + a[3]));
  }

  /// One LayerNorm row: both passes.
  template <bool Fused, bool RBias, bool Bias, bool Stream>
  static FUSEDOPS_INLINE void ln_row(const norm_problem& p, const row w, index_t r) noexcept {
    float k, s1, s2;
    ln_moments<Fused, RBias, Fused && !Stream>(p, w, k, s1, s2);
    // The row's scalar tail is a dependency chain between the two passes: kept in float (sqrtss
    // and divss, ~30 cycles, where double division and square root cost ~50).
    const float inv_n = 1.0f / static_cast<float>(p.hidden);
    const float d = s1 * inv_n;
    float var = s2 * inv_n - d * d;
    if (var < 0.0f) var = 0.0f;  // rounding; a NaN (from ±Inf or NaN inputs) stays NaN
    const float rstd = 1.0f / std::sqrt(var + p.epsilon);
    if (p.mean) p.mean[r * p.mean_stride] = k + d;
    if (p.inv_std) p.inv_std[r * p.inv_std_stride] = rstd;

    // y = ((v - K) - d) · rstd · g + b, as fma(v - K, rstd, -(d · rstd)) then fma(., g, b): v - K
    // is exact for rows with a large mean (Sterbenz), so (v - mean) keeps the fp32 resolution of
    // the spread, not of the mean.
    const V kv(k), rv(rstd), ndr(-(d * rstd));
    const float* const scale = p.scale;
    const float* const bias = p.bias;
    output_pass<Fused, RBias, Stream>(p, w, [=](const V& v, index_t j, int cnt) {
      const V t = simd::fma(v - kv, rv, ndr);
      if (cnt == L) {
        const V g = simd::load<V>(scale + j);
        return Bias ? simd::fma(t, g, simd::load<V>(bias + j)) : t * g;
      }
      const V g = simd::load_partial<V>(scale + j, cnt);
      return Bias ? simd::fma(t, g, simd::load_partial<V>(bias + j, cnt)) : t * g;
    });
  }

  /// One RMSNorm row: both passes.
  template <bool Fused, bool RBias, bool Stream>
  static FUSEDOPS_INLINE void rms_row(const norm_problem& p, const row w) noexcept {
    const float s2 = rms_moment < Fused, RBias, Fused && !Stream > (p, w);
    const float rstd = 1.0f / std::sqrt(s2 / static_cast<float>(p.hidden) + p.epsilon);
    const V rv(rstd);
    const float* const scale = p.scale;
    output_pass<Fused, RBias, Stream>(p, w, [=](const V& v, index_t j, int cnt) {
      const V g = cnt == L ? simd::load<V>(scale + j) : simd::load_partial<V>(scale + j, cnt);
      return (v * rv) * g;
    });
  }

  /// Every row, split between threads (about 16 K elements per task at least). Stream: each
  /// share ends with a fence, so its streaming stores are visible when the call returns.
  template <bool Stream, class RowFn>
  static void for_rows(const norm_problem& p, const threading& threads, RowFn&& fn) {
    const index_t grain = std::max<index_t>(1, index_t{16384} / std::max<index_t>(p.hidden, 1));
    parallel_for(threads, p.rows.rows, grain, [&](index_t r0, index_t r1) {
      for (index_t r = r0; r < r1; ++r) {
        index_t off[4];
        p.rows.offsets(r, off);
        const row w{p.x + off[0], p.residual ? p.residual + off[2] : nullptr, p.residual_bias,
                    p.sum ? p.sum + off[3] : nullptr, p.y + off[1]};
        fn(w, r);
      }
      if constexpr (Stream) simd::stream_fence<V>();
    });
  }

  template <bool Fused, bool RBias, bool Bias>
  static void ln_all(const norm_problem& p, const threading& threads) {
    if (p.stream)
      for_rows<true>(p, threads,
                     [&](const row w, index_t r) { ln_row<Fused, RBias, Bias, true>(p, w, r); });
    else
      for_rows<false>(p, threads,
                      [&](const row w, index_t r) { ln_row<Fused, RBias, Bias, false>(p, w, r); });
  }

  template <bool Fused, bool RBias>
  static void rms_all(const norm_problem& p, const threading& threads) {
    if (p.stream)
      for_rows<true>(p, threads, [&](const row w, index_t) { rms_row<Fused, RBias, true>(p, w); });
    else
      for_rows<false>(p, threads,
                      [&](const row w, index_t) { rms_row<Fused, RBias, false>(p, w); });
  }

  /// LayerNorm / add_layer_norm over a checked problem.
  static void layer_norm(const norm_problem& p, const threading& threads) {
    const bool fused = p.residual != nullptr, rb = p.residual_bias != nullptr,
               bias = p.bias != nullptr;
    if (!fused) {
      bias ? ln_all<false, false, true>(p, threads) : ln_all<false, false, false>(p, threads);
    } else if (!rb) {
      bias ? ln_all<true, false, true>(p, threads) : ln_all<true, false, false>(p, threads);
    } else {
      bias ? ln_all<true, true, true>(p, threads) : ln_all<true, true, false>(p, threads);
    }
  }

  /// RMSNorm / add_rms_norm over a checked problem.
  static void rms_norm(const norm_problem& p, const threading& threads) {
    const bool fused = p.residual != nullptr, rb = p.residual_bias != nullptr;
    if (!fused)
      rms_all<false, false>(p, threads);
    else if (!rb)
      rms_all<true, false>(p, threads);
    else
      rms_all<true, true>(p, threads);
  }
};

/// The width-generic implementations, as impl_for's default picks them.
template <class B>
struct layer_norm_generic {
  static void run(const norm_problem& p, const threading& t) { norm_generic<B>::layer_norm(p, t); }
};
template <class B>
struct rms_norm_generic {
  static void run(const norm_problem& p, const threading& t) { norm_generic<B>::rms_norm(p, t); }
};

}  // namespace fusedops::ops
