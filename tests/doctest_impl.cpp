// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// doctest's implementation, compiled once for every test binary (main() is in isa_main.cpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
