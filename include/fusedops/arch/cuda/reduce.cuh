// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. What the row-wise CUDA kernels (normalization, softmax) share: all-reduces
// over a warp and over a block (butterfly: every lane ends with the bit-identical result, so the
// threads of a row agree on its statistics without a broadcast), fixed-width float vectors for
// 16-byte loads, and the row offsets of ops::row_layout on the device. Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <cstdint>

#include "fusedops/ops/norm/rows.hpp"

namespace fusedops::arch::cuda::detail {

/// Sum of v over the 32 lanes of a warp, in every lane (xor butterfly: 5 levels of adds, each
/// lane adding the same two numbers as its partner, so all lanes agree bit for bit).
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int m = 16; m >= 1; m /= 2) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}
__device__ __forceinline__ float2 warp_sum(float2 v) {
#pragma unroll
  for (int m = 16; m >= 1; m /= 2) {
    v.x += __shfl_xor_sync(0xffffffffu, v.x, m);
    v.y += __shfl_xor_sync(0xffffffffu, v.y, m);
  }
  return v;
}
/// Maximum over a warp, in every lane. fmaxf ignores a NaN operand: callers that must propagate
/// NaN do so through their later arithmetic (see softmax.cuh).
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int m = 16; m >= 1; m /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
  return v;
}

/// Butterfly combination of the per-warp partials in `smem` (one per warp of a 1-D block,
/// blockDim.x a multiple of 32): every warp reads all partials and reduces them the same way, so
/// every thread of the block gets the same value. Two barriers: one before reading, one after (so
/// the caller may reuse `smem` for the next row at once).
template <class T, class Combine>
__device__ __forceinline__ T block_combine(T v, T identity, T* smem, Combine combine) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  v = lane < warps ? smem[lane] : identity;
  v = combine(v);
  __syncthreads();
  return v;
}

/// Block-wide sums and maximum (1-D block, blockDim.x a multiple of 32, smem: 32 elements).
__device__ __forceinline__ float2 block_sum(float2 v, float2* smem) {
  return block_combine(warp_sum(v), make_float2(0.f, 0.f), smem,
                       [](float2 t) { return warp_sum(t); });
}
__device__ __forceinline__ float block_sum(float v, float* smem) {
  return block_combine(warp_sum(v), 0.f, smem, [](float t) { return warp_sum(t); });
}
__device__ __forceinline__ float block_max(float v, float* smem) {
  return block_combine(warp_max(v), -__int_as_float(0x7f800000), smem,
                       [](float t) { return warp_max(t); });
}

/// VEC consecutive floats: a 16-byte vector when VEC == 4, a scalar when VEC == 1.
template <int VEC>
struct fvec {
  float v[VEC];
};

template <int VEC>
__device__ __forceinline__ fvec<VEC> load_vec(const float* p) {
  fvec<VEC> r;
  if constexpr (VEC == 4) {
    const float4 t = *reinterpret_cast<const float4*>(p);
    r.v[0] = t.x, r.v[1] = t.y, r.v[2] = t.z, r.v[3] = t.w;
  } else {
    static_assert(VEC == 1, "fvec: 1 or 4 lanes");
    r.v[0] = *p;
  }
  return r;
}
/// Read-only data shared by every row (scale, bias): through the read-only data cache.
template <int VEC>
__device__ __forceinline__ fvec<VEC> load_vec_ro(const float* p) {
  fvec<VEC> r;
  if constexpr (VEC == 4) {
    const float4 t = __ldg(reinterpret_cast<const float4*>(p));
    r.v[0] = t.x, r.v[1] = t.y, r.v[2] = t.z, r.v[3] = t.w;
  } else {
    r.v[0] = __ldg(p);
  }
  return r;
}
template <int VEC>
__device__ __forceinline__ void store_vec(float* p, const fvec<VEC>& r) {
  if constexpr (VEC == 4)
    *reinterpret_cast<float4*>(p) = make_float4(r.v[0], r.v[1], r.v[2], r.v[3]);
  else
    *p = r.v[0];
}

/// True when p is 16-byte aligned (host side: picks the vector path).
inline bool aligned16(const void* p) noexcept {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

/// ops::row_layout<N>::offsets on the device: offsets (in elements) of row r in every tensor.
template <int N>
__device__ __forceinline__ void row_offsets(const ops::row_layout<N>& l, index_t r,
                                            index_t (&off)[N]) {
#pragma unroll
  for (int t = 0; t < N; ++t) off[t] = 0;
  if (l.ndims == 1) {
#pragma unroll
    for (int t = 0; t < N; ++t) off[t] = r * l.stride[t][0];
    return;
  }
  for (int d = l.ndims - 1; d >= 0; --d) {
    const index_t i = r % l.extent[d];
    r /= l.extent[d];
#pragma unroll
    for (int t = 0; t < N; ++t) off[t] += i * l.stride[t][d];
  }
}

/// Host side: true when every row of every tensor of `l` starts `mult`-element aligned relative
/// to its base (all leading strides multiples of `mult`).
template <int N>
inline bool row_strides_multiple_of(const ops::row_layout<N>& l, index_t mult) noexcept {
  for (int d = 0; d < l.ndims; ++d)
    for (int t = 0; t < N; ++t)
      if (l.stride[t][d] % mult != 0) return false;
  return true;
}

/// Smallest power of two >= n (n >= 1).
inline int pow2_ceil(index_t n) noexcept {
  int p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace fusedops::arch::cuda::detail

#endif  // FUSEDOPS_HAS_CUDA
