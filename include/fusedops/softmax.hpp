// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: fusedops::softmax and fusedops::log_softmax, ONNX Softmax / LogSoftmax (opset 13)
// over any axis of a tensor of any rank (CPU backends). Each validates, then runs
// impl_for<softmax_op, backend> (default: ops/softmax/softmax_generic.hpp). Each also has an
// overload on device_view's for backend::cuda (kernels in arch/cuda/softmax.cuh, compiled only in
// .cu TUs; elsewhere declared but failing to compile if used).
#pragma once

#include <cstddef>
#include <type_traits>

#include "fusedops/core/cuda_stream.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/store_policy.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/softmax/softmax_generic.hpp"
#include "fusedops/ops/softmax/softmax_op.hpp"

#if FUSEDOPS_HAS_CUDA
#include "fusedops/arch/cuda/softmax.cuh"
#endif

namespace fusedops {

/// Default implementation on every CPU backend: the width-generic one.
template <class B>
struct impl_for<ops::softmax_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::softmax_generic<B>;
};

namespace detail {
/// store_policy's verdict for a softmax call: it reads x and writes as many bytes of y.
template <int R>
bool softmax_streams(const view<const float, R>& x, store_policy stores) noexcept {
  return streams(stores, 2 * static_cast<std::size_t>(x.size()) * sizeof(float));
}
}  // namespace detail

// The input parameters are written std::enable_if_t<(R >= 1), view<const float, R>>: the rank is
// deduced from the output only, so a view<float, R> converts to the const input view.

/// ONNX Softmax (opset 13): y = exp(x - max) / sum(exp(x - max)) along `axis`.
///
/// @tparam B       backend tag (default: the best this TU's flags enable).
/// @param x        input, rank R >= 1, any strides (stride 0 broadcasts).
/// @param y        output, shape of x, any non-overlapping strides. May be the very same view as
///                 x (in place); must not otherwise overlap x.
/// @param axis     the reduced dimension, in [-R, R) (negative counts from the end; default -1).
/// @param threads  threading policy for this call (default: the calling thread only).
/// @param stores   how y is stored: automatic (default) streams (non-temporal stores) when x and
///                 y together are larger than the last-level cache, cached never, streaming
///                 always (core/store_policy.hpp). Only lines along a unit-stride last axis of
///                 at most 4096 elements whose output starts 64-byte aligned (AVX-512; 32: AVX2)
///                 stream; the results are the same bits either way.
/// @return ok, or an error naming the bad argument; on error y is not modified.
/// Numerics (see ops/softmax/softmax_generic.hpp): stable for any finite input (the max is
/// subtracted first); -inf entries give 0; a NaN or a +inf anywhere in a line makes that line NaN,
/// and so does a line of only -inf (0/0), as in the ONNX reference and onnxruntime. Accuracy:
/// exp (<= 2.3 ulp) of x - max (rounded: relative error up to |x - max| · 2^-24), an fp32 sum
/// (error <= (n/lanes + lanes) · 2^-24 relative, typically far less) and a reciprocal multiply.
template <class B = default_backend, int R>
status softmax(std::enable_if_t<(R >= 1), view<const float, R>> x, view<float, R> y,
               int axis = -1, threading threads = threading::serial(),
               store_policy stores = store_policy::automatic) {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::softmax_op::validate<R>("softmax", x, y, axis));
  if constexpr (B::is_cpu)  // otherwise require_backend has already said why
    impl_for_t<ops::softmax_op, B>::template run<false>(x, y, axis, threads,
                                                       detail::softmax_streams(x, stores));
  return {};
}

/// ONNX LogSoftmax (opset 13): y = (x - max) - log(sum(exp(x - max))) along `axis`. Same
/// arguments, errors and special values as softmax (-inf entries give -inf). Accuracy: absolute
/// error about 2^-24 · (|x - max| + |log sum|) plus the sum's relative error.
template <class B = default_backend, int R>
status log_softmax(std::enable_if_t<(R >= 1), view<const float, R>> x, view<float, R> y,
                   int axis = -1, threading threads = threading::serial(),
                   store_policy stores = store_policy::automatic) {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::softmax_op::validate<R>("log_softmax", x, y, axis));
  if constexpr (B::is_cpu)
    impl_for_t<ops::softmax_op, B>::template run<true>(x, y, axis, threads,
                                                      detail::softmax_streams(x, stores));
  return {};
}

// --- backend::cuda -------------------------------------------------------------------------------

namespace detail {
template <bool Log, int R>
status softmax_cuda_run(const device_view<const float, R>& x, const device_view<float, R>& y,
                        int axis, cuda_stream stream, const char* op) {
#if FUSEDOPS_HAS_CUDA
  return arch::cuda::launch_softmax<Log, R>(x, y, axis, stream, op);
#else
  static_cast<void>(x), static_cast<void>(y), static_cast<void>(axis), static_cast<void>(stream);
  return status::error(errc::unsupported, "%s: backend::cuda needs a .cu TU compiled by nvcc", op);
#endif
}
}  // namespace detail

/// softmax on device memory: `softmax<backend::cuda>(x, y, axis, stream)`. Same operation,
/// argument rules, errors and special values as the CPU overload; only usable in a .cu TU compiled
/// by nvcc.
/// @param stream  the CUDA stream (a cudaStream_t) the kernel is enqueued on; nullptr: default.
/// @return ok once enqueued (asynchronous), an argument error (nothing enqueued, y untouched), or
///         errc::device_error if the launch failed. No allocation, no synchronisation.
/// Accuracy: the CPU bounds (exp <= 2 ulp, fp32 sums; see arch/cuda/softmax.cuh).
template <class B, int R>
status softmax(std::enable_if_t<(R >= 1), device_view<const float, R>> x, device_view<float, R> y,
               int axis = -1, cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::softmax_op::validate<R>("softmax", x, y, axis));
  return detail::softmax_cuda_run<false, R>(x, y, axis, stream, "softmax");
}

/// log_softmax on device memory: `log_softmax<backend::cuda>(x, y, axis, stream)`.
template <class B, int R>
status log_softmax(std::enable_if_t<(R >= 1), device_view<const float, R>> x,
                   device_view<float, R> y, int axis = -1, cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::softmax_op::validate<R>("log_softmax", x, y, axis));
  return detail::softmax_cuda_run<true, R>(x, y, axis, stream, "log_softmax");
}

}  // namespace fusedops
