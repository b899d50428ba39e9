// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/activation. Activation functors, each defined once and used everywhere: standalone
// activation ops, fused epilogues, CUDA kernels and the double-precision oracle. A functor's call
// operator takes a scalar (float, double) or a backend vector (simd::vec_t<float, B>); scalars use
// the C library's math, vectors the vocabulary of arch/simd.hpp.
// Concept for user-written activations: a trivially copyable struct with
//   template <class V> FUSEDOPS_HOST_DEVICE V operator()(V x) const;
// valid for float, double and every backend's vector type.
// NaN inputs produce NaN outputs for every functor here (ReLU included); at ±inf each gives its
// limit (the x · g(x) forms included, whose formulas alone would give -inf · 0 = NaN).
#pragma once

#include <type_traits>

#include "fusedops/arch/simd.hpp"
#include "fusedops/config/macros.hpp"
#include "fusedops/ops/math/scalar_math.hpp"

namespace fusedops::act {

namespace detail {
template <class V>
inline constexpr bool is_scalar_v = std::is_floating_point_v<V>;

/// Element type of V: V itself for scalars, V::value_type for vectors.
template <class V, bool = is_scalar_v<V>>
struct element {
  using type = V;
};
template <class V>
struct element<V, false> {
  using type = typename V::value_type;
};
template <class V>
using element_t = typename element<V>::type;

/// The largest finite value of S, as a literal (usable in CUDA device code without
/// --expt-relaxed-constexpr): v > max_finite<S> tests for +inf.
template <class S>
inline constexpr S max_finite = S(3.402823466e+38F);
template <>
inline constexpr double max_finite<double> = 1.7976931348623157e+308;

/// Where d overflowed to +inf, a zero with the sign of x; elsewhere r. The functors written as a
/// quotient r = x / d give inf / inf = NaN for an infinite x whose d overflowed; their limit there
/// is the zero that a large finite x already gets from x / d (-0 below zero).
template <class V>
FUSEDOPS_HOST_DEVICE V signed_zero_where_overflowed(V d, V x, V r) noexcept {
  using S = element_t<V>;
  if constexpr (is_scalar_v<V>) {
    return d > max_finite<S> ? (x < V(0) ? V(S(-0.0)) : V(0)) : r;
  } else {
    return simd::select(d > V(max_finite<S>), simd::select(x < V(S(0)), V(S(-0.0)), V(S(0))), r);
  }
}

/// -0 where x = -inf, elsewhere r: the limit of x · g(x) for a g that reaches 0 at finite x
/// (exact GELU, HardSwish), where the formula's -inf · 0 would be NaN.
template <class V>
FUSEDOPS_HOST_DEVICE V minus_zero_at_minus_inf(V x, V r) noexcept {
  using S = element_t<V>;
  const V lowest(-max_finite<S>), minus_zero(S(-0.0));
  if constexpr (is_scalar_v<V>) {
    return x < lowest ? minus_zero : r;
  } else {
    return simd::select(x < lowest, minus_zero, r);
  }
}
}  // namespace detail

/// y = x.
struct identity {
  static constexpr const char* name = "identity";
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    return x;
  }
};

/// y = max(x, 0), NaN -> NaN (x < 0 is false for NaN, so x passes through).
struct relu {
  static constexpr const char* name = "relu";
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    if constexpr (detail::is_scalar_v<V>) {
      return x < V(0) ? V(0) : x;
    } else {
      return simd::select(x < V(0), V(0), x);
    }
  }
};

/// GELU, exact form: y = x/2 · (1 + erf(x/√2)). gelu(-inf) is its limit -0 (the formula's
/// -inf · 0 would be NaN), like every x below about -9, where 1 + erf(x/√2) is already 0.
struct gelu_erf {
  static constexpr const char* name = "gelu_erf";
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    using S = detail::element_t<V>;
    const V half(S(0.5)), one(S(1)), inv_sqrt2(S(0.70710678118654752440));
    if constexpr (detail::is_scalar_v<V>) {
      return detail::minus_zero_at_minus_inf(x, half * x * (one + scalar_math::erf(x * inv_sqrt2)));
    } else {
      return detail::minus_zero_at_minus_inf(x, half * x * (one + simd::erf(x * inv_sqrt2)));
    }
  }
};

/// GELU, tanh approximation: y = x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³))).
struct gelu_tanh {
  static constexpr const char* name = "gelu_tanh";
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    using S = detail::element_t<V>;
    const V one(S(1)), k0(S(0.79788456080286535588)), k1(S(0.044715));
    const V inner = k0 * (x + k1 * x * x * x);
    // Evaluated as the identical x · sigmoid(2·inner) = x / (1 + e^(-2·inner)): no cancellation
    // in 1 + tanh for negative x (which loses every digit below x ≈ -5, in double too), and one
    // exp plus one division instead of tanh. e^(-2·inner) overflowing to +inf gives the limit -0,
    // at x = -inf too.
    if constexpr (detail::is_scalar_v<V>) {
      const V d = one + scalar_math::exp(inner * V(S(-2)));
      return detail::signed_zero_where_overflowed(d, x, x / d);
    } else {
      const V d = one + simd::exp(inner * V(S(-2)));
      return detail::signed_zero_where_overflowed(d, x, simd::div(x, d));
    }
  }
};

/// SiLU / Swish: y = x · sigmoid(alpha · x) = x / (1 + exp(-alpha · x)); alpha = 1 is SiLU.
/// Where alpha · x is -inf (silu(-inf) with alpha > 0) the result is the limit, a signed zero.
struct silu {
  static constexpr const char* name = "silu";
  float alpha = 1.0f;
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    using S = detail::element_t<V>;
    const V one(S(1)), minus_alpha(S(-alpha));
    if constexpr (detail::is_scalar_v<V>) {
      const V d = one + scalar_math::exp(minus_alpha * x);
      return detail::signed_zero_where_overflowed(d, x, x / d);
    } else {
      const V d = one + simd::exp(minus_alpha * x);
      return detail::signed_zero_where_overflowed(d, x, simd::div(x, d));
    }
  }
};

/// Clip: y = min(max(x, lo), hi); ReLU6 is clip{0, 6}. NaN -> NaN (comparisons with NaN are false).
struct clip {
  static constexpr const char* name = "clip";
  float lo = 0.0f;
  float hi = 6.0f;
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    using S = detail::element_t<V>;
    const V vlo(static_cast<S>(lo)), vhi(static_cast<S>(hi));
    if constexpr (detail::is_scalar_v<V>) {
      return x < vlo ? vlo : (x > vhi ? vhi : x);
    } else {
      return simd::select(x < vlo, vlo, simd::select(x > vhi, vhi, x));
    }
  }
};

/// Logistic sigmoid: y = 1 / (1 + exp(-x)). Vectors use simd::sigmoid (e/(1 + e) with
/// e = exp(-|x|): no overflow, denormal results kept); scalars the plain formula, where exp
/// overflow gives exactly 0 for very negative x. sigmoid(-inf) = 0, sigmoid(+inf) = 1.
struct sigmoid {
  static constexpr const char* name = "sigmoid";
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    using S = detail::element_t<V>;
    if constexpr (detail::is_scalar_v<V>) {
      const V one(S(1));
      return one / (one + scalar_math::exp(-x));
    } else {
      return simd::sigmoid(x);
    }
  }
};

/// Hyperbolic tangent as an activation.
struct tanh {
  static constexpr const char* name = "tanh";
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    if constexpr (detail::is_scalar_v<V>) {
      return scalar_math::tanh(x);
    } else {
      return simd::tanh(x);
    }
  }
};

/// HardSwish (ONNX opset 14): y = x · max(0, min(1, x/6 + 1/2)); -0 at -inf, as below -3.
struct hardswish {
  static constexpr const char* name = "hardswish";
  template <class V>
  FUSEDOPS_HOST_DEVICE V operator()(V x) const noexcept {
    using S = detail::element_t<V>;
    const V gate = clip{0.0f, 1.0f}(x * V(S(1) / S(6)) + V(S(0.5)));
    return detail::minus_zero_at_minus_inf(x, x * gate);
  }
};

}  // namespace fusedops::act
