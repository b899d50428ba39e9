// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/attention. The portable CUDA attention kernel: any element type (fp32, fp16,
// bf16, fp32 arithmetic throughout), any strides, any Dqk, Dv <= 256. Correctness first: it is the
// fp32 path and the fallback for layouts and head sizes the tensor-core kernel does not take.
//
// One warp per query row (4 warps per block, grid-stride over the B·Hq·Sq rows). The row of Q is
// staged in shared memory as float; keys go 32 at a time, one per lane: each lane computes its
// key's full dot product, the warp reduces the max and the sum (online softmax, one rescale per
// 32 keys), then P·V runs lane-parallel over Dv (lane d, d + 32, ...: 8 accumulators per lane)
// with each key's weight broadcast by a shuffle. Only the keys in [lo(i), hi(i)) are touched.
// Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/attention/args.cuh"

#if FUSEDOPS_HAS_CUDA

namespace fusedops::arch::cuda::attention {

struct simt_tile {
  static constexpr int warps = 4, threads = 128, max_dv = 256, max_dqk = 2048;
};

template <class T>
__global__ void __launch_bounds__(128) simt_kernel(args<T> g) {
  constexpr int W = simt_tile::warps, C = simt_tile::max_dv / 32;
  extern __shared__ float simt_q[];  // [W][dqk]
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  float* const qw = simt_q + warp * g.dqk;
  const index_t rows = g.batch * g.hq * g.sq;
  for (index_t row = index_t(blockIdx.x) * W + warp; row < rows; row += index_t(gridDim.x) * W) {
    const index_t i = row % g.sq, h = (row / g.sq) % g.hq, b = row / (g.sq * g.hq);
    const index_t kvh = h / g.group;
    const T* const qr = g.q + b * g.qs[0] + h * g.qs[1] + i * g.qs[2];
    __syncwarp();  // the previous row's reads of qw are done
    for (index_t d = lane; d < g.dqk; d += 32) qw[d] = to_float(qr[d * g.qs[3]]);
    __syncwarp();

    const key_range kr = key_range::make(g, b);
    const index_t lo = kr.lo(i), hi = kr.hi(i);
    const T* const kb = g.k + b * g.ks[0] + kvh * g.ks[1];
    const T* const vb = g.v + b * g.vs[0] + kvh * g.vs[1];
    float o[C];
#pragma unroll
    for (int c = 0; c < C; ++c) o[c] = 0.0f;
    float m = neg_inf(), l = 0.0f;
    for (index_t j0 = lo; j0 < hi; j0 += 32) {
      const index_t j = j0 + lane;
      float x = neg_inf();
      if (j < hi) {
        const T* const kj = kb + j * g.ks[2];
        float dot = 0.0f;
        for (index_t d = 0; d < g.dqk; ++d) dot = fmaf(qw[d], to_float(kj[d * g.ks[3]]), dot);
        x = element_masks(g, scaled_score(g, dot), b, h, i, j);
      }
      // fmaxf ignores NaN (a NaN score reaches l and O through its exp); no finite score yet:
      // reference 0, so every exp is 0 rather than NaN.
      float mx = x;
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
      const float m_new = fmaxf(m, mx);
      const float m_use = m_new == neg_inf() ? 0.0f : m_new;
      const float alpha = expf(m - m_use);
      m = m_new;
      const float p = expf(x - m_use);
      float ps = p;
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) ps += __shfl_xor_sync(0xffffffffu, ps, off);
      l = l * alpha + ps;
#pragma unroll
      for (int c = 0; c < C; ++c) o[c] *= alpha;
      const int n = hi - j0 < 32 ? int(hi - j0) : 32;
      for (int t = 0; t < n; ++t) {
        const float pt = __shfl_sync(0xffffffffu, p, t);
        const T* const vj = vb + (j0 + t) * g.vs[2];
#pragma unroll
        for (int c = 0; c < C; ++c) {
          const index_t d = lane + 32 * c;
          if (d < g.dv) o[c] = fmaf(pt, to_float(vj[d * g.vs[3]]), o[c]);
        }
      }
    }
    const float inv = l == 0.0f ? 0.0f : 1.0f / l;  // nothing attendable: 0; NaN stays NaN
    T* const y = g.out + b * g.os[0] + h * g.os[1] + i * g.os[2];
#pragma unroll
    for (int c = 0; c < C; ++c) {
      const index_t d = lane + 32 * c;
      if (d < g.dv) y[d * g.os[3]] = from_float<T>(o[c] * inv);
    }
  }
}

}  // namespace fusedops::arch::cuda::attention

#endif  // FUSEDOPS_HAS_CUDA
