// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/gemm. Hopper's tensor-core GEMM for 16-bit inputs with fp32 accumulation:
// wgmma.mma_async m64n128k16 (sm_90a), operands read straight from shared memory through matrix
// descriptors, so no ldmatrix and no fragment registers.
//
// Block tile 128 × 128 × 64, two warpgroups (256 threads), each computing 64 rows × 128 columns
// (64 fp32 accumulators per thread). Shared memory holds `stages` K slices (32 KiB each) in the
// layout wgmma reads with 128-byte swizzling: a K-major tile of 64 elements (128 bytes) per row,
// the 16-byte chunk c of row r stored at chunk c ^ (r mod 8), 8-row groups 1024 bytes apart. All
// 256 threads fill the stages with cp.async (zero-filled past the matrix edges); the copies of
// slice kt + stages - 1 are issued while the tensor cores work on slice kt. With 3 stages (96 KiB)
// two blocks share an SM, so one block's barrier waits overlap the other's MMAs.
//
// Verified on an H100 (2026-11-22): the CUDA tests pass on it, memcheck clean; 0.57 of cuBLAS at
// 4096³ bf16. The TMA-fed kernel (tma_kernel.cuh) now serves these layouts at 0.71–0.85; this one
// remains the fallback where no tensor map can describe the operands (e.g. a driver without
// cuTensorMapEncodeTiled).
//
// Layouts: A row-major and B with unit stride along K (a [N, K] weight, as PyTorch stores Linear
// layers), under the same alignment rules as mma_kernel.cuh. Built without sm_90a (an sm_80 or
// plain sm_90 binary), the kernel's body is mma_kernel's instead, and the launcher, which sees
// that from the kernel's static shared memory, launches mma_kernel directly. Included only by
// nvcc.
#pragma once

#include "fusedops/arch/cuda/gemm/mma_kernel.cuh"

#if FUSEDOPS_HAS_CUDA

#include <cstdint>

namespace fusedops::arch::cuda::gemm {

struct wgmma_tile {
  static constexpr int bm = 128, bn = 128, bk = 64, stages = 3, threads = 256;
  static constexpr int stage_bytes = (bm + bn) * bk * 2;
  /// Dynamic shared memory a launch asks for: the stages, plus slack to align them to 1024 bytes
  /// (the 128-byte swizzle pattern repeats every 8 rows = 1024 bytes).
  static constexpr int smem_bytes = stages * stage_bytes + 1024;
};

namespace wgmma_detail {

/// Shared-memory matrix descriptor of a K-major tile with 128-byte swizzling whose 1024-byte
/// aligned start is `tile`: start address >> 4 (bits 0-13), leading byte offset (unused for this
/// layout, 16 bytes by convention; bits 16-29), stride byte offset = 1024 bytes between 8-row
/// groups (bits 32-45), swizzle mode 1 = 128 bytes (bits 62-63).
__device__ __forceinline__ std::uint64_t descriptor(const void* tile) {
  const std::uint32_t addr = mma_detail::smem_address(tile);
  return std::uint64_t((addr & 0x3FFFF) >> 4) | (std::uint64_t(16 >> 4) << 16) |
         (std::uint64_t(1024 >> 4) << 32) | (std::uint64_t(1) << 62);
}

__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
/// Keeps the compiler from moving accumulator accesses across the asynchronous MMAs.
__device__ __forceinline__ void fence_operand(float& r) { asm volatile("" : "+f"(r)::"memory"); }

// One m64n128 step of 32 bytes of K for the element type spelled TYPE in PTX: k16 for bf16 / f16
// (then TRANS holds the two transpose immediates, 0: both operands K-major), k8 for tf32 (always
// K-major: no immediates). The same 64 accumulator operands either way. scale-d is the predicate
// p, true: accumulate into d.
#define FUSEDOPS_WGMMA_64X128(SHAPE_TYPES, TRANS)                                                  \
  asm volatile(                                                                                    \
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                                                 \
      "wgmma.mma_async.sync.aligned.m64n128" SHAPE_TYPES                                           \
      " {"                                                                                         \
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                     \
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "           \
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "           \
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "          \
      "%64, %65, p, 1, 1" TRANS ";\n}\n"                                                           \
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),        \
        "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),    \
        "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), \
        "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), \
        "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), \
        "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), \
        "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), \
        "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), \
        "+f"(d[63])                                                                                \
      : "l"(a), "l"(b), "r"(1))

/// d += A·B for a 64 × 128 step over 32 bytes of K (16 bf16 / fp16 elements, or 8 fp32 ones
/// multiplied in TF32), A and B given by descriptors (both K-major).
template <class T>
__device__ __forceinline__ void wgmma_64x128x16(float (&d)[64], std::uint64_t a, std::uint64_t b) {
#if FUSEDOPS_CUDA_SM90A
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    FUSEDOPS_WGMMA_64X128("k16.f32.bf16.bf16", ", 0, 0");
  } else if constexpr (std::is_same_v<T, __half>) {
    FUSEDOPS_WGMMA_64X128("k16.f32.f16.f16", ", 0, 0");
  } else {
    FUSEDOPS_WGMMA_64X128("k8.f32.tf32.tf32", "");
  }
#else
  static_cast<void>(d), static_cast<void>(a), static_cast<void>(b);
#endif
}
#undef FUSEDOPS_WGMMA_64X128

}  // namespace wgmma_detail

template <class T, class TC, class E>
__global__ void __launch_bounds__(wgmma_tile::threads) wgmma_kernel(args<T, TC> g, E ep) {
#if FUSEDOPS_CUDA_SM90A
  using namespace mma_detail;
  using namespace wgmma_detail;
  constexpr int BM = wgmma_tile::bm, BN = wgmma_tile::bn, BK = wgmma_tile::bk;
  constexpr int S = wgmma_tile::stages;
  extern __shared__ unsigned char smem_raw[];
  unsigned char* const smem = reinterpret_cast<unsigned char*>(
      (reinterpret_cast<std::uintptr_t>(smem_raw) + 1023) & ~std::uintptr_t(1023));
  auto a_tile = [&](int stage) {
    return reinterpret_cast<T*>(smem + stage * wgmma_tile::stage_bytes);
  };
  auto b_tile = [&](int stage) { return a_tile(stage) + BM * BK; };

  const int tid = int(threadIdx.x), lane = tid & 31, wg = tid >> 7, warp_in_wg = (tid >> 5) & 3;
  const index_t batch = blockIdx.z;
  const index_t m0 = index_t(blockIdx.y) * BM, n0 = index_t(blockIdx.x) * BN;
  const T* a = g.a + batch * g.a_bs;
  const T* b = g.b + batch * g.b_bs;

  // 1024 chunks of 16 bytes per operand and slice: 4 of A and 4 of B per thread.
  auto load_stage = [&](int stage, index_t kt) {
    const index_t k0 = kt * BK;
    T* const sa = a_tile(stage);
    T* const sb = b_tile(stage);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int c = tid + i * wgmma_tile::threads, r = c >> 3, ch = c & 7;
      const int offset = r * BK + ((ch ^ (r & 7)) << 3);
      const index_t k = k0 + ch * 8, m = m0 + r, n = n0 + r;
      const bool a_ok = m < g.m && k < g.k, b_ok = n < g.n && k < g.k;
      cp_async_16(smem_address(sa + offset), a_ok ? a + m * g.a_rs + k : a, a_ok);
      cp_async_16(smem_address(sb + offset), b_ok ? b + n * g.b_cs + k : b, b_ok);
    }
  };

  float acc[64];
#pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = 0.0f;
  const index_t k_tiles = (g.k + BK - 1) / BK;
#pragma unroll
  for (int s = 0; s < S - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    cp_async_commit();
  }
  for (index_t kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<S - 2>();  // this thread's copies of slice kt have landed
    fence_proxy_async();     // make them visible to the tensor cores' (async proxy) reads
    __syncthreads();         // everyone's copies; every warpgroup is done with slice kt - 1
    const int st = int(kt % S);
    const std::uint64_t da = descriptor(a_tile(st) + wg * 64 * BK), db = descriptor(b_tile(st));
    wgmma_fence();
#pragma unroll
    for (int j = 0; j < BK / 16; ++j)  // 16 elements = 32 bytes further along K: +2 in the address
      wgmma_64x128x16<T>(acc, da + 2 * j, db + 2 * j);
    wgmma_commit();
    const index_t next = kt + S - 1;  // refills the stage slice kt - 1 used, while the MMAs run
    if (next < k_tiles) load_stage(int(next % S), next);
    cp_async_commit();
    wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < 64; ++i) fence_operand(acc[i]);
  }
  cp_async_wait<0>();

  // Accumulator layout of m64nN: warp w of the warpgroup holds rows 16w..16w + 15; register
  // 4i + {0, 1} is (row lane/4, columns 8i + 2(lane%4) + {0, 1}), 4i + {2, 3} eight rows below.
  // Column pairs are even-aligned: one vector store each where C allows it.
  const bool paired = pairs_aligned(g);
  const index_t row0 = m0 + wg * 64 + warp_in_wg * 16 + (lane >> 2);
#pragma unroll
  for (int i = 0; i < 16; ++i) {
    const index_t col = n0 + 8 * i + 2 * (lane & 3);
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const index_t row = row0 + 8 * h;
      if (row >= g.m || col >= g.n) continue;
      if (col + 1 < g.n)
        finish_pair(g, batch, row, col, acc[4 * i + 2 * h], acc[4 * i + 2 * h + 1], ep, paired);
      else
        finish(g, batch, row, col, acc[4 * i + 2 * h], ep);
    }
  }
#else
  mma_tile_body<T, TC, true, E>(g, ep);
#endif
}

}  // namespace fusedops::arch::cuda::gemm

#endif  // FUSEDOPS_HAS_CUDA
