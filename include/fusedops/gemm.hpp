// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry: the fp32 GEMM family.
//
//   gemm(a, b, c, epilogue, params)          C = epilogue(alpha · A·B + beta · C_in)
//   gemm(a, packed, c, epilogue, params)     the same with B packed once by pack_b / packed_weights
//   gemm_batched(a, b, c, epilogue, params)  a batch of equal-shape products (batch = dimension 0;
//                                            stride 0 or extent 1 shares an operand)
//   matmul(a, b, c, ...)                     ONNX MatMul: N-d with broadcast batch dimensions
//   broadcast_c(c, m, n)                     ONNX Gemm's C (scalar, [N], [M, 1], [1, N], [M, N])
//
// Views carry the layout: ONNX transA / transB are a.transpose() / b.transpose(); a column-major
// caller computes Cᵀ = Bᵀ·Aᵀ on the same memory. Epilogues are compile-time functors fused into
// the micro-kernel (fusedops/fused/epilogue.hpp): bias, activation, residual, chains of them, and
// gated (SwiGLU) forms over weights packed with pack_b_gated.
//
// Example: y = gelu(x · W + b) + x, with W packed at load time:
//   fusedops::packed_weights<> w;  w.pack(W);                       // once
//   using namespace fusedops::epilogue;
//   fusedops::gemm(x, w.get(), y, chain(bias_col{b}, activation{act::gelu_erf{}}, residual{x}));
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>

#include "fusedops/core/cuda_stream.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/scratch.hpp"
#include "fusedops/fused/epilogue.hpp"
#include "fusedops/ops/gemm/device_gemm_op.hpp"
#include "fusedops/ops/gemm/driver.hpp"
#include "fusedops/ops/gemm/gemm_op.hpp"
#include "fusedops/ops/gemm/packed_b.hpp"

#if FUSEDOPS_HAS_CUDA
#include "fusedops/arch/cuda/gemm.cuh"
#endif

namespace fusedops {

/// Default implementation on every CPU backend: the width-generic driver around the backend's
/// register tile.
template <class B>
struct impl_for<ops::gemm_op, B, std::enable_if_t<B::is_cpu>> {
  using type = ops::gemm_generic<B>;
};

namespace ops::gemm_detail {

/// The problem for unpacked B (gated: B is [K, 2N], gate columns first, then up).
template <class E>
problem make_problem(const view<const float, 2>& a, const view<const float, 2>& b,
                     const view<float, 2>& c, const gemm_params& p) noexcept {
  problem pr{};
  pr.a = a, pr.c = c, pr.alpha = p.alpha, pr.beta = p.beta;
  pr.m = c.shape(0), pr.n = c.shape(1), pr.k = a.shape(1);
  if constexpr (epilogue::is_gated_v<E>) {
    pr.b = b_source{{b.slice(1, 0, pr.n), b.slice(1, pr.n, 2 * pr.n)}, 2, pr.n};
  } else {
    pr.b = b_source{{b, {}}, 1, pr.n};
  }
  pr.c_in = p.c_in.data() != nullptr ? p.c_in : view<const float, 2>(c);
  pr.packed = nullptr;
  return pr;
}

template <class B, class E>
problem make_problem(const view<const float, 2>& a, const packed_b<B>& b, const view<float, 2>& c,
                     const gemm_params& p) noexcept {
  problem pr{};
  pr.a = a, pr.c = c, pr.alpha = p.alpha, pr.beta = p.beta;
  pr.m = c.shape(0), pr.n = c.shape(1), pr.k = a.shape(1);
  pr.b = b_source{{}, b.gated() ? 2 : 1, pr.n};
  pr.c_in = p.c_in.data() != nullptr ? p.c_in : view<const float, 2>(c);
  pr.packed = b.data();
  return pr;
}

template <class E>
status check_gated(index_t b_cols, const view<float, 2>& c, const gemm_params& p, bool packed,
                   bool packed_gated) noexcept {
  constexpr bool gated = epilogue::is_gated_v<E>;
  if (packed && packed_gated != gated)
    return status::error(errc::invalid_argument,
                         gated ? "gemm: a gated epilogue needs weights packed with pack_b_gated"
                               : "gemm: weights packed with pack_b_gated need a gated epilogue "
                                 "(epilogue::swiglu, epilogue::geglu, epilogue::gated)");
  if (!gated) return {};
  if (!packed && b_cols != 2 * c.shape(1))
    return status::error(errc::shape_mismatch,
                         "gemm: with a gated epilogue 'b' holds gate and up side by side and needs "
                         "2 × %td = %td columns (the output %s), but has %td",
                         c.shape(1), 2 * c.shape(1), c.shape_string().c_str(), b_cols);
  if (p.beta != 0.0f)
    return status::error(errc::unsupported,
                         "gemm: beta must be 0 with a gated epilogue (use epilogue::gated's "
                         "'then' with a residual node to add to the result)");
  return {};
}

/// Finds scratch (the caller's, the stack, or a fresh allocation when allowed) and runs the
/// problem.
template <class B, class E>
status run(const problem& pr, const gemm_params& p, const E& ep) noexcept {
  using impl = impl_for_t<gemm_op, B>;
  if (pr.m == 0 || pr.n == 0) return {};  // nothing to write, so no scratch either
  plan pl = impl::make_plan(pr, p.threads.concurrency());
  std::size_t need = pl.scratch_floats();
  // A split-K GEMV's scratch is optional: without it (no room in the caller's workspace and
  // allocation off), the threads split the columns instead.
  if (pl.split_k && !p.allow_allocation && need > stack_scratch_floats &&
      need > static_cast<std::size_t>(p.workspace.shape(0))) {
    pl = impl::make_plan(pr, p.threads.concurrency(), false);
    need = pl.scratch_floats();
  }
  return with_scratch("gemm", p.workspace, p.allow_allocation, need,
                      [&](float* ws) { impl::run(pr, pl, ws, p.threads, ep); });
}

}  // namespace ops::gemm_detail

/// C = epilogue(alpha · A·B + beta · C_in).
///
/// @tparam B   backend (default: the best this TU's flags enable).
/// @param a    [M, K], any strides (a.transpose() for transA). Must not overlap c.
/// @param b    [K, N], any strides (b.transpose() for transB); with a gated epilogue [K, 2N], the
///             gate columns then the up columns. Must not overlap c.
/// @param c    output [M, N], any strides that do not overlap (distinct elements).
/// @param ep   epilogue functor, fused before the store (fusedops/fused/epilogue.hpp).
/// @param p    alpha, beta, C_in, threads, workspace (gemm_params).
/// @return ok; or an error naming the argument and shapes, with c untouched.
/// Accuracy: fp32 FMAs in an order that depends on backend and blocking; the error bound grows
/// with K like any float dot product (tests use ~ K · 2^-24 relative to sum |a||b|).
template <class B = default_backend, class E = epilogue::none>
status gemm(view<const float, 2> a, view<const float, 2> b, view<float, 2> c, const E& ep = {},
            const gemm_params& p = {}) noexcept {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::input_matrix("b", b, false));
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_detail::check_gated<E>(b.shape(1), c, p, false, false));
  const index_t n = epilogue::is_gated_v<E> ? b.shape(1) / 2 : b.shape(1);
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::common(a, b.shape(0), n, b, c, p, ep));
  return ops::gemm_detail::run<B>(ops::gemm_detail::make_problem<E>(a, b, c, p), p, ep);
}

/// The same with prepacked weights (pack_b / pack_b_gated / packed_weights): no B packing and,
/// for small M, no workspace at all.
template <class B, class E = epilogue::none>
status gemm(view<const float, 2> a, const packed_b<B>& b, view<float, 2> c, const E& ep = {},
            const gemm_params& p = {}) noexcept {
  require_backend<B, host_memory>();
  if (b.data() == nullptr && b.size() != 0)
    return status::error(errc::null_pointer, "gemm: packed 'b' [%td, %td] has no storage", b.k(),
                         b.n());
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_detail::check_gated<E>(b.n(), c, p, true, b.gated()));
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::common(a, b.k(), b.n(), b.storage(), c, p, ep));
  return ops::gemm_detail::run<B>(ops::gemm_detail::make_problem<B, E>(a, b, c, p), p, ep);
}

/// The same on device memory: `gemm<backend::cuda>(a, b, c, ep, params, stream)`.
///
/// Only usable in a .cu translation unit compiled by nvcc (elsewhere calling it fails with
/// require_backend's static_assert). A and B are float, __half or __nv_bfloat16 (both the same),
/// C float, __half or __nv_bfloat16; accumulation is fp32 in every case. 16-bit inputs run on the
/// tensor cores (mma.sync, sm_80+) when A is row-major and B is row-major [K, N] or a transposed
/// [N, K] weight, with leading dimensions, K (and N for row-major B) multiples of 8 and 16-byte
/// aligned pointers; anything else runs on a SIMT kernel, correct for any strides.
/// @param ep      epilogue (fusedops/fused/epilogue.hpp), evaluated per element in fp32 before the
///                one store: none, scale, activation, chain, the device nodes
///                epilogue::device::{bias_col, bias_row, residual}, or your own __host__
///                __device__ functor. Gated epilogues are not available on the GPU yet.
/// @param p       alpha, beta, c_in (device_gemm_params); no scratch is ever needed.
/// @param stream  the CUDA stream the kernel is enqueued on (nullptr: the default stream).
/// @return ok once enqueued (asynchronous), an argument error (nothing enqueued, c untouched), or
///         errc::device_error if the launch failed. No allocation, no synchronisation.
template <class B, class TA, class TB, class TC, class E = epilogue::none>
status gemm(device_view<TA, 2> a, device_view<TB, 2> b, device_view<TC, 2> c, const E& ep = {},
            const device_gemm_params<std::remove_const_t<TC>>& p = {},
            cuda_stream stream = nullptr) noexcept {
  static_assert(std::is_same_v<std::remove_const_t<TA>, std::remove_const_t<TB>>,
                "fusedops: gemm on backend::cuda needs A and B of the same element type");
  static_assert(!std::is_const_v<TC>, "fusedops: gemm's output 'c' must be a view of non-const");
  using T = std::remove_const_t<TA>;
  require_backend<B, device_memory>();
  const device_view<const T, 2> ca(a), cb(b);
  FUSEDOPS_RETURN_IF_ERROR(ops::device_gemm_op::validate(ca, cb, c, p, ep));
#if FUSEDOPS_HAS_CUDA
  return arch::cuda::launch_gemm(ca, cb, c, p, ep, stream);
#else
  // Unreachable: require_backend has already stopped the compilation. Keeps the body well formed.
  static_cast<void>(stream);
  return status::error(errc::unsupported, "gemm: backend::cuda needs a .cu TU compiled by nvcc");
#endif
}

/// Floats of workspace gemm(a, b, c, ep, p) needs (0 for most prepacked calls, and for products
/// whose scratch fits in 8 KiB of the calling thread's stack); pass at least this much in
/// gemm_params::workspace to make the call allocation-free. With several threads, an unpacked
/// M = 1 product over a row-major B splits K between them when K >= N or B outgrows the
/// last-level cache, and asks for N floats per thread of partial sums; given less, with
/// allow_allocation false, it splits the columns instead (no error, slower from memory).
template <class B = default_backend, class E = epilogue::none>
std::size_t gemm_workspace_size(view<const float, 2> a, view<const float, 2> b, view<float, 2> c,
                                const gemm_params& p = {}) noexcept {
  using impl = impl_for_t<ops::gemm_op, B>;
  const auto pl =
      impl::make_plan(ops::gemm_detail::make_problem<E>(a, b, c, p), p.threads.concurrency());
  return caller_workspace_floats(pl.scratch_floats());
}
template <class B, class E = epilogue::none>
std::size_t gemm_workspace_size(view<const float, 2> a, const packed_b<B>& b, view<float, 2> c,
                                const gemm_params& p = {}) noexcept {
  using impl = impl_for_t<ops::gemm_op, B>;
  const auto pl =
      impl::make_plan(ops::gemm_detail::make_problem<B, E>(a, b, c, p), p.threads.concurrency());
  return caller_workspace_floats(pl.scratch_floats());
}

/// ONNX Gemm's C input, unidirectionally broadcast to [m, n] with stride-0 views: rank 0 (scalar),
/// rank 1 [n] or [1], rank 2 [m, n], [1, n], [m, 1], [1, 1]. nullopt if c cannot broadcast.
/// Any element type, host or device views (for gemm_params::c_in or device_gemm_params::c_in).
template <class T, int R, class S>
std::optional<view<const T, 2, S>> broadcast_c(const view<const T, R, S>& c, index_t m,
                                               index_t n) noexcept {
  static_assert(R >= 0 && R <= 2, "ONNX Gemm's C has rank 0, 1 or 2");
  index_t rows = 1, cols = 1, rs = 0, cs = 0;
  if constexpr (R == 1) {
    cols = c.shape(0), cs = c.stride(0);
  } else if constexpr (R == 2) {
    rows = c.shape(0), cols = c.shape(1), rs = c.stride(0), cs = c.stride(1);
  }
  if ((rows != 1 && rows != m) || (cols != 1 && cols != n)) return std::nullopt;
  return view<const T, 2, S>(c.data(), dims<2>{m, n},
                             dims<2>{rows == 1 ? 0 : rs, cols == 1 ? 0 : cs});
}

namespace ops::gemm_detail {

/// Checks of a batched call: batch extents agree (1 or stride 0 shares an operand), and the
/// first matrix passes the 2-D checks (all matrices have its shape and strides).
template <class E, class BMat>
status check_batched(const view<const float, 3>& a, const BMat& b0, index_t b_batch,
                     const view<float, 3>& c, const gemm_params& p, const E& ep) noexcept {
  FUSEDOPS_RETURN_IF_ERROR(checks::output("gemm_batched", "c", c));
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("gemm_batched", "a", a));
  const index_t batch = c.shape(0);
  if ((a.shape(0) != batch && a.shape(0) != 1) || (b_batch != batch && b_batch != 1))
    return status::error(errc::shape_mismatch,
                         "gemm_batched: batch extents must match the output's %td (or be 1 to "
                         "share): 'a' %s, 'b' has %td",
                         batch, a.shape_string().c_str(), b_batch);
  if (batch == 0) return {};
  FUSEDOPS_RETURN_IF_ERROR(gemm_op::disjoint("c", c, "a", a));
  FUSEDOPS_RETURN_IF_ERROR(gemm_op::disjoint("c", c, "b", b0));
  if (p.c_in.data() != nullptr) FUSEDOPS_RETURN_IF_ERROR(gemm_op::disjoint("c", c, "c_in", p.c_in));
  static_cast<void>(ep);
  return {};
}

/// How a batch is spread over the threads: enough matrices to go round, one thread per matrix
/// (each with its own scratch); otherwise every matrix in turn on all threads.
struct batched_plan {
  bool across = false;
  index_t workers = 1;
  std::size_t per_worker = 0;  ///< scratch floats of one worker
  plan pl;
  std::size_t floats() const noexcept { return per_worker * static_cast<std::size_t>(workers); }
  std::size_t caller_floats() const noexcept { return caller_workspace_floats(floats()); }
};

/// `first` is the problem of matrix 0 (all have its shape).
template <class B>
batched_plan plan_batched(index_t batch, const gemm_params& p, const problem& first) noexcept {
  using impl = impl_for_t<gemm_op, B>;
  const int threads = p.threads.concurrency();
  batched_plan bp;
  bp.across = batch >= threads;
  bp.pl = impl::make_plan(first, bp.across ? 1 : threads, false);  // (GEMVs split columns)
  bp.workers = bp.across ? std::min<index_t>(batch, threads) : 1;
  bp.per_worker = bp.pl.scratch_floats();
  return bp;
}

template <class B, class E, class MakeProblem>
status run_batched(index_t batch, const gemm_params& p, const E& ep, MakeProblem&& make) noexcept {
  using impl = impl_for_t<gemm_op, B>;
  if (batch == 0) return {};
  const batched_plan bp = plan_batched<B>(batch, p, make(index_t{0}));
  return with_scratch("gemm_batched", p.workspace, p.allow_allocation, bp.floats(), [&](float* ws) {
    if (bp.across) {
      const index_t workers = bp.workers;
      parallel_for(p.threads, workers, 1, [&](index_t w0, index_t w1) {
        for (index_t w = w0; w < w1; ++w)
          for (index_t i = batch * w / workers; i < batch * (w + 1) / workers; ++i)
            impl::run(make(i), bp.pl, ws + std::size_t(w) * bp.per_worker, threading::serial(), ep);
      });
    } else {
      for (index_t i = 0; i < batch; ++i) impl::run(make(i), bp.pl, ws, p.threads, ep);
    }
  });
}

}  // namespace ops::gemm_detail

/// A batch of products C[i] = epilogue(alpha · A[i]·B[i] + beta · C_in) over dimension 0.
/// a [batch or 1, M, K], b [batch or 1, K, N] (gated: [.., K, 2N]), c [batch, M, N]; an operand
/// with batch extent 1 (or batch stride 0) is shared by every product. p.c_in, if given, is
/// [M, N] and shared; if empty, beta scales each C[i] itself. Epilogue nodes see coord::batch.
/// Threads: one per matrix when the batch has enough of them, else all on each matrix in turn.
template <class B = default_backend, class E = epilogue::none>
status gemm_batched(view<const float, 3> a, view<const float, 3> b, view<float, 3> c,
                    const E& ep = {}, const gemm_params& p = {}) noexcept {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("gemm_batched", "b", b));
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_detail::check_batched(a, b, b.shape(0), c, p, ep));
  if (c.shape(0) == 0) return {};
  auto mat_a = [&](index_t i) { return a.select(0, a.shape(0) == 1 ? 0 : i); };
  auto mat_b = [&](index_t i) { return b.select(0, b.shape(0) == 1 ? 0 : i); };
  // The 2-D checks on the first matrices cover the shapes and strides of all of them.
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::input_matrix("b", mat_b(0), false));
  FUSEDOPS_RETURN_IF_ERROR(
      ops::gemm_detail::check_gated<E>(b.shape(2), c.select(0, 0), p, false, false));
  const index_t n = epilogue::is_gated_v<E> ? b.shape(2) / 2 : b.shape(2);
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::common(mat_a(0), b.shape(1), n, b, c.select(0, 0), p, ep));
  return ops::gemm_detail::run_batched<B>(c.shape(0), p, ep, [&](index_t i) {
    auto pr = ops::gemm_detail::make_problem<E>(mat_a(i), mat_b(i), c.select(0, i), p);
    pr.batch = i;
    return pr;
  });
}

/// The batched form with one prepacked B shared by every product (a Linear layer applied to a
/// batch of sequences).
template <class B, class E = epilogue::none>
status gemm_batched(view<const float, 3> a, const packed_b<B>& b, view<float, 3> c,
                    const E& ep = {}, const gemm_params& p = {}) noexcept {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_detail::check_batched(a, b.storage(), 1, c, p, ep));
  if (c.shape(0) == 0) return {};
  auto mat_a = [&](index_t i) { return a.select(0, a.shape(0) == 1 ? 0 : i); };
  if (b.data() == nullptr && b.size() != 0)
    return status::error(errc::null_pointer, "gemm_batched: packed 'b' has no storage");
  FUSEDOPS_RETURN_IF_ERROR(
      ops::gemm_detail::check_gated<E>(b.n(), c.select(0, 0), p, true, b.gated()));
  FUSEDOPS_RETURN_IF_ERROR(
      ops::gemm_op::common(mat_a(0), b.k(), b.n(), b.storage(), c.select(0, 0), p, ep));
  return ops::gemm_detail::run_batched<B>(c.shape(0), p, ep, [&](index_t i) {
    auto pr = ops::gemm_detail::make_problem<B, E>(mat_a(i), b, c.select(0, i), p);
    pr.batch = i;
    return pr;
  });
}

/// Floats of workspace gemm_batched(a, b, c, ep, p) needs with p's thread count; pass at least
/// this much in gemm_params::workspace to make the call allocation-free.
template <class B = default_backend, class E = epilogue::none>
std::size_t gemm_batched_workspace_size(view<const float, 3> a, view<const float, 3> b,
                                        view<float, 3> c, const gemm_params& p = {}) noexcept {
  if (c.shape(0) == 0 || a.shape(0) == 0 || b.shape(0) == 0) return 0;
  return ops::gemm_detail::plan_batched<B>(
             c.shape(0), p,
             ops::gemm_detail::make_problem<E>(a.select(0, 0), b.select(0, 0), c.select(0, 0), p))
      .caller_floats();
}
template <class B, class E = epilogue::none>
std::size_t gemm_batched_workspace_size(view<const float, 3> a, const packed_b<B>& b,
                                        view<float, 3> c, const gemm_params& p = {}) noexcept {
  if (c.shape(0) == 0 || a.shape(0) == 0) return 0;
  return ops::gemm_detail::plan_batched<B>(
             c.shape(0), p,
             ops::gemm_detail::make_problem<B, E>(a.select(0, 0), b, c.select(0, 0), p))
      .caller_floats();
}

/// gemm_batched on device memory: `gemm_batched<backend::cuda>(a, b, c, ep, params, stream)`, one
/// launch for the whole batch (dimension 0; extent 1 or stride 0 shares an operand). Element
/// types, kernels and rules as for gemm on device memory; params.c_in is 2-D and shared by every
/// matrix (empty: each output matrix itself); coord::batch is the matrix index.
template <class B, class TA, class TB, class TC, class E = epilogue::none>
status gemm_batched(device_view<TA, 3> a, device_view<TB, 3> b, device_view<TC, 3> c,
                    const E& ep = {}, const device_gemm_params<std::remove_const_t<TC>>& p = {},
                    cuda_stream stream = nullptr) noexcept {
  static_assert(std::is_same_v<std::remove_const_t<TA>, std::remove_const_t<TB>>,
                "fusedops: gemm_batched on backend::cuda needs A and B of the same element type");
  static_assert(!std::is_const_v<TC>, "fusedops: the output 'c' must be a view of non-const");
  using T = std::remove_const_t<TA>;
  require_backend<B, device_memory>();
  const device_view<const T, 3> ca(a), cb(b);
  FUSEDOPS_RETURN_IF_ERROR(checks::output("gemm_batched", "c", c));
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("gemm_batched", "a", ca));
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("gemm_batched", "b", cb));
  const index_t batch = c.shape(0);
  if ((ca.shape(0) != batch && ca.shape(0) != 1) || (cb.shape(0) != batch && cb.shape(0) != 1))
    return status::error(errc::shape_mismatch,
                         "gemm_batched: batch extents must match the output's %td (or be 1 to "
                         "share): 'a' %s, 'b' %s",
                         batch, ca.shape_string().c_str(), cb.shape_string().c_str());
  if (batch == 0) return {};
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::disjoint("c", c, "a", ca));
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::disjoint("c", c, "b", cb));
  // The 2-D checks on the first matrices cover the shapes and strides of all of them.
  FUSEDOPS_RETURN_IF_ERROR(
      ops::device_gemm_op::validate(ca.select(0, 0), cb.select(0, 0), c.select(0, 0), p, ep));
  if (p.c_in.data() != nullptr || !p.c_in.empty())
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(
        "gemm_batched", "c", c, "c_in",
        device_view<const TC, 3>(p.c_in.data(), {batch, c.shape(1), c.shape(2)},
                                 {0, p.c_in.stride(0), p.c_in.stride(1)})));
  const dims<4> batch_strides{ca.shape(0) == 1 ? 0 : ca.stride(0),
                              cb.shape(0) == 1 ? 0 : cb.stride(0), c.stride(0), 0};
#if FUSEDOPS_HAS_CUDA
  return arch::cuda::launch_gemm(ca.select(0, 0), cb.select(0, 0), c.select(0, 0), p, ep, stream,
                                 batch, batch_strides);
#else
  static_cast<void>(stream), static_cast<void>(batch_strides);
  return status::error(errc::unsupported,
                       "gemm_batched: backend::cuda needs a .cu TU compiled by nvcc");
#endif
}

/// ONNX MatMul on rank-R views (R >= 2): C[..., M, N] = A[..., M, K] · B[..., K, N], where each
/// leading dimension of a and b is either c's extent or 1 (broadcast). Rank-1 operands of ONNX
/// are views unsqueezed to [1, K] / [K, 1] by the caller. Epilogue and parameters as for gemm;
/// coord::batch is the flattened leading index.
template <class B = default_backend, int R, class E = epilogue::none>
status matmul(view<const float, R> a, view<const float, R> b, view<float, R> c, const E& ep = {},
              const gemm_params& p = {}) noexcept {
  static_assert(R >= 2, "matmul needs rank >= 2 views");
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("matmul", "a", a));
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("matmul", "b", b));
  FUSEDOPS_RETURN_IF_ERROR(checks::output("matmul", "c", c));
  index_t batch = 1;
  for (int d = 0; d < R - 2; ++d) {
    const index_t e = c.shape(d);
    if ((a.shape(d) != e && a.shape(d) != 1) || (b.shape(d) != e && b.shape(d) != 1))
      return status::error(errc::shape_mismatch,
                           "matmul: leading dimension %d must be %td (the output's) or 1 in both "
                           "inputs: 'a' %s, 'b' %s, 'c' %s",
                           d, e, a.shape_string().c_str(), b.shape_string().c_str(),
                           c.shape_string().c_str());
    batch *= e;
  }
  // The matrix of flattened batch index i, with broadcast dimensions pinned at 0.
  auto matrix = [&](auto v, index_t i) {
    auto* ptr = v.data();
    for (int d = R - 3; d >= 0; --d) {
      const index_t e = c.shape(d), idx = i % e;
      i /= e;
      if (v.shape(d) != 1) ptr += idx * v.stride(d);
    }
    using T = std::remove_pointer_t<decltype(ptr)>;
    return view<T, 2>(ptr, dims<2>{v.shape(R - 2), v.shape(R - 1)},
                      dims<2>{v.stride(R - 2), v.stride(R - 1)});
  };
  if (batch == 0) return {};
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::input_matrix("b", matrix(b, 0), false));
  FUSEDOPS_RETURN_IF_ERROR(
      ops::gemm_detail::check_gated<E>(b.shape(R - 1), matrix(c, 0), p, false, false));
  const index_t n = epilogue::is_gated_v<E> ? b.shape(R - 1) / 2 : b.shape(R - 1);
  FUSEDOPS_RETURN_IF_ERROR(
      ops::gemm_op::common(matrix(a, 0), b.shape(R - 2), n, b, matrix(c, 0), p, ep));
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::disjoint("c", c, "a", a));
  FUSEDOPS_RETURN_IF_ERROR(ops::gemm_op::disjoint("c", c, "b", b));
  return ops::gemm_detail::run_batched<B>(batch, p, ep, [&](index_t i) {
    auto pr = ops::gemm_detail::make_problem<E>(matrix(a, i), matrix(b, i), matrix(c, i), p);
    pr.batch = i;
    return pr;
  });
}

}  // namespace fusedops
