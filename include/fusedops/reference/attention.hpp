// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The double-precision oracle of fusedops::attention: naive, never optimised,
// never shared with the kernels. For every query row it materialises the scores over all keys
// in double,
//   s_j = softcap(scale · Σ_d q_d k_jd) + float_mask_j,   -inf where the boolean mask is false,
//   the causal rule / window / valid length exclude j (structurally: j is not even read),
// then p = softmax(s) (zero row when no key is attendable) and y = Σ_j p_j v_j.
// It also reports, per row, what the test tolerance needs (see tests/support/tolerance.hpp):
// the largest |score| entering the softmax and Σ_j p_j |v_j| per output column.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "fusedops/attention.hpp"

namespace fusedops::reference {

/// Per output element: the oracle value and the scale of its error bound.
struct attention_result {
  std::vector<double> y;        ///< [B, Hq, Sq, Dv] row-major
  std::vector<double> abs_pv;   ///< Σ_j p_j |v_j d| per element
  std::vector<double> max_abs;  ///< per row: max over weighted keys of scale · Σ_d |q_d k_jd|
  std::vector<long> keys;       ///< per row: keys read (structurally allowed)
};

/// Runs the oracle (same argument meanings as fusedops::attention; threads and workspace are
/// ignored).
inline attention_result attention(const view<const float, 4>& q, const view<const float, 4>& k,
                                  const view<const float, 4>& v, const attention_params& p) {
  const index_t nb = q.shape(0), hq = q.shape(1), sq = q.shape(2), dqk = q.shape(3);
  const index_t hkv = k.shape(1), skv = k.shape(2), dv = v.shape(3);
  const index_t group = hkv > 0 ? hq / hkv : 1;
  const double scale = p.scale != 0.0f ? double(p.scale) : 1.0 / std::sqrt(double(dqk));
  const double inf = std::numeric_limits<double>::infinity();
  attention_result r;
  r.y.assign(std::size_t(nb * hq * sq * dv), 0.0);
  r.abs_pv.assign(r.y.size(), 0.0);
  r.max_abs.assign(std::size_t(nb * hq * sq), 0.0);
  r.keys.assign(std::size_t(nb * hq * sq), 0);
  std::vector<double> s(static_cast<std::size_t>(skv));
  std::vector<char> allowed(static_cast<std::size_t>(skv));
  for (index_t b = 0; b < nb; ++b) {
    const index_t valid =
        p.nonpad_kv_seqlen.data() != nullptr ? index_t(p.nonpad_kv_seqlen(b)) : skv;
    const index_t offset =
        p.causal_offset == attention_params::bottom_right ? valid - sq : p.causal_offset;
    for (index_t h = 0; h < hq; ++h) {
      const index_t kh = h / group;
      for (index_t i = 0; i < sq; ++i) {
        const std::size_t row = std::size_t((b * hq + h) * sq + i);
        const index_t pos = i + offset;
        double mx = -inf;
        bool any_nan = false;
        for (index_t j = 0; j < skv; ++j) {
          bool ok = j < valid;
          if (p.is_causal && j > pos) ok = false;
          if (p.window_left >= 0 && j < pos - p.window_left) ok = false;
          if (p.window_right >= 0 && j > pos + p.window_right) ok = false;
          if (p.float_mask.data() != nullptr && j >= p.float_mask.shape(3)) ok = false;
          if (p.bool_mask.data() != nullptr && j >= p.bool_mask.shape(3)) ok = false;
          allowed[std::size_t(j)] = ok;
          if (!ok) continue;
          r.keys[row]++;
          double dot = 0;
          for (index_t d = 0; d < dqk; ++d) dot += double(q(b, h, i, d)) * double(k(b, kh, j, d));
          double x = scale * dot;
          if (p.softcap > 0.0f) x = double(p.softcap) * std::tanh(x / double(p.softcap));
          if (p.float_mask.data() != nullptr) x += double(p.float_mask(b, h, i, j));
          if (p.bool_mask.data() != nullptr && !p.bool_mask(b, h, i, j)) x = -inf;
          s[std::size_t(j)] = x;
          if (std::isnan(x)) any_nan = true;
          else mx = std::max(mx, x);
        }
        double* y = &r.y[row * std::size_t(dv)];
        double* apv = &r.abs_pv[row * std::size_t(dv)];
        if (any_nan) {
          for (index_t d = 0; d < dv; ++d) y[d] = std::numeric_limits<double>::quiet_NaN();
          continue;
        }
        if (mx == -inf) continue;  // nothing attendable: zero row
        double sum = 0, big = 0;
        for (index_t j = 0; j < skv; ++j) {
          if (!allowed[std::size_t(j)]) continue;
          const double e = std::exp(s[std::size_t(j)] - mx);
          s[std::size_t(j)] = e;
          sum += e;
        }
        for (index_t j = 0; j < skv; ++j) {
          if (!allowed[std::size_t(j)]) continue;
          const double pj = s[std::size_t(j)] / sum;
          for (index_t d = 0; d < dv; ++d) {
            y[d] += pj * double(v(b, kh, j, d));
            apv[d] += pj * std::fabs(double(v(b, kh, j, d)));
          }
        }
        // Largest |score| among the keys that carry weight (the scores' absolute error scales
        // with it; recomputed from the dot products).
        for (index_t j = 0; j < skv; ++j) {
          if (!allowed[std::size_t(j)] || s[std::size_t(j)] == 0.0) continue;
          double dot = 0, adot = 0;
          for (index_t d = 0; d < dqk; ++d) {
            dot += double(q(b, h, i, d)) * double(k(b, kh, j, d));
            adot += std::fabs(double(q(b, h, i, d)) * double(k(b, kh, j, d)));
          }
          big = std::max(big, scale * adot);
        }
        r.max_abs[row] = big;
      }
    }
  }
  return r;
}

}  // namespace fusedops::reference
