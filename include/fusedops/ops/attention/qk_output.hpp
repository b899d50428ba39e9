// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. ONNX Attention's debugging output qk_matmul_output
// (attention_params::qk_output, qk_output_mode 0..3), written by its own plain pass over every
// (query, key) pair: scalar code, dot products accumulated in double, std:: math, nothing
// ISA-specific, so it is the same on every backend. The fused tile loop never materialises
// scores and does not know about this pass; it runs only when qk_output is non-empty.
// The stages follow the tile loop's order (attention_op.hpp):
//   raw = scale · q·k  (q, k rotated in double with fused RoPE)   mode 0
//   x   = mod(softcap(raw) - slope·|p - j|)         mode 1 (every key)
//   x  += float mask; removed keys -inf             mode 2
//   softmax(x) with the sink in the denominator     mode 3 (a NaN score makes the row NaN)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "fusedops/core/threading.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/attention/masks.hpp"
#include "fusedops/ops/attention/rotary.hpp"

namespace fusedops::ops::attention_detail {

/// Writes p.qk_output's values for `mode` into qk ([B, Hq, Sq, Skv], validated).
template <class Mod>
void write_qk_output(const attention_problem& p, const view<float, 4>& qk, int mode, const Mod& mod,
                     const threading& threads) noexcept {
  const float ninf = -std::numeric_limits<float>::infinity();
  const index_t rows = p.batch * p.hq * p.sq;
  parallel_for(threads, rows, 8, [&](index_t r0, index_t r1) {
    for (index_t row = r0; row < r1; ++row) {
      const index_t b = row / (p.hq * p.sq), h = row / p.sq % p.hq, i = row % p.sq;
      const index_t kh = h / p.group;
      const key_bounds kb = key_bounds::make(p, b);
      const index_t lo = kb.lo(i), hi = kb.hi(i), pos = i + kb.offset;
      const index_t ks = qk.stride(3);
      float* dst = &qk(b, h, i, 0);
      const rotary_problem& rope = p.rope;
      const index_t qpos = rope.queries() ? query_position(rope, b, i, kb.offset) : 0;
      for (index_t j = 0; j < p.skv; ++j) {
        double dot = 0;
        if (rope.queries()) {  // rotated in double (unit strides, checked); K by now in present
          const index_t kpos = rope.keys_in_loop ? key_position(rope, b, j) : 0;
          for (index_t d = 0; d < p.dqk; ++d)
            dot += rotated_element(rope, &p.q(b, h, i, 0), d, qpos) *
                   (rope.keys_in_loop ? rotated_element(rope, &p.k(b, kh, j, 0), d, kpos)
                                      : double(p.k(b, kh, j, d)));
        } else {
          for (index_t d = 0; d < p.dqk; ++d)
            dot += double(p.q(b, h, i, d)) * double(p.k(b, kh, j, d));
        }
        double x = double(p.scale) * dot;
        if (mode >= 1) {
          if (p.softcap > 0.0f) x = double(p.softcap) * std::tanh(x / double(p.softcap));
          if (p.alibi != nullptr)
            x -= double(p.alibi[h * p.alibi_stride]) * double(pos > j ? pos - j : j - pos);
          if constexpr (!std::is_same_v<Mod, no_score_mod>) x = double(mod(float(x), b, h, i, j));
        }
        if (mode >= 2) {
          bool keep = j >= lo && j < hi;
          if (keep && p.fmask != nullptr)
            x += double(p.fmask[b * p.fmask_strides[0] + h * p.fmask_strides[1] +
                                i * p.fmask_strides[2] + j * p.fmask_strides[3]]);
          if (keep && p.bmask != nullptr)
            keep = p.bmask[b * p.bmask_strides[0] + h * p.bmask_strides[1] +
                           i * p.bmask_strides[2] + j * p.bmask_strides[3]];
          if (!keep) x = double(ninf);
        }
        dst[j * ks] = float(x);
      }
      if (mode < 3) continue;
      // Softmax of the mode-2 row in place, the sink in the denominator.
      const float sink = p.sinks != nullptr ? p.sinks[h * p.sinks_stride] : ninf;
      double mx = double(sink);
      bool nan = false;
      for (index_t j = 0; j < p.skv; ++j) {
        const double x = double(dst[j * ks]);
        nan = nan || std::isnan(x);
        mx = std::max(mx, x);
      }
      if (nan || mx == double(ninf)) {  // NaN row, or nothing attendable and no sink: 0
        const float fill = nan ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
        for (index_t j = 0; j < p.skv; ++j) dst[j * ks] = fill;
        continue;
      }
      double sum = std::exp(double(sink) - mx);
      for (index_t j = 0; j < p.skv; ++j) sum += std::exp(double(dst[j * ks]) - mx);
      for (index_t j = 0; j < p.skv; ++j)
        dst[j * ks] = float(std::exp(double(dst[j * ks]) - mx) / sum);
    }
  });
}

}  // namespace fusedops::ops::attention_detail
