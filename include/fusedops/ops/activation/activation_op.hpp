// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/activation. What the standalone activation operators are: their tags and argument
// checks, shared by every backend.
//   activation_op        y = act(x), element-wise, any rank, any strides, in place allowed;
//   gated_activation_op  y = act(a) · b where a, b are the two halves of x's last dimension
//                        (SwiGLU with act = silu, GeGLU with act = gelu).
#pragma once

#include <cstdint>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::ops {

/// Operator tag: an activation functor applied element-wise.
struct activation_op {
  static constexpr const char* name = "activation";

  /// All argument checks; nothing is written before they pass.
  /// Space: host_memory (CPU backends) or device_memory (backend::cuda); same checks and messages.
  template <int R, class Space = host_memory>
  static status validate(const view<const float, R, Space>& x,
                         const view<float, R, Space>& y) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, "x", x));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(name, "y", y));
    FUSEDOPS_RETURN_IF_ERROR(
        checks::shape_equals<R>(name, "y", y.shape(), x.shape(), "the shape of 'x'"));
    return checks::in_place_or_disjoint(name, "y", y, "x", x);
  }
};

/// Operator tag: a gated activation over the split last dimension, y = act(a) · b with
/// a = x[..., 0:h], b = x[..., h:2h] (the first half is the gate), y [..., h].
struct gated_activation_op {
  /// `op` is the public name used in messages ("swiglu" or "gated_activation").
  template <int R, class Space = host_memory>
  static status validate(const char* op, const view<const float, R, Space>& x,
                         const view<float, R, Space>& y) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "x", x));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(op, "y", y));
    const index_t last = x.shape(R - 1);
    if (last % 2 != 0)
      return status::error(errc::shape_mismatch,
                           "%s: argument 'x' has shape %s, whose last dimension (%td) must be even "
                           "(its halves are the gate and the linear input)",
                           op, x.shape_string().c_str(), last);
    dims<R> expected = x.shape();
    expected[std::size_t(R - 1)] = last / 2;
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<R>(
        op, "y", y.shape(), expected, "the shape of 'x' with its last dimension halved"));
    std::uintptr_t ylo, yhi, xlo, xhi;
    checks::byte_range(y, ylo, yhi);
    checks::byte_range(x, xlo, xhi);
    if (!(yhi <= xlo || xhi <= ylo))
      return status::error(errc::invalid_argument,
                           "%s: output 'y' (shape %s) overlaps input 'x' (shape %s); the gated "
                           "activation needs disjoint memory",
                           op, y.shape_string().c_str(), x.shape_string().c_str());
    return {};
  }
};

}  // namespace fusedops::ops
