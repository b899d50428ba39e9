// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The avx512 entry point of the multi_target example. Compiled with the avx512 flags (-mavx512f
// -mavx512cd -mavx512bw -mavx512dq ...) via fusedops_target_isa(... avx512); nothing else in the
// program sees those flags.
#include <fusedops/fusedops.hpp>

#include "kernels.hpp"

namespace multi_target {

fusedops::status run_bias_gelu_avx512(input x, bias_vector bias, output y) {
  return fusedops::bias_activation<fusedops::backend::avx512>(x, bias, y,
                                                              fusedops::act::gelu_tanh{});
}

}  // namespace multi_target
