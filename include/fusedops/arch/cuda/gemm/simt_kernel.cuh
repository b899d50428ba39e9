// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/gemm. The CUDA cores' GEMM: every element type, every layout (any strides,
// transposes, broadcast batches), fp32 accumulation. The fp32 path and the fallback of the tensor
// core kernel. 128 × 128 block tile, 256 threads each finishing an 8 × 8 sub-tile (two 4 × 4
// quadrants 64 apart, so the shared-memory reads are float4 and conflict-free); the next K slice
// is loaded into registers while the current one is multiplied (double-buffered shared memory,
// one barrier per slice). Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/gemm/args.cuh"

#if FUSEDOPS_HAS_CUDA

namespace fusedops::arch::cuda::gemm {

struct simt_tile {
  static constexpr int bm = 128, bn = 128, bk = 8, threads = 256;
};

template <class T, class TC, class E>
__global__ void __launch_bounds__(simt_tile::threads) simt_kernel(args<T, TC> g, E ep) {
  constexpr int BM = simt_tile::bm, BN = simt_tile::bn, BK = simt_tile::bk;
  constexpr int per_thread = BM * BK / simt_tile::threads;  // 4 elements of A and of B
  __shared__ __align__(16) float as[2][BK][BM];
  __shared__ __align__(16) float bs[2][BK][BN];

  const int tid = int(threadIdx.x);
  const index_t batch = blockIdx.z;
  const index_t m0 = index_t(blockIdx.y) * BM, n0 = index_t(blockIdx.x) * BN;
  const T* a = g.a + batch * g.a_bs;
  const T* b = g.b + batch * g.b_bs;
  // Consecutive threads walk the operand's unit-stride dimension when it has one (coalescing).
  const bool a_k_fast = g.a_cs == 1, b_n_fast = g.b_cs == 1 || g.b_rs != 1;

  float ra[per_thread], rb[per_thread];
  auto a_slot = [&](int e, int& mm, int& kk) {
    if (a_k_fast) {
      kk = e % BK;
      mm = e / BK;
    } else {
      mm = e % BM;
      kk = e / BM;
    }
  };
  auto b_slot = [&](int e, int& nn, int& kk) {
    if (b_n_fast) {
      nn = e % BN;
      kk = e / BN;
    } else {
      kk = e % BK;
      nn = e / BK;
    }
  };
  auto load = [&](index_t k0) {
#pragma unroll
    for (int i = 0; i < per_thread; ++i) {
      int mm, nn, kk;
      a_slot(tid + i * simt_tile::threads, mm, kk);
      index_t m = m0 + mm, k = k0 + kk;
      ra[i] = (m < g.m && k < g.k) ? to_float(a[m * g.a_rs + k * g.a_cs]) : 0.0f;
      b_slot(tid + i * simt_tile::threads, nn, kk);
      index_t n = n0 + nn;
      k = k0 + kk;
      rb[i] = (n < g.n && k < g.k) ? to_float(b[k * g.b_rs + n * g.b_cs]) : 0.0f;
    }
  };
  auto store = [&](int buf) {
#pragma unroll
    for (int i = 0; i < per_thread; ++i) {
      int mm, nn, kk;
      a_slot(tid + i * simt_tile::threads, mm, kk);
      as[buf][kk][mm] = ra[i];
      b_slot(tid + i * simt_tile::threads, nn, kk);
      bs[buf][kk][nn] = rb[i];
    }
  };

  const int tx = tid % 16, ty = tid / 16;
  float acc[8][8] = {};
  const index_t k_tiles = (g.k + BK - 1) / BK;
  load(0);
  store(0);
  __syncthreads();
  for (index_t t = 0; t < k_tiles; ++t) {
    const int buf = int(t & 1);
    if (t + 1 < k_tiles) load((t + 1) * BK);
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      const float4 a0 = *reinterpret_cast<const float4*>(&as[buf][kk][ty * 4]);
      const float4 a1 = *reinterpret_cast<const float4*>(&as[buf][kk][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4*>(&bs[buf][kk][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&bs[buf][kk][64 + tx * 4]);
      const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    if (t + 1 < k_tiles) store(buf ^ 1);
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const index_t row = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
    if (row >= g.m) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const index_t col = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + (j - 4));
      if (col < g.n) finish(g, batch, row, col, acc[i][j], ep);
    }
  }
}

}  // namespace fusedops::arch::cuda::gemm

#endif  // FUSEDOPS_HAS_CUDA
