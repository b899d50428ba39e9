// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: fusedops::bias_activation. Validates, then runs the backend's implementation.
// Two overloads: host views on a CPU backend, and device_view's on backend::cuda (whose kernel is
// compiled only in .cu TUs; elsewhere the CUDA overload is declared but fails to compile if used).
#pragma once

#include "fusedops/core/cuda_stream.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/activation/functors.hpp"
#include "fusedops/ops/bias_activation/bias_activation_generic.hpp"
#include "fusedops/ops/bias_activation/bias_activation_op.hpp"

#if FUSEDOPS_HAS_CUDA
#include "fusedops/arch/cuda/bias_activation.cuh"
#endif

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
  if constexpr (B::is_cpu)  // otherwise require_backend has already said why this cannot compile
    impl_for_t<ops::bias_activation_op, B>::run(x, bias, y, act, threads);
  return {};
}

/// The same operation on device memory: `bias_activation<backend::cuda>(x, bias, y, act, stream)`.
///
/// Only usable in a .cu translation unit compiled by nvcc; elsewhere naming it compiles but calling
/// it fails with require_backend's static_assert. Same argument rules as the CPU overload.
/// @param act     activation functor; must be trivially copyable and callable in device code
///                (FUSEDOPS_HOST_DEVICE), as every fusedops::act functor is.
/// @param stream  the CUDA stream (a cudaStream_t) the kernel is enqueued on; nullptr is the
///                default stream.
/// @return ok once the kernel is enqueued (asynchronous: synchronise the stream before reading
///         y), an argument error (nothing enqueued, y untouched), or errc::device_error if the
///         launch failed. No allocation, no synchronisation.
template <class B, class Act = act::identity>
status bias_activation(device_view<const float, 2> x, device_view<const float, 1> bias,
                       device_view<float, 2> y, Act act = {}, cuda_stream stream = nullptr) {
  // Without nvcc, backend::cuda is not compiled: this is the readable error for that case (and for
  // a CPU backend handed device views).
  require_backend<B, device_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::bias_activation_op::validate<device_memory>(x, bias, y));
#if FUSEDOPS_HAS_CUDA
  return arch::cuda::launch_bias_activation(x, bias, y, act, stream);
#else
  // Unreachable: require_backend has already stopped the compilation. Keeps the body well formed.
  static_cast<void>(act), static_cast<void>(stream);
  return status::error(errc::unsupported,
                       "bias_activation: backend::cuda needs a .cu TU compiled by nvcc");
#endif
}

}  // namespace fusedops
