// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. The vector vocabulary for xsimd batches, shared by every SIMD backend (AVX2,
// AVX-512, NEON). Works around xsimd 8.1's gaps (see the project's toolchain notes): member
// load/store instead of the free load functions (they break for a non-default arch), hadd for the
// horizontal sum, a stored loop for the horizontal max, and NaN-propagating max/min (maxps
// returns its second operand when either is NaN).
#pragma once

#include <xsimd/xsimd.hpp>

#include "fusedops/arch/vec_traits.hpp"
#include "fusedops/core/numerics.hpp"

namespace fusedops::simd {

template <class T, class A>
struct vec_ops<xsimd::batch<T, A>> {
  using V = xsimd::batch<T, A>;
  using mask = xsimd::batch_bool<T, A>;
  static constexpr int lanes = static_cast<int>(V::size);

  static FUSEDOPS_INLINE V load(const T* p) noexcept { return V::load_unaligned(p); }
  static FUSEDOPS_INLINE void store(T* p, const V& x) noexcept { x.store_unaligned(p); }
  static FUSEDOPS_INLINE V fma(const V& a, const V& b, const V& c) noexcept {
    return xsimd::fma(a, b, c);
  }
  static FUSEDOPS_INLINE V select(const mask& m, const V& a, const V& b) noexcept {
    return xsimd::select(m, a, b);
  }
  // a + b is NaN exactly when a lane needs a NaN result and one operand is NaN... except for
  // inf + -inf, so the mask is built from isnan of each operand, and the NaN payload from a + b.
  static FUSEDOPS_INLINE V max_nan(const V& a, const V& b) noexcept {
    return xsimd::select(xsimd::isnan(a) || xsimd::isnan(b), a + b, xsimd::max(a, b));
  }
  static FUSEDOPS_INLINE V min_nan(const V& a, const V& b) noexcept {
    return xsimd::select(xsimd::isnan(a) || xsimd::isnan(b), a + b, xsimd::min(a, b));
  }
  static FUSEDOPS_INLINE V abs(const V& a) noexcept { return xsimd::abs(a); }
  static FUSEDOPS_INLINE V sqrt(const V& a) noexcept { return xsimd::sqrt(a); }
  static FUSEDOPS_INLINE V exp(const V& a) noexcept { return xsimd::exp(a); }
  static FUSEDOPS_INLINE V tanh(const V& a) noexcept { return xsimd::tanh(a); }
  static FUSEDOPS_INLINE V erf(const V& a) noexcept { return xsimd::erf(a); }
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
