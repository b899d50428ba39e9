// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/gemm. What every CUDA GEMM kernel receives (plain values: view's accessors
// are host-only), the element conversions, and the one place results are finished: alpha, beta ·
// C_in, the epilogue in fp32, the conversion to C's type, the store. Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "fusedops/fused/epilogue/nodes.hpp"

namespace fusedops::arch::cuda::gemm {

/// Element types the CUDA GEMM reads and writes.
template <class T>
inline constexpr bool is_element_v =
    std::is_same_v<T, float> || std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

/// One GEMM (or a batch of equal-shape ones, batch index blockIdx.z): strides in elements.
template <class T, class TC>
struct args {
  const T* a;
  const T* b;
  TC* c;
  const TC* c_in;  // read only when beta != 0
  index_t m, n, k;
  index_t a_rs, a_cs, b_rs, b_cs, c_rs, c_cs, ci_rs, ci_cs;
  index_t a_bs, b_bs, c_bs, ci_bs;  // batch strides (0 shares an operand)
  float alpha, beta;
};

__host__ __device__ __forceinline__ float to_float(float x) { return x; }
__host__ __device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__host__ __device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

/// Rounds to nearest even (host and device: the tests convert their data with the same functions).
template <class T>
__host__ __device__ __forceinline__ T from_float(float x) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else if constexpr (std::is_same_v<T, __half>) {
    return __float2half_rn(x);
  } else {
    return __float2bfloat16_rn(x);
  }
}

/// C[row, col] of matrix `batch` = ep(alpha · acc + beta · C_in[row, col]), rounded once to TC.
template <class T, class TC, class E>
__device__ __forceinline__ void finish(const args<T, TC>& g, index_t batch, index_t row,
                                       index_t col, float acc, const E& ep) {
  float v = g.alpha * acc;
  if (g.beta != 0.0f)
    v = fmaf(g.beta, to_float(g.c_in[batch * g.ci_bs + row * g.ci_rs + col * g.ci_cs]), v);
  v = ep(v, epilogue::coord{row, col, 1, batch});
  g.c[batch * g.c_bs + row * g.c_rs + col * g.c_cs] = from_float<TC>(v);
}

}  // namespace fusedops::arch::cuda::gemm

#endif  // FUSEDOPS_HAS_CUDA
