// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: fused/epilogue. Composition: chain(e1, e2, ...) applies e1, then e2, ... to the same
// register, so bias -> GELU -> residual costs three register operations and no memory pass.
// The nodes are held in a plain recursive aggregate (not std::tuple), so a chain is callable in
// CUDA device code without relaxed-constexpr flags.
#pragma once

#include "fusedops/fused/epilogue/nodes.hpp"

namespace fusedops::epilogue {

namespace detail {

template <class... Es>
struct chain_nodes;

template <>
struct chain_nodes<> {
  FUSEDOPS_HOST_DEVICE_TEMPLATE
  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V apply(V x, const coord&) const noexcept {
    return x;
  }
  FUSEDOPS_INLINE void prefetch(const coord&) const noexcept {}
  template <class Out>
  status validate(const char*, const Out&) const noexcept {
    return {};
  }
};

template <class E, class... Rest>
struct chain_nodes<E, Rest...> {
  E head;
  chain_nodes<Rest...> tail;

  FUSEDOPS_HOST_DEVICE_TEMPLATE
  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V apply(V x, const coord& at) const noexcept {
    return tail.apply(head(x, at), at);
  }
  FUSEDOPS_INLINE void prefetch(const coord& at) const noexcept {
    epilogue::prefetch(head, at);
    tail.prefetch(at);
  }
  /// Stops at the first failing node.
  template <class Out>
  status validate(const char* op, const Out& out) const noexcept {
    FUSEDOPS_RETURN_IF_ERROR(epilogue::validate(head, op, out));
    return tail.validate(op, out);
  }
};

inline constexpr chain_nodes<> make_chain_nodes() noexcept { return {}; }
template <class E, class... Rest>
constexpr chain_nodes<E, Rest...> make_chain_nodes(const E& head, const Rest&... rest) noexcept {
  return {head, make_chain_nodes(rest...)};
}

}  // namespace detail

template <class... Es>
struct chain_t {
  detail::chain_nodes<Es...> nodes;

  FUSEDOPS_HOST_DEVICE_TEMPLATE
  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    return nodes.apply(x, at);
  }

  FUSEDOPS_INLINE void prefetch(const coord& at) const noexcept { nodes.prefetch(at); }

  template <class Out>
  status validate(const char* op, const Out& out) const noexcept {
    return nodes.validate(op, out);
  }
};

/// chain(bias_col{b}, activation{act::gelu_tanh{}}, residual{r}): applied left to right.
template <class... Es>
constexpr chain_t<Es...> chain(Es... nodes) noexcept {
  return chain_t<Es...>{detail::make_chain_nodes(nodes...)};
}

}  // namespace fusedops::epilogue
