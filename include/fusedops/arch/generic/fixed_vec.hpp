// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/generic. `fixed_vec<T, N>`: the generic backend's "vector", N plain values with
// element-wise loops. No intrinsics: the compiler auto-vectorises the loops for whatever the TU
// targets, and on any CPU it computes exactly what the scalar code would. exp/tanh/erf/sigmoid are
// the same width-generic polynomials every backend runs (arch/vector_math.hpp).
#pragma once

#include <cmath>
#include <cstddef>

#include "fusedops/config/macros.hpp"
#include "fusedops/core/numerics.hpp"

namespace fusedops::arch::generic {

template <class T, int N>
struct fixed_mask {
  bool v[N];
};

template <class T, int N>
struct fixed_vec {
  using value_type = T;
  static constexpr int size = N;
  T v[N];

  fixed_vec() noexcept = default;
  FUSEDOPS_INLINE fixed_vec(T x) noexcept {  // NOLINT: broadcast, as xsimd::batch(x)
    for (int i = 0; i < N; ++i) v[i] = x;
  }
  FUSEDOPS_INLINE T operator[](int i) const noexcept { return v[i]; }
};

#define FUSEDOPS_GENERIC_BINARY(op)                                                          \
  template <class T, int N>                                                                  \
  FUSEDOPS_INLINE fixed_vec<T, N> operator op(const fixed_vec<T, N>& a,                      \
                                              const fixed_vec<T, N>& b) noexcept {           \
    fixed_vec<T, N> r;                                                                       \
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] op b.v[i];                                   \
    return r;                                                                                \
  }                                                                                          \
  template <class T, int N>                                                                  \
  FUSEDOPS_INLINE fixed_vec<T, N>& operator op##=(fixed_vec<T, N>& a,                        \
                                                  const fixed_vec<T, N>& b) noexcept {       \
    return a = a op b;                                                                       \
  }
FUSEDOPS_GENERIC_BINARY(+)
FUSEDOPS_GENERIC_BINARY(-)
FUSEDOPS_GENERIC_BINARY(*)
FUSEDOPS_GENERIC_BINARY(/)
// Bitwise operators, for the integer vectors that hold float bit patterns (vector_math.hpp).
FUSEDOPS_GENERIC_BINARY(&)
FUSEDOPS_GENERIC_BINARY(|)
FUSEDOPS_GENERIC_BINARY(^)
#undef FUSEDOPS_GENERIC_BINARY

template <class T, int N>
FUSEDOPS_INLINE fixed_vec<T, N> operator<<(const fixed_vec<T, N>& a, int s) noexcept {
  fixed_vec<T, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = static_cast<T>(a.v[i] << s);
  return r;
}
template <class T, int N>
FUSEDOPS_INLINE fixed_vec<T, N> operator>>(const fixed_vec<T, N>& a, int s) noexcept {
  fixed_vec<T, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = static_cast<T>(a.v[i] >> s);
  return r;
}

template <class T, int N>
FUSEDOPS_INLINE fixed_vec<T, N> operator-(const fixed_vec<T, N>& a) noexcept {
  fixed_vec<T, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = -a.v[i];
  return r;
}

#define FUSEDOPS_GENERIC_COMPARE(op)                                                          \
  template <class T, int N>                                                                   \
  FUSEDOPS_INLINE fixed_mask<T, N> operator op(const fixed_vec<T, N>& a,                      \
                                               const fixed_vec<T, N>& b) noexcept {           \
    fixed_mask<T, N> r;                                                                       \
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] op b.v[i];                                    \
    return r;                                                                                 \
  }
FUSEDOPS_GENERIC_COMPARE(<)
FUSEDOPS_GENERIC_COMPARE(<=)
FUSEDOPS_GENERIC_COMPARE(>)
FUSEDOPS_GENERIC_COMPARE(>=)
FUSEDOPS_GENERIC_COMPARE(==)
FUSEDOPS_GENERIC_COMPARE(!=)
#undef FUSEDOPS_GENERIC_COMPARE

/// Applies a scalar function lane by lane.
template <class T, int N, class F>
FUSEDOPS_INLINE fixed_vec<T, N> map(const fixed_vec<T, N>& a, F f) noexcept {
  fixed_vec<T, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = f(a.v[i]);
  return r;
}

}  // namespace fusedops::arch::generic
