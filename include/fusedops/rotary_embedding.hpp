// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: fusedops::rotary_embedding (ONNX RotaryEmbedding, opset 23). Validates, then runs
// impl_for<rotary_embedding_op, backend> (default: ops/rope/rope_generic.hpp) on the CPU backends;
// an overload on device_view's runs on backend::cuda (arch/cuda/rotary_embedding.cuh, compiled
// only in .cu TUs; elsewhere declared but failing to compile if used).
#pragma once

#include <type_traits>

#include "fusedops/core/cuda_stream.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/rope/rope_generic.hpp"
#include "fusedops/ops/rope/rope_op.hpp"

#if FUSEDOPS_HAS_CUDA
#include "fusedops/arch/cuda/rotary_embedding.cuh"
#endif

namespace fusedops {

/// Default implementation on every CPU backend: the width-generic one.
template <class B>
struct impl_for<ops::rotary_embedding_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::rotary_embedding_generic<B>;
};

namespace detail {
template <class T>
struct rope_no_deduce {
  using type = T;
};
}  // namespace detail

/// ONNX RotaryEmbedding-23: rotates the first rotary_embedding_dim elements of every head of x
/// by the angles whose cosines and sines the caches hold, one pass over x.
///
/// @tparam B          backend tag (default: the best this TU's flags enable).
/// @param x           [batch, seq, num_heads·head_size] (3-D; p.num_heads required) or
///                    [batch, num_heads, seq, head_size] (4-D). Any strides except the last
///                    dimension, which must be unit-stride.
/// @param cos_cache   [max_position, rot/2] (2-D: the token's row is position_ids[b, s], or
///                    position_offset + s without ids) or [batch, seq, rot/2] (3-D, per token).
///                    Last dimension unit-stride, rows any stride.
/// @param sin_cache   same shape as cos_cache.
/// @param y           output, shape of x (same stride rule). May be the very same view as x (in
///                    place); must not otherwise overlap x, the caches or position_ids.
/// @param p           interleaved, num_heads, rotary_embedding_dim (0: head_size; even),
///                    position_ids / position_offset, threads.
/// @return ok, or an error naming the bad argument (every position id is checked against the
///         cache before anything is written); on error y is not modified.
/// Accuracy: each output is x·c ∓ x'·s with two fp32 roundings (at most 2 ulp of |x·c| + |x'·s|).
template <class B = default_backend, int XR, int CR>
status rotary_embedding(typename detail::rope_no_deduce<view<const float, XR>>::type x,
                        view<const float, CR> cos_cache, view<const float, CR> sin_cache,
                        view<float, XR> y, const rotary_embedding_params& p = {}) {
  require_backend<B, host_memory>();
  ops::rope_problem prob;
  FUSEDOPS_RETURN_IF_ERROR(
      (ops::rotary_embedding_op::validate<XR, CR>(x, cos_cache, sin_cache, y, p, prob)));
  if constexpr (B::is_cpu) impl_for_t<ops::rotary_embedding_op, B>::run(prob, p.threads);
  return {};
}

/// rotary_embedding on device memory:
/// `rotary_embedding<backend::cuda>(x, cos_cache, sin_cache, y, device_rotary_embedding_params{..},
/// stream)`. Same operation, argument rules and errors as the CPU overload, except that device
/// position_ids are not range-checked by the host (a token whose id lies outside the cache rows
/// gets NaN in its rotated elements: see device_rotary_embedding_params). Only usable in a .cu TU
/// compiled by nvcc.
/// @return ok once enqueued (asynchronous), an argument error (nothing enqueued, y untouched), or
///         errc::device_error if the launch failed. No allocation, no synchronisation.
template <class B, int XR, int CR>
status rotary_embedding(typename detail::rope_no_deduce<device_view<const float, XR>>::type x,
                        device_view<const float, CR> cos_cache,
                        device_view<const float, CR> sin_cache, device_view<float, XR> y,
                        const device_rotary_embedding_params& p = {},
                        cuda_stream stream = nullptr) {
  require_backend<B, device_memory>();
  ops::rope_problem prob;
  FUSEDOPS_RETURN_IF_ERROR((ops::rotary_embedding_op::validate<XR, CR>(x, cos_cache, sin_cache, y,
                                                                       p, prob)));
#if FUSEDOPS_HAS_CUDA
  return arch::cuda::launch_rotary_embedding(prob, CR == 2 ? cos_cache.shape(0) : 0, stream);
#else
  static_cast<void>(stream);
  return status::error(errc::unsupported,
                       "rotary_embedding: backend::cuda needs a .cu TU compiled by nvcc");
#endif
}

}  // namespace fusedops
