// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The GEMM oracle: naive triple loop in double, then alpha, beta · C_in and the
// epilogue's scalar form evaluated in double (gated epilogues through combine). Never optimised;
// every backend's test compares against it.
#pragma once

#include <vector>

#include "fusedops/fused/epilogue.hpp"

namespace fusedops::reference {

/// Returns epilogue(alpha · A·B + beta · C_in) row-major [M, N] in double. For a gated epilogue,
/// b is [K, 2N] (gate columns, then up columns). c_in may be empty when beta == 0.
template <class E = epilogue::none>
std::vector<double> gemm(const view<const float, 2>& a, const view<const float, 2>& b,
                         const E& ep = {}, double alpha = 1.0, double beta = 0.0,
                         const view<const float, 2>& c_in = {}, index_t batch = 0) {
  const index_t m = a.shape(0), k = a.shape(1);
  constexpr bool gated = epilogue::is_gated_v<E>;
  const index_t n = gated ? b.shape(1) / 2 : b.shape(1);
  std::vector<double> out(static_cast<std::size_t>(m * n));
  auto dot = [&](index_t i, index_t j) {
    double s = 0;
    for (index_t p = 0; p < k; ++p) s += double(a(i, p)) * double(b(p, j));
    return s;
  };
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      const epilogue::coord at{i, j, 1, batch};
      double v;
      if constexpr (gated) {
        v = ep.combine(alpha * dot(i, j), alpha * dot(i, n + j), at);
      } else {
        v = alpha * dot(i, j);
        if (beta != 0.0) v += beta * double(c_in(i, j));
        v = ep(v, at);
      }
      out[static_cast<std::size_t>(i * n + j)] = v;
    }
  return out;
}

}  // namespace fusedops::reference
