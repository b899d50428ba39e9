// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Tiny program of the add_subdirectory packaging test: one bias + ReLU and one bias + SiLU on the
// build's best backend, plus one rejected call; exits 1 on any wrong result.
#include <cmath>
#include <cstdio>

#include <fusedops/fusedops.hpp>

int main() {
  const float x[2][3] = {{-1.f, 0.5f, 2.f}, {3.f, -4.f, 0.f}};
  const float bias[3] = {0.5f, -1.f, 1.f};
  float y[2][3] = {};
  const auto xv = fusedops::make_view(&x[0][0], {2, 3});
  const auto yv = fusedops::make_view(&y[0][0], {2, 3});

  fusedops::status s =
      fusedops::bias_activation(xv, fusedops::make_view(bias, {3}), yv, fusedops::act::relu{});
  const float want_relu[2][3] = {{0.f, 0.f, 3.f}, {3.5f, 0.f, 1.f}};
  int wrong = s.ok() ? 0 : 1;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) wrong += y[i][j] != want_relu[i][j];

  s = fusedops::bias_activation(xv, fusedops::make_view(bias, {3}), yv, fusedops::act::silu{});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      const double v = double(x[i][j]) + double(bias[j]), want = v / (1 + std::exp(-v));
      wrong += std::fabs(y[i][j] - want) > 1e-6 * (1 + std::fabs(want));
    }
  if (!s.ok()) std::fprintf(stderr, "bias_activation failed: %s\n", s.message()), ++wrong;

  // A bias of the wrong length must be rejected with a message, leaving y alone.
  const fusedops::status bad = fusedops::bias_activation(xv, fusedops::make_view(bias, {2}), yv);
  if (bad.ok()) std::fprintf(stderr, "a bias of length 2 for 3 columns was accepted\n"), ++wrong;

  std::printf("add_subdirectory consumer: backend %s, rejected call says \"%s\": %s\n",
              fusedops::default_backend::name, bad.message(), wrong ? "WRONG" : "OK");
  return wrong ? 1 : 0;
}
