// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: fused/epilogue. The building blocks of a fused epilogue: small functors applied to a
// vector of finished accumulators (one row, `lanes` consecutive columns) while it is still in a
// register, before the one store of the output. See fused/epilogue.hpp for the concept.
#pragma once

#include <type_traits>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/activation/functors.hpp"

namespace fusedops::epilogue {

/// Where a vector of results sits in the output: row `row`, columns [col, col + count) of
/// matrix `batch` (0 outside batched calls). Lanes at and beyond `count` are padding: their value
/// is ignored and a node must not read memory for them. Scalar calls have count == 1.
struct coord {
  index_t row = 0;
  index_t col = 0;
  int count = 1;
  index_t batch = 0;
};

namespace detail {
template <class V>
inline constexpr bool is_scalar_v = std::is_floating_point_v<V>;

/// count elements p[0], p[stride], ... as a vector V (p[0] as a scalar V). Host and device: a
/// scalar V never reaches the host-only vector branch.
FUSEDOPS_HOST_DEVICE_TEMPLATE
template <class V>
FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V load_segment(const float* p, index_t stride,
                                                    int count) noexcept {
  if constexpr (is_scalar_v<V>) {
    return static_cast<V>(*p);
  } else {
    return simd::load_segment<V>(p, stride, count);
  }
}

FUSEDOPS_HOST_DEVICE_TEMPLATE
template <class V>
FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V splat(float x) noexcept {
  if constexpr (is_scalar_v<V>) {
    return static_cast<V>(x);
  } else {
    return simd::broadcast<V>(x);
  }
}

/// A node's optional argument check against an output view of type Out, called once per operator
/// call before anything is written.
template <class E, class Out, class = void>
struct has_validate : std::false_type {};
template <class E, class Out>
struct has_validate<
    E, Out,
    std::void_t<decltype(std::declval<const E&>().validate("", std::declval<const Out&>()))>>
    : std::true_type {};

/// Checks of the nodes that read a vector along the output's columns (a column bias, a gated
/// half's bias) and of residual inputs, shared by the host nodes and their device twins.
template <class TO, class S>
status check_col_vector(const char* op, const char* name, const view<const float, 1, S>& v,
                        const view<TO, 2, S>& out) noexcept {
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, name, v));
  if (v.shape(0) != out.shape(1))
    return status::error(errc::shape_mismatch,
                         "%s: epilogue argument '%s' has shape %s, expected [%td] (the columns of "
                         "the output %s)",
                         op, name, v.shape_string().c_str(), out.shape(1),
                         out.shape_string().c_str());
  return checks::in_place_or_disjoint(op, "output", out, name, v);
}

template <class TO, class S>
status check_row_vector(const char* op, const char* name, const view<const float, 1, S>& v,
                        const view<TO, 2, S>& out) noexcept {
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, name, v));
  if (v.shape(0) != out.shape(0))
    return status::error(errc::shape_mismatch,
                         "%s: epilogue argument '%s' has shape %s, expected [%td] (the rows of the "
                         "output %s)",
                         op, name, v.shape_string().c_str(), out.shape(0),
                         out.shape_string().c_str());
  return checks::in_place_or_disjoint(op, "output", out, name, v);
}

template <class TO, class S>
status check_residual(const char* op, const char* name, const view<const float, 2, S>& r,
                      const view<TO, 2, S>& out) noexcept {
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, name, r));
  FUSEDOPS_RETURN_IF_ERROR(
      checks::shape_equals<2>(op, name, r.shape(), out.shape(), "the output's shape"));
  std::uintptr_t olo, ohi, rlo, rhi;
  checks::byte_range(out, olo, ohi);
  checks::byte_range(r, rlo, rhi);
  if (!(ohi <= rlo || rhi <= olo))
    return status::error(errc::invalid_argument,
                         "%s: epilogue argument '%s' (shape %s) overlaps the output; use beta = 1 "
                         "to accumulate into the output in place",
                         op, name, r.shape_string().c_str());
  return {};
}

template <class E, class = void>
struct has_prefetch : std::false_type {};
template <class E>
struct has_prefetch<E, std::void_t<decltype(std::declval<const E&>().prefetch(coord{}))>>
    : std::true_type {};
}  // namespace detail

/// Asks an epilogue to start loading what it will read for output row at.row, columns
/// [at.col, at.col + at.count) (no-op for nodes without prefetch()). Kernels call it before their
/// k loop, so the loads overlap the arithmetic instead of following it.
template <class E>
FUSEDOPS_INLINE void prefetch(const E& e, const coord& at) noexcept {
  if constexpr (detail::has_prefetch<E>::value) {
    e.prefetch(at);
  } else {
    static_cast<void>(e), static_cast<void>(at);
  }
}

/// Validates an epilogue against the output it will write (no-op for nodes without validate()).
template <class E, class Out>
status validate(const E& e, const char* op, const Out& out) noexcept {
  if constexpr (detail::has_validate<E, Out>::value) {
    return e.validate(op, out);
  } else {
    static_cast<void>(e), static_cast<void>(op), static_cast<void>(out);
    return {};
  }
}

/// No epilogue: the product is stored as computed.
struct none {
  FUSEDOPS_HOST_DEVICE_TEMPLATE
  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V operator()(V x, const coord&) const noexcept {
    return x;
  }
};

/// x · s.
struct scale {
  float s = 1.0f;
  FUSEDOPS_HOST_DEVICE_TEMPLATE
  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V operator()(V x, const coord&) const noexcept {
    return x * detail::splat<V>(s);
  }
};

/// x + bias[col]: one bias per output column (a Linear layer's bias). Any stride.
struct bias_col {
  view<const float, 1> bias;
  template <class V>
  FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    return x +
           detail::load_segment<V>(bias.data() + at.col * bias.stride(0), bias.stride(0), at.count);
  }
  status validate(const char* op, const view<float, 2>& out) const noexcept {
    return detail::check_col_vector(op, "bias_col.bias", bias, out);
  }
};

/// x + bias[row]: one bias per output row (a convolution-as-GEMM's per-channel bias).
struct bias_row {
  view<const float, 1> bias;
  template <class V>
  FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    return x + detail::splat<V>(bias.data()[at.row * bias.stride(0)]);
  }
  status validate(const char* op, const view<float, 2>& out) const noexcept {
    return detail::check_row_vector(op, "bias_row.bias", bias, out);
  }
};

/// x + r[row, col]: a residual connection. r has the output's shape, any strides (0 broadcasts).
/// It must not overlap the output: the output may be written in several passes over K, so an
/// in-place residual would be read after it was overwritten. For C += A·B use beta = 1 instead.
struct residual {
  view<const float, 2> r;
  template <class V>
  FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    return x + detail::load_segment<V>(r.data() + at.row * r.stride(0) + at.col * r.stride(1),
                                       r.stride(1), at.count);
  }
  FUSEDOPS_INLINE void prefetch(const coord& at) const noexcept {
    const float* p = r.data() + at.row * r.stride(0) + at.col * r.stride(1);
    FUSEDOPS_PREFETCH_READ(p);
    FUSEDOPS_PREFETCH_READ(p + (at.count - 1) * r.stride(1));
  }
  status validate(const char* op, const view<float, 2>& out) const noexcept {
    return detail::check_residual(op, "residual.r", r, out);
  }
};

/// act(x) for any activation functor of fusedops::act (or a user functor of that concept).
template <class Act>
struct activation {
  Act act{};
  FUSEDOPS_HOST_DEVICE_TEMPLATE
  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V operator()(V x, const coord&) const noexcept {
    return act(x);
  }
};

template <class Act>
activation(Act) -> activation<Act>;

}  // namespace fusedops::epilogue
