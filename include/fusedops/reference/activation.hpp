// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The oracle for the standalone activations: naive loops in double precision,
// calling the same activation functor with V = double (so the C library's double math). Never
// optimised; every backend's test compares against it.
#pragma once

#include <vector>

#include "fusedops/core/tensor_view.hpp"

namespace fusedops::reference {

/// act(x) in double, row-major in x's shape.
template <class T, int R, class Act>
std::vector<double> activation(const view<T, R>& x, const Act& act) {
  std::vector<double> y(static_cast<std::size_t>(x.size()));
  for (index_t i = 0; i < x.size(); ++i) {
    index_t rest = i, off = 0;
    for (int d = R - 1; d >= 0; --d) {
      off += (rest % x.shape(d)) * x.stride(d);
      rest /= x.shape(d);
    }
    y[std::size_t(i)] = act(static_cast<double>(x.data()[off]));
  }
  return y;
}

/// act(a) · b in double for x = [..., a | b] (halves of the last dimension), row-major in the
/// output shape [..., h].
template <class T, int R, class Act>
std::vector<double> gated_activation(const view<T, R>& x, const Act& act) {
  const index_t h = x.shape(R - 1) / 2;
  std::vector<double> y(static_cast<std::size_t>(x.size() / 2));
  for (index_t i = 0; i < index_t(y.size()); ++i) {
    index_t rest = i, off = 0;
    for (int d = R - 1; d >= 0; --d) {
      const index_t e = d == R - 1 ? h : x.shape(d);
      off += (rest % e) * x.stride(d);
      rest /= e;
    }
    const double a = x.data()[off], b = x.data()[off + h * x.stride(R - 1)];
    y[std::size_t(i)] = act(a) * b;
  }
  return y;
}

}  // namespace fusedops::reference
