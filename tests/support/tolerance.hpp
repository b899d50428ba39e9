// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The tolerance table, one entry per (op, dtype), each with its reasoning. A change here is a
// numerical decision to be reviewed, never a way to turn a test green.
#pragma once

#include <cmath>

namespace fusedops::test::tolerance {

// bias_activation, fp32: one rounding of x + bias (0.5 ulp), then the activation. xsimd's and
// libm's exp/tanh/erf are within ~1-2 ulp (measured 6e-8 absolute on [-1, 1]); GELU/SiLU add a
// few multiplies. 8 ulp of the result plus a small absolute floor for results near 0 (where the
// cancellation in 1 + tanh(..) / 1 + erf(..) makes relative error meaningless).
inline constexpr double bias_activation_rel = 8 * 1.1920929e-7;
inline constexpr double bias_activation_abs = 1e-6;

/// |got - want| <= abs + rel * |want|, treating NaN == NaN and equal infinities as equal.
inline bool close(double got, double want, double rel, double abs) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= abs + rel * std::fabs(want);
}

}  // namespace fusedops::test::tolerance
