// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/generic. The generic backend: 32-byte fixed_vec's (8 floats), operations written as
// plain loops. exp/tanh/erf/sigmoid are not here: arch/vector_math.hpp computes them for every
// backend from the primitives below (bit patterns included), so all backends agree.
#pragma once

#include <cmath>
#include <cstring>
#include <utility>

#include "fusedops/arch/gemm_tile.hpp"
#include "fusedops/arch/generic/fixed_vec.hpp"
#include "fusedops/arch/vec_traits.hpp"

namespace fusedops::simd {

template <class T>
struct vec_of<T, backend::generic> {
  using type = arch::generic::fixed_vec<T, static_cast<int>(32 / sizeof(T))>;
};

template <class T, int N>
struct vec_ops<arch::generic::fixed_vec<T, N>> {
  using V = arch::generic::fixed_vec<T, N>;
  using mask = arch::generic::fixed_mask<T, N>;
  static constexpr int lanes = N;

  static FUSEDOPS_INLINE V load(const T* p) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = p[i];
    return r;
  }
  static FUSEDOPS_INLINE void store(T* p, const V& x) noexcept {
    for (int i = 0; i < N; ++i) p[i] = x.v[i];
  }
  static FUSEDOPS_INLINE void stream(T* p, const V& x) noexcept { store(p, x); }  // no NT stores
  static FUSEDOPS_INLINE void stream_fence() noexcept {}
  static FUSEDOPS_INLINE V fma(const V& a, const V& b, const V& c) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  }
  static FUSEDOPS_INLINE V select(const mask& m, const V& a, const V& b) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = m.v[i] ? a.v[i] : b.v[i];
    return r;
  }
  static FUSEDOPS_INLINE V max_nan(const V& a, const V& b) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = fusedops::max_nan(a.v[i], b.v[i]);
    return r;
  }
  static FUSEDOPS_INLINE V min_nan(const V& a, const V& b) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = fusedops::min_nan(a.v[i], b.v[i]);
    return r;
  }
  static FUSEDOPS_INLINE V max_unchecked(const V& a, const V& b) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
    return r;
  }
  static FUSEDOPS_INLINE V clamp(const V& x, const V& lo, const V& hi) noexcept {
    V r;
    for (int i = 0; i < N; ++i)
      r.v[i] = x.v[i] > hi.v[i] ? hi.v[i] : x.v[i] < lo.v[i] ? lo.v[i] : x.v[i];  // NaN: x
    return r;
  }
  static FUSEDOPS_INLINE V abs(const V& a) noexcept { return map(a, [](T x) { return std::fabs(x); }); }
  static FUSEDOPS_INLINE V sqrt(const V& a) noexcept { return map(a, [](T x) { return std::sqrt(x); }); }
  static FUSEDOPS_INLINE V div(const V& a, const V& b) noexcept { return a / b; }
  // Bit patterns (float <-> uint32 lanes of the same width), for vector_math.hpp.
  using bits = arch::generic::fixed_vec<bits_element<T>, N>;
  static FUSEDOPS_INLINE bits as_bits(const V& a) noexcept {
    bits r;
    std::memcpy(r.v, a.v, sizeof r.v);
    return r;
  }
  static FUSEDOPS_INLINE V from_bits(const bits& a) noexcept {
    V r;
    std::memcpy(r.v, a.v, sizeof r.v);
    return r;
  }
  static constexpr bool has_scalef = false;
  static constexpr bool has_masked_memory = false;
  static FUSEDOPS_INLINE bool any(const mask& m) noexcept {
    bool r = false;
    for (int i = 0; i < N; ++i) r = r || m.v[i];
    return r;
  }
  static FUSEDOPS_INLINE T reduce_add(const V& a) noexcept {
    T s = a.v[0];
    for (int i = 1; i < N; ++i) s += a.v[i];
    return s;
  }
  static FUSEDOPS_INLINE V reduce_add_each(const V (&r)[N]) noexcept {
    V s;
    for (int i = 0; i < N; ++i) s.v[i] = reduce_add(r[i]);
    return s;
  }
  static FUSEDOPS_INLINE void keep_in_register(V&) noexcept {}
  static FUSEDOPS_INLINE void transpose(V (&r)[N]) noexcept {
    for (int i = 0; i < N; ++i)
      for (int j = i + 1; j < N; ++j) std::swap(r[i].v[j], r[j].v[i]);
  }
  static FUSEDOPS_INLINE T reduce_max(const V& a) noexcept {
    T m = a.v[0];
    for (int i = 1; i < N; ++i) m = fusedops::max_nan(m, a.v[i]);
    return m;
  }
  static FUSEDOPS_INLINE V swap_pairs(const V& a) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = a.v[i ^ 1];
    return r;
  }
  static FUSEDOPS_INLINE V spread_lower_half(const V& a) noexcept { return spread_from(a, 0); }
  static FUSEDOPS_INLINE V spread_upper_half(const V& a) noexcept { return spread_from(a, N / 2); }

 private:
  /// [a(h), a(h), a(h + 1), a(h + 1), ...]
  static FUSEDOPS_INLINE V spread_from(const V& a, int h) noexcept {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = a.v[h + i / 2];
    return r;
  }
};

}  // namespace fusedops::simd

namespace fusedops::arch {
/// 4 rows × 2 fixed_vec's of 8 (16 columns): 8 accumulators of 8 floats, a shape the compiler's
/// auto-vectoriser maps onto 16 SSE or 8 AVX registers without spilling on any x86-64 or AArch64.
template <>
struct gemm_tile<backend::generic> {
  static constexpr int rows = 4;
  static constexpr int vectors = 2;
};
}  // namespace fusedops::arch
