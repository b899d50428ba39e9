// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. The elementary functions of the vector vocabulary: exp, expm1, tanh, sigmoid, erf
// for float vectors, written ONCE over the primitives of arch/simd.hpp (fma, select, abs, bit
// patterns, any), so AVX-512, AVX2, NEON and the generic backend run the same algorithm and give
// the same results up to FMA contraction. One exception: where the backend has simd::scalef
// (AVX-512), exp ends in that one instruction instead of the exponent-bit arithmetic and its
// out-of-range branch (1/3 less time per element, and no mispredicted branch on data that mixes
// small and large arguments); its last rounding differs, so its results can differ from the other
// backends' by an ulp. No ISA code and no lookup tables here. Included by arch/simd.hpp (include
// that one).
//
// Accuracy: max error against double std:: functions, in ulp of the float result and relative,
// measured at every 61st float bit pattern of both signs (35-70 M inputs per function), identical
// on avx512, avx2 and generic (tests/ops/vector_math_test.cpp repeats a sparser sweep on every
// backend, neon under qemu included):
//   exp      [-87.33, 88.72] (normal results)     2.23 ulp, 1.8e-7   (denormal results: within
//                                                                      2·2^-149, never flushed;
//                                                                      AVX-512: 1.95 ulp, 1.6e-7)
//   expm1    [-87.33, 88.72]                      1.57 ulp, 1.2e-7
//   tanh     all floats                           2.37 ulp, 1.7e-7
//   sigmoid  [-87.3, +inf)                        3.44 ulp, 2.7e-7
//   erf      all floats                           2.41 ulp, 1.7e-7
// Limits are exact: exp(-inf) = 0, exp(+inf) = +inf (x > 88.7228 overflows to +inf, results below
// FLT_MIN are gradual-underflow denormals, x < -103.98 gives 0), tanh/erf(±inf) = ±1 (reached
// exactly from |x| > 9.01 / 3.925 on), sigmoid(-inf) = 0, sigmoid(+inf) = 1; odd functions keep
// the sign of zero; NaN in gives NaN out.
//
// Why not xsimd's (Cephes/boost.simd) versions: its float exp clamps at 88.376 (results up to
// FLT_MAX came out as +inf), flushes results below ~2^-126 to 0 instead of denormals, and pays two
// selects for its limits on every call; its tanh and erf evaluate several branches of rational
// approximations plus an exp and blend them. The forms below take the limits on a rarely taken
// branch (exp) or fold them into one select, and erf needs no exp at all.
#pragma once

#include <cstdint>

#include "fusedops/arch/simd.hpp"

namespace fusedops::simd {

namespace detail {

// Cody-Waite reduction shared by exp and expm1: x = n·ln2 + r, |r| <= ln2/2, n integral. n is
// rounded by adding 1.5·2^23 (the float has no fraction bits left then), so the low bits of
// `shifted` hold n in two's complement and bits(shifted)·2^23 is n in the exponent field (an
// integer multiply by 2^23, which compilers emit as the shift; GCC 12 raises a false
// -Wuninitialized inside its own _mm512_slli_epi32 when the shift is written as one).
// ln2 is split in a 16-bit head (n·ln2_hi is exact for |n| < 2^8) and a tail.
struct exp_reduction {
  static constexpr float log2e = 0x1.715476p+0f;
  static constexpr float shift = 0x1.8p23f;
  static constexpr float ln2_hi = 0x1.62e4p-1f;
  static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
};

/// r = x - n·ln2 in two steps (Cody-Waite), exact enough for |n| < 2^8.
template <class V>
FUSEDOPS_INLINE V exp_remainder(const V& x, const V& n) noexcept {
  const V r = simd::fma(n, V(-exp_reduction::ln2_hi), x);
  return simd::fma(n, V(-exp_reduction::ln2_lo), r);
}

/// q(r) ~ (e^r - 1) / r on |r| <= ln2/2, so that e^r = 1 + r·q(r).
template <class V>
FUSEDOPS_INLINE V exp_quotient(const V& r) noexcept {
  V q = simd::fma(V(0x1.0fa834p-7f), r, V(0x1.573a54p-5f));
  q = simd::fma(q, r, V(0x1.555a6ap-3f));
  q = simd::fma(q, r, V(0x1.fffdc6p-2f));
  return simd::fma(q, r, V(0x1.fffff6p-1f));
}

template <class V>
FUSEDOPS_INLINE V exp_special_case(const V& poly, const V& n, const bits_t<V>& e,
                                   const V& r0) noexcept {
  using U = bits_t<V>;
  // |n| > 126: 2^n is not a normal float. Split it as s1·s2 with both factors normal:
  //   n > 0:  s1 = 2^127,  s2 = 2^(n-127)   (exponent field n     = e)
  //   n <= 0: s1 = 2^-125, s2 = 2^(n+125)   (exponent field n+252 = e + 252·2^23)
  // (1 + poly)·s2 rounds once in the fma, ·s1 once more (into the denormals, or to +inf). |n| > 192
  // is far out of range: s1·s1 is +inf or 0.
  const auto pos = n > V(0.f);
  const V s1 = simd::select(pos, V(0x1p127f), V(0x1p-125f));
  const V s2 = simd::select(pos, simd::from_bits<V>(e), simd::from_bits<V>(e + U(0x7e000000u)));
  const V big = simd::select(simd::abs(n) > V(192.f), s1 * s1, simd::fma(poly, s2, s2) * s1);
  return simd::select(simd::abs(n) > V(126.f), big, r0);
}

}  // namespace detail

/// e^x. Cody-Waite reduction, a degree-5 minimax polynomial for e^r on |r| <= ln2/2 (fitted by
/// Remez for relative error: 9.1e-8 before rounding), 2^n by exponent-bit arithmetic. Measured
/// max error 2.23 ulp over the normal range; see the file comment for the limits.
template <class V>
FUSEDOPS_INLINE V exp(const V& x) noexcept {
  using K = detail::exp_reduction;
  using U = bits_t<V>;
  if constexpr (simd::has_scalef<V>) {
    // One scalef builds 2^n · e^r for every n, the denormal results and the overflow included,
    // so there is no special case and no branch (which mispredicts on data that mixes in- and
    // out-of-range lanes: GELU or SiLU of large GEMM outputs, masked attention scores). x is
    // clamped first (NaN kept) to where e^x is already 0 or +inf in float, so n, r and the
    // polynomial stay finite; simd::clamp is two instructions where compares and selects were
    // four (exp alone 0.101 -> 0.083 ns per element, hot softmax 1.03-1.10x).
    const V xc = simd::clamp(x, V(-104.f), V(89.f));
    const V n = simd::fma(xc, V(K::log2e), V(K::shift)) - V(K::shift);
    const V r = detail::exp_remainder(xc, n);
    return simd::scalef(simd::fma(detail::exp_quotient(r), r, V(1.f)), n);
  }
  const V shifted = simd::fma(x, V(K::log2e), V(K::shift));
  const V n = shifted - V(K::shift);
  const V r = detail::exp_remainder(x, n);
  const V poly = detail::exp_quotient(r) * r;
  const U e = simd::as_bits(shifted) * U(1u << 23);
  const V scale = simd::from_bits<V>(e + U(0x3f800000u));  // 2^n for |n| <= 126
  const V r0 = simd::fma(poly, scale, scale);
  // NaN compares false: it takes the fast path, where it propagates through the fma.
  if (FUSEDOPS_UNLIKELY(simd::any<V>(simd::abs(n) > V(126.f))))
    return detail::exp_special_case(poly, n, e, r0);
  return r0;
}

/// e^x - 1, accurate near 0 (relative error 1.57 ulp measured). Same reduction as exp, a
/// degree-5 minimax polynomial for expm1(r) = r + r²·P(r) (Remez, relative error 1.3e-8), then
/// 2^n·expm1(r) + (2^n - 1). Valid for x <= 88.72 (n <= 127); the callers (tanh) only use
/// |x| <= 18.1 and replace larger inputs.
template <class V>
FUSEDOPS_INLINE V expm1(const V& x) noexcept {
  using K = detail::exp_reduction;
  using U = bits_t<V>;
  const V shifted = simd::fma(x, V(K::log2e), V(K::shift));
  const V n = shifted - V(K::shift);
  const V r = detail::exp_remainder(x, n);
  V p = simd::fma(V(0x1.6bec08p-10f), r, V(0x1.122768p-7f));
  p = simd::fma(p, r, V(0x1.555674p-5f));
  p = simd::fma(p, r, V(0x1.5554b0p-3f));
  p = simd::fma(p, r, V(0x1.fffffep-2f));
  p = simd::fma(p, r * r, r);
  const V scale = simd::from_bits<V>(simd::as_bits(shifted) * U(1u << 23) + U(0x3f800000u));
  return simd::fma(p, scale, scale - V(1.f));
}

/// tanh(x) = sign(x)·q/(q + 2), q = expm1(2|x|): no cancellation anywhere (near 0, q ≈ 2|x| is
/// accurate to its last bit). |x| > 9.01 is exactly ±1 (tanh rounds to 1 there), which also
/// covers the overflow of q. The sign is copied bitwise, so tanh(-0) = -0. Measured 2.37 ulp.
template <class V>
FUSEDOPS_INLINE V tanh(const V& x) noexcept {
  using U = bits_t<V>;
  const V a = simd::abs(x);
  const V q = simd::expm1(a + a);
  const V y = simd::select(a > V(0x1.205966p+3f), V(1.f), simd::div(q, q + V(2.f)));
  return simd::from_bits<V>(simd::as_bits(y) | (simd::as_bits(x) & U(0x80000000u)));
}

/// 1 / (1 + e^-x), as e/(1 + e) for x < 0 and 1/(1 + e) for x >= 0 with e = e^-|x| <= 1: never
/// overflows, and keeps full relative accuracy (denormal results included) for very negative x.
/// sigmoid(-inf) = 0, sigmoid(+inf) = 1. Measured 3.44 ulp.
template <class V>
FUSEDOPS_INLINE V sigmoid(const V& x) noexcept {
  const V e = simd::exp(V(0.f) - simd::abs(x));
  return simd::div(simd::select(x < V(0.f), e, V(1.f)), V(1.f) + e);
}

/// erf(x), two minimax polynomials (Remez, relative error) selected per lane:
///  * |x| < 1:          x·P(x²), P of degree 6 (1.2e-9);
///  * 1 <= |x| < 3.925: 1 + T(|x| - 2.4625), T of degree 12 (3.2e-8), whose constant term is
///    stored as erf(2.4625) - 1 so that the only rounding near 1 is the final add;
///  * |x| >= 3.925:     ±1 (erf rounds to 1 there).
/// No exp, no division. The sign is copied bitwise (erf(-0) = -0). Measured 2.41 ulp.
template <class V>
FUSEDOPS_INLINE V erf(const V& x) noexcept {
  using U = bits_t<V>;
  const V a = simd::abs(x);
  const V u = x * x;
  V ps = simd::fma(V(0x1.496a32p-14f), u, V(-0x1.a3f700p-11f));
  ps = simd::fma(ps, u, V(0x1.5405b2p-8f));
  ps = simd::fma(ps, u, V(-0x1.b7f90ep-6f));
  ps = simd::fma(ps, u, V(0x1.ce2cf8p-4f));
  ps = simd::fma(ps, u, V(-0x1.81273ep-2f));
  ps = simd::fma(ps, u, V(0x1.20dd74p+0f));
  const V small = x * ps;

  const V t = a - V(2.4625f);
  V pl = simd::fma(V(-0x1.2fd808p-17f), t, V(0x1.a65294p-16f));
  pl = simd::fma(pl, t, V(0x1.b3b452p-15f));
  pl = simd::fma(pl, t, V(-0x1.3b1c28p-12f));
  pl = simd::fma(pl, t, V(0x1.940784p-12f));
  pl = simd::fma(pl, t, V(0x1.ed0644p-12f));
  pl = simd::fma(pl, t, V(-0x1.837e44p-9f));
  pl = simd::fma(pl, t, V(0x1.ba9152p-8f));
  pl = simd::fma(pl, t, V(-0x1.41c572p-7f));
  pl = simd::fma(pl, t, V(0x1.3efa6ap-7f));
  pl = simd::fma(pl, t, V(-0x1.a7861ep-8f));
  pl = simd::fma(pl, t, V(0x1.57e480p-9f));
  pl = simd::fma(pl, t, V(-0x1.046d4ep-11f));
  const V large = simd::select(a >= V(3.925f), V(1.f), V(1.f) + pl);
  const V signed_large =
      simd::from_bits<V>(simd::as_bits(large) | (simd::as_bits(x) & U(0x80000000u)));
  return simd::select(a < V(1.f), small, signed_large);
}

}  // namespace fusedops::simd
