// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/x86_avx512. Backend constants and vector type of backend::avx512 (AVX-512 F/CD/BW/DQ: 32 zmm registers of 16 floats).
// Included only through arch/all.hpp when this TU's flags enable the ISA. Kernels that override
// the width-generic implementations go in this folder, one kernel per header.
#pragma once

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
