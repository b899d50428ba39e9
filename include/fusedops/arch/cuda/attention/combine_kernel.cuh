// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/attention. The second pass of split-KV (flash-decoding): each split of a row
// left unnormalised O_s with its running max m_s and sum l_s in the workspace; the row is
//   m = max_s m_s,  y = Σ_s e^{m_s - m} O_s / Σ_s e^{m_s - m} l_s
// (0 when the sum is 0: nothing attendable; an empty split has m_s = -inf, l_s = 0, O_s = 0 and
// weighs nothing; NaN in any l_s or O_s reaches y). One block per row, threads over Dv.
// Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/attention/args.cuh"

#if FUSEDOPS_HAS_CUDA

namespace fusedops::arch::cuda::attention {

struct combine_tile {
  static constexpr int threads = 128;
};

template <class T>
__global__ void __launch_bounds__(128) combine_kernel(args<T> g) {
  const index_t total = g.batch * g.hq * g.sq;
  const float* const ml = g.ws + g.splits * total * g.dv;
  for (index_t row = blockIdx.x; row < total; row += gridDim.x) {
    float ms = neg_inf();
    for (index_t s = 0; s < g.splits; ++s) ms = fmaxf(ms, ml[(s * total + row) * 2]);
    const float mu = ms == neg_inf() ? 0.0f : ms;
    float lsum = 0.0f;
    for (index_t s = 0; s < g.splits; ++s)
      lsum += ml[(s * total + row) * 2 + 1] * expf(ml[(s * total + row) * 2] - mu);
    const float inv = lsum == 0.0f ? 0.0f : 1.0f / lsum;
    const index_t i = row % g.sq, h = (row / g.sq) % g.hq, b = row / (g.sq * g.hq);
    T* const y = g.out + b * g.os[0] + h * g.os[1] + i * g.os[2];
    for (index_t d = threadIdx.x; d < g.dv; d += blockDim.x) {
      float acc = 0.0f;
      for (index_t s = 0; s < g.splits; ++s)
        acc += g.ws[(s * total + row) * g.dv + d] * expf(ml[(s * total + row) * 2] - mu);
      y[d * g.os[3]] = from_float<T>(acc * inv);
    }
  }
}

}  // namespace fusedops::arch::cuda::attention

#endif  // FUSEDOPS_HAS_CUDA
