// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// main() of the multi_target example, compiled WITHOUT ISA flags: it asks the CPU which of the
// per-target entry points (kernels_*.cpp) it can run, runs the best one and checks the result.
//   multi_target           run the best target this CPU supports
//   multi_target --all     run every target this CPU supports (each one checked)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include <fusedops/ops/activation/functors.hpp>
#include <fusedops/reference/bias_activation.hpp>
#include <fusedops/runtime/cpu_features.hpp>

#include "kernels.hpp"

namespace {

using kernel_fn = fusedops::status (*)(multi_target::input, multi_target::bias_vector,
                                       multi_target::output);

struct target {
  const char* name;
  bool supported;
  kernel_fn run;
};

// Runs one target on fresh data and compares with the double-precision oracle.
bool run_and_check(const target& t) {
  const long rows = 64, cols = 1000;  // 1000 is not a multiple of any vector width: tails run too
  std::mt19937 gen(12345);
  std::uniform_real_distribution<float> dist(-3.f, 3.f);
  std::vector<float> x(static_cast<std::size_t>(rows * cols)), bias(cols), y(x.size());
  for (float& v : x) v = dist(gen);
  for (float& v : bias) v = dist(gen) / 3;

  const auto xv = fusedops::make_view<const float>(x.data(), {rows, cols});
  const auto bv = fusedops::make_view<const float>(bias.data(), {cols});
  const fusedops::status s = t.run(xv, bv, fusedops::make_view(y.data(), {rows, cols}));
  if (!s.ok()) {
    std::fprintf(stderr, "error (%s): %s\n", t.name, s.message());
    return false;
  }
  const std::vector<double> ref =
      fusedops::reference::bias_activation(xv, bv, fusedops::act::gelu_tanh{});
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double e = std::fabs(static_cast<double>(y[i]) - ref[i]) / (1.0 + std::fabs(ref[i]));
    if (!(e <= worst)) worst = e;
  }
  const bool ok = worst <= 1e-6;
  std::printf("used %-8s y[0, 0..2] = %.6f %.6f %.6f   max err %.2e  %s\n", t.name,
              static_cast<double>(y[0]), static_cast<double>(y[1]), static_cast<double>(y[2]),
              worst, ok ? "OK" : "WRONG");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fusedops;
  const bool all = argc > 1 && std::strcmp(argv[1], "--all") == 0;
  if (argc > 2 || (argc == 2 && !all)) {
    std::fprintf(stderr, "usage: %s [--all]\n", argv[0]);
    return 1;
  }

  // Best first. cpu_supports<B>() only asks the CPU; it executes no vector instruction.
  const target targets[] = {
      {backend::avx512::name, runtime::cpu_supports<backend::avx512>(),
       multi_target::run_bias_gelu_avx512},
      {backend::avx2::name, runtime::cpu_supports<backend::avx2>(),
       multi_target::run_bias_gelu_avx2},
      {backend::generic::name, runtime::cpu_supports<backend::generic>(),
       multi_target::run_bias_gelu_generic},
  };
  std::printf("this CPU supports:");
  for (const target& t : targets)
    if (t.supported) std::printf(" %s", t.name);
  std::printf("\n");

  bool ok = true;
  for (const target& t : targets) {
    if (!t.supported) continue;
    ok = run_and_check(t) && ok;
    if (!all) break;  // the best one only
  }
  return ok ? 0 : 1;
}
