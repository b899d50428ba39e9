// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. The CUDA kernel of bias_activation, y[i, j] = act(x[i, j] + bias[j]), and its
// host launcher. Any strides; with unit column strides the 32 threads of a warp touch consecutive
// columns, so loads and stores coalesce. The launcher does not validate (the public entry in
// bias_activation.hpp does), allocates nothing and never synchronises: the kernel is enqueued on
// the caller's stream and only launch errors are reported. Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <type_traits>

#include "fusedops/core/tensor_view.hpp"

namespace fusedops::arch::cuda {

namespace detail {

/// What the kernel needs, as plain values: view's member functions are host-only.
struct bias_activation_args {
  const float* x;
  const float* bias;
  float* y;  // may equal x (in place), so neither x nor y is __restrict__
  index_t rows, cols;
  index_t x_row_stride, x_col_stride;
  index_t bias_stride;
  index_t y_row_stride, y_col_stride;
};

/// 2-D grid-stride loop: x over columns, y over rows. Each thread loads its column's bias once
/// and reuses it for every row it visits.
template <class Act>
__global__ void bias_activation_kernel(bias_activation_args a, Act act) {
  const index_t col_step = index_t(gridDim.x) * index_t(blockDim.x);
  const index_t row_step = index_t(gridDim.y) * index_t(blockDim.y);
  const index_t row_first = index_t(blockIdx.y) * index_t(blockDim.y) + index_t(threadIdx.y);
  for (index_t c = index_t(blockIdx.x) * index_t(blockDim.x) + index_t(threadIdx.x); c < a.cols;
       c += col_step) {
    // bias is read-only for the whole kernel (validated disjoint from y): read-only cache.
    const float b = __ldg(a.bias + c * a.bias_stride);
    for (index_t r = row_first; r < a.rows; r += row_step)
      a.y[r * a.y_row_stride + c * a.y_col_stride] =
          act(a.x[r * a.x_row_stride + c * a.x_col_stride] + b);
  }
}

}  // namespace detail

/// Enqueues y = act(x + bias) on `stream`. Arguments must already be validated
/// (ops::bias_activation_op::validate). Returns errc::device_error if the launch fails.
template <class Act>
status launch_bias_activation(const device_view<const float, 2>& x,
                              const device_view<const float, 1>& bias,
                              const device_view<float, 2>& y, const Act& act,
                              cudaStream_t stream) noexcept {
  static_assert(std::is_trivially_copyable_v<Act>,
                "fusedops: an activation functor is copied to the GPU as a kernel argument, so it "
                "must be trivially copyable");
  const index_t rows = x.shape(0), cols = x.shape(1);
  if (rows == 0 || cols == 0) return {};  // nothing to do: enqueue nothing

  // 256 threads per block. Columns get up to all 256 (the next power of two >= cols), so a warp
  // spans 32 consecutive columns whenever cols >= 32; narrow matrices stack rows instead of
  // leaving threads idle.
  constexpr index_t threads = 256;
  index_t block_cols = 1;
  while (block_cols < cols && block_cols < threads) block_cols *= 2;
  const dim3 block(static_cast<unsigned int>(block_cols),
                   static_cast<unsigned int>(threads / block_cols));
  // Hardware grid limits: 2^31 - 1 blocks in x, 65535 in y; the loops stride past them.
  const dim3 grid(blocks_for(cols, block.x, 0x7fffffff), blocks_for(rows, block.y, 65535));

  detail::bias_activation_args args{};
  args.x = x.data();
  args.bias = bias.data();
  args.y = y.data();
  args.rows = rows;
  args.cols = cols;
  args.x_row_stride = x.stride(0);
  args.x_col_stride = x.stride(1);
  args.bias_stride = bias.stride(0);
  args.y_row_stride = y.stride(0);
  args.y_col_stride = y.stride(1);
  detail::bias_activation_kernel<Act><<<grid, block, 0, stream>>>(args, act);
  return launch_status("bias_activation");
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
