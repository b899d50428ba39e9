// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/softmax. What ONNX Softmax / LogSoftmax (opset 13) are: the tag and the argument
// checks, shared by every backend. Over one axis of x (negative axes count from the end):
//   softmax:     y = exp(x - max) / sum(exp(x - max))
//   log_softmax: y = (x - max) - log(sum(exp(x - max)))
#pragma once

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::ops {

/// Operator tag for Softmax and LogSoftmax (the `log` flag of the implementation picks one).
struct softmax_op {
  /// All argument checks; nothing is written before they pass. `op` is the public name used in
  /// messages ("softmax" / "log_softmax"); on success `axis` is made non-negative.
  /// Space: host_memory (CPU backends) or device_memory (backend::cuda); same checks and messages.
  template <int R, class Space = host_memory>
  static status validate(const char* op, const view<const float, R, Space>& x,
                         const view<float, R, Space>& y, int& axis) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "x", x));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(op, "y", y));
    FUSEDOPS_RETURN_IF_ERROR(
        checks::shape_equals<R>(op, "y", y.shape(), x.shape(), "the shape of 'x'"));
    if (axis < -R || axis >= R)
      return status::error(errc::invalid_argument,
                           "%s: argument 'axis' is %d, expected in [%d, %d] for 'x' of shape %s",
                           op, axis, -R, R - 1, x.shape_string().c_str());
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(op, "y", y, "x", x));
    if (axis < 0) axis += R;
    return {};
  }
};

}  // namespace fusedops::ops
