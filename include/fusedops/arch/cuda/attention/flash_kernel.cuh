// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/attention. The FlashAttention-2 forward kernel (Dao 2023, "FlashAttention-2:
// Faster Attention with Better Parallelism and Work Partitioning") for fp16 / bf16 with fp32
// accumulation, on mma.sync m16n8k16 (sm_80 and later; Hopper runs it too, without wgmma).
//
// Block: 4 warps, each owning MT m-tiles of 16 whole query rows; key/value tiles of 64 keys.
// Whole rows per warp: the online softmax (row max, row sum) needs only shuffles inside a quad.
//  - MT = 2, 128 rows (prefill; FlashAttention-2's hdim-128 shape): each K/V tile serves 128
//    rows (half the L2 traffic of 64-row blocks) and every K/V fragment read by ldmatrix feeds
//    two MMAs. O (2 × D/2) + S (64) fill the 255 registers of launch bounds (128, 2), so Q's
//    fragments are re-read from shared memory each k-step, P is packed to T as it is
//    exponentiated, and element masks / softcap are left to MT = 1 (the launcher picks).
//  - MT = 1, 64 rows (decode, short rows, element masks, softcap): Q's fragments stay in
//    registers.
// H100 (bf16, D = 128, B4 H32 S4096): 128-row blocks took causal prefill from 5.5 ms (100
// TFLOP/s, 64-row blocks) to 1.92 ms (287 TFLOP/s); non-causal 318 TFLOP/s.
// Shared memory: Q BM × D, K and V 2 × 64 × D each (double-buffered by cp.async, K and V in
// separate groups so Q·Kᵀ of tile t starts before V(t) lands, and tile t + 1 is copied while t
// is multiplied), then each row's key range: 96 KiB + 1 KiB for D = 128 and MT = 2. Rows are D/8
// 16-byte chunks, XOR-swizzled by (row & 7) so the eight rows one ldmatrix reads hit eight
// different bank groups. K fragments come from ldmatrix (keys are the N dimension, D contiguous:
// the "col" B operand as is), V fragments from ldmatrix.trans. S = Q·Kᵀ stays in registers; its
// accumulator layout is exactly the A-operand layout of the P·V mma (FlashAttention-2's register
// reuse), P rounded to T. Without softcap or element masks (and with a positive scale) S stays
// the raw dot product and the scale is folded into the exp2's FMA; O's rescale is skipped while
// no row of the warp has a new maximum.
//
// Rows: row r of the call is (query head h0 + r / Sq, query i = r % Sq); with GQA packing
// (`pack` heads of one KV head per block, see ops::attention_detail::device_plan) a decode block
// holds a whole group. Key tiles outside the union of the block's rows' key ranges are never
// loaded; a warp skips tiles outside its rows' union, and tiles inside every one of its rows'
// ranges skip the per-element tests. Split-KV: blockIdx.z = batch · splits + split, each split a
// contiguous run of the block's tiles, writing unnormalised O with (m, l) to the workspace for
// combine_kernel.cuh.
// Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/attention/args.cuh"

#if FUSEDOPS_HAS_CUDA

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "fusedops/arch/cuda/gemm/mma_kernel.cuh"  // cp.async / ldmatrix / mma.sync wrappers

namespace fusedops::arch::cuda::attention {

template <int D, int MT>
struct flash_tile {
  static_assert(D % 64 == 0, "the swizzle needs rows of a multiple of 8 chunks");
  static_assert(MT == 1 || MT == 2, "a warp owns 16 or 32 query rows");
  static constexpr int warps = 4, threads = 128, bm = 64 * MT, bn = 64, chunks = D / 8;
  /// Q + double-buffered K and V, in bytes, for elements of `elem` bytes, then each row's key
  /// range (2 ints).
  static constexpr unsigned int smem_bytes(unsigned int elem) {
    return (bm + 4 * bn) * D * elem + bm * 8;
  }
};
static_assert(flash_tile<64, 1>::bm == ops::attention_detail::device_plan::small_block_rows &&
                  flash_tile<64, 2>::bm == ops::attention_detail::device_plan::large_block_rows &&
                  flash_tile<64, 1>::bn == ops::attention_detail::device_plan::block_keys,
              "the host plan and the flash kernel must agree on the tile sizes");

namespace flash_detail {

/// Element offset of (row, 16-byte chunk) in a tile with `chunks` chunks per row.
__device__ __forceinline__ int swz(int row, int chunk, int chunks) {
  return row * chunks * 8 + ((chunk ^ (row & 7)) << 3);
}

/// Two floats rounded to T, packed as the b16x2 register of an mma operand (lo: lower column).
template <class T>
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi) {
  std::uint32_t u;
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    std::memcpy(&u, &v, sizeof u);
  } else {
    const __half2 v = __floats2half2_rn(lo, hi);
    std::memcpy(&u, &v, sizeof u);
  }
  return u;
}

/// 2^x in one MUFU instruction (subnormal results flush to 0: they weigh nothing next to the
/// row's maximum, whose term is 1).
__device__ __forceinline__ float ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

}  // namespace flash_detail

/// MT: 16-row m-tiles per warp. MT = 1 (64-row blocks, decode and short rows): Q's fragments
/// stay in registers. MT = 2 (128-row blocks, FlashAttention-2's prefill shape): every K / V
/// fragment read from shared memory feeds two MMAs and each K / V tile serves 128 rows (half the
/// L2 traffic of 64-row blocks); Q's fragments are re-read from shared memory per k-step so the
/// accumulators (O: 2 × D/2, S: 64) fit two blocks per SM.
template <class T, int D, int MT>
__global__ void __launch_bounds__(128, 2) flash_kernel(args<T> g) {
#if FUSEDOPS_CUDA_ARCH >= 800
  using namespace gemm::mma_detail;
  using flash_detail::ex2;
  using flash_detail::pack2;
  using flash_detail::swz;
  using tile = flash_tile<D, MT>;
  constexpr int BM = tile::bm, BN = tile::bn, CH = tile::chunks, NT = tile::threads, WR = 16 * MT;
  constexpr float log2e = 1.4426950408889634f;
  extern __shared__ __align__(128) unsigned char flash_smem[];
  T* const qs = reinterpret_cast<T*>(flash_smem);
  T* const ks = qs + BM * D;                                       // [2][BN][D]
  T* const vs = ks + 2 * BN * D;                                   // [2][BN][D]
  int2* const range_s = reinterpret_cast<int2*>(vs + 2 * BN * D);  // [BM]: rows' [lo, hi)

  const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int quad = lane >> 3, in_quad = lane & 7, gq = lane >> 2, tq = lane & 3;
  // Row, key and head counts fit in int (the launcher checks); the range rules and addresses
  // are computed in index_t.
  const int sq = int(g.sq), splits = int(g.splits);
  const int b = int(blockIdx.z) / splits, split = int(blockIdx.z) % splits;
  const int rows = int(g.pack) * sq;  // rows of this (batch, head block)
  // Last row block first: under the causal rule the late rows have the most keys, so the
  // longest blocks start in the first wave instead of forming the tail.
  const int r0 = (int(gridDim.x) - 1 - int(blockIdx.x)) * BM;
  const int h0 = int(blockIdx.y) * int(g.pack);  // first query head of the block's rows
  const int kvh = h0 / int(g.group);
  const int r_last = (r0 + BM < rows ? r0 + BM : rows) - 1;
  int i_min = 0, i_max = sq - 1;  // the block's query indices (all when it spans heads)
  if (r0 / sq == r_last / sq) i_min = r0 % sq, i_max = r_last % sq;

  const key_range kr = key_range::make(g, b);
  const int kv_begin = int(kr.lo(i_min)), kv_end = int(kr.hi(i_max)), limit = int(kr.limit);
  int t_begin = 0, t_end = 0;
  if (kv_end > kv_begin) t_begin = kv_begin / BN, t_end = (kv_end + BN - 1) / BN;
  const int per = (t_end - t_begin + splits - 1) / splits;
  const int ts = t_begin + split * per < t_end ? t_begin + split * per : t_end;
  const int te = ts + per < t_end ? ts + per : t_end;
  // MT = 2 is launched only without element masks and softcap (see the launcher): the register
  // budget of its accumulators leaves no room for their per-score work.
  const bool elem_masks = MT == 1 && (g.fmask != nullptr || g.bmask != nullptr);
  // Raw scores: with no softcap, no element mask and a positive scale, S stays the plain dot
  // product (max and masks commute with the scale) and the scale is folded into the exp2's FMA;
  // otherwise S holds the scaled scores. c2 turns S into log2 units; m is kept in S's units.
  const bool raw = !elem_masks && (MT == 2 || g.softcap == 0.0f) && g.scale > 0.0f;
  const float c2 = raw ? g.scale * log2e : log2e, m_unit = raw ? g.scale : 1.0f;

  // Each row's key range (padding rows: empty, every key masked), in shared memory for the
  // element tests of partial tiles (registers are the scarce resource). Per warp: the union of
  // its rows' ranges (tiles outside it are skipped by the warp) and their intersection (tiles
  // inside it skip the element tests).
  const int w_row = r0 + warp * WR;
  const bool warp_active = w_row < rows;
  int u_lo = 0x7fffffff, u_hi = 0, f_lo = 0, f_hi = 0x7fffffff;
#pragma unroll
  for (int x = 0; x < (WR + 31) / 32; ++x) {
    const int wl = x * 32 + lane, r = w_row + wl;
    if (wl < WR) {
      int lo = 0, hi = 0;
      if (r < rows) {
        lo = int(kr.lo(r % sq)), hi = int(kr.hi(r % sq));
        u_lo = min(u_lo, lo), u_hi = max(u_hi, hi), f_lo = max(f_lo, lo), f_hi = min(f_hi, hi);
      }
      range_s[warp * WR + wl] = make_int2(lo, hi);  // read after the first barrier of the loop
    }
  }
  u_lo = __reduce_min_sync(0xffffffffu, u_lo), u_hi = __reduce_max_sync(0xffffffffu, u_hi);
  f_lo = __reduce_max_sync(0xffffffffu, f_lo), f_hi = __reduce_min_sync(0xffffffffu, f_hi);

  // Q tile (zero rows past the end), its own cp.async group.
#pragma unroll
  for (int it = 0; it < BM * CH / NT; ++it) {
    const int c = tid + it * NT, r = c / CH, ch = c % CH;
    const int row = r0 + r;
    const bool ok = row < rows;
    const int h = ok ? h0 + row / sq : h0, i = ok ? row % sq : 0;
    const T* src = g.q + b * g.qs[0] + h * g.qs[1] + i * g.qs[2] + ch * 8;
    cp_async_16(smem_address(qs + swz(r, ch, CH)), ok ? src : g.q, ok);
  }
  cp_async_commit();

  const T* const kbase = g.k + b * g.ks[0] + kvh * g.ks[1];
  const T* const vbase = g.v + b * g.vs[0] + kvh * g.vs[1];
  // K (or V) tile t into `stage`; keys past the valid length are zero-filled, never read. K and V
  // are separate cp.async groups: Q·Kᵀ of a tile starts before its V has landed.
  // Thread tid copies chunk ch_t of rows r_t, r_t + RS, ... (RS = NT / CH rows per pass; RS is a
  // multiple of 8, so the swizzle of every pass equals the first one's): one running source
  // pointer and one shared-memory offset instead of a hoisted address per pass.
  constexpr int RS = NT / CH;
  static_assert(RS % 8 == 0 && BN % RS == 0, "whole swizzle periods per copy pass");
  const int r_t = tid / CH, ch_t = tid % CH, dst_t = swz(r_t, ch_t, CH);
  auto load = [&](T* dst_base, const T* src_base, index_t stride, const T* dummy, int stage,
                  int t) {
    const int j = t * BN + r_t;
    const std::uint32_t dst = smem_address(dst_base + stage * BN * D + dst_t);
    const T* src = src_base + j * stride + ch_t * 8;
    const index_t step = RS * stride;
#pragma unroll
    for (int it = 0; it < BN / RS; ++it, src += step) {
      const bool ok = j + it * RS < limit;
      cp_async_16(dst + unsigned(it * RS * D * sizeof(T)), ok ? src : dummy, ok);
    }
  };
  if (ts < te) load(ks, kbase, g.ks[2], g.k, 0, ts);
  cp_async_commit();  // possibly empty: keeps the group count uniform
  if (ts < te) load(vs, vbase, g.vs[2], g.v, 0, ts);
  cp_async_commit();

  std::uint32_t qf[MT == 1 ? D / 16 : 1][4];
  if constexpr (MT == 1) {
    cp_async_wait<2>();  // the Q group has landed (this thread's copies)...
    __syncthreads();     // ...and everyone's
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const int r = warp * 16 + (quad & 1) * 8 + in_quad;
      ldmatrix_x4(qf[kk], smem_address(qs + swz(r, kk * 2 + (quad >> 1), CH)));
    }
  }

  float o[MT][D / 8][4];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < D / 8; ++nt)
      o[mt][nt][0] = o[mt][nt][1] = o[mt][nt][2] = o[mt][nt][3] = 0.0f;
  float m[MT][2], l[MT][2];  // l: this thread's columns only
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) m[mt][0] = m[mt][1] = neg_inf(), l[mt][0] = l[mt][1] = 0.0f;

  for (int t = ts; t < te; ++t) {
    const int st = (t - ts) & 1;
    // Outstanding: K(t), V(t) (and Q on the first tile). K(t) has landed for every thread, and
    // every warp is done with tile t - 1, whose stage is refilled with tile t + 1 next.
    cp_async_wait<1>();
    __syncthreads();
    if (t + 1 < te) load(ks, kbase, g.ks[2], g.k, st ^ 1, t + 1);
    cp_async_commit();
    if (t + 1 < te) load(vs, vbase, g.vs[2], g.v, st ^ 1, t + 1);
    cp_async_commit();

    const T* const kt = ks + st * BN * D;
    const T* const vt = vs + st * BN * D;
    const int j0 = t * BN;
    // A warp skips tiles none of its rows may attend (causal diagonal; decode padding warps).
    const bool work = warp_active && j0 < u_hi && j0 + BN > u_lo;
    std::uint32_t pk[MT][BN / 16][4];  // P rounded to T: the A fragments of P·V's k-steps
    if (work) {
      float s[MT][BN / 8][4];
      // S = Q·Kᵀ for the warp's rows × 64 keys.
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < BN / 8; ++nt)
          s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.0f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        std::uint32_t qa[MT][4];
        if constexpr (MT == 1) {
#pragma unroll
          for (int x = 0; x < 4; ++x) qa[0][x] = qf[kk][x];
        } else {
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            const int r = warp * WR + mt * 16 + (quad & 1) * 8 + in_quad;
            ldmatrix_x4(qa[mt], smem_address(qs + swz(r, kk * 2 + (quad >> 1), CH)));
          }
        }
#pragma unroll
        for (int nj = 0; nj < BN / 16; ++nj) {
          std::uint32_t f[4];
          const int n = nj * 16 + (quad >> 1) * 8 + in_quad;
          ldmatrix_x4(f, smem_address(kt + swz(n, kk * 2 + (quad & 1), CH)));
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma_16816<T>(s[mt][2 * nj], qa[mt], f[0], f[1]);
            mma_16816<T>(s[mt][2 * nj + 1], qa[mt], f[2], f[3]);
          }
        }
      }

      // Scale (unless raw), softcap, masks. Accumulator element e of n-tile nt: row
      // gq + 8·(e >> 1), key nt·8 + 2·tq + (e & 1).
      const bool full = !elem_masks && j0 >= f_lo && j0 + BN <= f_hi;
      if (!raw || !full) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int hf = e >> 1;
              float x = s[mt][nt][e];
              if (!raw) x = MT == 1 ? scaled_score(g, x) : x * g.scale;
              if (!full) {
                const int j = j0 + nt * 8 + 2 * tq + (e & 1);
                const int r = w_row + mt * 16 + hf * 8 + gq;
                const int2 rg = range_s[r - r0];
                if (j < rg.x || j >= rg.y)
                  x = neg_inf();
                else if (elem_masks)
                  x = element_masks(g, x, b, h0 + r / sq, r % sq, j);
              }
              s[mt][nt][e] = x;
            }
      }

      // Online softmax: the row max over the quad (the 4 threads holding a row), rescale, exp.
      // fmaxf ignores NaN, so a NaN score reaches l and O through its exp instead. A row with no
      // finite score yet keeps m = -inf and uses 0 as its reference, so every exp is 0, not NaN.
      float alpha[MT][2];
      bool rescale = false;
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int hf = 0; hf < 2; ++hf) {
          float mx = neg_inf();
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
            mx = fmaxf(mx, fmaxf(s[mt][nt][2 * hf], s[mt][nt][2 * hf + 1]));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
          const float m_new = fmaxf(m[mt][hf], mx);
          const float m_use = m_new == neg_inf() ? 0.0f : m_new;
          const float mb = m_use * c2;
          alpha[mt][hf] = ex2((m[mt][hf] - m_use) * c2);  // exactly 1 when the max is unchanged
          rescale |= alpha[mt][hf] != 1.0f;
          m[mt][hf] = m_new;
          l[mt][hf] *= alpha[mt][hf];
          // S's accumulators of n-tiles 2kk, 2kk + 1 are the A fragment of P·V's k-step kk.
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt) {
            const float p0 = ex2(fmaf(s[mt][nt][2 * hf], c2, -mb));
            const float p1 = ex2(fmaf(s[mt][nt][2 * hf + 1], c2, -mb));
            l[mt][hf] += p0 + p1;
            pk[mt][nt >> 1][(nt & 1) * 2 + hf] = pack2<T>(p0, p1);
          }
        }
      // O's rescale, skipped while no row of the warp has a new maximum (most tiles once the
      // running max has settled): a multiplication by exactly 1.
      if (__any_sync(0xffffffffu, rescale)) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < D / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) o[mt][nt][e] *= alpha[mt][e >> 1];
      }
    }

    cp_async_wait<2>();  // V(t) has landed (this thread's copies)...
    __syncthreads();     // ...and everyone's
    if (work) {
      // O += P·V.
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
#pragma unroll
        for (int nj = 0; nj < D / 16; ++nj) {
          std::uint32_t f[4];
          const int key = kk * 16 + (quad & 1) * 8 + in_quad;
          ldmatrix_x4_trans(f, smem_address(vt + swz(key, nj * 2 + (quad >> 1), CH)));
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma_16816<T>(o[mt][2 * nj], pk[mt][kk], f[0], f[1]);
            mma_16816<T>(o[mt][2 * nj + 1], pk[mt][kk], f[2], f[3]);
          }
        }
      }
    }
  }
  cp_async_wait<0>();

  // Rows: l summed over the quad; O / l (0 for a row with nothing attendable), or the partials
  // (m in scaled-score units).
  const index_t total = g.batch * g.hq * g.sq;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      float lt = l[mt][hf];
      lt += __shfl_xor_sync(0xffffffffu, lt, 1);
      lt += __shfl_xor_sync(0xffffffffu, lt, 2);
      const int r = w_row + mt * 16 + hf * 8 + gq;
      if (r >= rows) continue;
      const index_t h = h0 + r / sq, i = r % sq;
      if (g.splits == 1) {
        const float inv = lt == 0.0f ? 0.0f : 1.0f / lt;  // NaN stays NaN
        T* const y = g.out + index_t(b) * g.os[0] + h * g.os[1] + i * g.os[2];
#pragma unroll
        for (int nt = 0; nt < D / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e)
            y[(nt * 8 + 2 * tq + e) * g.os[3]] = from_float<T>(o[mt][nt][2 * hf + e] * inv);
      } else {
        const index_t rg = (index_t(b) * g.hq + h) * g.sq + i;
        float* const po = g.ws + (index_t(split) * total + rg) * D;
#pragma unroll
        for (int nt = 0; nt < D / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) po[nt * 8 + 2 * tq + e] = o[mt][nt][2 * hf + e];
        if (tq == 0) {
          float* const ml = g.ws + g.splits * total * D + (index_t(split) * total + rg) * 2;
          ml[0] = m[mt][hf] * m_unit;
          ml[1] = lt;
        }
      }
    }
#else
  // Never launched below sm_80: the launcher checks the device's compute capability.
  static_cast<void>(g);
  __trap();
#endif
}

}  // namespace fusedops::arch::cuda::attention

#endif  // FUSEDOPS_HAS_CUDA
