// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The oracle for bias_activation: naive loops in double precision, calling the
// same activation functor with V = double (so the C library's double math). Never optimised;
// every backend's test compares against it. Public so users can validate their own fusions.
#pragma once

#include <vector>

#include "fusedops/core/tensor_view.hpp"

namespace fusedops::reference {

/// Returns act(x[i, j] + bias[j]) in double, row-major [rows, cols].
template <class Act>
std::vector<double> bias_activation(const view<const float, 2>& x, const view<const float, 1>& bias,
                                    const Act& act) {
  std::vector<double> y(static_cast<std::size_t>(x.size()));
  for (index_t i = 0; i < x.shape(0); ++i)
    for (index_t j = 0; j < x.shape(1); ++j)
      y[static_cast<std::size_t>(i * x.shape(1) + j)] =
          act(static_cast<double>(x(i, j)) + static_cast<double>(bias(j)));
  return y;
}

}  // namespace fusedops::reference
