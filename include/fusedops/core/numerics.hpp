// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. The numerics policy, in one place:
//  * max/min and ReLU-style operations propagate NaN (IEEE 754-2019 maximum/minimum semantics for
//    NaN). x86 maxps returns its second operand when either is NaN, std::max(a, b) returns a when
//    the comparison is false: neither propagates on its own. Every kernel uses the helpers here
//    (scalar) or simd::max_nan / min_nan (vector).
//  * Denormal flushing is opt-in and scoped: `denormal_guard` sets FTZ/DAZ (x86 MXCSR) or FZ
//    (AArch64 FPCR) for the current thread and restores the previous mode on destruction. The
//    library never changes the floating-point environment by itself.
#pragma once

#include <cmath>
#include <cstdint>

#include "fusedops/config/macros.hpp"

#if FUSEDOPS_ARCH_X86_64
#include <xmmintrin.h>  // _mm_getcsr / _mm_setcsr: SSE, part of every x86-64 baseline
#endif

namespace fusedops {

/// max(a, b) that returns NaN when either operand is NaN.
template <class T>
FUSEDOPS_HOST_DEVICE constexpr T max_nan(T a, T b) noexcept {
  return (a != a) ? a : (b != b) ? b : (a < b ? b : a);
}

/// min(a, b) that returns NaN when either operand is NaN.
template <class T>
FUSEDOPS_HOST_DEVICE constexpr T min_nan(T a, T b) noexcept {
  return (a != a) ? a : (b != b) ? b : (b < a ? b : a);
}

/// Scoped flush-to-zero / denormals-are-zero for the calling thread. Restores the previous mode.
/// On targets without such a control it does nothing and active() is false.
class denormal_guard {
 public:
  denormal_guard() noexcept {
#if FUSEDOPS_ARCH_X86_64
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | ftz_daz_bits);
    active_ = true;
#elif FUSEDOPS_ARCH_AARCH64
    std::uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    saved_ = fpcr;
    fpcr |= fz_bit;
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
    active_ = true;
#endif
  }
  ~denormal_guard() {
#if FUSEDOPS_ARCH_X86_64
    _mm_setcsr(static_cast<unsigned>(saved_));
#elif FUSEDOPS_ARCH_AARCH64
    std::uint64_t fpcr = saved_;
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
#endif
  }
  denormal_guard(const denormal_guard&) = delete;
  denormal_guard& operator=(const denormal_guard&) = delete;

  /// Whether this target supports flushing (x86-64 and AArch64 do).
  bool active() const noexcept { return active_; }

  /// Whether the calling thread currently flushes denormal results to zero.
  static bool flushing() noexcept {
#if FUSEDOPS_ARCH_X86_64
    return (_mm_getcsr() & ftz_daz_bits) == ftz_daz_bits;
#elif FUSEDOPS_ARCH_AARCH64
    std::uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr & fz_bit) != 0;
#else
    return false;
#endif
  }

 private:
  static constexpr unsigned ftz_daz_bits = 0x8040u;         // MXCSR bit 15 (FTZ) | bit 6 (DAZ)
  static constexpr std::uint64_t fz_bit = std::uint64_t{1} << 24;  // FPCR.FZ
  std::uint64_t saved_ = 0;
  bool active_ = false;
};

}  // namespace fusedops
