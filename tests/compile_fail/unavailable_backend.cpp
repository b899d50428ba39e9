// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Must not compile: asks for backend::avx512 in a TU built without AVX-512 flags.
#include "fusedops/bias_activation.hpp"

fusedops::status use_avx512(fusedops::view<const float, 2> x, fusedops::view<const float, 1> b,
                            fusedops::view<float, 2> y) {
  return fusedops::bias_activation<fusedops::backend::avx512>(x, b, y);
}
