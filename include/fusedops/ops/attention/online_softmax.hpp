// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. The online (running max / running sum) softmax of FlashAttention
// (Milakov & Gimelshein 2018; Dao 2023), written once in the vector vocabulary:
//  * update_row: a row of final scores (masked keys already -inf) becomes its probabilities
//    p_j = exp(s_j - m_new) in place; the row's state (m, l) moves to the new max and the factor
//    alpha = exp(m_old - m_new) that rescales the row's output accumulator is returned;
//  * merge_states: the flash-decoding combine of partial states computed over disjoint key
//    ranges: m = max m_c, l = sum l_c·exp(m_c - m), O = sum O_c·exp(m_c - m).
// A row that has seen only masked keys keeps m = -inf, l = 0 (exp is taken against 0 instead of
// -inf, so no -inf - -inf = NaN appears) and finishes as a zero row; NaN scores propagate
// through max_nan into m, alpha and so the whole row.
// Attention sinks: a row with sink logit σ starts at (m, l) = (σ, 1), i.e. as if it had seen one
// key of score σ and value 0 (start_row); the sink then sits in the denominator, and a row whose
// keys are all masked finishes as O / l = 0 / 1 = 0. When the keys are split (merge_states),
// only the chunk holding key 0 starts with the sink; the others start at (-inf, 0), so the merge
// counts it exactly once.
#pragma once

#include <cmath>
#include <limits>

#include "fusedops/arch/simd.hpp"

namespace fusedops::ops::attention_detail {

inline constexpr float neg_inf = -std::numeric_limits<float>::infinity();

/// NaN-propagating max of two floats.
inline float max_nan(float a, float b) noexcept {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<float>::quiet_NaN();
  return a > b ? a : b;
}

/// Initial state of a row: no sink (or a sink of -inf): (-inf, 0); else (sink, 1).
inline void start_row(const float* sink, float& m, float& l) noexcept {
  const bool has = sink != nullptr && *sink != neg_inf;
  m = has ? *sink : neg_inf;
  l = has ? 1.0f : 0.0f;
}

/// Row s[0 .. vecs·lanes) of scores whose maximum is `row_max` (masked entries -inf) becomes
/// exp(s - m_new) in place; updates (m, l) and returns alpha = exp(m_old - m_new).
template <class V>
FUSEDOPS_INLINE float update_row(float* s, int vecs, float row_max, float& m, float& l) noexcept {
  constexpr int lanes = simd::lanes<V>;
  const float m_new = max_nan(m, row_max);
  const float base = m_new == neg_inf ? 0.0f : m_new;  // all masked so far: exp(-inf) = 0
  const float alpha = std::exp(m - base);
  const V b = simd::broadcast<V>(base);
  V sum0 = simd::broadcast<V>(0.0f), sum1 = sum0;
  int j = 0;
  for (; j + 2 <= vecs; j += 2) {
    const V p0 = simd::exp(simd::load<V>(s + j * lanes) - b);
    const V p1 = simd::exp(simd::load<V>(s + (j + 1) * lanes) - b);
    simd::store(s + j * lanes, p0);
    simd::store(s + (j + 1) * lanes, p1);
    sum0 = sum0 + p0, sum1 = sum1 + p1;
  }
  if (j < vecs) {
    const V p0 = simd::exp(simd::load<V>(s + j * lanes) - b);
    simd::store(s + j * lanes, p0);
    sum0 = sum0 + p0;
  }
  l = l * alpha + float(simd::reduce_add(sum0 + sum1));
  m = m_new;
  return alpha;
}

/// Combines `parts` partial states of one row (m_c, l_c at stride `state_stride`, accumulators
/// o_c [dv] at stride `o_stride`) and writes the normalised row to out[0, ostride, ...).
template <class V>
void merge_states(int parts, const float* m, const float* l, index_t state_stride, const float* o,
                  index_t o_stride, index_t dv, float* out, index_t out_stride) noexcept {
  constexpr int lanes = simd::lanes<V>;
  float mx = neg_inf;
  for (int c = 0; c < parts; ++c) mx = max_nan(mx, m[c * state_stride]);
  float total = 0.0f;
  float w[64];  // parts <= 64 (attention_generic's plan caps the split)
  for (int c = 0; c < parts; ++c) {
    w[c] = mx == neg_inf ? 0.0f : std::exp(m[c * state_stride] - mx);
    total += l[c * state_stride] * w[c];
  }
  const float inv = total > 0.0f ? 1.0f / total : (std::isnan(total) ? total : 0.0f);
  for (index_t d = 0; d < dv; d += lanes) {
    const int n = static_cast<int>(std::min<index_t>(lanes, dv - d));
    V acc = simd::broadcast<V>(0.0f);
    for (int c = 0; c < parts; ++c)
      acc = simd::fma(simd::broadcast<V>(w[c]), simd::load<V>(o + c * o_stride + d), acc);
    simd::store_segment(out + d * out_stride, out_stride, acc * simd::broadcast<V>(inv), n);
  }
}

}  // namespace fusedops::ops::attention_detail
