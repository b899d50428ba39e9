// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/x86_avx512. Backend constants and vector type of backend::avx512 (AVX-512 F/CD/BW/DQ: 32 zmm registers of 16 floats).
// Included only through arch/all.hpp when this TU's flags enable the ISA. Kernels that override
// the width-generic implementations go in this folder, one kernel per header.
#pragma once

#include "fusedops/arch/gemm_tile.hpp"
#include "fusedops/arch/xsimd_bridge.hpp"

namespace fusedops::simd {

template <class T>
struct vec_of<T, backend::avx512> {
  using type = xsimd::batch<T, xsimd::avx512bw>;
};

}  // namespace fusedops::simd

namespace fusedops::arch::x86_avx512 {

/// Architectural vector registers available to a micro-kernel.
inline constexpr int vector_registers = 32;

}  // namespace fusedops::arch::x86_avx512

namespace fusedops::arch {
/// 14 rows × 2 zmm (32 columns): 28 accumulators + 2 B vectors + 1 broadcast = 31 of the 32 zmm
/// registers. 28 independent FMAs hide the 2 ports × 4 cycle latency 3.5 times over; per k step
/// 16 loads (2 vectors, 14 broadcasts folded into the FMAs) take 8 cycles against 14 cycles of
/// FMAs, so the kernel is FMA-bound. An even vector count lets gated GEMMs put gate and up
/// columns in the same tile.
template <>
struct gemm_tile<backend::avx512> {
  static constexpr int rows = 14;
  static constexpr int vectors = 2;
};
}  // namespace fusedops::arch
