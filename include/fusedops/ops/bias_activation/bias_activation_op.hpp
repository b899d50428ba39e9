// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/bias_activation. What the operator is: its tag and its argument checks, shared by
// every backend (CPU and CUDA). y[i, j] = act(x[i, j] + bias[j]).
#pragma once

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::ops {

/// Operator tag: per-column bias add followed by an activation, one pass over the data.
struct bias_activation_op {
  static constexpr const char* name = "bias_activation";

  /// All argument checks; nothing is written before they pass.
  template <class Space>
  static status validate(const view<const float, 2, Space>& x, const view<const float, 1, Space>& bias,
                         const view<float, 2, Space>& y) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, "x", x));
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, "bias", bias));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(name, "y", y));
    FUSEDOPS_RETURN_IF_ERROR(
        checks::shape_equals<2>(name, "y", y.shape(), x.shape(), "the shape of 'x'"));
    if (bias.shape(0) != x.shape(1))
      return status::error(errc::shape_mismatch,
                           "%s: argument 'bias' has shape %s, expected [%td] (the last dimension "
                           "of 'x' %s)",
                           name, bias.shape_string().c_str(), x.shape(1), x.shape_string().c_str());
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(name, "y", y, "x", x));
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(name, "y", y, "bias", bias));
    return {};
  }
};

}  // namespace fusedops::ops
