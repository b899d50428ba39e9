// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/arm_neon. Backend constants and vector type of backend::neon (AArch64 NEON: 32 q registers of 4 floats).
// Included only through arch/all.hpp when this TU's flags enable the ISA. Kernels that override
// the width-generic implementations go in this folder, one kernel per header.
#pragma once

#include "fusedops/arch/xsimd_bridge.hpp"

namespace fusedops::simd {

template <class T>
struct vec_of<T, backend::neon> {
  using type = xsimd::batch<T, xsimd::neon64>;
};

}  // namespace fusedops::simd

namespace fusedops::arch::arm_neon {

/// Architectural vector registers available to a micro-kernel.
inline constexpr int vector_registers = 32;

}  // namespace fusedops::arch::arm_neon
