// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/gemm. The tensor-core GEMM for 16-bit inputs (fp16, bf16) with fp32
// accumulation: mma.sync m16n8k16 (sm_80 and later; sm_90 runs it too, though Hopper's fastest
// path, wgmma, is not used yet).
//
// Block tile 128 × 128 × 32, 8 warps as 2 × 4, each warp 64 × 32 (4 × 4 mma tiles, 64 fp32
// accumulators per thread). Three shared-memory stages filled by cp.async (16-byte chunks,
// zero-filled past the matrix edges), so two K slices are in flight while one is multiplied;
// 3 × 16 KiB = 48 KiB, the static shared-memory limit, so the launch needs no attribute call.
// Fragments come from ldmatrix (.trans for a row-major [K, N] B). Shared rows are XOR-swizzled in
// 16-byte chunks so the eight rows one ldmatrix reads land in eight different bank groups.
//
// Layout requirements (checked by the launcher, which otherwise uses the SIMT kernel): A has unit
// column stride; B has unit column stride ([K, N] row-major) or unit row stride (Bᵀ row-major,
// a PyTorch Linear weight); leading dimensions, batch strides and the contiguous extent (K, or
// N for row-major B) are multiples of 8 elements and the pointers 16-byte aligned, so every
// 16-byte chunk is either wholly inside the matrix or wholly outside. Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/gemm/args.cuh"

#if FUSEDOPS_HAS_CUDA

#include <cstdint>

namespace fusedops::arch::cuda::gemm {

struct mma_tile {
  static constexpr int bm = 128, bn = 128, bk = 32, stages = 3, threads = 256;
};

namespace mma_detail {

__device__ __forceinline__ std::uint32_t smem_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

/// 16 bytes global -> shared, or 16 zero bytes when !valid (src is then not read).
__device__ __forceinline__ void cp_async_16(std::uint32_t dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], std::uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t (&r)[4], std::uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

/// d += a · b for one m16n8k16 tile.
template <class T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const std::uint32_t (&a)[4],
                                          std::uint32_t b0, std::uint32_t b1) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

/// Element offset of (row, 16-byte chunk) in a tile with 4 chunks (32 elements) per row.
__device__ __forceinline__ int swizzle32(int row, int chunk) {
  return row * 32 + ((chunk ^ ((row >> 1) & 3)) << 3);
}
/// The same for a row-major B slice with 16 chunks (128 elements) per row.
__device__ __forceinline__ int swizzle128(int row, int chunk) {
  return row * 128 + ((chunk ^ (row & 7)) << 3);
}

}  // namespace mma_detail

/// One block's 128 × 128 tile of C. B_K_FAST: B's unit stride runs along K (b_rs == 1); otherwise
/// along N (b_cs == 1). A device function so that the Hopper kernel can fall back on it.
template <class T, class TC, bool B_K_FAST, class E>
__device__ __forceinline__ void mma_tile_body(const args<T, TC>& g, const E& ep) {
#if FUSEDOPS_CUDA_ARCH >= 800
  using namespace mma_detail;
  constexpr int BM = mma_tile::bm, BN = mma_tile::bn, BK = mma_tile::bk, S = mma_tile::stages;
  __shared__ __align__(128) T as[S][BM * BK];
  __shared__ __align__(128) T bs[S][BK * BN];

  const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int wm = warp >> 2, wn = warp & 3;  // warp tile: rows wm·64, columns wn·32
  const index_t batch = blockIdx.z;
  const index_t m0 = index_t(blockIdx.y) * BM, n0 = index_t(blockIdx.x) * BN;
  const T* a = g.a + batch * g.a_bs;
  const T* b = g.b + batch * g.b_bs;

  // Each thread copies 2 chunks of A and 2 of B per stage (512 chunks each).
  auto load_stage = [&](int stage, index_t kt) {
    const index_t k0 = kt * BK;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int c = tid + i * mma_tile::threads;
      {
        const int r = c >> 2, ch = c & 3;
        const index_t m = m0 + r, k = k0 + ch * 8;
        const bool ok = m < g.m && k < g.k;
        cp_async_16(smem_address(&as[stage][swizzle32(r, ch)]), ok ? a + m * g.a_rs + k : a, ok);
      }
      if constexpr (B_K_FAST) {
        const int r = c >> 2, ch = c & 3;  // r: column n of the tile, ch: chunk along K
        const index_t n = n0 + r, k = k0 + ch * 8;
        const bool ok = n < g.n && k < g.k;
        cp_async_16(smem_address(&bs[stage][swizzle32(r, ch)]), ok ? b + n * g.b_cs + k : b, ok);
      } else {
        const int r = c >> 4, ch = c & 15;  // r: row k of the slice, ch: chunk along N
        const index_t k = k0 + r, n = n0 + ch * 8;
        const bool ok = k < g.k && n < g.n;
        cp_async_16(smem_address(&bs[stage][swizzle128(r, ch)]), ok ? b + k * g.b_rs + n : b, ok);
      }
    }
  };

  float acc[4][4][4] = {};
  const index_t k_tiles = (g.k + BK - 1) / BK;
#pragma unroll
  for (int s = 0; s < S - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    cp_async_commit();  // possibly empty: keeps the group count uniform
  }

  const int quad = lane >> 3, in_quad = lane & 7;
  for (index_t kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<S - 2>();  // slice kt has landed (this thread's copies)...
    __syncthreads();         // ...and everyone's; everyone is also done with slice kt - 1
    const index_t next = kt + S - 1;
    if (next < k_tiles) load_stage(int(next % S), next);
    cp_async_commit();

    const int st = int(kt % S);
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      std::uint32_t af[4][4], bf[4][2];
#pragma unroll
      for (int mi = 0; mi < 4; ++mi) {
        const int r = wm * 64 + mi * 16 + (quad & 1) * 8 + in_quad;
        ldmatrix_x4(af[mi], smem_address(&as[st][swizzle32(r, kk / 8 + (quad >> 1))]));
      }
#pragma unroll
      for (int nj = 0; nj < 2; ++nj) {
        std::uint32_t t[4];
        if constexpr (B_K_FAST) {
          const int n = wn * 32 + nj * 16 + (quad >> 1) * 8 + in_quad;
          ldmatrix_x4(t, smem_address(&bs[st][swizzle32(n, kk / 8 + (quad & 1))]));
        } else {
          const int k = kk + (quad & 1) * 8 + in_quad;
          ldmatrix_x4_trans(
              t, smem_address(&bs[st][swizzle128(k, (wn * 32 + nj * 16) / 8 + (quad >> 1))]));
        }
        bf[2 * nj][0] = t[0], bf[2 * nj][1] = t[1];
        bf[2 * nj + 1][0] = t[2], bf[2 * nj + 1][1] = t[3];
      }
#pragma unroll
      for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) mma_16816<T>(acc[mi][ni], af[mi], bf[ni][0], bf[ni][1]);
    }
  }
  cp_async_wait<0>();

  // Accumulator layout of m16n8: c0, c1 at (g, 2t), (g, 2t + 1); c2, c3 eight rows below.
  const int gq = lane >> 2, tq = lane & 3;
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const index_t row = m0 + wm * 64 + mi * 16 + half * 8 + gq;
      if (row >= g.m) continue;
#pragma unroll
      for (int ni = 0; ni < 4; ++ni) {
        const index_t col = n0 + wn * 32 + ni * 8 + 2 * tq;
        if (col < g.n) finish(g, batch, row, col, acc[mi][ni][2 * half], ep);
        if (col + 1 < g.n) finish(g, batch, row, col + 1, acc[mi][ni][2 * half + 1], ep);
      }
    }
#else
  // Never launched below sm_80: the launcher checks the device's compute capability.
  static_cast<void>(g), static_cast<void>(ep);
  __trap();
#endif
}

template <class T, class TC, bool B_K_FAST, class E>
__global__ void __launch_bounds__(mma_tile::threads) mma_kernel(args<T, TC> g, E ep) {
  mma_tile_body<T, TC, B_K_FAST, E>(g, ep);
}

}  // namespace fusedops::arch::cuda::gemm

#endif  // FUSEDOPS_HAS_CUDA
