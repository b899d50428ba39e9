// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: the standalone activation operators (CPU backends).
//   apply_activation(x, y, act)   y = act(x) element-wise: GELU (erf / tanh), SiLU/Swish, HardSwish,
//                                 sigmoid, tanh, ReLU, clip, identity, or your own functor
//   apply_swiglu(x, y, alpha)     y = swish_alpha(a) · b over x's last dimension split in halves
//   apply_gated(x, y, act)        y = act(a) · b for any activation (GeGLU: act::gelu_erf)
// The activations are the functors of ops/activation/functors.hpp, the very ones the GEMM
// epilogues, bias_activation and the CUDA kernels use. Each call validates, then runs
// impl_for<op, backend> (default: ops/activation/activation_generic.hpp).
// (Named apply_* because fusedops::epilogue::activation and epilogue::swiglu are epilogue node
// types, and code that uses both namespaces must not see two meanings of one name.)
#pragma once

#include <type_traits>

#include "fusedops/core/cuda_stream.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/activation/activation_generic.hpp"
#include "fusedops/ops/activation/activation_op.hpp"
#include "fusedops/ops/activation/functors.hpp"

#if FUSEDOPS_HAS_CUDA
#include "fusedops/arch/cuda/activation.cuh"
#endif

namespace fusedops {

/// Default implementations on every CPU backend: the width-generic ones.
template <class B>
struct impl_for<ops::activation_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::activation_generic<B>;
};
template <class B>
struct impl_for<ops::gated_activation_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::gated_activation_generic<B>;
};

// The input parameters below are written std::enable_if_t<(R >= 1), view<const float, R>>: the
// rank is deduced from the output only (a non-deduced context), so a view<float, R> converts to
// the const input view.

/// y = act(x), element-wise, over a tensor of any rank.
///
/// @tparam B       backend tag (default: the best this TU's flags enable).
/// @param x        input, rank R >= 1, any strides (a stride 0 broadcasts).
/// @param y        output, shape of x, any strides that do not make two elements overlap. May be
///                 the very same view as x (in place); must not otherwise overlap x.
/// @param act      activation functor (fusedops::act::*, or your own: see
///                 ops/activation/functors.hpp).
/// @param threads  threading policy for this call (default: the calling thread only).
/// @return ok, or an error naming the bad argument; on error y is not modified.
/// Accuracy: fp32; the vector exp / tanh / erf / sigmoid of arch/vector_math.hpp (<= 3.5 ulp,
/// documented there) plus the functor's few roundings. NaN in gives NaN out.
template <class B = default_backend, int R, class Act = act::identity>
status apply_activation(std::enable_if_t<(R >= 1), view<const float, R>> x, view<float, R> y,
                        Act act = {}, threading threads = threading::serial()) {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::activation_op::validate<R>(x, y));
  if constexpr (B::is_cpu)  // otherwise require_backend has already said why
    impl_for_t<ops::activation_op, B>::run(x, y, act, threads);
  return {};
}

/// apply_activation on device memory: `apply_activation<backend::cuda>(x, y, act, stream)`. Same
/// operation, argument rules and errors as the CPU overload; only usable in a .cu TU compiled by
/// nvcc (kernels: arch/cuda/activation.cuh).
/// @param act     functor callable in device code (FUSEDOPS_HOST_DEVICE) and trivially copyable,
///                as every fusedops::act functor is.
/// @param stream  the CUDA stream (a cudaStream_t) the kernel is enqueued on; nullptr: default.
/// @return ok once enqueued (asynchronous), an argument error (nothing enqueued, y untouched), or
///         errc::device_error if the launch failed. No allocation, no synchronisation.
/// Accuracy: the functor on floats with CUDA's IEEE expf / tanhf / erff (<= 2 ulp each).
template <class B, int R, class Act = act::identity>
status apply_activation(std::enable_if_t<(R >= 1), device_view<const float, R>> x,
                        device_view<float, R> y, Act act = {}, cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::activation_op::validate<R>(x, y));
#if FUSEDOPS_HAS_CUDA
  return arch::cuda::launch_activation<R>(x, y, act, stream);
#else
  static_cast<void>(act), static_cast<void>(stream);
  return status::error(errc::unsupported,
                       "activation: backend::cuda needs a .cu TU compiled by nvcc");
#endif
}

/// y = act(a) · b, where a = x[..., 0:h] (the gate) and b = x[..., h:2h], h = x.shape(R-1) / 2.
///
/// @param x        input [..., 2h], any strides.
/// @param y        output [..., h], any strides; must not overlap x.
/// @param act      activation applied to the gate (act::silu{alpha}: SwiGLU; act::gelu_erf: GeGLU).
/// @return ok, or an error naming the bad argument (odd last dimension, shape of y, overlap); on
///         error y is not modified.
template <class B = default_backend, int R, class Act>
status apply_gated(std::enable_if_t<(R >= 1), view<const float, R>> x, view<float, R> y, Act act,
                   threading threads = threading::serial()) {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::gated_activation_op::validate<R>("gated_activation", x, y));
  if constexpr (B::is_cpu)  // otherwise require_backend has already said why
    impl_for_t<ops::gated_activation_op, B>::run(x, y, act, threads);
  return {};
}

/// SwiGLU: y = a · sigmoid(alpha · a) · b over x's last dimension split in halves [a | b] (a, the
/// first half, is the gate). alpha is ONNX Swish's (opset 24): swish_alpha(a) = a · sigmoid(alpha·a);
/// alpha = 1 is SiLU. Same arguments and errors as apply_gated (messages say "swiglu").
template <class B = default_backend, int R>
status apply_swiglu(std::enable_if_t<(R >= 1), view<const float, R>> x, view<float, R> y,
                    float alpha = 1.0f, threading threads = threading::serial()) {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::gated_activation_op::validate<R>("swiglu", x, y));
  if constexpr (B::is_cpu)  // otherwise require_backend has already said why
    impl_for_t<ops::gated_activation_op, B>::run(x, y, act::silu{alpha}, threads);
  return {};
}

}  // namespace fusedops
