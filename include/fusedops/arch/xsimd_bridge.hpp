// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. The vector vocabulary for xsimd batches, shared by every SIMD backend (AVX2,
// AVX-512, NEON). Works around xsimd 8.1's gaps (see the project's toolchain notes): member
// load/store instead of the free load functions (they break for a non-default arch), hadd for the
// horizontal sum, a stored loop for the horizontal max, and NaN-propagating max/min (maxps
// returns its second operand when either is NaN).
#pragma once

#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "fusedops/arch/vec_traits.hpp"
#include "fusedops/config/detect.hpp"
#include "fusedops/core/numerics.hpp"

namespace fusedops::simd {

/// Square root of an xsimd batch. An ISA's traits header specialises it where xsimd's own sqrt
/// is not the correctly rounded IEEE one (xsimd 8.1 on neon64: see arch/arm_neon/traits.hpp).
template <class T, class A>
struct xsimd_sqrt {
  static FUSEDOPS_INLINE xsimd::batch<T, A> apply(const xsimd::batch<T, A>& a) noexcept {
    return xsimd::sqrt(a);
  }
};

/// Division of xsimd batches. An ISA's traits header specialises it where xsimd's own division is
/// not the correctly rounded IEEE one (xsimd 8.1 on neon64: see arch/arm_neon/traits.hpp).
template <class T, class A>
struct xsimd_div {
  static FUSEDOPS_INLINE xsimd::batch<T, A> apply(const xsimd::batch<T, A>& a,
                                                  const xsimd::batch<T, A>& b) noexcept {
    return a / b;
  }
};

template <class T, class A>
struct vec_ops<xsimd::batch<T, A>> {
  using V = xsimd::batch<T, A>;
  using mask = xsimd::batch_bool<T, A>;
  static constexpr int lanes = static_cast<int>(V::size);

  static FUSEDOPS_INLINE V load(const T* p) noexcept { return V::load_unaligned(p); }
  static FUSEDOPS_INLINE void store(T* p, const V& x) noexcept { x.store_unaligned(p); }
  /// Non-temporal store of a whole vector to p aligned to sizeof(V) (x86: movntps; elsewhere,
  /// and for other element types, a plain aligned store).
  static FUSEDOPS_INLINE void stream(T* p, const V& x) noexcept {
#if FUSEDOPS_HAS_AVX512
    if constexpr (std::is_same_v<T, float> && sizeof(V) == 64) {
      _mm512_stream_ps(p, x);
      return;
    }
#endif
#if FUSEDOPS_HAS_AVX2
    if constexpr (std::is_same_v<T, float> && sizeof(V) == 32) {
      _mm256_stream_ps(p, x);
      return;
    }
#endif
    x.store_aligned(p);
  }
  /// Orders streaming stores before whatever follows (other threads then see them).
  static FUSEDOPS_INLINE void stream_fence() noexcept {
#if FUSEDOPS_ARCH_X86_64
    _mm_sfence();
#endif
  }
  static FUSEDOPS_INLINE V fma(const V& a, const V& b, const V& c) noexcept {
    return xsimd::fma(a, b, c);
  }
  static FUSEDOPS_INLINE V select(const mask& m, const V& a, const V& b) noexcept {
    return xsimd::select(m, a, b);
  }
  // The mask comes from isnan of each operand (not isnan(a + b), which is also true for
  // inf + -inf); a + b then supplies a NaN for exactly those lanes.
  static FUSEDOPS_INLINE V max_nan(const V& a, const V& b) noexcept {
    return xsimd::select(xsimd::isnan(a) || xsimd::isnan(b), a + b, xsimd::max(a, b));
  }
  static FUSEDOPS_INLINE V min_nan(const V& a, const V& b) noexcept {
    return xsimd::select(xsimd::isnan(a) || xsimd::isnan(b), a + b, xsimd::min(a, b));
  }
  static FUSEDOPS_INLINE V abs(const V& a) noexcept { return xsimd::abs(a); }
  static FUSEDOPS_INLINE V sqrt(const V& a) noexcept { return xsimd_sqrt<T, A>::apply(a); }
  static FUSEDOPS_INLINE V div(const V& a, const V& b) noexcept {
    return xsimd_div<T, A>::apply(a, b);
  }
  // Bit patterns (float <-> uint32 lanes), for vector_math.hpp's exponent arithmetic.
  using bits = xsimd::batch<bits_element<T>, A>;
  static FUSEDOPS_INLINE bits as_bits(const V& a) noexcept { return xsimd::bitwise_cast<bits>(a); }
  static FUSEDOPS_INLINE V from_bits(const bits& a) noexcept { return xsimd::bitwise_cast<V>(a); }
  static FUSEDOPS_INLINE bool any(const mask& m) noexcept { return xsimd::any(m); }
  static FUSEDOPS_INLINE T reduce_add(const V& a) noexcept { return xsimd::hadd(a); }
  static FUSEDOPS_INLINE T reduce_max(const V& a) noexcept {
    alignas(A::alignment()) T lane[V::size];
    a.store_aligned(lane);
    T m = lane[0];
    for (std::size_t i = 1; i < V::size; ++i) m = fusedops::max_nan(m, lane[i]);
    return m;
  }
};

}  // namespace fusedops::simd
