// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The generic entry point of the multi_target example. Compiled with no SIMD
// (-DFUSEDOPS_FORCE_GENERIC=1): runs on any x86-64 CPU via fusedops_target_isa(... generic);
// nothing else in the program sees those flags.
#include <fusedops/fusedops.hpp>

#include "kernels.hpp"

namespace multi_target {

fusedops::status run_bias_gelu_generic(input x, bias_vector bias, output y) {
  return fusedops::bias_activation<fusedops::backend::generic>(x, bias, y,
                                                               fusedops::act::gelu_tanh{});
}

}  // namespace multi_target
