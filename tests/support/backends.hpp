// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The backend list every per-backend test body is applied to, and readable names for doctest:
//   TEST_CASE_TEMPLATE_DEFINE("op vs reference", B, id) { ... }
//   TEST_CASE_TEMPLATE_APPLY(id, fusedops::test::compiled_backends_tuple);
#pragma once

#include <doctest/doctest.h>

#include "fusedops/core/dispatch.hpp"

namespace fusedops::test {
using compiled_backends_tuple = to_tuple_t<compiled_backends>;
}  // namespace fusedops::test

TYPE_TO_STRING(fusedops::backend::generic);
TYPE_TO_STRING(fusedops::backend::avx2);
TYPE_TO_STRING(fusedops::backend::avx512);
TYPE_TO_STRING(fusedops::backend::neon);
