// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: interop. Zero-copy conversions between Eigen dense objects and fusedops views.
// Optional: the umbrella header does not include it, so only code that includes it needs Eigen.
//   from_eigen(m)       Matrix / Array / Map / Ref / Block / Transpose -> view<T, 2> (or view<T, 1>
//                       for compile-time vectors); const-ness follows Eigen's own data() access
//   from_eigen_2d(m)    always a view<T, 2> (a VectorXf becomes [n, 1])
//   to_eigen_map(v)     view<T, 2> / view<T, 1> -> Eigen::Map with dynamic strides
// Strides are carried over in elements, whatever the storage order: a column-major m of ld rows
// gives strides {innerStride, ld} = {1, ld}; a row-major one {ld, 1}. Nothing here copies data.
#pragma once

#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "fusedops/core/tensor_view.hpp"

namespace fusedops {

namespace detail::eigen_interop {

template <class M>
using plain_t = std::remove_cv_t<std::remove_reference_t<M>>;

template <class D, class = void>
struct is_dense : std::false_type {};
template <class D>
struct is_dense<D, std::enable_if_t<std::is_base_of_v<Eigen::DenseBase<D>, D>>> : std::true_type {};

/// Types that may own the storage data() points into: a view of a temporary one would dangle.
/// (Ref<const X> owns a private copy when it was bound to an expression of another layout.)
template <class D>
struct may_own_storage : std::bool_constant<std::is_base_of_v<Eigen::PlainObjectBase<D>, D>> {};
template <class P, int Options, class S>
struct may_own_storage<Eigen::Ref<const P, Options, S>> : std::true_type {};

/// Compile-time checks shared by from_eigen and from_eigen_2d.
template <class M>
constexpr void check_source() noexcept {
  using D = plain_t<M>;
  static_assert(is_dense<D>::value,
                "fusedops::from_eigen: the argument is not an Eigen dense object (Matrix, Array, "
                "Map, Ref, Block, ...)");
  static_assert((int(D::Flags) & Eigen::DirectAccessBit) != 0,
                "fusedops::from_eigen: this Eigen expression has no direct memory access (e.g. a "
                "sum or product expression); evaluate it into a Matrix first");
  static_assert(!(std::is_rvalue_reference_v<M&&> && may_own_storage<D>::value),
                "fusedops::from_eigen: the argument is a temporary that owns its data; the view "
                "would dangle. Pass a named Matrix / Array / Ref");
}

template <class M>
using element_of = std::remove_pointer_t<decltype(std::declval<M&>().data())>;

/// (row stride, column stride) in elements for any direct-access expression.
template <class M>
dims<2> strides_2d(const M& m) noexcept {
  const index_t inner = m.innerStride(), outer = m.outerStride();
  if constexpr (bool(plain_t<M>::IsRowMajor)) {
    return {outer, inner};
  } else {
    return {inner, outer};
  }
}

}  // namespace detail::eigen_interop

/// Rank-2 view of the elements of an Eigen dense object with direct access (Matrix, Array, Map
/// with any InnerStride / OuterStride / Stride, Ref, Block, Transpose of those, including compile-
/// time vectors, which give [n, 1] or [1, n]).
///
/// @param m  the Eigen object; it (or for Map/Block/Ref, the memory it refers to) must outlive
///           the view. Temporaries that own their data (Matrix, Array, Ref<const X>) are rejected
///           at compile time.
/// @return   view<T, 2>, or view<const T, 2> when Eigen only gives read access (a const Matrix,
///           Map<const X>, Ref<const X>, a Block of a const matrix, ...). shape = {rows, cols};
///           strides = {outerStride, innerStride} for row-major storage, {innerStride,
///           outerStride} for column-major storage.
template <class M>
auto from_eigen_2d(M&& m) noexcept {
  namespace ei = detail::eigen_interop;
  ei::check_source<M>();
  using T = ei::element_of<std::remove_reference_t<M>>;
  return view<T, 2>(m.data(), dims<2>{index_t(m.rows()), index_t(m.cols())}, ei::strides_2d(m));
}

/// View of an Eigen dense object with direct access: view<T, 1> for a compile-time vector
/// (VectorXf, RowVectorXf, m.row(i), m.col(j), Map<VectorXf, 0, InnerStride<>> ...), with its
/// element step as the stride; view<T, 2> for everything else (as from_eigen_2d).
///
/// @param m  as for from_eigen_2d: must outlive the view; owning temporaries do not compile.
/// @return   a view of T, or of const T when Eigen only gives read access to m's elements.
template <class M>
auto from_eigen(M&& m) noexcept {
  namespace ei = detail::eigen_interop;
  ei::check_source<M>();
  if constexpr (bool(ei::plain_t<M>::IsVectorAtCompileTime)) {
    using T = ei::element_of<std::remove_reference_t<M>>;
    return view<T, 1>(m.data(), dims<1>{index_t(m.size())}, dims<1>{index_t(m.innerStride())});
  } else {
    return from_eigen_2d(std::forward<M>(m));
  }
}

/// Eigen::Map type returned by to_eigen_map for a rank-2 view of T (T may be const).
template <class T>
using eigen_matrix_map = Eigen::Map<
    std::conditional_t<std::is_const_v<T>,
                       const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic,
                                           Eigen::RowMajor>,
                       Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>,
    Eigen::Unaligned, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

/// Eigen::Map type returned by to_eigen_map for a rank-1 view of T (a column vector).
template <class T>
using eigen_vector_map =
    Eigen::Map<std::conditional_t<std::is_const_v<T>,
                                  const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, 1>,
                                  Eigen::Matrix<T, Eigen::Dynamic, 1>>,
               Eigen::Unaligned, Eigen::InnerStride<Eigen::Dynamic>>;

/// Eigen view of a host rank-2 view: a row-major Map with Stride(v.stride(0), v.stride(1)), so
/// map(i, j) is v(i, j) for any strides (transposed, sliced, negative, 0 for inputs). Writable
/// when T is non-const. No copy; v's memory must outlive the map.
template <class T, class Space>
eigen_matrix_map<T> to_eigen_map(const view<T, 2, Space>& v) noexcept {
  static_assert(std::is_same_v<Space, host_memory>,
                "fusedops::to_eigen_map: Eigen can only map host memory, not a device_view");
  return eigen_matrix_map<T>(
      v.data(), v.shape(0), v.shape(1),
      Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(v.stride(0), v.stride(1)));
}

/// Eigen view of a host rank-1 view: a column-vector Map with InnerStride(v.stride(0)).
template <class T, class Space>
eigen_vector_map<T> to_eigen_map(const view<T, 1, Space>& v) noexcept {
  static_assert(std::is_same_v<Space, host_memory>,
                "fusedops::to_eigen_map: Eigen can only map host memory, not a device_view");
  return eigen_vector_map<T>(v.data(), v.shape(0), Eigen::InnerStride<Eigen::Dynamic>(v.stride(0)));
}

}  // namespace fusedops
