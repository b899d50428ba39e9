// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Must not compile: uses backend::cuda from a TU not compiled by nvcc.
#include "fusedops/core/dispatch.hpp"

void use_cuda() { fusedops::require_backend<fusedops::backend::cuda>(); }
