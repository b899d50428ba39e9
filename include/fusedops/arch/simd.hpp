// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. The vector vocabulary every width-generic kernel is written in. A kernel takes a
// backend tag B, uses V = simd::vec_t<float, B>, and only these functions plus V's arithmetic and
// comparison operators:
//   lanes<V>                  number of elements in V
//   load / store              unaligned, full vector
//   stream / stream_fence     non-temporal store of a full vector to an address aligned to the
//                             vector's size (plain store where the ISA has none); the fence
//                             orders them before what follows (end of a thread's share)
//   load_partial / store_partial  first n < lanes elements (tails); other lanes read as 0
//   load_segment / store_segment  n <= lanes elements at any stride (0 broadcasts on load)
//   broadcast<V>(x)           all lanes = x
//   fma(a, b, c)              a * b + c
//   select(mask, a, b)        lane-wise mask ? a : b
//   max_nan / min_nan         NaN-propagating max / min
//   max_unchecked(a, b)       the ISA's max: a NaN lane gives either operand (for callers that
//                             meet NaN some other way)
//   clamp(x, lo, hi)          x limited to [lo, hi] lane by lane, NaN lanes kept (x86: two
//                             instructions)
//   abs, sqrt, div            element-wise math, correctly rounded (IEEE); use div(a, b) rather
//                             than a / b, which xsimd 8.1 computes approximately on neon64
//   any<V>(mask)              whether any lane of a comparison is true
//   scalef(p, n)              p · 2^n with IEEE overflow / underflow, where has_scalef<V> (AVX-512)
//   as_bits / from_bits       the lanes' bit patterns as bits_t<V> (unsigned integers of the same
//                             width, with + - & | ^ and << >> by a constant) and back
//   reduce_add / reduce_max   horizontal sum / NaN-propagating max
//   reduce_add_each(r)        lane i = reduce_add(r[i]) for lanes vectors r: one shuffle tree
//                             instead of lanes separate horizontal sums
//   keep_in_register(x)       no operation; stops the compiler re-reading x from memory at
//                             each use (see below)
//   transpose(r)              the lanes × lanes block held in r[0..lanes) transposed in place
//   swap_pairs(a)             neighbouring lanes exchanged: [a1, a0, a3, a2, ...]
//   spread_lower_half(a)      the lower half's lanes, each twice: [a0, a0, a1, a1, ...]
//   spread_upper_half(a)      the upper half's lanes, each twice
// and, written once over these primitives for every backend (arch/vector_math.hpp):
//   exp, expm1, tanh, sigmoid, erf
// This finite list is what keeps kernels portable to every backend (and later to CUDA).
#pragma once

#include <algorithm>
#include <cstdint>

#include "fusedops/arch/all.hpp"

namespace fusedops::simd {

template <class V>
inline constexpr int lanes = vec_ops<V>::lanes;

/// Lanes of backend B's vector for element type T.
template <class T, class B>
inline constexpr int lanes_of = vec_ops<vec_t<T, B>>::lanes;

template <class V, class T>
FUSEDOPS_INLINE V load(const T* p) noexcept {
  return vec_ops<V>::load(p);
}
template <class V, class T>
FUSEDOPS_INLINE void store(T* p, const V& x) noexcept {
  vec_ops<V>::store(p, x);
}
/// Non-temporal store (see store_policy.hpp): p must be aligned to lanes<V> · sizeof(T).
template <class V, class T>
FUSEDOPS_INLINE void stream(T* p, const V& x) noexcept {
  vec_ops<V>::stream(p, x);
}
/// Orders this thread's earlier streaming stores before its later stores (x86 sfence).
template <class V>
FUSEDOPS_INLINE void stream_fence() noexcept {
  vec_ops<V>::stream_fence();
}
/// Whether p may take simd::stream of V (aligned to the vector's size).
template <class V, class T>
FUSEDOPS_INLINE bool stream_aligned(const T* p) noexcept {
  return reinterpret_cast<std::uintptr_t>(p) % (sizeof(T) * lanes<V>) == 0;
}

/// Loads p[0..n) (0 <= n <= lanes); the remaining lanes are 0. Never reads past p[n-1].
/// Backends with masked loads and stores (AVX-512) use them; the others go through a buffer on
/// the stack (whose wide reload after narrow stores costs a store-forwarding stall).
template <class V, class T>
FUSEDOPS_INLINE V load_partial(const T* p, int n) noexcept {
  if constexpr (vec_ops<V>::has_masked_memory) {
    return vec_ops<V>::load_partial(p, n);
  } else {
    alignas(64) T buf[lanes<V>] = {};
    std::copy(p, p + n, buf);
    return vec_ops<V>::load(buf);
  }
}
/// Stores the first n lanes of x to p[0..n). Never writes past p[n-1].
template <class V, class T>
FUSEDOPS_INLINE void store_partial(T* p, const V& x, int n) noexcept {
  if constexpr (vec_ops<V>::has_masked_memory) {
    vec_ops<V>::store_partial(p, x, n);
  } else {
    alignas(64) T buf[lanes<V>];
    vec_ops<V>::store(buf, x);
    std::copy(buf, buf + n, p);
  }
}
/// Loads p[0], p[stride], ..., p[(n-1)·stride] (n <= lanes; other lanes 0); stride 0 broadcasts
/// p[0]. Contiguous full vectors take the plain load.
template <class V, class T>
FUSEDOPS_INLINE V load_segment(const T* p, index_t stride, int n) noexcept {
  if (stride == 1) return n == lanes<V> ? vec_ops<V>::load(p) : simd::load_partial<V>(p, n);
  if (stride == 0) return V(*p);
  alignas(64) T buf[lanes<V>] = {};
  for (int i = 0; i < n; ++i) buf[i] = p[i * stride];
  return vec_ops<V>::load(buf);
}
/// Stores the first n lanes of x to p[0], p[stride], ... (stride != 0).
template <class V, class T>
FUSEDOPS_INLINE void store_segment(T* p, index_t stride, const V& x, int n) noexcept {
  if (stride == 1) {
    if (n == lanes<V>)
      vec_ops<V>::store(p, x);
    else
      simd::store_partial(p, x, n);
    return;
  }
  alignas(64) T buf[lanes<V>];
  vec_ops<V>::store(buf, x);
  for (int i = 0; i < n; ++i) p[i * stride] = buf[i];
}
template <class V, class T>
FUSEDOPS_INLINE V broadcast(T x) noexcept {
  return V(x);
}
template <class V>
FUSEDOPS_INLINE V fma(const V& a, const V& b, const V& c) noexcept {
  return vec_ops<V>::fma(a, b, c);
}
template <class V, class M>
FUSEDOPS_INLINE V select(const M& m, const V& a, const V& b) noexcept {
  return vec_ops<V>::select(m, a, b);
}
template <class V>
FUSEDOPS_INLINE V max_nan(const V& a, const V& b) noexcept {
  return vec_ops<V>::max_nan(a, b);
}
template <class V>
FUSEDOPS_INLINE V min_nan(const V& a, const V& b) noexcept {
  return vec_ops<V>::min_nan(a, b);
}
/// max(a, b) in one instruction where a NaN lane may give either operand (x86 maxps returns b,
/// NEON fmax NaN): for a running max whose caller gets NaN propagated by other means.
template <class V>
FUSEDOPS_INLINE V max_unchecked(const V& a, const V& b) noexcept {
  return vec_ops<V>::max_unchecked(a, b);
}
/// Each lane of x limited to [lo, hi] (lo <= hi, neither NaN); a NaN lane of x stays NaN.
template <class V>
FUSEDOPS_INLINE V clamp(const V& x, const V& lo, const V& hi) noexcept {
  return vec_ops<V>::clamp(x, lo, hi);
}
template <class V>
FUSEDOPS_INLINE V abs(const V& a) noexcept {
  return vec_ops<V>::abs(a);
}
template <class V>
FUSEDOPS_INLINE V sqrt(const V& a) noexcept {
  return vec_ops<V>::sqrt(a);
}
template <class V>
FUSEDOPS_INLINE V div(const V& a, const V& b) noexcept {
  return vec_ops<V>::div(a, b);
}
/// Integer vector holding the bit patterns of V's lanes (uint32 lanes for float).
template <class V>
using bits_t = typename vec_ops<V>::bits;
template <class V>
FUSEDOPS_INLINE bits_t<V> as_bits(const V& a) noexcept {
  return vec_ops<V>::as_bits(a);
}
template <class V>
FUSEDOPS_INLINE V from_bits(const bits_t<V>& a) noexcept {
  return vec_ops<V>::from_bits(a);
}
/// Whether the backend computes p · 2^n (n integral) in one instruction: simd::scalef.
template <class V>
inline constexpr bool has_scalef = vec_ops<V>::has_scalef;
template <class V>
FUSEDOPS_INLINE V scalef(const V& p, const V& n) noexcept {
  return vec_ops<V>::scalef(p, n);
}
/// True when any lane of `m` (a comparison of V's) is set.
template <class V>
FUSEDOPS_INLINE bool any(const typename vec_ops<V>::mask& m) noexcept {
  return vec_ops<V>::any(m);
}
template <class V>
FUSEDOPS_INLINE auto reduce_add(const V& a) noexcept {
  return vec_ops<V>::reduce_add(a);
}
template <class V>
FUSEDOPS_INLINE auto reduce_max(const V& a) noexcept {
  return vec_ops<V>::reduce_max(a);
}
/// Lane i of the result is the sum of r[i]'s lanes.
template <class V>
FUSEDOPS_INLINE V reduce_add_each(const V (&r)[lanes<V>]) noexcept {
  return vec_ops<V>::reduce_add_each(r);
}
/// Holds x in a register from here on. Why: GCC folds a vector load into every FMA that uses the
/// loaded value, so a vector feeding k FMAs is read from L1 k times; kernels whose loads already
/// compete with their FMAs for the load ports (decode attention) pin such vectors. A compiler
/// barrier on the value only: no instruction is emitted.
template <class V>
FUSEDOPS_INLINE void keep_in_register(V& x) noexcept {
  vec_ops<V>::keep_in_register(x);
}
/// Transposes the lanes<V> × lanes<V> block whose rows are r: afterwards r[j] holds element j of
/// every former row (r[j][i] = old r[i][j]).
template <class V>
FUSEDOPS_INLINE void transpose(V (&r)[lanes<V>]) noexcept {
  vec_ops<V>::transpose(r);
}
/// [a1, a0, a3, a2, ...]: every pair of neighbouring lanes swapped.
template <class V>
FUSEDOPS_INLINE V swap_pairs(const V& a) noexcept {
  return vec_ops<V>::swap_pairs(a);
}
/// [a0, a0, a1, a1, ...]: each lane of the lower half, twice.
template <class V>
FUSEDOPS_INLINE V spread_lower_half(const V& a) noexcept {
  return vec_ops<V>::spread_lower_half(a);
}
/// [a(L/2), a(L/2), a(L/2+1), a(L/2+1), ...]: each lane of the upper half, twice.
template <class V>
FUSEDOPS_INLINE V spread_upper_half(const V& a) noexcept {
  return vec_ops<V>::spread_upper_half(a);
}

}  // namespace fusedops::simd

// The elementary functions, written once over the primitives above.
#include "fusedops/arch/vector_math.hpp"  // IWYU pragma: export
