// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. The two traits behind the vector vocabulary:
//  * vec_of<T, B>::type   the vector type backend B uses for elements of type T;
//  * vec_ops<V>           the primitive operations on that vector type.
// Each backend specialises them in arch/<isa>/traits.hpp (generic: plain arrays; SIMD backends:
// xsimd batches through arch/xsimd_bridge.hpp). Kernels use the free functions of arch/simd.hpp.
#pragma once

#include <cstdint>
#include <type_traits>

#include "fusedops/core/dispatch.hpp"

namespace fusedops::simd {

template <class T, class B>
struct vec_of {
  // Reached only for a backend whose traits header was not included because the TU's flags do
  // not enable it: report that, rather than an incomplete-type error.
  static constexpr bool checked = (require_backend<B, host_memory>(), true);
  using type = void;
};

/// The vector type of backend B for element type T.
template <class T, class B>
using vec_t = typename vec_of<T, B>::type;

/// Unsigned integer as wide as T: the lane type of the bit-pattern vectors (vec_ops<V>::bits).
template <class T>
using bits_element = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// Primitive operations on vector type V; specialised per vector type.
template <class V>
struct vec_ops;

}  // namespace fusedops::simd
