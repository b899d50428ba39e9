// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The smallest fusedops program: one bias + GELU over a 3 x 5 tensor on the build's best
// backend, checked against the formula. Exits 1 if the call fails or the result is wrong.
#include <cmath>
#include <cstdio>

#include <fusedops/fusedops.hpp>

int main() {
  const float x[3][5] = {
      {-2.f, -1.f, 0.f, 1.f, 2.f}, {0.5f, -0.5f, 1.5f, -1.5f, 3.f}, {0.f, 0.f, 0.f, 0.f, 0.f}};
  const float bias[5] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f};
  float y[3][5] = {};

  const fusedops::status s = fusedops::bias_activation(
      fusedops::make_view(&x[0][0], {3, 5}), fusedops::make_view(bias, {5}),
      fusedops::make_view(&y[0][0], {3, 5}), fusedops::act::gelu_tanh{});
  if (!s.ok()) {
    std::fprintf(stderr, "bias_activation failed: %s\n", s.message());
    return 1;
  }

  int wrong = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j) {
      const double v = double(x[i][j]) + double(bias[j]);
      const double want =
          0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
      if (std::fabs(y[i][j] - want) > 1e-6 * (1 + std::fabs(want))) {
        std::fprintf(stderr, "y[%d][%d] = %.8f, expected %.8f\n", i, j, double(y[i][j]), want);
        ++wrong;
      }
    }
  std::printf(
      "consumer: fusedops %d.%d.%d, backend %s, y[0][0..4] = %.5f %.5f %.5f %.5f %.5f: %s\n",
      fusedops::version_major, fusedops::version_minor, fusedops::version_patch,
      fusedops::default_backend::name, double(y[0][0]), double(y[0][1]), double(y[0][2]),
      double(y[0][3]), double(y[0][4]), wrong ? "WRONG" : "OK");
  return wrong ? 1 : 0;
}
