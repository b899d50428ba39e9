// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The oracle for rotary_embedding: the ONNX RotaryEmbedding-23 definition in
// double, written per element from the 4-D index (b, h, s, d). Never optimised.
#pragma once

#include <cstdint>
#include <vector>

#include "fusedops/core/tensor_view.hpp"

namespace fusedops::reference {

/// Where token (b, s) finds its cos/sin row: ids[b, s], offset + s, or the 3-D cache's own row.
struct rope_positions {
  view<const std::int64_t, 2> ids{};  ///< empty: offset + s
  index_t offset = 0;
};

/// y[b, h, s, d] in double, returned in the order of a contiguous 4-D [batch, heads, seq,
/// head_size] tensor (whatever x's layout). `x4` is x seen as [batch, heads, seq, head_size];
/// `cos`/`sin` are the caches as 3-D [batch or 1, rows, rot/2] views (a 2-D cache is passed with
/// a leading extent 1 and stride 0), `per_token`: the row is s itself, per batch.
inline std::vector<double> rotary_embedding(const view<const float, 4>& x4,
                                            const view<const float, 3>& cos,
                                            const view<const float, 3>& sin, bool per_token,
                                            const rope_positions& pos, index_t rot,
                                            bool interleaved) {
  const index_t B = x4.shape(0), H = x4.shape(1), S = x4.shape(2), D = x4.shape(3);
  const index_t half = rot / 2;
  std::vector<double> y(std::size_t(B * H * S * D));
  for (index_t b = 0; b < B; ++b)
    for (index_t h = 0; h < H; ++h)
      for (index_t s = 0; s < S; ++s) {
        index_t row = s, cb = per_token ? b : 0;
        if (!per_token) row = pos.ids.empty() ? pos.offset + s : index_t(pos.ids(b, s));
        double* out = &y[std::size_t(((b * H + h) * S + s) * D)];
        for (index_t d = 0; d < D; ++d) out[d] = double(x4(b, h, s, d));
        for (index_t i = 0; i < half; ++i) {
          const double c = double(cos(cb, row, i)), sn = double(sin(cb, row, i));
          const index_t i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + half;
          const double a = double(x4(b, h, s, i1)), e = double(x4(b, h, s, i2));
          out[i1] = a * c - e * sn;
          out[i2] = e * c + a * sn;
        }
      }
  return y;
}

}  // namespace fusedops::reference
