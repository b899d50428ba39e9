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

#include <cstdint>
#include <type_traits>

#include "fusedops/arch/cuda/element.cuh"
#include "fusedops/fused/epilogue/nodes.hpp"

namespace fusedops::arch::cuda::gemm {

// The element types and conversions (element.cuh), also under gemm:: where the GEMM's users and
// tests name them.
using fusedops::arch::cuda::from_float;
using fusedops::arch::cuda::is_element_v;
using fusedops::arch::cuda::to_float;

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

/// ep(alpha · acc + beta · C_in[row, col]) of matrix `batch`, in fp32 (reads only: C_in and
/// whatever the epilogue reads).
template <class T, class TC, class E>
__device__ __forceinline__ float epilogue_value(const args<T, TC>& g, index_t batch, index_t row,
                                                index_t col, float acc, const E& ep) {
  float v = g.alpha * acc;
  if (g.beta != 0.0f)
    v = fmaf(g.beta, to_float(g.c_in[batch * g.ci_bs + row * g.ci_rs + col * g.ci_cs]), v);
  return ep(v, epilogue::coord{row, col, 1, batch});
}

/// C[row, col] of matrix `batch` = v, rounded once to TC.
template <class T, class TC>
__device__ __forceinline__ void store(const args<T, TC>& g, index_t batch, index_t row, index_t col,
                                      float v) {
  g.c[batch * g.c_bs + row * g.c_rs + col * g.c_cs] = from_float<TC>(v);
}

/// C[row, col] of matrix `batch` = ep(alpha · acc + beta · C_in[row, col]), rounded once to TC.
template <class T, class TC, class E>
__device__ __forceinline__ void finish(const args<T, TC>& g, index_t batch, index_t row,
                                       index_t col, float acc, const E& ep) {
  store(g, batch, row, col, epilogue_value(g, batch, row, col, acc, ep));
}

/// Whether C's rows are contiguous and every even column starts a 2-element aligned pair, so
/// that finish_pair may store two adjacent results with one vector store.
template <class T, class TC>
__device__ __forceinline__ bool pairs_aligned(const args<T, TC>& g) {
  return g.c_cs == 1 && g.c_rs % 2 == 0 && g.c_bs % 2 == 0 &&
         (reinterpret_cast<std::uintptr_t>(g.c) % (2 * sizeof(TC))) == 0;
}

/// C[row, col] = v0 and C[row, col + 1] = v1 (col even, both inside C): with `paired`
/// (pairs_aligned), one 2-element vector store instead of two scalar ones.
template <class T, class TC>
__device__ __forceinline__ void store_pair(const args<T, TC>& g, index_t batch, index_t row,
                                           index_t col, float v0, float v1, bool paired) {
  if (!paired) {
    store(g, batch, row, col, v0);
    store(g, batch, row, col + 1, v1);
    return;
  }
  TC* const c = g.c + batch * g.c_bs + row * g.c_rs + col;
  if constexpr (std::is_same_v<TC, float>) {
    *reinterpret_cast<float2*>(c) = make_float2(v0, v1);
  } else if constexpr (std::is_same_v<TC, __half>) {
    *reinterpret_cast<__half2*>(c) = __floats2half2_rn(v0, v1);
  } else {
    *reinterpret_cast<__nv_bfloat162*>(c) = __floats2bfloat162_rn(v0, v1);
  }
}

/// finish() for columns col (even) and col + 1 of one row, both inside C.
template <class T, class TC, class E>
__device__ __forceinline__ void finish_pair(const args<T, TC>& g, index_t batch, index_t row,
                                            index_t col, float acc0, float acc1, const E& ep,
                                            bool paired) {
  store_pair(g, batch, row, col, epilogue_value(g, batch, row, col, acc0, ep),
             epilogue_value(g, batch, row, col + 1, acc1, ep), paired);
}

}  // namespace fusedops::arch::cuda::gemm

#endif  // FUSEDOPS_HAS_CUDA
