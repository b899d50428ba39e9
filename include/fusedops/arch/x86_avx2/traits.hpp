// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/x86_avx2. Backend constants and vector type of backend::avx2 (AVX2 + FMA3: 16 ymm registers of 8 floats).
// Included only through arch/all.hpp when this TU's flags enable the ISA. Kernels that override
// the width-generic implementations go in this folder, one kernel per header.
#pragma once

#include "fusedops/arch/gemm_tile.hpp"
#include "fusedops/arch/xsimd_bridge.hpp"

namespace fusedops::simd {

template <class T>
struct vec_of<T, backend::avx2> {
  using type = xsimd::batch<T, xsimd::fma3<xsimd::avx2>>;
};

}  // namespace fusedops::simd

namespace fusedops::arch::x86_avx2 {

/// Architectural vector registers available to a micro-kernel.
inline constexpr int vector_registers = 16;

}  // namespace fusedops::arch::x86_avx2

namespace fusedops::arch {
/// 6 rows × 2 ymm (16 columns): 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm
/// registers. 12 independent FMAs cover the 2 FMA ports × 4-5 cycle latency (>= 10 needed), and
/// per k step 2 vector loads + 6 broadcasts feed 12 FMAs, under the 2 loads/cycle limit.
template <>
struct gemm_tile<backend::avx2> {
  static constexpr int rows = 6;
  static constexpr int vectors = 2;
};
}  // namespace fusedops::arch
