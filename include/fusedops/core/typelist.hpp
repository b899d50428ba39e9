// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. A minimal compile-time type list: one list of backends drives dispatch, tests and
// benchmarks (converted to std::tuple for doctest's TEST_CASE_TEMPLATE_APPLY).
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>

namespace fusedops {

template <class... Ts>
struct typelist {
  static constexpr std::size_t size = sizeof...(Ts);
};

namespace detail {
template <class A, class B>
struct concat;
template <class... A, class... B>
struct concat<typelist<A...>, typelist<B...>> {
  using type = typelist<A..., B...>;
};

template <template <class> class Pred, class List>
struct filter;
template <template <class> class Pred>
struct filter<Pred, typelist<>> {
  using type = typelist<>;
};
template <template <class> class Pred, class T, class... Ts>
struct filter<Pred, typelist<T, Ts...>> {
  using rest = typename filter<Pred, typelist<Ts...>>::type;
  using type = std::conditional_t<Pred<T>::value, typename concat<typelist<T>, rest>::type, rest>;
};

template <class List>
struct front;
template <class T, class... Ts>
struct front<typelist<T, Ts...>> {
  using type = T;
};

template <class List>
struct to_tuple;
template <class... Ts>
struct to_tuple<typelist<Ts...>> {
  using type = std::tuple<Ts...>;
};

template <class T, class List>
struct contains;
template <class T, class... Ts>
struct contains<T, typelist<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};
}  // namespace detail

/// Elements of List for which Pred<T>::value is true, in order.
template <template <class> class Pred, class List>
using filter_t = typename detail::filter<Pred, List>::type;
/// First element of a non-empty list.
template <class List>
using front_t = typename detail::front<List>::type;
/// std::tuple<Ts...> of typelist<Ts...>.
template <class List>
using to_tuple_t = typename detail::to_tuple<List>::type;
/// Whether T is one of List's elements.
template <class T, class List>
inline constexpr bool contains_v = detail::contains<T, List>::value;

/// Calls f(T{}) for each T of the list, in order.
template <class... Ts, class F>
constexpr void for_each_type(typelist<Ts...>, F&& f) {
  (f(Ts{}), ...);
}

}  // namespace fusedops
