// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: reference. The oracles for layer_norm and rms_norm: naive loops in double precision
// (two-pass mean and variance, the textbook definitions of ONNX LayerNormalization-17 and
// RMSNormalization-23). Never optimised; every backend's test compares against them. The fused
// residual forms are checked by rounding sum = (x + residual) + residual_bias in fp32 (what the
// operator defines) and normalizing that with these oracles.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "fusedops/core/tensor_view.hpp"

namespace fusedops::reference {

/// What the norm oracles return: y in row-major order of x's shape, and per-row statistics
/// (rows = the product of the dimensions before axis).
struct norm_result {
  std::vector<double> y;
  std::vector<double> mean;         ///< layer_norm only
  std::vector<double> inv_std_dev;  ///< layer_norm: 1/sqrt(var + eps); rms_norm: 1/sqrt(ms + eps)
};

namespace norm_detail {
/// Element `flat` (row-major logical index) of a strided view.
template <int R>
double element(const view<const float, R>& v, index_t flat) {
  index_t off = 0;
  for (int d = R - 1; d >= 0; --d) {
    off += (flat % v.shape(d)) * v.stride(d);
    flat /= v.shape(d);
  }
  return double(v.data()[off]);
}

template <int R>
void split(const view<const float, R>& x, int axis, index_t& rows, index_t& hidden) {
  if (axis < 0) axis += R;
  rows = 1, hidden = 1;
  for (int d = 0; d < R; ++d) (d < axis ? rows : hidden) *= x.shape(d);
}
}  // namespace norm_detail

/// LayerNormalization in double: y = (x - mean) / sqrt(var + eps) · scale (+ bias). `bias` may be
/// an empty view (none).
template <int R>
norm_result layer_norm(const view<const float, R>& x, int axis, const view<const float, 1>& scale,
                       const view<const float, 1>& bias, double epsilon) {
  index_t rows, hidden;
  norm_detail::split<R>(x, axis, rows, hidden);
  norm_result out;
  out.y.resize(std::size_t(rows * hidden));
  for (index_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (index_t j = 0; j < hidden; ++j) sum += norm_detail::element<R>(x, r * hidden + j);
    const double mean = sum / double(hidden);
    double sq = 0;
    for (index_t j = 0; j < hidden; ++j) {
      const double d = norm_detail::element<R>(x, r * hidden + j) - mean;
      sq += d * d;
    }
    const double inv = 1.0 / std::sqrt(sq / double(hidden) + epsilon);
    out.mean.push_back(mean);
    out.inv_std_dev.push_back(inv);
    for (index_t j = 0; j < hidden; ++j) {
      double v = (norm_detail::element<R>(x, r * hidden + j) - mean) * inv * double(scale(j));
      if (!bias.empty()) v += double(bias(j));
      out.y[std::size_t(r * hidden + j)] = v;
    }
  }
  return out;
}

/// RMSNormalization in double: y = x / sqrt(mean(x²) + eps) · scale.
template <int R>
norm_result rms_norm(const view<const float, R>& x, int axis, const view<const float, 1>& scale,
                     double epsilon) {
  index_t rows, hidden;
  norm_detail::split<R>(x, axis, rows, hidden);
  norm_result out;
  out.y.resize(std::size_t(rows * hidden));
  for (index_t r = 0; r < rows; ++r) {
    double sq = 0;
    for (index_t j = 0; j < hidden; ++j) {
      const double v = norm_detail::element<R>(x, r * hidden + j);
      sq += v * v;
    }
    const double inv = 1.0 / std::sqrt(sq / double(hidden) + epsilon);
    out.inv_std_dev.push_back(inv);
    for (index_t j = 0; j < hidden; ++j)
      out.y[std::size_t(r * hidden + j)] =
          norm_detail::element<R>(x, r * hidden + j) * inv * double(scale(j));
  }
  return out;
}

}  // namespace fusedops::reference
