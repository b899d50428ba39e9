// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: runtime (optional; the umbrella header does not include it). Run-time check of which CPU
// backends this processor can execute, for programs that compile one translation unit per target
// and pick one at start-up (see examples/multi_target). Safe to call from code compiled without
// any ISA flags: it only asks the CPU, it runs no vector instruction.
#pragma once

#include <type_traits>

#include "fusedops/arch/tags.hpp"
#include "fusedops/core/typelist.hpp"
#include "fusedops/config/detect.hpp"

namespace fusedops::runtime {

/// Whether the CPU running this process can execute code built for backend B.
template <class B>
bool cpu_supports() noexcept {
  if constexpr (std::is_same_v<B, backend::generic>) {
    return true;
  } else if constexpr (std::is_same_v<B, backend::avx2>) {
#if FUSEDOPS_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
  } else if constexpr (std::is_same_v<B, backend::avx512>) {
#if FUSEDOPS_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
  } else if constexpr (std::is_same_v<B, backend::neon>) {
    return FUSEDOPS_ARCH_AARCH64 != 0;  // Advanced SIMD is mandatory in AArch64
  } else {
    return false;  // device backends are not CPU features
  }
}

/// Name of the best CPU backend this processor supports among those in List (best first).
template <class... B>
const char* best_supported(typelist<B...>) noexcept {
  const char* best = backend::generic::name;
  bool found = false;
  ((!found && cpu_supports<B>() ? (best = B::name, found = true) : false), ...);
  return best;
}

}  // namespace fusedops::runtime
