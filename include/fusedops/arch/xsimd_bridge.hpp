// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. The vector vocabulary for xsimd batches, shared by every SIMD backend (AVX2,
// AVX-512, NEON). Works around xsimd 8.1's gaps (see the project's toolchain notes): member
// load/store instead of the free load functions (they break for a non-default arch), hadd for the
// horizontal sum, a stored loop for the horizontal max, and NaN-propagating max/min (maxps
// returns its second operand when either is NaN).
#pragma once

#include <limits>
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
  /// The first n lanes (0 <= n <= lanes) with AVX-512 masked moves: the masked-off lanes are not
  /// accessed (no fault past the end) and load as 0.
#if FUSEDOPS_HAS_AVX512
  static constexpr bool has_masked_memory = std::is_same_v<T, float> && V::size == 16;
  static FUSEDOPS_INLINE __mmask16 first_lanes(int n) noexcept {
    return static_cast<__mmask16>(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
  }
  static FUSEDOPS_INLINE V load_partial(const T* p, int n) noexcept {
    return _mm512_maskz_loadu_ps(first_lanes(n), p);
  }
  static FUSEDOPS_INLINE void store_partial(T* p, const V& x, int n) noexcept {
    _mm512_mask_storeu_ps(p, first_lanes(n), x);
  }
#else
  static constexpr bool has_masked_memory = false;
#endif
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
  static FUSEDOPS_INLINE V max_unchecked(const V& a, const V& b) noexcept {
    return xsimd::max(a, b);
  }
  // x86's maxps / minps return their second operand when either is NaN: with x second, a NaN
  // lane of x comes through both. Elsewhere two compares and selects.
  static FUSEDOPS_INLINE V clamp(const V& x, const V& lo, const V& hi) noexcept {
#if FUSEDOPS_HAS_AVX512
    if constexpr (std::is_same_v<T, float> && V::size == 16) {
      constexpr __mmask16 all = 0xFFFF;  // the all-lanes masked forms: see transpose
      return _mm512_mask_min_ps(hi, all, hi, _mm512_mask_max_ps(lo, all, lo, x));
    }
#endif
#if FUSEDOPS_HAS_AVX2
    if constexpr (std::is_same_v<T, float> && V::size == 8)
      return _mm256_min_ps(hi, _mm256_max_ps(lo, x));
#endif
    return xsimd::select(x > hi, hi, xsimd::select(x < lo, lo, x));
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
  /// p · 2^n in one instruction (AVX-512 vscalefps; n integral), with IEEE overflow, underflow
  /// and denormal results; only where has_scalef.
#if FUSEDOPS_HAS_AVX512
  static constexpr bool has_scalef = std::is_same_v<T, float> && V::size == 16;
  static FUSEDOPS_INLINE V scalef(const V& p, const V& n) noexcept {
    static_assert(has_scalef, "scalef: AVX-512 fp32 only");
    return _mm512_mask_scalef_ps(p, __mmask16(0xFFFF), p, n);  // all-lanes form: see transpose
  }
#else
  static constexpr bool has_scalef = false;
#endif
  static FUSEDOPS_INLINE T reduce_add(const V& a) noexcept { return xsimd::hadd(a); }
  /// Lane i = sum of r[i]. xsimd 8.1's haddp does this on AVX2 and NEON but returns the sums in
  /// a permuted lane order on AVX-512, which gets its own tree here: halves, quarters, pairs,
  /// then single lanes of two vectors folded into one per step (15 adds, 30 shuffles).
  static FUSEDOPS_INLINE V reduce_add_each(const V (&r)[V::size]) noexcept {
#if FUSEDOPS_HAS_AVX512
    if constexpr (std::is_same_v<T, float> && V::size == 16) {
      constexpr __mmask16 all = 0xFFFF;  // the all-lanes masked forms: see transpose
      __m512 s[8], u[4], w[2];
      for (int i = 0; i < 8; ++i)  // lanes 0-7: the 256-bit halves of r[i] added; 8-15: r[i + 8]
        s[i] = _mm512_add_ps(_mm512_mask_shuffle_f32x4(r[i], all, r[i], r[i + 8], 0x44),
                             _mm512_mask_shuffle_f32x4(r[i], all, r[i], r[i + 8], 0xEE));
      for (int i = 0; i < 4; ++i)  // block q of u[i]: sums of r[i], r[i + 8], r[i + 4], r[i + 12]
        u[i] = _mm512_add_ps(_mm512_mask_shuffle_f32x4(s[i], all, s[i], s[i + 4], 0x88),
                             _mm512_mask_shuffle_f32x4(s[i], all, s[i], s[i + 4], 0xDD));
      for (int i = 0; i < 2; ++i)  // within each block: pairs of u[i] and of u[i + 2]
        w[i] = _mm512_add_ps(_mm512_mask_shuffle_ps(u[i], all, u[i], u[i + 2], 0x44),
                             _mm512_mask_shuffle_ps(u[i], all, u[i], u[i + 2], 0xEE));
      const __m512 t =  // within each block: single lanes of w[0] and of w[1]
          _mm512_add_ps(_mm512_mask_shuffle_ps(w[0], all, w[0], w[1], 0x88),
                        _mm512_mask_shuffle_ps(w[0], all, w[0], w[1], 0xDD));
      // Lane m of t holds the sum of r[p(m)], p the index list below (its own inverse), so
      // permuting t by p puts every sum in its own lane.
      return _mm512_mask_permutexvar_ps(
          t, all, _mm512_set_epi32(15, 13, 14, 12, 7, 5, 6, 4, 11, 9, 10, 8, 3, 1, 2, 0), t);
    }
#endif
    return xsimd::haddp(r);
  }
  /// An empty asm statement that takes and returns x in a vector register ("v": any x86 SIMD
  /// register, EVEX ones included; "w": an AArch64 SIMD register).
  static FUSEDOPS_INLINE void keep_in_register(V& x) noexcept {
#if defined(__GNUC__) && FUSEDOPS_ARCH_X86_64
    typename V::register_type r = x;
    __asm__("" : "+v"(r));
    x = r;
#elif defined(__GNUC__) && FUSEDOPS_ARCH_AARCH64
    typename V::register_type r = x;
    __asm__("" : "+w"(r));
    x = r;
#else
    static_cast<void>(x);
#endif
  }
  /// Transposes the lanes × lanes block whose rows are r[0..lanes): afterwards r[j] holds
  /// element j of every former row. x86 unpack/shuffle instructions work within 128-bit lanes
  /// (as does xsimd 8.1's zip_lo/zip_hi there), so each width gets its own sequence.
  static FUSEDOPS_INLINE void transpose(V (&r)[V::size]) noexcept {
#if FUSEDOPS_HAS_AVX512
    if constexpr (std::is_same_v<T, float> && V::size == 16) {
      // The all-lanes masked forms: the plain intrinsics start from _mm512_undefined_ps(), which
      // GCC 12 reports as used uninitialized (-Werror); the instructions are the same.
      constexpr __mmask16 all = 0xFFFF;
      auto lo = [](__m512 a, __m512 b) { return _mm512_mask_unpacklo_ps(a, all, a, b); };
      auto hi = [](__m512 a, __m512 b) { return _mm512_mask_unpackhi_ps(a, all, a, b); };
      // 1-2: within each 128-bit lane k, u[4i + j] gathers column 4k + j of rows 4i .. 4i + 3.
      __m512 u[16];
      for (int i = 0; i < 4; ++i) {
        const __m512 t0 = lo(r[4 * i], r[4 * i + 1]), t1 = hi(r[4 * i], r[4 * i + 1]);
        const __m512 t2 = lo(r[4 * i + 2], r[4 * i + 3]), t3 = hi(r[4 * i + 2], r[4 * i + 3]);
        u[4 * i] = _mm512_mask_shuffle_ps(t0, all, t0, t2, 0x44);
        u[4 * i + 1] = _mm512_mask_shuffle_ps(t0, all, t0, t2, 0xEE);
        u[4 * i + 2] = _mm512_mask_shuffle_ps(t1, all, t1, t3, 0x44);
        u[4 * i + 3] = _mm512_mask_shuffle_ps(t1, all, t1, t3, 0xEE);
      }
      // 3-4: column 4k + j = lane k of u[j], u[4 + j], u[8 + j], u[12 + j].
      for (int j = 0; j < 4; ++j) {
        const __m512 a = u[j], b = u[4 + j], c = u[8 + j], d = u[12 + j];
        const __m512 v0 = _mm512_mask_shuffle_f32x4(a, all, a, b, 0x44);
        const __m512 v1 = _mm512_mask_shuffle_f32x4(a, all, a, b, 0xEE);
        const __m512 w0 = _mm512_mask_shuffle_f32x4(c, all, c, d, 0x44);
        const __m512 w1 = _mm512_mask_shuffle_f32x4(c, all, c, d, 0xEE);
        r[j] = _mm512_mask_shuffle_f32x4(v0, all, v0, w0, 0x88);
        r[4 + j] = _mm512_mask_shuffle_f32x4(v0, all, v0, w0, 0xDD);
        r[8 + j] = _mm512_mask_shuffle_f32x4(v1, all, v1, w1, 0x88);
        r[12 + j] = _mm512_mask_shuffle_f32x4(v1, all, v1, w1, 0xDD);
      }
      return;
    }
#endif
#if FUSEDOPS_HAS_AVX2
    if constexpr (std::is_same_v<T, float> && V::size == 8) {
      __m256 u[8];
      for (int i = 0; i < 2; ++i) {
        const __m256 t0 = _mm256_unpacklo_ps(r[4 * i], r[4 * i + 1]);
        const __m256 t1 = _mm256_unpackhi_ps(r[4 * i], r[4 * i + 1]);
        const __m256 t2 = _mm256_unpacklo_ps(r[4 * i + 2], r[4 * i + 3]);
        const __m256 t3 = _mm256_unpackhi_ps(r[4 * i + 2], r[4 * i + 3]);
        u[4 * i] = _mm256_shuffle_ps(t0, t2, 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t0, t2, 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t1, t3, 0xEE);
      }
      for (int j = 0; j < 4; ++j) {
        r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
      }
      return;
    }
#endif
    if constexpr (sizeof(V) == 16 && V::size == 4) {
      // 128-bit vectors: zip_lo/zip_hi interleave whole vectors; two perfect shuffles transpose.
      for (int stage = 0; stage < 2; ++stage) {
        const V n0 = xsimd::zip_lo(r[0], r[2]), n1 = xsimd::zip_hi(r[0], r[2]);
        const V n2 = xsimd::zip_lo(r[1], r[3]), n3 = xsimd::zip_hi(r[1], r[3]);
        r[0] = n0, r[1] = n1, r[2] = n2, r[3] = n3;
      }
      return;
    }
    alignas(A::alignment()) T m[V::size][V::size];
    for (std::size_t i = 0; i < V::size; ++i) r[i].store_aligned(m[i]);
    for (std::size_t j = 0; j < V::size; ++j) {
      alignas(A::alignment()) T col[V::size];
      for (std::size_t i = 0; i < V::size; ++i) col[i] = m[i][j];
      r[j] = V::load_aligned(col);
    }
  }
  /// A NaN test on the whole vector, then the ISA's max tree (maxps-style instructions are not
  /// NaN-propagating, hence the test first); the lane-by-lane loop elsewhere. The x86 trees stay
  /// in registers: a stored vector re-read lane by lane stalls on store forwarding.
  static FUSEDOPS_INLINE T reduce_max(const V& a) noexcept {
#if FUSEDOPS_HAS_AVX512 || FUSEDOPS_HAS_AVX2
    if constexpr (std::is_same_v<T, float> && (V::size == 16 || V::size == 8)) {
      if (xsimd::any(xsimd::isnan(a))) return std::numeric_limits<T>::quiet_NaN();
      __m128 m;
#if FUSEDOPS_HAS_AVX512
      if constexpr (V::size == 16) {
        const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
        m = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
      }
#endif
      if constexpr (V::size == 8)
        m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
      m = _mm_max_ps(m, _mm_movehl_ps(m, m));
      m = _mm_max_ss(m, _mm_movehdup_ps(m));
      return _mm_cvtss_f32(m);
    }
#endif
    alignas(A::alignment()) T lane[V::size];
    a.store_aligned(lane);
    T m = lane[0];
    for (std::size_t i = 1; i < V::size; ++i) m = fusedops::max_nan(m, lane[i]);
    return m;
  }
  /// x86: the in-lane vpermilps and the cross-lane vpermps by hand (on AVX-512 in their all-lanes
  /// masked forms, for the reason transpose gives); elsewhere xsimd's swizzle.
  static FUSEDOPS_INLINE V swap_pairs(const V& a) noexcept {
#if FUSEDOPS_HAS_AVX512
    if constexpr (std::is_same_v<T, float> && V::size == 16)
      return _mm512_mask_permute_ps(a, __mmask16(0xFFFF), a, 0xB1);
#endif
#if FUSEDOPS_HAS_AVX2
    if constexpr (std::is_same_v<T, float> && V::size == 8) return _mm256_permute_ps(a, 0xB1);
#endif
    return xsimd::swizzle(a, xsimd::make_batch_constant<index_batch, swap_pairs_index>());
  }
  static FUSEDOPS_INLINE V spread_lower_half(const V& a) noexcept { return spread_half<false>(a); }
  static FUSEDOPS_INLINE V spread_upper_half(const V& a) noexcept { return spread_half<true>(a); }

 private:
  /// Each lane of the lower (Upper: upper) half of a, twice: [a(h), a(h), a(h + 1), ...] with
  /// h = 0 or lanes / 2.
  template <bool Upper>
  static FUSEDOPS_INLINE V spread_half(const V& a) noexcept {
    [[maybe_unused]] constexpr int h = Upper ? int(V::size) / 2 : 0;  // x86 index lists
#if FUSEDOPS_HAS_AVX512
    if constexpr (std::is_same_v<T, float> && V::size == 16)
      return _mm512_mask_permutexvar_ps(
          a, __mmask16(0xFFFF),
          _mm512_set_epi32(h + 7, h + 7, h + 6, h + 6, h + 5, h + 5, h + 4, h + 4, h + 3, h + 3,
                           h + 2, h + 2, h + 1, h + 1, h, h),
          a);
#endif
#if FUSEDOPS_HAS_AVX2
    if constexpr (std::is_same_v<T, float> && V::size == 8)
      return _mm256_permutevar8x32_ps(
          a, _mm256_set_epi32(h + 3, h + 3, h + 2, h + 2, h + 1, h + 1, h, h));
#endif
    return xsimd::swizzle(a, xsimd::make_batch_constant<index_batch, spread_half_index<Upper>>());
  }
  using index_batch = xsimd::batch<bits_element<T>, A>;
  struct swap_pairs_index {
    static constexpr unsigned get(unsigned i, unsigned) { return i ^ 1u; }
  };
  template <bool Upper>
  struct spread_half_index {
    static constexpr unsigned get(unsigned i, unsigned n) { return (Upper ? n / 2 : 0) + i / 2; }
  };
};

}  // namespace fusedops::simd
