// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: fused/epilogue. Gated epilogues for Llama-style FFNs: one GEMM computes the gate and the
// up projection side by side (weights packed with pack_b_gated, so every register tile holds
// matching gate and up columns), and the epilogue stores only act(gate + b_g) · (up + b_u), the
// half-width result. SwiGLU is gated<act::silu>; GEGLU gated<act::gelu_erf> or <act::gelu_tanh>.
#pragma once

#include "fusedops/fused/epilogue/nodes.hpp"

namespace fusedops::epilogue {

/// act(gate + bias_gate) · (up + bias_up), then `then` (e.g. a residual). Empty bias views mean
/// no bias. Output column j combines gate column j and up column j.
template <class Act, class Then = none>
struct gated {
  static constexpr bool is_gated = true;
  Act act{};
  view<const float, 1> bias_gate{};
  view<const float, 1> bias_up{};
  Then then{};

  template <class V>
  FUSEDOPS_INLINE V combine(V gate, V up, const coord& at) const noexcept {
    if (bias_gate.data() != nullptr)
      gate = gate + detail::load_segment<V>(bias_gate.data() + at.col * bias_gate.stride(0),
                                            bias_gate.stride(0), at.count);
    if (bias_up.data() != nullptr)
      up = up + detail::load_segment<V>(bias_up.data() + at.col * bias_up.stride(0),
                                        bias_up.stride(0), at.count);
    return then(act(gate) * up, at);
  }

  FUSEDOPS_INLINE void prefetch(const coord& at) const noexcept { epilogue::prefetch(then, at); }

  status validate(const char* op, const view<float, 2>& out) const noexcept {
    if (bias_gate.data() != nullptr || !bias_gate.empty())
      FUSEDOPS_RETURN_IF_ERROR(detail::check_col_vector(op, "gated.bias_gate", bias_gate, out));
    if (bias_up.data() != nullptr || !bias_up.empty())
      FUSEDOPS_RETURN_IF_ERROR(detail::check_col_vector(op, "gated.bias_up", bias_up, out));
    return epilogue::validate(then, op, out);
  }
};

/// silu(gate + b_g) · (up + b_u), with Swish's alpha in act::silu{alpha}.
using swiglu = gated<act::silu>;
/// gelu(gate + b_g) · (up + b_u), exact GELU.
using geglu = gated<act::gelu_erf>;

template <class E, class = void>
struct is_gated : std::false_type {};
template <class E>
struct is_gated<E, std::enable_if_t<E::is_gated>> : std::true_type {};
template <class E>
inline constexpr bool is_gated_v = is_gated<E>::value;

}  // namespace fusedops::epilogue
