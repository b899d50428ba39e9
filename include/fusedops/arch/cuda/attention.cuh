// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. The CUDA attention's host launcher: fills the kernels' arguments from the
// validated views, picks the FlashAttention-2 tensor-core kernel (attention/flash_kernel.cuh:
// fp16/bf16, Dqk = Dv in {64, 128}, 16-byte-streamable layout, compute capability 8.0+) or the
// SIMT kernel (attention/simt_kernel.cuh: everything else), and for split-KV enqueues the combine
// pass (attention/combine_kernel.cuh) after it on the same stream. It does not validate (the
// public attention does), allocates nothing and never synchronises; every error it can report is
// found before the first launch, so out is untouched then. Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "fusedops/arch/cuda/attention/args.cuh"
#include "fusedops/arch/cuda/attention/combine_kernel.cuh"
#include "fusedops/arch/cuda/attention/flash_kernel.cuh"
#include "fusedops/arch/cuda/attention/simt_kernel.cuh"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/attention/attention_op.hpp"

namespace fusedops::arch::cuda {

namespace attention_launch {

inline bool aligned16(const void* p) noexcept {
  return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0;
}

/// Whether the tensor-core kernel can stream q, k, v with 16-byte copies: unit stride along D,
/// every other stride a multiple of 8 elements, 16-byte aligned pointers.
template <class T>
bool streamable(const attention::args<T>& g) noexcept {
  const index_t* st[3] = {g.qs, g.ks, g.vs};
  for (const index_t* s : st)
    if (s[3] != 1 || s[0] % 8 != 0 || s[1] % 8 != 0 || s[2] % 8 != 0) return false;
  return aligned16(g.q) && aligned16(g.k) && aligned16(g.v);
}

template <class T, int D, int MT>
status launch_flash(const attention::args<T>& g, const dim3& grid, cudaStream_t stream) noexcept {
  const auto kernel = attention::flash_kernel<T, D, MT>;
  constexpr unsigned int smem = attention::flash_tile<D, MT>::smem_bytes(sizeof(T));
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)) !=
      cudaSuccess)
    return launch_status("attention");
  kernel<<<grid, attention::flash_tile<D, MT>::threads, smem, stream>>>(g);
  return launch_status("attention");
}

/// The flash kernel for head size D: 128-row blocks (2 m-tiles per warp) where the plan asks
/// for them and the scores need no per-element work beyond the key ranges (no element mask, no
/// softcap: the 2-m-tile kernel has no registers left for it); 64-row blocks otherwise, with the
/// grid's row blocks recounted (the plan's splits and workspace do not depend on the row block).
template <class T, int D>
status launch_flash(const attention::args<T>& g, const ops::attention_detail::device_plan& pl,
                    dim3 grid, cudaStream_t stream) noexcept {
  using plan = ops::attention_detail::device_plan;
  const bool simple = g.fmask == nullptr && g.bmask == nullptr && g.softcap == 0.0f;
  if (pl.block_rows == plan::large_block_rows && simple)
    return launch_flash<T, D, 2>(g, grid, stream);
  grid.x = static_cast<unsigned int>((pl.pack * g.sq + plan::small_block_rows - 1) /
                                     plan::small_block_rows);
  return launch_flash<T, D, 1>(g, grid, stream);
}

}  // namespace attention_launch

/// Enqueues out = attention(q, k, v) on `stream` as planned by `pl` (device_plan::make for the
/// same shapes and p.kv_splits). Arguments must already be validated. Returns ok,
/// errc::buffer_too_small (workspace), errc::unsupported (a shape no kernel covers) or
/// errc::device_error (a device query or launch failed).
template <class T>
status launch_attention(const device_view<const T, 4>& q, const device_view<const T, 4>& k,
                        const device_view<const T, 4>& v, const device_view<T, 4>& out,
                        const device_attention_params& p,
                        const ops::attention_detail::device_plan& pl,
                        cudaStream_t stream) noexcept {
  static_assert(gemm::is_element_v<T>,
                "fusedops: the CUDA attention reads and writes float, __half or __nv_bfloat16");
  if (out.empty()) return {};  // nothing to write: enqueue nothing
  attention::args<T> g{};
  g.q = q.data(), g.k = k.data(), g.v = v.data(), g.out = out.data();
  for (int d = 0; d < 4; ++d) {
    g.qs[d] = q.stride(d), g.ks[d] = k.stride(d), g.vs[d] = v.stride(d), g.os[d] = out.stride(d);
  }
  g.batch = q.shape(0), g.hq = q.shape(1), g.sq = q.shape(2), g.dqk = q.shape(3);
  g.hkv = k.shape(1), g.skv = k.shape(2), g.dv = v.shape(3);
  g.group = g.hkv > 0 ? g.hq / g.hkv : 1;
  // The same default as the CPU operator (attention_op::validate).
  g.scale = p.scale != 0.0f ? p.scale : (g.dqk > 0 ? float(1.0 / std::sqrt(double(g.dqk))) : 1.0f);
  g.softcap = p.softcap, g.causal = p.is_causal, g.causal_offset = p.causal_offset;
  g.left = p.window_left, g.right = p.window_right;
  if (p.float_mask.data() != nullptr || !p.float_mask.empty()) {
    g.fmask = p.float_mask.data(), g.fmask_len = p.float_mask.shape(3);
    for (int d = 0; d < 4; ++d) g.fms[d] = p.float_mask.stride(d);
  }
  if (p.bool_mask.data() != nullptr || !p.bool_mask.empty()) {
    g.bmask = p.bool_mask.data(), g.bmask_len = p.bool_mask.shape(3);
    for (int d = 0; d < 4; ++d) g.bms[d] = p.bool_mask.stride(d);
  }
  if (p.nonpad_kv_seqlen.data() != nullptr || !p.nonpad_kv_seqlen.empty())
    g.kv_lens = p.nonpad_kv_seqlen.data(), g.kv_lens_stride = p.nonpad_kv_seqlen.stride(0);
  g.pack = 1, g.splits = 1, g.ws = nullptr;

  int device = 0, cc_major = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess)
    return launch_status("attention");

  if constexpr (!std::is_same_v<T, float>) {
    const bool flash = cc_major >= 8 && g.dqk == g.dv && (g.dqk == 64 || g.dqk == 128) &&
                       attention_launch::streamable(g);
    if (flash) {
      // Hardware grid limits: 2^31 - 1 blocks in x, 65535 in y and z.
      // The kernel counts rows, keys and heads in int.
      constexpr index_t int_max = 2147483647 - 2 * attention::flash_tile<64, 1>::bn;
      if (pl.head_blocks > 65535 || g.batch * pl.splits > 65535 || pl.pack * g.sq > int_max ||
          g.skv > int_max || g.hq > int_max)
        return status::error(errc::unsupported,
                             "attention: backend::cuda handles up to 65535 heads and 65535 "
                             "batches × KV splits, and fewer than 2^31 - 128 queries and keys "
                             "(got %td heads, %td batches, %td splits, %td queries, %td keys)",
                             g.hq, g.batch, pl.splits, g.sq, g.skv);
      g.pack = pl.pack, g.splits = pl.splits;
      if (pl.splits > 1) {
        if (static_cast<std::size_t>(p.workspace.shape(0)) < pl.workspace_floats)
          return status::error(errc::buffer_too_small,
                               "attention: 'workspace' holds %td floats; this call splits the "
                               "keys %td ways and needs %zu (attention_workspace_size)",
                               p.workspace.shape(0), pl.splits, pl.workspace_floats);
        g.ws = p.workspace.data();
      }
      const dim3 grid(static_cast<unsigned int>(pl.row_blocks),
                      static_cast<unsigned int>(pl.head_blocks),
                      static_cast<unsigned int>(g.batch * pl.splits));
      const status s = g.dqk == 64 ? attention_launch::launch_flash<T, 64>(g, pl, grid, stream)
                                   : attention_launch::launch_flash<T, 128>(g, pl, grid, stream);
      if (!s.ok() || pl.splits == 1) return s;
      const index_t rows = g.batch * g.hq * g.sq;
      attention::combine_kernel<T>
          <<<blocks_for(rows, 1, index_t(1) << 20), attention::combine_tile::threads, 0, stream>>>(
              g);
      return launch_status("attention");
    }
  }
  if (g.dv > attention::simt_tile::max_dv || g.dqk > attention::simt_tile::max_dqk)
    return status::error(errc::unsupported,
                         "attention: backend::cuda supports Dv <= %d and Dqk <= %d on this path "
                         "(got Dqk %td, Dv %td; the tensor-core path takes fp16/bf16 with Dqk = Dv "
                         "= 64 or 128)",
                         attention::simt_tile::max_dv, attention::simt_tile::max_dqk, g.dqk, g.dv);
  const index_t rows = g.batch * g.hq * g.sq;
  const std::size_t smem =
      static_cast<std::size_t>(attention::simt_tile::warps * g.dqk) * sizeof(float);
  attention::simt_kernel<T><<<blocks_for(rows, attention::simt_tile::warps, index_t(1) << 20),
                              attention::simt_tile::threads, smem, stream>>>(g);
  return launch_status("attention");
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
