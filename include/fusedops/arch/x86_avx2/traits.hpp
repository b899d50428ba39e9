// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/x86_avx2. Backend constants and vector type of backend::avx2 (AVX2 + FMA3: 16 ymm registers of 8 floats).
// Included only through arch/all.hpp when this TU's flags enable the ISA. Kernels that override
// the width-generic implementations go in this folder, one kernel per header.
#pragma once

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
