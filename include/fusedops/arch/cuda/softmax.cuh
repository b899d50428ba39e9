// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. The CUDA kernels of softmax / log_softmax (ONNX opset 13) over any axis, and
// their host launcher. The launcher allocates nothing and never synchronises.
//
// Lines along the axis:
//  * unit stride in x and y (the usual last axis): row kernels. n/VEC <= 256: a warp per line,
//    n/VEC <= 4096: a block per line, both holding the line in registers (one read of x, one write
//    of y); longer lines: a block per line in three passes (max, sum, write) re-reading the line
//    from L2. VEC = 4 (16-byte accesses) when every line start is 16-byte aligned and n % 4 == 0.
//  * any other stride: one thread per line, three passes along the axis; neighbouring threads take
//    neighbouring lines, so a softmax over a leading axis of a row-major tensor is coalesced.
//
// Numerics: the CPU's (ops/softmax/softmax_generic.hpp): m = max(x) (compare-select: a NaN is
// skipped there, and makes its line NaN through exp(NaN - m) in the sum); e = expf(x - m) (IEEE
// expf, <= 2 ulp; nvcc without --use_fast_math); s = Σe in fp32; softmax y = e · (1/s);
// log_softmax y = (x - m) - float(log(double(s))). A line of only -inf gives m = -inf and NaN
// (0/0), a +inf gives NaN (inf - inf), as the ONNX reference and onnxruntime do.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <algorithm>

#include "fusedops/arch/cuda/reduce.cuh"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/norm/rows.hpp"

namespace fusedops::arch::cuda {

namespace detail {

/// What the softmax kernels need: the lines' index space (tensor 0: x, 1: y), their length and
/// the strides along the axis.
struct softmax_args {
  ops::row_layout<2> lines;
  index_t n;
  index_t ax, ay;
  const float* x;
  float* y;
};

__device__ __forceinline__ float softmax_vmax(float m, float v) { return v > m ? v : m; }

/// y from the line's exponentials (softmax) or from x - m (log_softmax).
template <bool Log>
__device__ __forceinline__ float softmax_out(float v, float m, float inv_or_logs) {
  if constexpr (Log) return (v - m) - inv_or_logs;
  return expf(v - m) * inv_or_logs;
}
template <bool Log>
__device__ __forceinline__ float softmax_norm(float s) {
  if constexpr (Log) return static_cast<float>(log(static_cast<double>(s)));
  return 1.0f / s;
}

/// Register-resident lines with unit stride (see launch_softmax for the mapping).
template <bool Log, int VEC, int NV, bool WarpRows>
__global__ void __launch_bounds__(512)
    softmax_resident_kernel(const __grid_constant__ softmax_args a) {
  __shared__ float red[32];
  const index_t rows = a.lines.rows, nvec = a.n / VEC;
  const int lane = static_cast<int>(threadIdx.x);
  const int tpr = WarpRows ? 32 : static_cast<int>(blockDim.x);
  const index_t row0 = WarpRows ? index_t(blockIdx.x) * blockDim.y + threadIdx.y : blockIdx.x;
  const index_t rstep = WarpRows ? index_t(gridDim.x) * blockDim.y : gridDim.x;
  const float neg_inf = -__int_as_float(0x7f800000);
  for (index_t row = row0; row < rows; row += rstep) {
    index_t off[2];
    row_offsets<2>(a.lines, row, off);
    const float* x = a.x + off[0];
    float* y = a.y + off[1];
    fvec<VEC> v[NV];
    float m = neg_inf;
#pragma unroll
    for (int i = 0; i < NV; ++i) {
      const index_t c = lane + index_t(i) * tpr;
      if (c < nvec) {
        v[i] = load_vec<VEC>(x + c * VEC);
#pragma unroll
        for (int e = 0; e < VEC; ++e) m = softmax_vmax(m, v[i].v[e]);
      }
    }
    m = WarpRows ? warp_max(m) : block_max(m, red);
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < NV; ++i)
      if (lane + index_t(i) * tpr < nvec) {
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
          const float ex = expf(v[i].v[e] - m);
          if constexpr (!Log) v[i].v[e] = ex;  // keep e: y = e · (1/s)
          s += ex;
        }
      }
    s = WarpRows ? warp_sum(s) : block_sum(s, red);
    const float k = softmax_norm<Log>(s);
#pragma unroll
    for (int i = 0; i < NV; ++i) {
      const index_t c = lane + index_t(i) * tpr;
      if (c < nvec) {
        fvec<VEC> o;
#pragma unroll
        for (int e = 0; e < VEC; ++e) o.v[e] = Log ? (v[i].v[e] - m) - k : v[i].v[e] * k;
        store_vec<VEC>(y + c * VEC, o);
      }
    }
  }
}

/// Long unit-stride lines: a block per line, max / sum / write passes (re-reads hit L2).
template <bool Log, int VEC>
__global__ void __launch_bounds__(512) softmax_loop_kernel(const __grid_constant__ softmax_args a) {
  __shared__ float red[32];
  const index_t rows = a.lines.rows, nvec = a.n / VEC;
  const index_t tid = threadIdx.x, step = blockDim.x;
  const float neg_inf = -__int_as_float(0x7f800000);
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    index_t off[2];
    row_offsets<2>(a.lines, row, off);
    const float* x = a.x + off[0];
    float* y = a.y + off[1];
    float m = neg_inf;
    for (index_t c = tid; c < nvec; c += step) {
      const fvec<VEC> v = load_vec<VEC>(x + c * VEC);
#pragma unroll
      for (int e = 0; e < VEC; ++e) m = softmax_vmax(m, v.v[e]);
    }
    m = block_max(m, red);
    float s = 0.0f;
    for (index_t c = tid; c < nvec; c += step) {
      const fvec<VEC> v = load_vec<VEC>(x + c * VEC);
#pragma unroll
      for (int e = 0; e < VEC; ++e) s += expf(v.v[e] - m);
    }
    s = block_sum(s, red);
    const float k = softmax_norm<Log>(s);
    // Each element is read, then written, by the same thread; all reads of passes 1-2 are behind
    // the block's barriers: in place (y == x) is safe.
    // U chunks per step, loaded together: y may alias x, so a store would otherwise hold back
    // the next chunk's load.
    constexpr int U = 4;
    for (index_t c0 = tid; c0 < nvec; c0 += U * step) {
      fvec<VEC> v[U];
#pragma unroll
      for (int u = 0; u < U; ++u)
        if (c0 + u * step < nvec) v[u] = load_vec<VEC>(x + (c0 + u * step) * VEC);
#pragma unroll
      for (int u = 0; u < U; ++u) {
        if (c0 + u * step >= nvec) continue;
#pragma unroll
        for (int e = 0; e < VEC; ++e) v[u].v[e] = softmax_out<Log>(v[u].v[e], m, k);
        store_vec<VEC>(y + (c0 + u * step) * VEC, v[u]);
      }
    }
  }
}

/// Any strides: one thread per line, three passes along the axis.
template <bool Log>
__global__ void __launch_bounds__(256)
    softmax_strided_kernel(const __grid_constant__ softmax_args a) {
  const index_t rows = a.lines.rows, n = a.n, ax = a.ax, ay = a.ay;
  const float neg_inf = -__int_as_float(0x7f800000);
  for (index_t row = index_t(blockIdx.x) * blockDim.x + threadIdx.x; row < rows;
       row += index_t(gridDim.x) * blockDim.x) {
    index_t off[2];
    row_offsets<2>(a.lines, row, off);
    const float* x = a.x + off[0];
    float* y = a.y + off[1];
    float m = neg_inf;
    for (index_t k = 0; k < n; ++k) m = softmax_vmax(m, x[k * ax]);
    float s = 0.0f;
    for (index_t k = 0; k < n; ++k) s += expf(x[k * ax] - m);
    const float c = softmax_norm<Log>(s);
    for (index_t k = 0; k < n; ++k) y[k * ay] = softmax_out<Log>(x[k * ax], m, c);
  }
}

template <bool Log, int VEC, bool WarpRows>
void launch_softmax_resident(int nv, dim3 grid, dim3 block, const softmax_args& a,
                             cudaStream_t stream) {
  switch (nv) {
    case 1:
      softmax_resident_kernel<Log, VEC, 1, WarpRows><<<grid, block, 0, stream>>>(a);
      break;
    case 2:
      softmax_resident_kernel<Log, VEC, 2, WarpRows><<<grid, block, 0, stream>>>(a);
      break;
    case 4:
      softmax_resident_kernel<Log, VEC, 4, WarpRows><<<grid, block, 0, stream>>>(a);
      break;
    default:
      softmax_resident_kernel<Log, VEC, 8, WarpRows><<<grid, block, 0, stream>>>(a);
      break;
  }
}

template <bool Log, int VEC>
void launch_softmax_rows(const softmax_args& a, cudaStream_t stream) {
  const index_t rows = a.lines.rows, nvec = a.n / VEC;
  constexpr index_t warp_rows = 4;
  if (nvec <= 32 * 8) {
    launch_softmax_resident<Log, VEC, true>(pow2_ceil((nvec + 31) / 32),
                                            dim3(blocks_for(rows, warp_rows, 0x7fffffff)),
                                            dim3(32, unsigned(warp_rows)), a, stream);
  } else if (nvec <= 512 * 8) {
    const int nv = std::min(8, pow2_ceil((nvec + 255) / 256));
    const index_t threads = ((nvec + nv - 1) / nv + 31) / 32 * 32;
    launch_softmax_resident<Log, VEC, false>(nv, dim3(blocks_for(rows, 1, 0x7fffffff)),
                                             dim3(unsigned(threads)), a, stream);
  } else {
    softmax_loop_kernel<Log, VEC>
        <<<dim3(blocks_for(rows, 1, 0x7fffffff)), dim3(512), 0, stream>>>(a);
  }
}

}  // namespace detail

/// Enqueues softmax (Log = false) or log_softmax of checked views along `axis` (>= 0).
template <bool Log, int R>
status launch_softmax(const device_view<const float, R>& x, const device_view<float, R>& y,
                      int axis, cudaStream_t stream, const char* op) noexcept {
  if (x.empty()) return {};
  detail::softmax_args a{};
  // The line space: every dimension but the axis (the axis moved last, then left out).
  dims<R> shape{}, xs{}, ys{};
  for (int d = 0, t = 0; d < R; ++d) {
    if (d == axis) continue;
    shape[std::size_t(t)] = x.shape(d), xs[std::size_t(t)] = x.stride(d);
    ys[std::size_t(t)] = y.stride(d), ++t;
  }
  shape[std::size_t(R - 1)] = x.shape(axis);
  xs[std::size_t(R - 1)] = x.stride(axis), ys[std::size_t(R - 1)] = y.stride(axis);
  const dims<R>* strides[2] = {&xs, &ys};
  a.lines = ops::row_layout<2>::make<R>(shape, strides, R - 1);
  a.n = x.shape(axis);
  a.ax = a.n > 1 ? x.stride(axis) : 1;
  a.ay = a.n > 1 ? y.stride(axis) : 1;
  a.x = x.data();
  a.y = y.data();
  if (a.ax == 1 && a.ay == 1) {
    const bool vec = a.n % 4 == 0 && detail::aligned16(a.x) && detail::aligned16(a.y) &&
                     detail::row_strides_multiple_of(a.lines, 4);
    if (vec)
      detail::launch_softmax_rows<Log, 4>(a, stream);
    else
      detail::launch_softmax_rows<Log, 1>(a, stream);
  } else {
    detail::softmax_strided_kernel<Log>
        <<<dim3(blocks_for(a.lines.rows, 256, 0x7fffffff)), dim3(256), 0, stream>>>(a);
  }
  return launch_status(op);
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
