// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. The CUDA GEMM's host launcher: picks a tensor-core kernel for 16-bit inputs in
// a layout it can stream with 16-byte copies — on a compute capability 9.0 GPU running sm_90a
// code with FUSEDOPS_CUDA_WGMMA on, Hopper's TMA + wgmma kernel for a [N, K] weight (falling back
// to the cp.async-fed wgmma kernel when no tensor map can be made); else the mma.sync kernel
// from compute capability 8.0 — or the SIMT kernel (everything else), and enqueues it on the
// caller's stream. It does not validate (the public gemm does), allocates nothing and never
// synchronises. Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled

#include <cstdint>
#include <type_traits>

#include "fusedops/arch/cuda/gemm/mma_kernel.cuh"
#include "fusedops/arch/cuda/gemm/simt_kernel.cuh"
#include "fusedops/arch/cuda/gemm/tma_kernel.cuh"
#include "fusedops/arch/cuda/gemm/wgmma_kernel.cuh"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/gemm/device_gemm_op.hpp"

// Hopper's wgmma kernel (gemm/wgmma_kernel.cuh) serves [N, K]-weight GEMMs of an sm_90a build on a
// compute capability 9.0 GPU. Define FUSEDOPS_CUDA_WGMMA to 0 (CMake option of the same name for
// the tests and benchmarks) to use mma.sync there instead, e.g. to compare the two.
#ifndef FUSEDOPS_CUDA_WGMMA
#define FUSEDOPS_CUDA_WGMMA 1
#endif

namespace fusedops::arch::cuda {

namespace gemm_launch {

inline bool aligned16(const void* p) noexcept {
  return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0;
}
inline bool multiple_of_8(index_t x) noexcept { return x % 8 == 0; }

/// Which tensor-core variant can stream these operands (see mma_kernel.cuh), if any.
enum class mma_layout { none, b_n_fast, b_k_fast };

template <class T, class TC>
mma_layout mma_layout_for(const gemm::args<T, TC>& g, int cc_major) noexcept {
  if constexpr (std::is_same_v<T, float>) {
    static_cast<void>(g), static_cast<void>(cc_major);
    return mma_layout::none;
  } else {
    if (cc_major < 8) return mma_layout::none;
    const bool a_ok = g.a_cs == 1 && (g.m == 1 || multiple_of_8(g.a_rs)) && multiple_of_8(g.k) &&
                      multiple_of_8(g.a_bs) && aligned16(g.a);
    if (!a_ok || !aligned16(g.b) || !multiple_of_8(g.b_bs)) return mma_layout::none;
    if (g.b_cs == 1 && (g.k == 1 || multiple_of_8(g.b_rs)) && multiple_of_8(g.n))
      return mma_layout::b_n_fast;
    if (g.b_rs == 1 && (g.n == 1 || multiple_of_8(g.b_cs))) return mma_layout::b_k_fast;
    return mma_layout::none;
  }
}

/// Whether fp32 operands can take the TF32 TMA kernel: A row-major and B with unit stride along
/// K, row strides and batch strides multiples of 4 floats (16 bytes, as tensor maps need),
/// 16-byte aligned pointers.
template <class TC>
bool tf32_layout(const gemm::args<float, TC>& g) noexcept {
  return g.a_cs == 1 && g.b_rs == 1 && (g.m == 1 || g.a_rs % 4 == 0) &&
         (g.n == 1 || g.b_cs % 4 == 0) && g.a_bs % 4 == 0 && g.b_bs % 4 == 0 && aligned16(g.a) &&
         aligned16(g.b);
}

/// Whether the wgmma kernel this binary would run on the current device is the sm_90a one. Its
/// sm_90a body uses dynamic shared memory only; built for another target its body is
/// mma_kernel's, whose 48 KiB of static shared memory shows in the attributes.
template <class T, class TC, class E>
bool has_sm90a_wgmma() noexcept {
  cudaFuncAttributes attr{};
  if (cudaFuncGetAttributes(&attr, gemm::wgmma_kernel<T, TC, E>) != cudaSuccess) {
    cudaGetLastError();  // not an error of the caller's: clear it and use mma_kernel
    return false;
  }
  return attr.sharedSizeBytes == 0;
}

/// The driver's cuTensorMapEncodeTiled, reached through the runtime (no link to libcuda), or null.
/// Looked up once: the pointer never changes while the process runs.
inline PFN_cuTensorMapEncodeTiled_v12000 encode_tiled() noexcept {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      cudaGetLastError();  // not the caller's error: the launcher falls back
      return PFN_cuTensorMapEncodeTiled_v12000(nullptr);
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  return fn;
}

/// A rank-3 tensor map (K, rows, batches) of a K-contiguous operand for tma_kernel: boxes of
/// 128 bytes of K × box_rows rows, 128-byte swizzle, zero fill past the edges. A shared operand
/// (batch stride 0) gets one batch. False if the driver rejects it (the launcher then falls back).
template <class T>
bool operand_map(CUtensorMap& map, const T* base, index_t rows, index_t k, index_t row_stride,
                 index_t batches, index_t batch_stride, int box_rows) noexcept {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = encode_tiled();
  if (encode == nullptr) return false;
  // A single row's stride is never used; the map still needs a valid one.
  const index_t rs = rows == 1 ? (k + 7) / 8 * 8 : row_stride;
  const bool shared = batch_stride == 0;
  const cuuint64_t dims[3] = {cuuint64_t(k), cuuint64_t(rows), cuuint64_t(shared ? 1 : batches)};
  const cuuint64_t strides[2] = {cuuint64_t(rs) * sizeof(T),
                                 cuuint64_t(shared ? rs * rows : batch_stride) * sizeof(T)};
  const cuuint32_t box[3] = {cuuint32_t(128 / sizeof(T)), cuuint32_t(box_rows), 1};
  const cuuint32_t element_strides[3] = {1, 1, 1};
  const CUtensorMapDataType type = std::is_same_v<T, float>    ? CU_TENSOR_MAP_DATA_TYPE_FLOAT32
                                   : std::is_same_v<T, __half> ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                                               : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  return encode(&map, type, 3, const_cast<T*>(base), dims, strides, box, element_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

/// Epilogues that do no per-element work worth overlapping (see tma_tile).
template <class E>
inline constexpr bool light_epilogue_v =
    std::is_same_v<E, epilogue::none> || std::is_same_v<E, epilogue::scale>;

/// Launches tma_kernel<..., BN, WS>, or returns false (nothing launched) when a tensor map cannot
/// be made; otherwise `launched` holds the launch's status.
template <class T, class TC, class E, int BN, bool WS>
bool launch_tma(const gemm::args<T, TC>& g, const E& ep, index_t batch, cudaStream_t stream,
                status& launched) noexcept {
  using tile = gemm::tma_tile<BN, WS>;
  alignas(64) CUtensorMap map_a, map_b;
  if (!operand_map(map_a, g.a, g.m, g.k, g.a_rs, batch, g.a_bs, tile::bm) ||
      !operand_map(map_b, g.b, g.n, g.k, g.b_cs, batch, g.b_bs, BN))
    return false;
  const auto kernel = gemm::tma_kernel<T, TC, E, BN, WS>;
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, tile::smem_bytes) !=
      cudaSuccess) {
    launched = launch_status("gemm");
    return true;
  }
  const dim3 grid(static_cast<unsigned int>((g.n + BN - 1) / BN),
                  static_cast<unsigned int>((g.m + tile::bm - 1) / tile::bm),
                  static_cast<unsigned int>(batch));
  kernel<<<grid, tile::threads, tile::smem_bytes, stream>>>(map_a, map_b, g, ep);
  launched = launch_status("gemm");
  return true;
}

/// Picks the TMA arrangement: an epilogue with per-element work (or beta · C_in) on a grid that
/// gives each SM two 128 × 128 blocks takes the shared arrangement (one block's epilogue overlaps
/// the other's main loop: 0.35 against 0.50 ms for bias + GELU at 4096³ on an H100); otherwise
/// the warp-specialised one, with 128 × 256 tiles where they still fill the GPU. False when no
/// tensor map can be made (`launched` holds the status otherwise).
template <class T, class TC, class E>
bool launch_tma_gemm(const gemm::args<T, TC>& g, const E& ep, index_t batch, int device,
                     cudaStream_t stream, status& launched) noexcept {
  int sms = 0;
  if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
    launched = launch_status("gemm");
    return true;
  }
  const index_t row_tiles = (g.m + 127) / 128;
  const bool light = light_epilogue_v<E> && g.beta == 0.0f;
  if (!light && row_tiles * ((g.n + 127) / 128) * batch >= 2 * index_t(sms))
    return launch_tma<T, TC, E, 128, false>(g, ep, batch, stream, launched);
  if (row_tiles * ((g.n + 255) / 256) * batch >= sms)
    return launch_tma<T, TC, E, 256, true>(g, ep, batch, stream, launched);
  return launch_tma<T, TC, E, 128, true>(g, ep, batch, stream, launched);
}

}  // namespace gemm_launch

/// Enqueues c = ep(alpha · a·b + beta · c_in) on `stream` for `batch` matrices (batch strides of
/// a, b, c, c_in in elements; 0 shares). Arguments must already be validated. Returns ok, or
/// errc::device_error if the launch (or the device query before it) failed.
template <class T, class TC, class E>
status launch_gemm(const device_view<const T, 2>& a, const device_view<const T, 2>& b,
                   const device_view<TC, 2>& c, const device_gemm_params<TC>& p, const E& ep,
                   cudaStream_t stream, index_t batch = 1,
                   const dims<4>& batch_strides = {}) noexcept {
  static_assert(gemm::is_element_v<T> && gemm::is_element_v<TC>,
                "fusedops: the CUDA GEMM reads and writes float, __half or __nv_bfloat16");
  static_assert(std::is_trivially_copyable_v<E>,
                "fusedops: an epilogue is copied to the GPU as a kernel argument, so it must be "
                "trivially copyable");
  const index_t m = c.shape(0), n = c.shape(1);
  if (m == 0 || n == 0 || batch == 0) return {};  // nothing to write: enqueue nothing

  const bool own_c_in = p.c_in.data() == nullptr && p.c_in.empty();
  const device_view<const TC, 2> c_in = own_c_in ? device_view<const TC, 2>(c) : p.c_in;
  gemm::args<T, TC> g{};
  g.a = a.data(), g.b = b.data(), g.c = c.data(), g.c_in = c_in.data();
  g.m = m, g.n = n, g.k = a.shape(1);
  g.a_rs = a.stride(0), g.a_cs = a.stride(1);
  g.b_rs = b.stride(0), g.b_cs = b.stride(1);
  g.c_rs = c.stride(0), g.c_cs = c.stride(1);
  g.ci_rs = c_in.stride(0), g.ci_cs = c_in.stride(1);
  g.a_bs = batch_strides[0], g.b_bs = batch_strides[1], g.c_bs = batch_strides[2];
  g.ci_bs = own_c_in ? batch_strides[2] : batch_strides[3];
  g.alpha = p.alpha, g.beta = p.beta;

  int device = 0, cc_major = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess)
    return launch_status("gemm");

  // Hardware grid limits: 2^31 - 1 blocks in x, 65535 in y and z.
  if (batch > 65535 || (m + 127) / 128 > 65535)
    return status::error(errc::unsupported,
                         "gemm: backend::cuda handles up to 65535 batches and 65535 × 128 rows "
                         "(got %td batches, %td rows)",
                         batch, m);
  const dim3 grid(static_cast<unsigned int>((n + 127) / 128),
                  static_cast<unsigned int>((m + 127) / 128), static_cast<unsigned int>(batch));
  if constexpr (!std::is_same_v<T, float>) {
    const gemm_launch::mma_layout layout = gemm_launch::mma_layout_for(g, cc_major);
    if (layout == gemm_launch::mma_layout::b_n_fast) {
      gemm::mma_kernel<T, TC, false, E><<<grid, gemm::mma_tile::threads, 0, stream>>>(g, ep);
      return launch_status("gemm");
    }
    if (layout == gemm_launch::mma_layout::b_k_fast) {
      if (FUSEDOPS_CUDA_WGMMA && cc_major == 9 && gemm_launch::has_sm90a_wgmma<T, TC, E>()) {
        status launched;
        if (gemm_launch::launch_tma_gemm(g, ep, batch, device, stream, launched)) return launched;
        // No tensor map for these operands: the cp.async-fed wgmma kernel.
        const auto kernel = gemm::wgmma_kernel<T, TC, E>;
        if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 gemm::wgmma_tile::smem_bytes) != cudaSuccess)
          return launch_status("gemm");
        kernel<<<grid, gemm::wgmma_tile::threads, gemm::wgmma_tile::smem_bytes, stream>>>(g, ep);
        return launch_status("gemm");
      }
      gemm::mma_kernel<T, TC, true, E><<<grid, gemm::mma_tile::threads, 0, stream>>>(g, ep);
      return launch_status("gemm");
    }
  }
  if constexpr (std::is_same_v<T, float>) {
    // TF32 on Hopper's tensor cores, where the caller allows it (device_gemm_params::allow_tf32).
    if (p.allow_tf32 && FUSEDOPS_CUDA_WGMMA && cc_major == 9 && gemm_launch::tf32_layout(g) &&
        gemm_launch::has_sm90a_wgmma<__nv_bfloat16, float, epilogue::none>()) {
      status launched;
      if (gemm_launch::launch_tma_gemm(g, ep, batch, device, stream, launched)) return launched;
    }
  }
  gemm::simt_kernel<T, TC, E><<<grid, gemm::simt_tile::threads, 0, stream>>>(g, ep);
  return launch_status("gemm");
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
