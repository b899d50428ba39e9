// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. The CUDA kernels of apply_activation, y = act(x) element-wise over a tensor of
// any rank and strides, and their host launcher. The functor is the shared act:: one
// (ops/activation/functors.hpp, FUSEDOPS_HOST_DEVICE), called on floats: on the device its scalar
// path uses CUDA's IEEE expf / tanhf / erff (no --use_fast_math), as the GEMM epilogues do.
//  * x and y both dense (row-major, unit innermost stride): one flat grid-stride loop, 16-byte
//    vectors when both are 16-byte aligned (the scalar tail and misaligned data element-wise);
//  * otherwise: lines along the last dimension (any strides) over the leading index space
//    (ops::row_layout, merged where the strides chain), a 2-D grid-stride loop.
// Each element is read and then written by the same thread, so y may be x itself (in place).
// Allocates nothing, never synchronises.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <type_traits>

#include "fusedops/arch/cuda/reduce.cuh"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/norm/rows.hpp"

namespace fusedops::arch::cuda {

namespace detail {

/// Dense x and y of `n` elements: VEC = 4 uses float4 accesses on 16-byte aligned pointers.
template <int VEC, class Act>
__global__ void activation_dense_kernel(const float* x, float* y, index_t n, Act act) {
  const index_t step = index_t(gridDim.x) * blockDim.x;
  const index_t nv = n / VEC;
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < nv; i += step) {
    fvec<VEC> v = load_vec<VEC>(x + i * VEC);
#pragma unroll
    for (int e = 0; e < VEC; ++e) v.v[e] = act(v.v[e]);
    store_vec<VEC>(y + i * VEC, v);
  }
  // The n % VEC tail (VEC = 4 only).
  for (index_t i = nv * VEC + index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    y[i] = act(x[i]);
}

struct activation_lines {
  ops::row_layout<2> lines;  // tensor 0: x, 1: y
  index_t n, sx, sy;         // last dimension: extent and strides
  const float* x;
  float* y;
};

/// Any strides: x over the last dimension (blockDim.x columns), y over the lines.
template <class Act>
__global__ void activation_strided_kernel(const __grid_constant__ activation_lines a, Act act) {
  const index_t col_step = index_t(gridDim.x) * blockDim.x;
  const index_t row_step = index_t(gridDim.y) * blockDim.y;
  for (index_t r = index_t(blockIdx.y) * blockDim.y + threadIdx.y; r < a.lines.rows;
       r += row_step) {
    index_t off[2];
    row_offsets<2>(a.lines, r, off);
    for (index_t c = index_t(blockIdx.x) * blockDim.x + threadIdx.x; c < a.n; c += col_step)
      a.y[off[1] + c * a.sy] = act(a.x[off[0] + c * a.sx]);
  }
}

}  // namespace detail

/// Enqueues y = act(x) on `stream` for checked views. Returns errc::device_error if the launch
/// fails.
template <int R, class Act>
status launch_activation(const device_view<const float, R>& x, const device_view<float, R>& y,
                         const Act& act, cudaStream_t stream) noexcept {
  static_assert(std::is_trivially_copyable_v<Act>,
                "fusedops: an activation functor is copied to the GPU as a kernel argument, so it "
                "must be trivially copyable");
  const index_t n = x.size();
  if (n == 0) return {};
  if (x.is_contiguous() && y.is_contiguous()) {
    constexpr index_t threads = 256;
    const bool vec = detail::aligned16(x.data()) && detail::aligned16(y.data());
    // Enough blocks for ~8 resident per SM on any GPU; the loop strides past them.
    const unsigned grid = blocks_for(vec ? n / 4 + 1 : n, threads, 132 * 16);
    if (vec)
      detail::activation_dense_kernel<4><<<grid, threads, 0, stream>>>(x.data(), y.data(), n, act);
    else
      detail::activation_dense_kernel<1><<<grid, threads, 0, stream>>>(x.data(), y.data(), n, act);
    return launch_status("activation");
  }
  detail::activation_lines a{};
  const dims<R>* strides[2] = {&x.strides(), &y.strides()};
  a.lines = ops::row_layout<2>::make<R>(x.shape(), strides, R - 1);
  a.n = x.shape(R - 1), a.sx = x.stride(R - 1), a.sy = y.stride(R - 1);
  a.x = x.data(), a.y = y.data();
  index_t block_cols = 1;
  while (block_cols < a.n && block_cols < 256) block_cols *= 2;
  const dim3 block(unsigned(block_cols), unsigned(256 / block_cols));
  const dim3 grid(blocks_for(a.n, block.x, 0x7fffffff), blocks_for(a.lines.rows, block.y, 65535));
  detail::activation_strided_kernel<<<grid, block, 0, stream>>>(a, act);
  return launch_status("activation");
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
