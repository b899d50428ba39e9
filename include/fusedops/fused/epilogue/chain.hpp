// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: fused/epilogue. Composition: chain(e1, e2, ...) applies e1, then e2, ... to the same
// register, so bias -> GELU -> residual costs three register operations and no memory pass.
#pragma once

#include <tuple>
#include <utility>

#include "fusedops/fused/epilogue/nodes.hpp"

namespace fusedops::epilogue {

template <class... Es>
struct chain_t {
  std::tuple<Es...> nodes;

  template <class V>
  FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    return apply(x, at, std::index_sequence_for<Es...>{});
  }

  FUSEDOPS_INLINE void prefetch(const coord& at) const noexcept {
    std::apply([&](const auto&... e) { (epilogue::prefetch(e, at), ...); }, nodes);
  }

  status validate(const char* op, const view<float, 2>& out) const noexcept {
    status s;
    // Stops at the first failing node; fold over && short-circuits.
    std::apply([&](const auto&... e) { ((s = epilogue::validate(e, op, out)).ok() && ...); }, nodes);
    return s;
  }

 private:
  template <class V, std::size_t... I>
  FUSEDOPS_INLINE V apply(V x, const coord& at, std::index_sequence<I...>) const noexcept {
    ((x = std::get<I>(nodes)(x, at)), ...);
    return x;
  }
};

/// chain(bias_col{b}, activation{act::gelu_tanh{}}, residual{r}): applied left to right.
template <class... Es>
constexpr chain_t<Es...> chain(Es... nodes) noexcept {
  return chain_t<Es...>{std::tuple<Es...>(nodes...)};
}

}  // namespace fusedops::epilogue
