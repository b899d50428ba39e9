// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. Backend tags: empty structs naming where an operator runs. Always includable, in
// any translation unit, whatever the compiler flags: a tag can be *named* anywhere; *using* one
// that this TU's flags do not enable fails with a readable static_assert (core/dispatch.hpp).
// No intrinsics and no xsimd here.
#pragma once

#include "fusedops/config/detect.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops::backend {

/// Portable C++ (no intrinsics; the compiler may auto-vectorise). Always available; the
/// reference the other backends are tested against.
struct generic {
  static constexpr bool compiled = true;
  static constexpr bool is_cpu = true;
  static constexpr const char* name = "generic";
  static constexpr const char* required_flags = "none";
  using memory_space = host_memory;
};

/// x86-64 AVX2 + FMA3, 256-bit vectors.
struct avx2 {
  static constexpr bool compiled = FUSEDOPS_HAS_AVX2 != 0;
  static constexpr bool is_cpu = true;
  static constexpr const char* name = "avx2";
  static constexpr const char* required_flags = "-mavx2 -mfma (or -march=haswell and later)";
  using memory_space = host_memory;
};

/// x86-64 AVX-512 F/CD/BW/DQ, 512-bit vectors.
struct avx512 {
  static constexpr bool compiled = FUSEDOPS_HAS_AVX512 != 0;
  static constexpr bool is_cpu = true;
  static constexpr const char* name = "avx512";
  static constexpr const char* required_flags =
      "-mavx512f -mavx512cd -mavx512bw -mavx512dq (or -march=skylake-avx512 and later)";
  using memory_space = host_memory;
};

/// AArch64 Advanced SIMD (NEON), 128-bit vectors.
struct neon {
  static constexpr bool compiled = FUSEDOPS_HAS_NEON != 0;
  static constexpr bool is_cpu = true;
  static constexpr const char* name = "neon";
  static constexpr const char* required_flags = "an aarch64 target (NEON is always on)";
  using memory_space = host_memory;
};

/// NVIDIA GPUs through CUDA; operates on device_view's. Compiled only by nvcc (.cu TUs), and
/// never chosen implicitly: its memory space differs from the CPU backends'.
struct cuda {
  static constexpr bool compiled = FUSEDOPS_HAS_CUDA != 0;
  static constexpr bool is_cpu = false;
  static constexpr const char* name = "cuda";
  static constexpr const char* required_flags = "a .cu translation unit compiled by nvcc";
  using memory_space = device_memory;
};

}  // namespace fusedops::backend
