// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. The CUDA kernels of layer_norm, rms_norm and their fused residual forms
// (add_layer_norm, add_rms_norm), and their host launcher. They consume the checked, rank-free
// ops::basic_norm_problem<T> that validate_norm builds (rows × hidden, per-tensor row strides), so every
// layout the CPU op takes runs here too. The launcher allocates nothing and never synchronises.
//
// Element types: float, or __half / __nv_bfloat16 tensors (x, residual, sum, y, scale, bias,
// residual_bias) with every computation in fp32 (the fused sum is rounded to the element type once,
// stored, and that rounded value is normalized; y is rounded once). Statistics outputs are fp32.
//
// Mapping (hidden = n, VEC = the elements of one 16-byte access (4 floats, 8 halves) when every
// row of every tensor and scale/bias are 16-byte aligned and n % VEC == 0, else VEC = 1; NV = the
// vectors a thread holds, at most M = 8 for floats, 4 for 16-bit types):
//   n/VEC <= 32·M      one warp per row, 4 rows per 128-thread block;
//   n/VEC <= 512·M     one block per row (<= 512 threads);
//   larger             one 512-thread block per row looping over it (the row is re-read from L2).
// In the first two the row stays in registers between the statistics and the normalisation, so
// x (and residual) are read from DRAM exactly once and y (and sum) written once: a copy's traffic.
//
// Numerics: exactly the CPU scheme (ops/norm/norm_generic.hpp). LayerNorm accumulates
// S1 = Σ(v - K), S2 = Σ(v - K)² in fp32 with K = the row's first input element (after the
// residual add), d = S1 · (1/n), var = max(S2 · (1/n) - d², 0), rstd = 1 / sqrt(var + eps)
// (IEEE sqrt and division: no rsqrtf), mean = K + d, y = fma(fma(v - K, rstd, -(d·rstd)), g, b).
// RMSNorm: rstd = 1 / sqrt(Σv² / n + eps), y = (v · rstd) · g. The summation tree (each thread
// sums its elements in order: <= 32 in the register-resident kernels, ceil(n/512) in the looping
// one; then a butterfly over <= 32 lanes and <= 16 warps, 5 + 4 levels) is never deeper than the
// CPU's ceil(n/16) + 7, so the CPU bounds of tests/support/tolerance.hpp hold. NaN propagates to
// its row; a row holding ±Inf gives NaN (LayerNorm) as on the CPU.
//
// Aliasing (as the CPU op allows): y may be x; in the fused forms sum and y may each be x or the
// residual. Each element is read, then written, by the same thread; K is read by thread 0 and
// shared before anything of the row is written.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <type_traits>

#include "fusedops/arch/cuda/element.cuh"
#include "fusedops/arch/cuda/reduce.cuh"
#include "fusedops/ops/norm/norm_op.hpp"

namespace fusedops::arch::cuda {

namespace detail {

/// The element types the normalization kernels take.
/// VEC elements of T, as stored: one 16-byte access when VEC · sizeof(T) == 16.
template <class T, int VEC>
struct alignas(sizeof(T) * VEC) tvec {
  T v[VEC];
};
/// The unsigned integer type of one access of `Bytes` bytes.
template <int Bytes>
using access_t = std::conditional_t<
    Bytes == 16, uint4,
    std::conditional_t<Bytes == 8, uint2,
                       std::conditional_t<Bytes == 4, unsigned int, unsigned short>>>;

template <class T, int VEC>
__device__ __forceinline__ tvec<T, VEC> load_t(const T* p) {
  using A = access_t<int(sizeof(T)) * VEC>;
  static_assert(sizeof(A) == sizeof(tvec<T, VEC>), "one access per vector");
  const A a = *reinterpret_cast<const A*>(p);
  tvec<T, VEC> r;
  __builtin_memcpy(&r, &a, sizeof a);
  return r;
}
/// Read-only data shared by every row (scale, bias): through the read-only data cache.
template <class T, int VEC>
__device__ __forceinline__ tvec<T, VEC> load_t_ro(const T* p) {
  using A = access_t<int(sizeof(T)) * VEC>;
  const A a = __ldg(reinterpret_cast<const A*>(p));
  tvec<T, VEC> r;
  __builtin_memcpy(&r, &a, sizeof a);
  return r;
}
template <class T, int VEC>
__device__ __forceinline__ void store_t(T* p, const tvec<T, VEC>& v) {
  using A = access_t<int(sizeof(T)) * VEC>;
  A a;
  __builtin_memcpy(&a, &v, sizeof a);
  *reinterpret_cast<A*>(p) = a;
}

/// Pointers of one row.
template <class T>
struct norm_row {
  const T* x;
  const T* r;  // residual (fused only, else null)
  T* s;        // sum (fused only)
  T* y;
};

template <class T>
__device__ __forceinline__ norm_row<T> norm_row_at(const ops::basic_norm_problem<T>& p,
                                                   index_t row) {
  index_t off[4];
  row_offsets<4>(p.rows, row, off);
  return {p.x + off[0], p.residual ? p.residual + off[2] : nullptr,
          p.sum ? p.sum + off[3] : nullptr, p.y + off[1]};
}

/// The row's input at chunks u < N (elements [j[u], j[u] + VEC), where ok[u]) into v. The fused
/// forms compute (x + residual) + residual_bias in fp32, round it to T and store it into sum.
/// Every load is issued before any store: sum may alias x or the residual, so the compiler could
/// not move a later chunk's loads above an earlier chunk's store, and each chunk would wait for
/// the previous one.
template <class T, int VEC, int N>
__device__ __forceinline__ void norm_inputs(const ops::basic_norm_problem<T>& p,
                                            const norm_row<T>& w, const index_t (&j)[N],
                                            const bool (&ok)[N], tvec<T, VEC> (&v)[N]) {
  if (w.r == nullptr) {
#pragma unroll
    for (int u = 0; u < N; ++u)
      if (ok[u]) v[u] = load_t<T, VEC>(w.x + j[u]);
    return;
  }
  tvec<T, VEC> r[N];
#pragma unroll
  for (int u = 0; u < N; ++u)
    if (ok[u]) v[u] = load_t<T, VEC>(w.x + j[u]), r[u] = load_t<T, VEC>(w.r + j[u]);
#pragma unroll
  for (int u = 0; u < N; ++u) {
    if (!ok[u]) continue;
    float f[VEC];
#pragma unroll
    for (int e = 0; e < VEC; ++e) f[e] = to_float(v[u].v[e]) + to_float(r[u].v[e]);
    if (p.residual_bias != nullptr) {
      const tvec<T, VEC> b = load_t_ro<T, VEC>(p.residual_bias + j[u]);
#pragma unroll
      for (int e = 0; e < VEC; ++e) f[e] = f[e] + to_float(b.v[e]);
    }
#pragma unroll
    for (int e = 0; e < VEC; ++e) v[u].v[e] = from_float<T>(f[e]);
    store_t<T, VEC>(w.s + j[u], v[u]);
  }
}

/// The LayerNorm shift K: the row's first input element (read before the row is written).
template <class T>
__device__ __forceinline__ float norm_shift(const ops::basic_norm_problem<T>& p,
                                            const norm_row<T>& w) {
  if (w.r == nullptr) return to_float(w.x[0]);
  float k = to_float(w.x[0]) + to_float(w.r[0]);
  if (p.residual_bias != nullptr) k = k + to_float(p.residual_bias[0]);
  return to_float(from_float<T>(k));  // the sum as stored
}

/// Adds v's elements to the moments: LayerNorm (S1, S2) of v - K, RMSNorm (-, Σv²).
template <bool LN, class T, int VEC>
__device__ __forceinline__ void norm_accumulate(const tvec<T, VEC>& v, float k, float2& acc) {
#pragma unroll
  for (int e = 0; e < VEC; ++e) {
    const float x = to_float(v.v[e]);
    if constexpr (LN) {
      const float d = x - k;
      acc.x += d;
      acc.y = fmaf(d, d, acc.y);
    } else {
      acc.y = fmaf(x, x, acc.y);
    }
  }
}

/// The row's coefficients from its reduced moments, with the row's statistics outputs.
struct norm_coef {
  float k, rstd, ndr;  // y = fma(v - k, rstd, ndr) (LayerNorm) or v · rstd (RMSNorm)
};
template <bool LN, class T>
__device__ __forceinline__ norm_coef norm_finish(const ops::basic_norm_problem<T>& p, float k,
                                                 float2 acc, index_t row, bool writer) {
  norm_coef c{};
  if constexpr (LN) {
    const float inv_n = 1.0f / static_cast<float>(p.hidden);
    const float d = acc.x * inv_n;
    float var = acc.y * inv_n - d * d;
    if (var < 0.0f) var = 0.0f;  // rounding; NaN (from ±Inf or NaN inputs) stays NaN
    c.k = k;
    c.rstd = 1.0f / sqrtf(var + p.epsilon);
    c.ndr = -(d * c.rstd);
    if (writer) {
      if (p.mean != nullptr) p.mean[row * p.mean_stride] = k + d;
      if (p.inv_std != nullptr) p.inv_std[row * p.inv_std_stride] = c.rstd;
    }
  } else {
    c.rstd = 1.0f / sqrtf(acc.y / static_cast<float>(p.hidden) + p.epsilon);
  }
  return c;
}

/// y[j, j + VEC) from the row's input v.
template <bool LN, class T, int VEC>
__device__ __forceinline__ void norm_output(const ops::basic_norm_problem<T>& p,
                                            const norm_row<T>& w, const norm_coef& c,
                                            const tvec<T, VEC>& v, index_t j) {
  const tvec<T, VEC> g = load_t_ro<T, VEC>(p.scale + j);
  tvec<T, VEC> y;
  if constexpr (LN) {
    tvec<T, VEC> b;
    if (p.bias != nullptr) b = load_t_ro<T, VEC>(p.bias + j);
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      const float t = fmaf(to_float(v.v[e]) - c.k, c.rstd, c.ndr);
      const float gf = to_float(g.v[e]);
      y.v[e] = from_float<T>(p.bias != nullptr ? fmaf(t, gf, to_float(b.v[e])) : t * gf);
    }
  } else {
#pragma unroll
    for (int e = 0; e < VEC; ++e)
      y.v[e] = from_float<T>((to_float(v.v[e]) * c.rstd) * to_float(g.v[e]));
  }
  store_t<T, VEC>(w.y + j, y);
}

/// Register-resident rows: WarpRows: one warp per row (blockDim = (32, rows per block));
/// otherwise one block per row (1-D, a multiple of 32 threads). Each thread holds the row's
/// vectors lane, lane + T, ..., (NV of them at most), as stored (T).
template <class T, bool LN, int VEC, int NV, bool WarpRows>
__global__ void __launch_bounds__(512)
    norm_resident_kernel(const __grid_constant__ ops::basic_norm_problem<T> p) {
  __shared__ float2 red[32];
  __shared__ float kshare;
  const index_t rows = p.rows.rows;
  const index_t nvec = p.hidden / VEC;
  const int lane = static_cast<int>(threadIdx.x);
  const int tpr = WarpRows ? 32 : static_cast<int>(blockDim.x);
  const index_t row0 = WarpRows ? index_t(blockIdx.x) * blockDim.y + threadIdx.y : blockIdx.x;
  const index_t rstep = WarpRows ? index_t(gridDim.x) * blockDim.y : gridDim.x;
  for (index_t row = row0; row < rows; row += rstep) {
    const norm_row<T> w = norm_row_at(p, row);
    tvec<T, VEC> v[NV];
    index_t j[NV];
    bool ok[NV];
#pragma unroll
    for (int i = 0; i < NV; ++i) {
      const index_t c = lane + index_t(i) * tpr;
      ok[i] = c < nvec, j[i] = c * VEC;
    }
    norm_inputs<T, VEC, NV>(p, w, j, ok, v);
    float k = 0.0f;
    if constexpr (LN) {
      // Lane 0's first vector starts at element 0: K is its first element, as computed from the
      // inputs (the row in memory may already be overwritten by sum when sum aliases x).
      const float k0 = to_float(v[0].v[0]);
      if constexpr (WarpRows) {
        k = __shfl_sync(0xffffffffu, k0, 0);
      } else {
        if (lane == 0) kshare = k0;
        __syncthreads();
        k = kshare;
      }
    }
    float2 acc = make_float2(0.0f, 0.0f);
#pragma unroll
    for (int i = 0; i < NV; ++i)
      if (ok[i]) norm_accumulate<LN, T, VEC>(v[i], k, acc);
    acc = WarpRows ? warp_sum(acc) : block_sum(acc, red);
    const norm_coef c = norm_finish<LN>(p, k, acc, row, lane == 0);
#pragma unroll
    for (int i = 0; i < NV; ++i)
      if (ok[i]) norm_output<LN, T, VEC>(p, w, c, v[i], j[i]);
  }
}

/// Rows too long for registers: statistics in one pass (storing sum), then y from a second read
/// of the row (x, or the sum just stored), which hits L2. One block (1-D) per row.
template <class T, bool LN, int VEC>
__global__ void __launch_bounds__(512)
    norm_loop_kernel(const __grid_constant__ ops::basic_norm_problem<T> p) {
  __shared__ float2 red[32];
  __shared__ float kshare;
  const index_t rows = p.rows.rows;
  const index_t nvec = p.hidden / VEC;
  const index_t tid = threadIdx.x, step = blockDim.x;
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const norm_row<T> w = norm_row_at(p, row);
    float k = 0.0f;
    if constexpr (LN) {
      if (tid == 0) kshare = norm_shift(p, w);
      __syncthreads();  // before thread 0 may overwrite x[0] with sum[0]
      k = kshare;
    }
    // U chunks per step, their loads issued together (see norm_inputs).
    constexpr int U = 4;
    float2 acc = make_float2(0.0f, 0.0f);
    for (index_t c0 = tid; c0 < nvec; c0 += U * step) {
      tvec<T, VEC> v[U];
      index_t j[U];
      bool ok[U];
#pragma unroll
      for (int u = 0; u < U; ++u) ok[u] = c0 + u * step < nvec, j[u] = (c0 + u * step) * VEC;
      norm_inputs<T, VEC, U>(p, w, j, ok, v);
#pragma unroll
      for (int u = 0; u < U; ++u)
        if (ok[u]) norm_accumulate<LN, T, VEC>(v[u], k, acc);
    }
    acc = block_sum(acc, red);
    const norm_coef co = norm_finish<LN>(p, k, acc, row, tid == 0);
    const T* src = w.r != nullptr ? w.s : w.x;
    for (index_t c0 = tid; c0 < nvec; c0 += U * step) {
      tvec<T, VEC> v[U];
      index_t j[U];
      bool ok[U];
#pragma unroll
      for (int u = 0; u < U; ++u) ok[u] = c0 + u * step < nvec, j[u] = (c0 + u * step) * VEC;
#pragma unroll
      for (int u = 0; u < U; ++u)
        if (ok[u]) v[u] = load_t<T, VEC>(src + j[u]);
#pragma unroll
      for (int u = 0; u < U; ++u)
        if (ok[u]) norm_output<LN, T, VEC>(p, w, co, v[u], j[u]);
    }
  }
}

template <class T, bool LN, int VEC, bool WarpRows>
void launch_norm_resident(int nv, dim3 grid, dim3 block, const ops::basic_norm_problem<T>& p,
                          cudaStream_t stream) {
  // 16-bit types hold at most 4 vectors per thread (launch_norm_vec): NV = 8 is never built.
  constexpr int nv8 = sizeof(T) == 4 ? 8 : 4;
  switch (nv) {
    case 1:
      norm_resident_kernel<T, LN, VEC, 1, WarpRows><<<grid, block, 0, stream>>>(p);
      break;
    case 2:
      norm_resident_kernel<T, LN, VEC, 2, WarpRows><<<grid, block, 0, stream>>>(p);
      break;
    case 4:
      norm_resident_kernel<T, LN, VEC, 4, WarpRows><<<grid, block, 0, stream>>>(p);
      break;
    default:
      norm_resident_kernel<T, LN, VEC, nv8, WarpRows><<<grid, block, 0, stream>>>(p);
      break;
  }
}

template <class T, bool LN, int VEC>
void launch_norm_vec(const ops::basic_norm_problem<T>& p, cudaStream_t stream) {
  const index_t rows = p.rows.rows, nvec = p.hidden / VEC;
  constexpr index_t warp_rows = 4;  // rows (warps) per 128-thread block
  // Vectors per thread at most: 8 for floats; 4 for 16-bit types, whose 8-element vectors convert
  // to 8 fp32 registers each (8 would spill).
  constexpr int max_nv = sizeof(T) == 4 ? 8 : 4;
  if (nvec <= 32 * max_nv) {
    const int nv = pow2_ceil((nvec + 31) / 32);
    launch_norm_resident<T, LN, VEC, true>(nv, dim3(blocks_for(rows, warp_rows, 0x7fffffff)),
                                           dim3(32, unsigned(warp_rows)), p, stream);
  } else if (nvec <= 512 * max_nv) {
    // Fewest vectors per thread that keeps the block <= 256 threads (<= 512 for the largest
    // rows), then just enough warps to cover the row.
    const int nv = std::min(max_nv, pow2_ceil((nvec + 255) / 256));
    const index_t threads = ((nvec + nv - 1) / nv + 31) / 32 * 32;
    launch_norm_resident<T, LN, VEC, false>(nv, dim3(blocks_for(rows, 1, 0x7fffffff)),
                                            dim3(unsigned(threads)), p, stream);
  } else {
    norm_loop_kernel<T, LN, VEC>
        <<<dim3(blocks_for(rows, 1, 0x7fffffff)), dim3(512), 0, stream>>>(p);
  }
}

}  // namespace detail

/// Enqueues a checked normalization problem (LN: layer_norm / add_layer_norm, else rms_norm /
/// add_rms_norm) on `stream`. Returns errc::device_error if the launch fails.
template <bool LN, class T>
status launch_norm(const ops::basic_norm_problem<T>& p, cudaStream_t stream,
                   const char* op) noexcept {
  static_assert(is_element_v<T>,
                "fusedops: the CUDA normalizations take float, __half or __nv_bfloat16 tensors");
  if (p.rows.rows == 0 || p.hidden == 0) return {};  // nothing to do: enqueue nothing
  constexpr int VEC = 16 / int(sizeof(T));
  const bool vec =
      p.hidden % VEC == 0 && detail::aligned16(p.x) && detail::aligned16(p.y) &&
      detail::aligned16(p.scale) &&
      (p.residual == nullptr || (detail::aligned16(p.residual) && detail::aligned16(p.sum))) &&
      (p.bias == nullptr || detail::aligned16(p.bias)) &&
      (p.residual_bias == nullptr || detail::aligned16(p.residual_bias)) &&
      detail::row_strides_multiple_of(p.rows, VEC);
  if (vec)
    detail::launch_norm_vec<T, LN, VEC>(p, stream);
  else
    detail::launch_norm_vec<T, LN, 1>(p, stream);
  return launch_status(op);
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
