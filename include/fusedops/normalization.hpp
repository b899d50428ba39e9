// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: fusedops::layer_norm, rms_norm, and the fused residual forms add_layer_norm,
// add_rms_norm. Each validates, then runs impl_for<op, backend> (default: the width-generic
// implementation in ops/norm/norm_generic.hpp) on the CPU backends. Each also has an overload on
// device_view's for backend::cuda (kernels in arch/cuda/normalization.cuh, compiled only in .cu
// TUs; elsewhere the CUDA overloads are declared but fail to compile if used).
#pragma once

#include <type_traits>

#include "fusedops/core/cuda_stream.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/norm/norm_generic.hpp"
#include "fusedops/ops/norm/norm_op.hpp"

#if FUSEDOPS_HAS_CUDA
#include "fusedops/arch/cuda/normalization.cuh"
#endif

namespace fusedops {

/// Default implementation on every CPU backend: the width-generic one.
template <class B>
struct impl_for<ops::layer_norm_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::layer_norm_generic<B>;
};
template <class B>
struct impl_for<ops::rms_norm_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::rms_norm_generic<B>;
};

namespace detail {
/// Keeps a parameter out of template argument deduction (the rank comes from the output), so a
/// view<float, R> converts to the view<const float, R> input.
template <class T>
struct norm_no_deduce {
  using type = T;
};
template <class T>
using norm_no_deduce_t = typename norm_no_deduce<T>::type;
}  // namespace detail

/// ONNX LayerNormalization (opset 17): over the trailing dimensions [axis, rank) of x,
///   y = (x - mean) / sqrt(var + epsilon) · scale + bias      (var: the biased variance)
/// in one pass over x from memory (statistics), then one over the row just read (from cache).
///
/// @tparam B     backend tag (default: the best this TU's flags enable).
/// @param x      input of any rank R >= 1. The normalized dimensions [axis, R) must be contiguous
///               with unit stride (they flatten to one run of `hidden` elements); the leading
///               dimensions (the rows) may have any strides.
/// @param scale  [hidden] (ONNX's Scale of shape x.shape[axis:], flattened), unit stride.
/// @param y      output, shape of x, same rule on strides. May be the very same view as x (in
///               place); must not otherwise overlap x, scale or bias.
/// @param p      axis (default -1), epsilon (default 1e-5, finite, >= 0), optional bias [hidden],
///               optional outputs mean and inv_std_dev [rows] (any stride; ONNX's outputs 2 and 3
///               of shape x.shape[:axis] + [1...], flattened), threads.
/// @return ok, or an error naming the bad argument; on error no output is modified.
/// Accuracy: fp32 throughout; the statistics accumulate from a shift (see
/// ops/norm/norm_generic.hpp), so y is accurate to the fp32 resolution of the row's spread even
/// when its mean is large (bounds derived in tests/support/tolerance.hpp; ~1e-6 relative on
/// typical rows). NaN propagates to its row;
/// a row holding ±Inf gives NaN (as (inf - inf) does). epsilon = 0 on a constant row gives NaN
/// (0 · inf), as the formula does.
template <class B = default_backend, int R>
status layer_norm(detail::norm_no_deduce_t<view<const float, R>> x, view<const float, 1> scale,
                  view<float, R> y, const layer_norm_params& p = {}) {
  require_backend<B, host_memory>();
  ops::norm_args<R> a;
  a.x = x, a.y = y, a.scale = scale, a.bias = p.bias, a.residual_bias = p.residual_bias;
  a.mean = p.mean, a.inv_std = p.inv_std_dev, a.axis = p.axis, a.epsilon = p.epsilon;
  ops::norm_problem prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("layer_norm", a, true, prob));
  prob.stream = ops::norm_streams(prob, p.stores);
  if constexpr (B::is_cpu) impl_for_t<ops::layer_norm_op, B>::run(prob, p.threads);
  return {};
}

/// Fused residual + LayerNorm, one pass over the inputs:
///   sum = (x + residual) + residual_bias     (fp32 adds in this order; residual_bias optional)
///   y   = layer_norm(sum)                    (same parameters as layer_norm)
/// writing both: sum is the next block's residual stream, y the normalized activations.
///
/// @param x, residual  inputs, shape of sum and y; same stride rules as layer_norm's x.
/// @param sum  output. May be the very same view as x or as residual (the usual in-place residual
///             update); must not otherwise overlap them.
/// @param y    output. May be the very same view as x or as residual; never overlaps sum.
/// Rows are processed one at a time (each row read before it is written), which is what makes
/// these aliasings safe; partial overlaps are rejected. Other arguments: see layer_norm.
template <class B = default_backend, int R>
status add_layer_norm(detail::norm_no_deduce_t<view<const float, R>> x,
                      detail::norm_no_deduce_t<view<const float, R>> residual,
                      view<const float, 1> scale, view<float, R> sum, view<float, R> y,
                      const layer_norm_params& p = {}) {
  require_backend<B, host_memory>();
  ops::norm_args<R> a;
  a.x = x, a.residual = residual, a.sum = sum, a.y = y, a.scale = scale, a.bias = p.bias;
  a.residual_bias = p.residual_bias, a.mean = p.mean, a.inv_std = p.inv_std_dev;
  a.axis = p.axis, a.epsilon = p.epsilon, a.fused = true;
  ops::norm_problem prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("add_layer_norm", a, true, prob));
  prob.stream = ops::norm_streams(prob, p.stores);
  if constexpr (B::is_cpu) impl_for_t<ops::layer_norm_op, B>::run(prob, p.threads);
  return {};
}

/// ONNX RMSNormalization (opset 23): y = x / sqrt(mean(x²) + epsilon) · scale over [axis, rank).
/// Same argument rules as layer_norm (no bias, no statistics outputs). Accuracy: Σx² in fp32
/// (no cancellation); y within a few ulp plus the accumulation error of Σx².
template <class B = default_backend, int R>
status rms_norm(detail::norm_no_deduce_t<view<const float, R>> x, view<const float, 1> scale,
                view<float, R> y, const rms_norm_params& p = {}) {
  require_backend<B, host_memory>();
  ops::norm_args<R> a;
  a.x = x, a.y = y, a.scale = scale, a.residual_bias = p.residual_bias;
  a.axis = p.axis, a.epsilon = p.epsilon;
  ops::norm_problem prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("rms_norm", a, false, prob));
  prob.stream = ops::norm_streams(prob, p.stores);
  if constexpr (B::is_cpu) impl_for_t<ops::rms_norm_op, B>::run(prob, p.threads);
  return {};
}

/// Fused residual + RMSNorm: sum = (x + residual) + residual_bias, y = rms_norm(sum). Aliasing
/// rules as add_layer_norm.
template <class B = default_backend, int R>
status add_rms_norm(detail::norm_no_deduce_t<view<const float, R>> x,
                    detail::norm_no_deduce_t<view<const float, R>> residual,
                    view<const float, 1> scale, view<float, R> sum, view<float, R> y,
                    const rms_norm_params& p = {}) {
  require_backend<B, host_memory>();
  ops::norm_args<R> a;
  a.x = x, a.residual = residual, a.sum = sum, a.y = y, a.scale = scale;
  a.residual_bias = p.residual_bias, a.axis = p.axis, a.epsilon = p.epsilon, a.fused = true;
  ops::norm_problem prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("add_rms_norm", a, false, prob));
  prob.stream = ops::norm_streams(prob, p.stores);
  if constexpr (B::is_cpu) impl_for_t<ops::rms_norm_op, B>::run(prob, p.threads);
  return {};
}

// --- backend::cuda -------------------------------------------------------------------------------
// The same four operations on device memory, e.g.
//   layer_norm<backend::cuda>(x, scale, y, device_layer_norm_params{...}, stream);
// Same argument rules, checks and error messages as the CPU overloads (the views are device_view's,
// the options device_layer_norm_params / device_rms_norm_params). Only usable in a .cu translation
// unit compiled by nvcc.
// Element type T (deduced from y): float, or __half / __nv_bfloat16 for every tensor (x, residual,
// sum, y, scale, bias, residual_bias; options device_layer_norm_params_of<T> /
// device_rms_norm_params_of<T>) with fp32 arithmetic and fp32 statistics outputs.
// @param stream  the CUDA stream (a cudaStream_t) the kernel is enqueued on; nullptr: the default
//                stream.
// @return ok once the kernel is enqueued (asynchronous: synchronise the stream before reading the
//         outputs), an argument error (nothing enqueued, no output touched), or errc::device_error
//         if the launch failed. No allocation, no synchronisation.
// Accuracy: the CPU scheme and bounds (see arch/cuda/normalization.cuh); 16-bit outputs add one
// rounding to their type.

namespace detail {
/// Runs a checked device normalization problem (or, without nvcc, keeps the body well formed:
/// require_backend has already stopped the compilation then).
template <bool LN, class T>
status norm_cuda_run(const ops::basic_norm_problem<T>& prob, cuda_stream stream, const char* op) {
#if FUSEDOPS_HAS_CUDA
  return arch::cuda::launch_norm<LN, T>(prob, stream, op);
#else
  static_cast<void>(prob), static_cast<void>(stream);
  return status::error(errc::unsupported, "%s: backend::cuda needs a .cu TU compiled by nvcc", op);
#endif
}
}  // namespace detail

/// layer_norm on device memory (see the CPU overload for the operation and argument rules).
template <class B, int R, class T>
status layer_norm(detail::norm_no_deduce_t<device_view<const T, R>> x,
                  detail::norm_no_deduce_t<device_view<const T, 1>> scale, device_view<T, R> y,
                  const detail::norm_no_deduce_t<device_layer_norm_params_of<T>>& p = {},
                  cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  ops::norm_args<R, device_memory, T> a;
  a.x = x, a.y = y, a.scale = scale, a.bias = p.bias, a.residual_bias = p.residual_bias;
  a.mean = p.mean, a.inv_std = p.inv_std_dev, a.axis = p.axis, a.epsilon = p.epsilon;
  ops::basic_norm_problem<T> prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("layer_norm", a, true, prob));
  return detail::norm_cuda_run<true>(prob, stream, "layer_norm");
}

/// add_layer_norm on device memory: sum = (x + residual) + residual_bias, y = layer_norm(sum).
template <class B, int R, class T>
status add_layer_norm(detail::norm_no_deduce_t<device_view<const T, R>> x,
                      detail::norm_no_deduce_t<device_view<const T, R>> residual,
                      detail::norm_no_deduce_t<device_view<const T, 1>> scale,
                      detail::norm_no_deduce_t<device_view<T, R>> sum, device_view<T, R> y,
                      const detail::norm_no_deduce_t<device_layer_norm_params_of<T>>& p = {},
                      cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  ops::norm_args<R, device_memory, T> a;
  a.x = x, a.residual = residual, a.sum = sum, a.y = y, a.scale = scale, a.bias = p.bias;
  a.residual_bias = p.residual_bias, a.mean = p.mean, a.inv_std = p.inv_std_dev;
  a.axis = p.axis, a.epsilon = p.epsilon, a.fused = true;
  ops::basic_norm_problem<T> prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("add_layer_norm", a, true, prob));
  return detail::norm_cuda_run<true>(prob, stream, "add_layer_norm");
}

/// rms_norm on device memory.
template <class B, int R, class T>
status rms_norm(detail::norm_no_deduce_t<device_view<const T, R>> x,
                detail::norm_no_deduce_t<device_view<const T, 1>> scale, device_view<T, R> y,
                const detail::norm_no_deduce_t<device_rms_norm_params_of<T>>& p = {},
                cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  ops::norm_args<R, device_memory, T> a;
  a.x = x, a.y = y, a.scale = scale, a.residual_bias = p.residual_bias;
  a.axis = p.axis, a.epsilon = p.epsilon;
  ops::basic_norm_problem<T> prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("rms_norm", a, false, prob));
  return detail::norm_cuda_run<false>(prob, stream, "rms_norm");
}

/// add_rms_norm on device memory: sum = (x + residual) + residual_bias, y = rms_norm(sum).
template <class B, int R, class T>
status add_rms_norm(detail::norm_no_deduce_t<device_view<const T, R>> x,
                    detail::norm_no_deduce_t<device_view<const T, R>> residual,
                    detail::norm_no_deduce_t<device_view<const T, 1>> scale,
                    detail::norm_no_deduce_t<device_view<T, R>> sum, device_view<T, R> y,
                    const detail::norm_no_deduce_t<device_rms_norm_params_of<T>>& p = {},
                    cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  ops::norm_args<R, device_memory, T> a;
  a.x = x, a.residual = residual, a.sum = sum, a.y = y, a.scale = scale;
  a.residual_bias = p.residual_bias, a.axis = p.axis, a.epsilon = p.epsilon, a.fused = true;
  ops::basic_norm_problem<T> prob;
  FUSEDOPS_RETURN_IF_ERROR(ops::validate_norm<R>("add_rms_norm", a, false, prob));
  return detail::norm_cuda_run<false>(prob, stream, "add_rms_norm");
}

}  // namespace fusedops
