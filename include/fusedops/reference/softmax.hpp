// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The oracle for softmax / log_softmax: naive loops in double precision with the
// C library's exp and log, literally the ONNX formula exp(x - max) / sum(exp(x - max)) (max
// NaN-propagating), so special values come out as IEEE arithmetic gives them. Never optimised;
// every backend's test compares against it.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "fusedops/core/numerics.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::reference {

/// Softmax (log = false) or LogSoftmax (log = true) of x along axis (0 <= axis < R), in double,
/// row-major in x's shape.
template <int R>
std::vector<double> softmax(const view<const float, R>& x, int axis, bool log = false) {
  std::vector<double> y(static_cast<std::size_t>(x.size()));
  if (x.empty()) return y;
  const dims<R> row_major = row_major_strides<R>(x.shape());
  const index_t n = x.shape(axis);
  // Every element whose axis index is 0 starts one line.
  for (index_t i = 0; i < x.size(); ++i) {
    index_t rest = i, off = 0;
    bool first = true;
    for (int d = R - 1; d >= 0; --d) {
      const index_t k = rest % x.shape(d);
      rest /= x.shape(d);
      if (d == axis && k != 0) first = false;
      off += k * x.stride(d);
    }
    if (!first) continue;
    double m = -std::numeric_limits<double>::infinity();
    for (index_t k = 0; k < n; ++k) m = max_nan(m, double(x.data()[off + k * x.stride(axis)]));
    double s = 0;
    for (index_t k = 0; k < n; ++k) s += std::exp(double(x.data()[off + k * x.stride(axis)]) - m);
    for (index_t k = 0; k < n; ++k) {
      const double v = double(x.data()[off + k * x.stride(axis)]) - m;
      y[std::size_t(i + k * row_major[std::size_t(axis)])] = log ? v - std::log(s) : std::exp(v) / s;
    }
  }
  return y;
}

}  // namespace fusedops::reference
