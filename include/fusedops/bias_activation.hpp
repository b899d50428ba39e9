// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: fusedops::bias_activation. Validates, then runs the backend's implementation.
#pragma once

#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/activation/functors.hpp"
#include "fusedops/ops/bias_activation/bias_activation_generic.hpp"
#include "fusedops/ops/bias_activation/bias_activation_op.hpp"

namespace fusedops {

/// Default implementation on every CPU backend: the width-generic one.
template <class B>
struct impl_for<ops::bias_activation_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::bias_activation_generic<B>;
};

/// y[i, j] = act(x[i, j] + bias[j]) for a rows × cols x, in one pass.
///
/// @tparam B       backend tag (default: the best this TU's flags enable).
/// @param x        input [rows, cols], any strides.
/// @param bias     [cols], any stride.
/// @param y        output [rows, cols]; may be the very same view as x (in place); must not
///                 otherwise overlap x or bias.
/// @param act      activation functor (fusedops::act::*, or your own: see ops/activation/functors.hpp).
/// @param threads  threading policy for this call (default: the calling thread only).
/// @return ok, or an error naming the bad argument; on error y is not modified.
/// Accuracy: float arithmetic; the SIMD backends' erf/tanh/exp are within a few ulp of libm.
template <class B = default_backend, class Act = act::identity>
status bias_activation(view<const float, 2> x, view<const float, 1> bias, view<float, 2> y,
                       Act act = {}, threading threads = threading::serial()) {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::bias_activation_op::validate<host_memory>(x, bias, y));
  impl_for_t<ops::bias_activation_op, B>::run(x, bias, y, act, threads);
  return {};
}

}  // namespace fusedops
