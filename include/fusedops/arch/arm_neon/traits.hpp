// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/arm_neon. Backend constants and vector type of backend::neon (AArch64 NEON: 32 q registers of 4 floats).
// Included only through arch/all.hpp when this TU's flags enable the ISA. Kernels that override
// the width-generic implementations go in this folder, one kernel per header.
#pragma once

#include <type_traits>

#include "fusedops/arch/gemm_tile.hpp"
#include "fusedops/arch/xsimd_bridge.hpp"

namespace fusedops::simd {

template <class T>
struct vec_of<T, backend::neon> {
  using type = xsimd::batch<T, xsimd::neon64>;
};

/// xsimd 8.1 computes the neon64 float sqrt the ARMv7 way (reciprocal-sqrt estimate and two Newton
/// steps): up to 1 ulp off, sqrt(+inf) = NaN, sqrt(-0) = +0. AArch64 has the IEEE instruction
/// (FSQRT, vsqrtq_f32); xsimd already uses it for double.
template <class T>
struct xsimd_sqrt<T, xsimd::neon64> {
  static FUSEDOPS_INLINE xsimd::batch<T, xsimd::neon64> apply(
      const xsimd::batch<T, xsimd::neon64>& a) noexcept {
    if constexpr (std::is_same_v<T, float>) {
      return vsqrtq_f32(a);
    } else {
      return xsimd::sqrt(a);
    }
  }
};

/// xsimd 8.1 divides neon64 floats the ARMv7 way too (reciprocal estimate, two Newton steps,
/// then a multiply: up to ~2 ulp off); AArch64 has the IEEE division (FDIV, vdivq_f32).
template <class T>
struct xsimd_div<T, xsimd::neon64> {
  static FUSEDOPS_INLINE xsimd::batch<T, xsimd::neon64> apply(
      const xsimd::batch<T, xsimd::neon64>& a, const xsimd::batch<T, xsimd::neon64>& b) noexcept {
    if constexpr (std::is_same_v<T, float>) {
      return vdivq_f32(a, b);
    } else {
      return a / b;
    }
  }
};

}  // namespace fusedops::simd

namespace fusedops::arch::arm_neon {

/// Architectural vector registers available to a micro-kernel.
inline constexpr int vector_registers = 32;

}  // namespace fusedops::arch::arm_neon

namespace fusedops::arch {
/// 6 rows × 4 q-registers (16 columns): 24 accumulators + 4 B vectors + 1 broadcast = 29 of the 32
/// NEON registers; 24 independent FMAs cover 2 pipes × 4 cycles three times over.
template <>
struct gemm_tile<backend::neon> {
  static constexpr int rows = 6;
  static constexpr int vectors = 4;
};
}  // namespace fusedops::arch
