// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/gemm. Hopper's GEMM for 16-bit inputs, and for fp32 ones multiplied in TF32
// when the caller allows it, with fp32 accumulation: the tensor memory accelerator (TMA) copies
// the operand tiles, wgmma multiplies them.
//
// Block tile 128 × BN × (128 bytes of K: 64 16-bit elements or 32 fp32 ones), two consumer
// warpgroups of 64 rows × BN columns each (BN/2 fp32 accumulators per thread). Each shared-memory
// stage has a `full` and an `empty` mbarrier: one thread waits for `empty`, arms `full` with the
// stage's byte count and starts two tensor copies (A's 128-row box, B's BN-row box) that
// complete on it; the consumers wait for `full`, run the stage's wgmmas, keep one stage of
// wgmmas in flight and release the stage before it. The copies and the wgmma reads both go
// through the async proxy, so no proxy fence is needed. The tensor maps swizzle 128 bytes, the
// layout wgmma_kernel.cuh's descriptors describe, and zero-fill past the matrix edges. The two
// arrangements and when each is used: tma_tile and the launcher (gemm.cuh).
//
// Measured on an H100 (README): 0.71–0.85 of cuBLAS's plain bf16 GEMM, 0.88 of its TF32 one. A
// variant fed by a cp.async producer warpgroup (each producer thread waiting for its own copies,
// then fence.proxy.async, then arriving) ran 3× slower and was dropped.
//
// Layouts: A row-major and B with unit stride along K (a [N, K] weight), 16-byte aligned
// pointers, row and batch strides multiples of 16 bytes (gemm.cuh's mma_layout_for and
// tf32_layout), plus what the tensor maps accept (checked by their encoding, gemm.cuh's
// operand_map: otherwise the launcher falls back). Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/gemm/wgmma_kernel.cuh"

#if FUSEDOPS_HAS_CUDA

#include <cuda.h>  // CUtensorMap and its enums (types only; the driver is reached via the runtime)

#include <cstdint>

namespace fusedops::arch::cuda::gemm {

/// Two arrangements of the same main loop:
/// - warp-specialised (WS): 384 threads, warpgroup 0 the producer (one thread issues the copies,
///   the others leave; setmaxnreg hands their registers to the consumers), four stages, one block
///   per SM: the fastest main loop, used with 128 × 256 tiles when they fill the GPU;
/// - shared (!WS, BN = 128 only): 256 threads, consumer thread 0 also issues the copies, three
///   stages (96 KiB) and at most 128 registers, so two blocks share an SM and one block's
///   epilogue runs while the other's tensor cores work: used when the epilogue does real work.
template <int BN, bool WS>
struct tma_tile {
  static_assert(BN == 128 || (BN == 256 && WS), "tma_tile: 128 × 128, or 128 × 256 with WS");
  /// K slices of 128 bytes per row: 64 bf16 / fp16 elements, or 32 fp32 ones (TF32).
  static constexpr int bm = 128, bn = BN, bk_bytes = 128, stages = WS ? 4 : 3;
  static constexpr int consumer_threads = 256, threads = WS ? 384 : 256;
  static constexpr int blocks_per_sm = WS ? 1 : 2;
  static constexpr int stage_bytes = (bm + bn) * bk_bytes;
  /// The stages, slack to align them to 1024 bytes (the 128-byte swizzle repeats every 8 rows),
  /// then 2 × stages barriers.
  static constexpr int smem_bytes = stages * stage_bytes + 1024 + 2 * stages * 8;
};

namespace tma_detail {

using mma_detail::smem_address;

__device__ __forceinline__ void mbarrier_init(std::uint64_t* bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_address(bar)), "r"(count)
               : "memory");
}
__device__ __forceinline__ void mbarrier_arrive(std::uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_address(bar)) : "memory");
}
/// Arrives and adds `bytes` to the transaction count the phase waits for.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(std::uint64_t* bar, int bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_address(bar)),
               "r"(bytes)
               : "memory");
}
/// Waits until the barrier's phase of this parity (0 or 1) has completed.
__device__ __forceinline__ void mbarrier_wait(std::uint64_t* bar, int parity) {
  asm volatile(
      "{\n.reg .pred done;\n"  // labels are local to the { } scope, so inlining repeats them
      "retry:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra retry;\n}\n" ::"r"(smem_address(bar)),
      "r"(parity)
      : "memory");
}

/// Tensor copy of the box at (x = K offset, y = row offset, z = batch) into `dst`, completing on
/// `bar`.
__device__ __forceinline__ void tma_load(void* dst, const CUtensorMap* map, std::uint64_t* bar,
                                         int x, int y, int z) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(smem_address(dst)),
      "l"(reinterpret_cast<std::uint64_t>(map)), "r"(x), "r"(y), "r"(z), "r"(smem_address(bar))
      : "memory");
}

template <int N>
__device__ __forceinline__ void setmaxnreg_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N>
__device__ __forceinline__ void setmaxnreg_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

}  // namespace tma_detail

/// A and B as rank-3 tensor maps (K, rows, batch; a shared operand has one batch, read at z = 0),
/// passed by value in the kernel's parameter space (__grid_constant__), where the copy engine
/// reads them.
template <class T, class TC, class E, int BN, bool WS>
__global__ void __launch_bounds__(tma_tile<BN, WS>::threads, tma_tile<BN, WS>::blocks_per_sm)
    tma_kernel(const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_b,
               args<T, TC> g, E ep) {
#if FUSEDOPS_CUDA_SM90A
  using namespace tma_detail;
  using wgmma_detail::descriptor;
  using tile = tma_tile<BN, WS>;
  constexpr int BM = tile::bm, BK = tile::bk_bytes / int(sizeof(T)), S = tile::stages;
  constexpr int halves = BN / 128;
  extern __shared__ unsigned char smem_raw[];
  unsigned char* const smem = reinterpret_cast<unsigned char*>(
      (reinterpret_cast<std::uintptr_t>(smem_raw) + 1023) & ~std::uintptr_t(1023));
  auto a_tile = [&](int stage) { return reinterpret_cast<T*>(smem + stage * tile::stage_bytes); };
  auto b_tile = [&](int stage) { return a_tile(stage) + BM * BK; };
  std::uint64_t* const full = reinterpret_cast<std::uint64_t*>(smem + S * tile::stage_bytes);
  std::uint64_t* const empty = full + S;

  const int tid = int(threadIdx.x);
  const int batch = int(blockIdx.z);
  const int m0 = int(blockIdx.y) * BM, n0 = int(blockIdx.x) * BN;
  const int k_tiles = int((g.k + BK - 1) / BK);
  if (tid == 0) {
    for (int s = 0; s < S; ++s) {
      mbarrier_init(&full[s], 1);   // the issuing thread's arrive (+ the copies' bytes)
      mbarrier_init(&empty[s], 8);  // one arrive per consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  // Slice kt into its stage: arm `full` with the bytes, start both copies.
  auto issue = [&](int kt) {
    const int st = kt % S;
    mbarrier_arrive_expect_tx(&full[st], tile::stage_bytes);
    tma_load(a_tile(st), &map_a, &full[st], kt * BK, m0, g.a_bs == 0 ? 0 : batch);
    tma_load(b_tile(st), &map_b, &full[st], kt * BK, n0, g.b_bs == 0 ? 0 : batch);
  };
  int consumer_tid = tid;
  if constexpr (WS) {
    if (tid < 128) {
      setmaxnreg_dec<40>();
      if (tid != 0) return;
      for (int kt = 0; kt < k_tiles; ++kt) {
        if (kt >= S) mbarrier_wait(&empty[kt % S], (kt / S - 1) & 1);
        issue(kt);
      }
      return;
    }
    setmaxnreg_inc<232>();
    consumer_tid = tid - 128;
  } else {
    if (tid == 0)
      for (int kt = 0; kt < S && kt < k_tiles; ++kt) issue(kt);
  }

  // Consumer warpgroups: rows 64 · consumer .. + 63 of the tile, all BN columns.
  const int consumer = consumer_tid >> 7, lane = tid & 31, warp_in_wg = (consumer_tid >> 5) & 3;
  float acc[halves][64];
#pragma unroll
  for (int h = 0; h < halves; ++h)
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[h][i] = 0.0f;
  for (int kt = 0; kt < k_tiles; ++kt) {
    const int st = kt % S;
    mbarrier_wait(&full[st], (kt / S) & 1);
    const std::uint64_t da = descriptor(a_tile(st) + consumer * 64 * BK);
    const std::uint64_t db = descriptor(b_tile(st));
#pragma unroll
    for (int h = 0; h < halves; ++h)
#pragma unroll
      for (int i = 0; i < 64; ++i) wgmma_detail::fence_operand(acc[h][i]);
    wgmma_detail::wgmma_fence();
#pragma unroll
    for (int j = 0; j < 4; ++j)  // 4 steps of 32 bytes along K: +2 in the address each
#pragma unroll
      for (int h = 0; h < halves; ++h)  // rows 128h.. of B: 16 KiB = 1024 address units on
        wgmma_detail::wgmma_64x128x16<T>(acc[h], da + 2 * j, db + 1024 * h + 2 * j);
    wgmma_detail::wgmma_commit();
    // The previous stage's wgmmas are done once at most this stage's are pending: release it.
    wgmma_detail::wgmma_wait<1>();
#pragma unroll
    for (int h = 0; h < halves; ++h)
#pragma unroll
      for (int i = 0; i < 64; ++i) wgmma_detail::fence_operand(acc[h][i]);
    if (kt >= 1 && lane == 0) mbarrier_arrive(&empty[(kt - 1) % S]);
    if constexpr (!WS) {  // thread 0 refills the released stage once every warp is done with it
      if (consumer_tid == 0 && kt >= 1 && kt - 1 + S < k_tiles) {
        mbarrier_wait(&empty[(kt - 1) % S], ((kt - 1) / S) & 1);
        issue(kt - 1 + S);
      }
    }
  }
  wgmma_detail::wgmma_wait<0>();
#pragma unroll
  for (int h = 0; h < halves; ++h)
#pragma unroll
    for (int i = 0; i < 64; ++i) wgmma_detail::fence_operand(acc[h][i]);

  // Accumulator layout of m64nN: warp w of the warpgroup holds rows 16w..16w + 15; register
  // 4i + {0, 1} is (row lane/4, columns 8i + 2(lane%4) + {0, 1}), 4i + {2, 3} eight rows below.
  // Two passes: every epilogue value first, then the stores. What the epilogue reads (bias,
  // residual, C_in) may alias C as far as the compiler knows, so loads placed after a store
  // would each wait for it: with all loads first, they are in flight together.
  const index_t row0 = m0 + consumer * 64 + warp_in_wg * 16 + (lane >> 2);
#pragma unroll
  for (int h = 0; h < halves; ++h)
#pragma unroll
    for (int i = 0; i < 16; ++i)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const index_t row = row0 + 8 * (e >> 1),
                      col = n0 + h * 128 + 8 * i + 2 * (lane & 3) + (e & 1);
        if (row < g.m && col < g.n)
          acc[h][4 * i + e] = epilogue_value(g, index_t(batch), row, col, acc[h][4 * i + e], ep);
      }
  const bool paired = pairs_aligned(g);
#pragma unroll
  for (int h = 0; h < halves; ++h)
#pragma unroll
    for (int i = 0; i < 16; ++i) {
      const index_t col = n0 + h * 128 + 8 * i + 2 * (lane & 3);
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const index_t row = row0 + 8 * r;
        if (row >= g.m || col >= g.n) continue;
        if (col + 1 < g.n)
          store_pair(g, index_t(batch), row, col, acc[h][4 * i + 2 * r], acc[h][4 * i + 2 * r + 1],
                     paired);
        else
          store(g, index_t(batch), row, col, acc[h][4 * i + 2 * r]);
      }
    }
#else
  static_cast<void>(map_a), static_cast<void>(map_b), static_cast<void>(g), static_cast<void>(ep);
#endif
}

}  // namespace fusedops::arch::cuda::gemm

#endif  // FUSEDOPS_HAS_CUDA
