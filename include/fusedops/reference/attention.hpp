// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The double-precision oracle of fusedops::attention: naive, never optimised,
// never shared with the kernels. For every query row it materialises the scores over all keys
// in double,
//   raw_j = scale · Σ_d q_d k_jd                                         (qk mode 0)
//   x_j   = mod(softcap(raw_j) - slope_h · |pos_i - j|, b, h, i, j)     (qk mode 1)
//   s_j   = x_j + float_mask_j, -inf where the boolean mask is false or the causal rule / window
//           / valid length / a short mask exclude j                     (qk mode 2)
// then p_j = e^{s_j} / (e^{sink_h} + Σ_k e^{s_k}) (qk mode 3; zero row when nothing is
// attendable, NaN row when an attendable score is NaN) and y = Σ_j p_j v_j. The score functor is
// called with a double score when it accepts one (a generic functor stays exact here).
// It also reports, per row, what the test tolerance needs (see tests/support/tolerance.hpp):
// the largest |score| entering the softmax, the size of the additive modifiers and Σ_j p_j |v_j|
// per output column. Fused RoPE (attention_params::rotary) rotates q and the new keys in double
// first; |score| then uses each rotated element's magnitude bound |x_e c| + |x_partner s|.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "fusedops/attention.hpp"

namespace fusedops::reference {

/// Per output element: the oracle value and the scale of its error bound.
struct attention_result {
  std::vector<double> y;        ///< [B, Hq, Sq, Dv] row-major
  std::vector<double> abs_pv;   ///< Σ_j p_j |v_j d| per element
  std::vector<double> max_abs;  ///< per row: max over weighted keys of scale · Σ_d |q_d k_jd|
  std::vector<double> max_mod;  ///< per row: max over weighted keys of |x_j - softcap(raw_j)|
                                ///< (ALiBi + score functor), plus |sink| when finite
  std::vector<long> keys;       ///< per row: keys read (structurally allowed)
  std::vector<double> qk;       ///< [B, Hq, Sq, Skv] in p.qk_output_mode (when p.qk_output given)
};

namespace detail {

/// x[b, h, s, :] of every row, rotated in double when `pos(b, s)` >= 0 (RoPE with the caches of
/// `r`), with the magnitude bound of each element (|x_e c| + |x_partner s| where rotated, |x_e|
/// elsewhere): rows [B·H·S][D] row-major.
template <class Pos>
void rotated_rows(const view<const float, 4>& x, const attention_rotary& r, Pos pos,
                  std::vector<double>& val, std::vector<double>& mag) {
  const index_t nb = x.shape(0), nh = x.shape(1), ns = x.shape(2), d = x.shape(3);
  const index_t rot = r.rotary_dim == 0 ? d : r.rotary_dim, half = rot / 2;
  val.assign(std::size_t(nb * nh * ns * d), 0.0);
  mag.assign(val.size(), 0.0);
  for (index_t b = 0; b < nb; ++b)
    for (index_t h = 0; h < nh; ++h)
      for (index_t s = 0; s < ns; ++s) {
        const std::size_t row = std::size_t(((b * nh + h) * ns + s) * d);
        const index_t at = pos(b, s);
        for (index_t e = 0; e < d; ++e) {
          const double xe = double(x(b, h, s, e));
          if (at < 0 || e >= rot) {
            val[row + std::size_t(e)] = xe, mag[row + std::size_t(e)] = std::fabs(xe);
            continue;
          }
          const index_t i = r.interleaved ? e / 2 : e % half;
          const bool first = r.interleaved ? e % 2 == 0 : e < half;
          const index_t partner =
              r.interleaved ? (first ? e + 1 : e - 1) : (first ? e + half : e - half);
          const double c = double(r.cos_cache(at, i)), sn = double(r.sin_cache(at, i));
          const double xp = double(x(b, h, s, partner));
          val[row + std::size_t(e)] = first ? xe * c - xp * sn : xe * c + xp * sn;
          mag[row + std::size_t(e)] = std::fabs(xe * c) + std::fabs(xp * sn);
        }
      }
}

}  // namespace detail

/// Runs the oracle (same argument meanings as fusedops::attention; threads and workspace are
/// ignored; K/V are the full key range: a KV cache is the caller's concatenation, whose first
/// `first_new_key` keys are the past ones, which fused RoPE (p.rotary) does not rotate).
template <class Mod = no_score_mod>
attention_result attention(const view<const float, 4>& q, const view<const float, 4>& k,
                           const view<const float, 4>& v, const attention_params& p,
                           const Mod& mod = {}, index_t first_new_key = 0) {
  const index_t nb = q.shape(0), hq = q.shape(1), sq = q.shape(2), dqk = q.shape(3);
  const index_t hkv = k.shape(1), skv = k.shape(2), dv = v.shape(3);
  // Q and K as the dot products see them (rotated with fused RoPE), and their magnitude bounds.
  const attention_rotary& rope = p.rotary;
  const bool rotate = rope.cos_cache.data() != nullptr;
  auto offset_of = [&](index_t b) {
    const index_t valid =
        p.nonpad_kv_seqlen.data() != nullptr ? index_t(p.nonpad_kv_seqlen(b)) : skv;
    return p.causal_offset == attention_params::bottom_right ? valid - sq : p.causal_offset;
  };
  const bool ids = rope.position_ids.data() != nullptr;
  std::vector<double> qr, qm, kr, km;
  detail::rotated_rows(q, rope, [&](index_t b, index_t i) -> index_t {
    if (!rotate) return -1;
    return ids ? index_t(rope.position_ids(b, i)) : i + offset_of(b);
  }, qr, qm);
  detail::rotated_rows(k, rope, [&](index_t b, index_t j) -> index_t {
    if (!rotate || !rope.rotate_keys || j < first_new_key) return -1;
    return ids ? index_t(rope.position_ids(b, j - first_new_key)) : j;
  }, kr, km);
  auto qrow = [&](index_t b, index_t h, index_t i) {
    return std::size_t(((b * hq + h) * sq + i) * dqk);
  };
  auto krow = [&](index_t b, index_t h, index_t j) {
    return std::size_t(((b * hkv + h) * skv + j) * dqk);
  };
  const index_t group = hkv > 0 ? hq / hkv : 1;
  const double scale = p.scale != 0.0f ? double(p.scale) : 1.0 / std::sqrt(double(dqk));
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const bool want_qk = !p.qk_output.empty();
  attention_result r;
  r.y.assign(std::size_t(nb * hq * sq * dv), 0.0);
  r.abs_pv.assign(r.y.size(), 0.0);
  r.max_abs.assign(std::size_t(nb * hq * sq), 0.0);
  r.max_mod.assign(std::size_t(nb * hq * sq), 0.0);
  r.keys.assign(std::size_t(nb * hq * sq), 0);
  if (want_qk) r.qk.assign(std::size_t(nb * hq * sq * skv), 0.0);
  std::vector<double> s(static_cast<std::size_t>(skv)), modv(static_cast<std::size_t>(skv));
  std::vector<char> allowed(static_cast<std::size_t>(skv));
  for (index_t b = 0; b < nb; ++b) {
    const index_t valid =
        p.nonpad_kv_seqlen.data() != nullptr ? index_t(p.nonpad_kv_seqlen(b)) : skv;
    const index_t offset =
        p.causal_offset == attention_params::bottom_right ? valid - sq : p.causal_offset;
    for (index_t h = 0; h < hq; ++h) {
      const index_t kh = h / group;
      const double slope = p.alibi_slopes.data() != nullptr ? double(p.alibi_slopes(h)) : 0.0;
      const double sink = p.sinks.data() != nullptr ? double(p.sinks(h)) : -inf;
      for (index_t i = 0; i < sq; ++i) {
        const std::size_t row = std::size_t((b * hq + h) * sq + i);
        double* qk = want_qk ? &r.qk[row * std::size_t(skv)] : nullptr;
        const index_t pos = i + offset;
        double mx = sink;
        bool any_nan = false;
        for (index_t j = 0; j < skv; ++j) {
          bool ok = j < valid;
          if (p.is_causal && j > pos) ok = false;
          if (p.window_left >= 0 && j < pos - p.window_left) ok = false;
          if (p.window_right >= 0 && j > pos + p.window_right) ok = false;
          if (p.float_mask.data() != nullptr && j >= p.float_mask.shape(3)) ok = false;
          if (p.bool_mask.data() != nullptr && j >= p.bool_mask.shape(3)) ok = false;
          allowed[std::size_t(j)] = ok;
          if (!ok && !want_qk) continue;
          double dot = 0;
          for (index_t d = 0; d < dqk; ++d)
            dot += qr[qrow(b, h, i) + std::size_t(d)] * kr[krow(b, kh, j) + std::size_t(d)];
          const double raw = scale * dot;
          double x = raw;
          if (p.softcap > 0.0f) x = double(p.softcap) * std::tanh(x / double(p.softcap));
          const double capped = x;
          x -= slope * double(pos > j ? pos - j : j - pos);
          if constexpr (!std::is_same_v<Mod, no_score_mod>) x = double(mod(x, b, h, i, j));
          modv[std::size_t(j)] = std::fabs(x - capped);
          if (qk != nullptr && p.qk_output_mode <= 1) qk[j] = p.qk_output_mode == 0 ? raw : x;
          if (ok && p.float_mask.data() != nullptr) x += double(p.float_mask(b, h, i, j));
          if (ok && p.bool_mask.data() != nullptr && !p.bool_mask(b, h, i, j)) x = -inf;
          if (!ok) x = -inf;
          if (qk != nullptr && p.qk_output_mode == 2) qk[j] = x;
          if (!ok) continue;
          r.keys[row]++;
          s[std::size_t(j)] = x;
          if (std::isnan(x)) any_nan = true;
          else mx = std::max(mx, x);
        }
        double* y = &r.y[row * std::size_t(dv)];
        double* apv = &r.abs_pv[row * std::size_t(dv)];
        if (any_nan) {
          for (index_t d = 0; d < dv; ++d) y[d] = nan;
          if (qk != nullptr && p.qk_output_mode == 3) std::fill(qk, qk + skv, nan);
          continue;
        }
        if (mx == -inf) continue;  // nothing attendable (and no sink): zero row
        double sum = std::exp(sink - mx), big = 0, bigmod = 0;
        for (index_t j = 0; j < skv; ++j) {
          if (!allowed[std::size_t(j)]) continue;
          const double e = std::exp(s[std::size_t(j)] - mx);
          s[std::size_t(j)] = e;
          sum += e;
        }
        for (index_t j = 0; j < skv; ++j) {
          if (!allowed[std::size_t(j)]) continue;
          const double pj = s[std::size_t(j)] / sum;
          if (qk != nullptr && p.qk_output_mode == 3) qk[j] = pj;
          for (index_t d = 0; d < dv; ++d) {
            y[d] += pj * double(v(b, kh, j, d));
            apv[d] += pj * std::fabs(double(v(b, kh, j, d)));
          }
        }
        // Largest |score| and modifier among the keys that carry weight (the scores' absolute
        // error scales with them; recomputed from the dot products).
        for (index_t j = 0; j < skv; ++j) {
          if (!allowed[std::size_t(j)] || s[std::size_t(j)] == 0.0) continue;
          double adot = 0;
          for (index_t d = 0; d < dqk; ++d)
            adot += qm[qrow(b, h, i) + std::size_t(d)] * km[krow(b, kh, j) + std::size_t(d)];
          big = std::max(big, scale * adot);
          bigmod = std::max(bigmod, modv[std::size_t(j)]);
        }
        r.max_abs[row] = big;
        r.max_mod[row] = bigmod + (std::isfinite(sink) ? std::fabs(sink) : 0.0);
      }
    }
  }
  return r;
}

}  // namespace fusedops::reference
