// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Must not compile: hands device-memory views to a CPU backend.
#include "fusedops/core/dispatch.hpp"

void use_device_views_on_cpu() {
  fusedops::require_backend<fusedops::backend::generic, fusedops::device_memory>();
}
