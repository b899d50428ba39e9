// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/rope. The width-generic CPU implementation of RotaryEmbedding, written once in the
// vector vocabulary (arch/simd.hpp). Tokens (b, s) are split between threads; per token the
// cos/sin row is found once and applied to every head:
//   rotate-half   y[i] = x[i]·c[i] - x[i+h]·s[i],  y[i+h] = x[i+h]·c[i] + x[i]·s[i]   (h = rot/2)
//   interleaved   y[2i] = x[2i]·c[i] - x[2i+1]·s[i],  y[2i+1] = x[2i+1]·c[i] + x[2i]·s[i]
//   y[rot:] = x[rot:] (copied unless y is x).
// Each output element is one product and one FMA (2 roundings). Every element is read before its
// own output is stored, so y may be x. The interleaved form needs a lane swap the vocabulary does
// not have; it is written as a plain pair loop, which the compiler vectorises with shuffles.
#pragma once

#include <algorithm>
#include <cstring>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/rope/rope_op.hpp"

namespace fusedops::ops {

template <class B>
struct rotary_embedding_generic {
  using V = simd::vec_t<float, B>;
  static constexpr int L = simd::lanes<V>;

  /// y[i] = x[i]·c[i] - x[i+h]·s[i], y[i+h] = x[i+h]·c[i] + x[i]·s[i] for i < h. HALF > 0 fixes
  /// h = HALF at compile time (the loop then unrolls completely and the tail folds away); 0 takes
  /// h = half.
  template <index_t HALF = 0>
  static FUSEDOPS_INLINE void rotate_half_n(const float* x, float* y, const float* c,
                                            const float* s, index_t half) noexcept {
    const index_t h = HALF > 0 ? HALF : half;
    index_t i = 0;
    for (; i + L <= h; i += L) {
      const V a = simd::load<V>(x + i), b = simd::load<V>(x + h + i);
      const V cv = simd::load<V>(c + i), sv = simd::load<V>(s + i);
      simd::store(y + i, simd::fma(a, cv, V(0.0f) - b * sv));
      simd::store(y + h + i, simd::fma(b, cv, a * sv));
    }
    if (i < h) {
      const int n = static_cast<int>(h - i);
      const V a = simd::load_partial<V>(x + i, n), b = simd::load_partial<V>(x + h + i, n);
      const V cv = simd::load_partial<V>(c + i, n), sv = simd::load_partial<V>(s + i, n);
      simd::store_partial(y + i, simd::fma(a, cv, V(0.0f) - b * sv), n);
      simd::store_partial(y + h + i, simd::fma(b, cv, a * sv), n);
    }
  }

  /// rotate_half_n; the common head sizes (64, 128, 256) with h fixed at compile time: with the
  /// 4-vector loop counted at run time, hot 4096 x 768 ran at 0.80 of the copy against 0.97
  /// (1 x 4096: 0.52 against 0.60; AVX-512, alternated).
  static FUSEDOPS_INLINE void rotate_half(const float* x, float* y, const float* c, const float* s,
                                          index_t half) noexcept {
    if (half == 64) return rotate_half_n<64>(x, y, c, s, half);
    if (half == 32) return rotate_half_n<32>(x, y, c, s, half);
    if (half == 128) return rotate_half_n<128>(x, y, c, s, half);
    rotate_half_n(x, y, c, s, half);
  }

  /// Pairs (a, b) = (x[2i], x[2i+1]) become (a·c_i - b·s_i, b·c_i + a·s_i): y = x·c' + swap(x)·s'
  /// with c' = [c_i, c_i], s' = [-s_i, s_i], lane by lane the arithmetic of rotate_half.
  static FUSEDOPS_INLINE void interleaved(const float* x, float* y, const float* c, const float* s,
                                          index_t half) noexcept {
    static_assert(L % 2 == 0 && L <= 16, "pairs of lanes; the sign table holds 16");
    alignas(64) static constexpr float minus_plus[16] = {-1, 1, -1, 1, -1, 1, -1, 1,
                                                         -1, 1, -1, 1, -1, 1, -1, 1};
    const V sign = simd::load<V>(minus_plus);
    const auto rotate = [&](const V& v, const V& cv, const V& sv) {
      return simd::fma(v, cv, simd::swap_pairs(v) * (sv * sign));
    };
    index_t i = 0;
    for (; i + L <= half; i += L) {  // L pairs: one vector of c and s, two of x and y
      const V cf = simd::load<V>(c + i), sf = simd::load<V>(s + i);
      const V v0 = simd::load<V>(x + 2 * i), v1 = simd::load<V>(x + 2 * i + L);
      simd::store(y + 2 * i, rotate(v0, simd::spread_lower_half(cf), simd::spread_lower_half(sf)));
      simd::store(y + 2 * i + L,
                  rotate(v1, simd::spread_upper_half(cf), simd::spread_upper_half(sf)));
    }
    for (; i < half; i += L / 2) {  // the rest, L/2 pairs (one vector of x) at a time
      const int n = static_cast<int>(std::min<index_t>(L / 2, half - i));
      const V cv = simd::spread_lower_half(simd::load_partial<V>(c + i, n));
      const V sv = simd::spread_lower_half(simd::load_partial<V>(s + i, n));
      simd::store_partial(y + 2 * i, rotate(simd::load_partial<V>(x + 2 * i, 2 * n), cv, sv),
                          2 * n);
    }
  }

  static void run(const rope_problem& problem, const threading& threads) {
    const index_t tokens = problem.batch * problem.seq;
    const index_t per_token = std::max<index_t>(1, problem.heads * problem.head_size);
    const index_t grain = std::max<index_t>(1, index_t{16384} / per_token);
    parallel_for(threads, tokens, grain, [&](index_t t0, index_t t1) {
      // A local copy: the vector stores may alias anything, so fields read through the reference
      // would be reloaded after every store of the head loop.
      const rope_problem p = problem;
      const index_t half = p.rot / 2;
      for (index_t t = t0; t < t1; ++t) {
        const index_t b = t / p.seq, s = t % p.seq;
        index_t pos = 0;
        if (p.ids != nullptr)
          pos = static_cast<index_t>(p.ids[b * p.id_b + s * p.id_s]);
        else if (!p.per_token)
          pos = p.offset + s;
        const float* c = p.cos + pos * p.c_row + b * p.c_b + s * p.c_s;
        const float* sn = p.sin + pos * p.s_row + b * p.s_b + s * p.s_s;
        const float* xt = p.x + b * p.x_b + s * p.x_s;
        float* yt = p.y + b * p.y_b + s * p.y_s;
        for (index_t h = 0; h < p.heads; ++h) {
          const float* xh = xt + h * p.x_h;
          float* yh = yt + h * p.y_h;
          if (p.interleaved)
            interleaved(xh, yh, c, sn, half);
          else
            rotate_half(xh, yh, c, sn, half);
          if (p.rot < p.head_size && yh != xh)
            std::memcpy(yh + p.rot, xh + p.rot, std::size_t(p.head_size - p.rot) * sizeof(float));
        }
      }
    });
  }
};

}  // namespace fusedops::ops
