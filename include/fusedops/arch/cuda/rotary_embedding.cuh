// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. The CUDA kernel of rotary_embedding (ONNX RotaryEmbedding-23) over the checked,
// rank-free ops::rope_problem, and its host launcher. Per token (b, s): a grid-stride loop over
// work items, each one rotated pair (i, i + rot/2) or (2i, 2i + 1) of one head, or one copied
// element of the head's pass-through part [rot, head_size) (skipped in place). Neighbouring
// threads take neighbouring pairs of a head, so x, y and the cache rows are read coalesced.
// Math as on the CPU (ops/rope/rope_generic.hpp): y_i = fma(a, c, -(b·s)), y_j = fma(b, c, a·s).
// A device position id outside [0, max_position) (the host checks cannot read device ids) gives
// NaN in that token's rotated elements; nothing outside the caches is read.
// Allocates nothing, never synchronises.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include "fusedops/ops/rope/rope_op.hpp"

namespace fusedops::arch::cuda {

namespace detail {

/// Interleaved: pairs (2i, 2i + 1), else (i, i + rot/2). (A template also keeps this header-defined
/// kernel ODR-safe across translation units.)
template <bool Interleaved>
__global__ void __launch_bounds__(256)
    rope_kernel(const __grid_constant__ ops::rope_problem p, index_t max_pos) {
  const index_t tokens = p.batch * p.seq, half = p.rot / 2;
  const index_t per_head = half + (p.head_size - p.rot);
  const index_t items = p.heads * per_head;
  for (index_t t = blockIdx.y; t < tokens; t += gridDim.y) {
    const index_t b = t / p.seq, s = t % p.seq;
    index_t pos = 0;
    bool valid = true;
    if (p.ids != nullptr) {
      pos = static_cast<index_t>(p.ids[b * p.id_b + s * p.id_s]);
      valid = pos >= 0 && pos < max_pos;
      if (!valid) pos = 0;
    } else if (!p.per_token) {
      pos = p.offset + s;
    }
    const float* c = p.cos + pos * p.c_row + b * p.c_b + s * p.c_s;
    const float* sn = p.sin + pos * p.s_row + b * p.s_b + s * p.s_s;
    const float* xt = p.x + b * p.x_b + s * p.x_s;
    float* yt = p.y + b * p.y_b + s * p.y_s;
    const bool in_place = xt == yt;
    for (index_t q = index_t(blockIdx.x) * blockDim.x + threadIdx.x; q < items;
         q += index_t(gridDim.x) * blockDim.x) {
      const index_t h = q / per_head, r = q % per_head;
      const float* xh = xt + h * p.x_h;
      float* yh = yt + h * p.y_h;
      if (r < half) {
        const index_t i1 = Interleaved ? 2 * r : r, i2 = Interleaved ? 2 * r + 1 : r + half;
        const float a = xh[i1], e = xh[i2];
        float cv = __ldg(c + r), sv = __ldg(sn + r);
        if (!valid) cv = sv = __int_as_float(0x7fc00000);  // NaN
        yh[i1] = fmaf(a, cv, -(e * sv));
        yh[i2] = fmaf(e, cv, a * sv);
      } else if (!in_place) {
        const index_t d = p.rot + (r - half);
        yh[d] = xh[d];
      }
    }
  }
}

}  // namespace detail

/// Enqueues a checked rope_problem on `stream`; `max_pos`: the 2-D caches' row count (ids are
/// checked against it on the device). Returns errc::device_error if the launch fails.
inline status launch_rotary_embedding(const ops::rope_problem& p, index_t max_pos,
                                      cudaStream_t stream) noexcept {
  const index_t tokens = p.batch * p.seq;
  const index_t items = p.heads * (p.rot / 2 + (p.head_size - p.rot));
  if (tokens == 0 || items == 0) return {};
  constexpr index_t threads = 256;
  const dim3 grid(blocks_for(items, threads, 0x7fffffff), blocks_for(tokens, 1, 65535));
  if (p.interleaved)
    detail::rope_kernel<true><<<grid, dim3(unsigned(threads)), 0, stream>>>(p, max_pos);
  else
    detail::rope_kernel<false><<<grid, dim3(unsigned(threads)), 0, stream>>>(p, max_pos);
  return launch_status("rotary_embedding");
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
