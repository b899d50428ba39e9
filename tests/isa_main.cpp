// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// main() of every per-ISA test binary. Compiled WITHOUT the binary's ISA flags, so it can ask the
// CPU whether the binary's instruction set is there before any vector code runs: if not it exits
// 77, which CTest reports as a skip (SKIP_RETURN_CODE), instead of dying of SIGILL.
#include <cstdio>
#include <cstring>

#include <doctest/doctest.h>

#include "fusedops/runtime/cpu_features.hpp"

#ifndef FUSEDOPS_TEST_ISA
#error "FUSEDOPS_TEST_ISA must name the binary's ISA"
#endif

namespace {
bool cpu_runs(const char* isa) {
  using namespace fusedops;
  if (std::strcmp(isa, "avx2") == 0) return runtime::cpu_supports<backend::avx2>();
  if (std::strcmp(isa, "avx512") == 0) return runtime::cpu_supports<backend::avx512>();
  if (std::strcmp(isa, "neon") == 0) return runtime::cpu_supports<backend::neon>();
  return true;  // generic, and native (built for this very machine)
}
}  // namespace

int main(int argc, char** argv) {
  if (!cpu_runs(FUSEDOPS_TEST_ISA)) {
    std::printf("SKIPPED: this CPU cannot run the '%s' test binary\n", FUSEDOPS_TEST_ISA);
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
