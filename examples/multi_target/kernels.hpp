// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The per-target entry points of the multi_target example. Each is defined in its own translation
// unit, compiled with that target's ISA flags; this header itself needs no flags.
#pragma once

#include <fusedops/core/status.hpp>
#include <fusedops/core/tensor_view.hpp>

namespace multi_target {

using input = fusedops::view<const float, 2>;
using bias_vector = fusedops::view<const float, 1>;
using output = fusedops::view<float, 2>;

/// y = gelu_tanh(x + bias), each built for one backend. Call one only if
/// fusedops::runtime::cpu_supports<that backend>() is true.
fusedops::status run_bias_gelu_avx512(input x, bias_vector bias, output y);
fusedops::status run_bias_gelu_avx2(input x, bias_vector bias, output y);
fusedops::status run_bias_gelu_generic(input x, bias_vector bias, output y);

}  // namespace multi_target
