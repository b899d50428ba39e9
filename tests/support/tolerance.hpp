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

// gemm, fp32: C = epilogue(alpha · sum_k a_ik·b_kj + beta · c_in). The backends accumulate in
// fp32 in different orders (register tiles, passes of kc >= 128 over K whose partial sums are
// stored in C and re-read, the GEMV paths' four-way dot products and horizontal reductions), so
// no two agree bit for bit; what they share is the classic bound for any summation order
// (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §3.1):
//   |got - exact| <= gamma_n · (|alpha| · sum_k |a_ik||b_kj| + |beta · c_in|),
//   gamma_n = n·u / (1 - n·u), u = 2^-24,
// where n bounds the roundings on the path from any one term to the result:
//   2K     a product and an add per k (an FMA rounds once, but the generic backend's emulated
//          vectors and the GEMV's scalar tails may round the product and the sum separately)
//   + 4    a horizontal reduction of up to 16 lanes (GEMV dot products)
//   + 2    alpha · acc and the beta · c_in FMA
//   + 2P   per pass over K (P = ceil(K / 128), 128 being blocking.hpp's smallest kc): the stored
//          partial sum is rescaled by alpha and added back.
// The scale is computed in double from the same inputs as the oracle (test::gemm_scale), whose
// own error (~K · 2^-53 relative) is negligible. Typical errors are far smaller (~sqrt(K) · u), so
// a wrong element, a dropped or doubled k, or a misplaced tile misses this by orders of magnitude.
inline double gemm_gamma(long k) {
  const double u = 5.9604644775390625e-8;  // 2^-24
  const double n = 2.0 * double(k) + 6.0 + 2.0 * double((k + 127) / 128);
  return n * u / (1.0 - n * u);
}

// gemm epilogues, applied in fp32 to the finished sum s (error Δ from gemm_gamma above):
//  * linear nodes (bias_col, bias_row, residual, a gated product) round once each:
//    gemm_node_rel of their result per node; scale{s} multiplies Δ by |s|;
//  * an activation f has |f'| <= gemm_act_lipschitz on the reals (hardswish reaches 1.5 at
//    x = 3; GELU peaks at 1.13, SiLU/Swish at 1.10 for any alpha > 0, tanh 1, sigmoid 1/4,
//    relu/clip 1), so it turns Δ into at most 1.5 Δ, and adds its own error: bias_activation's
//    8 ulp relative (see above), plus an absolute term that grows with |x|: in the saturated
//    regions exp/tanh/erf are accurate to ~1 ulp of 1 (6e-8), which GELU's x/2 · (1 + erf(..))
//    and SiLU's x · sigmoid(..) multiply by |x|; bias_activation_abs · (1 + |x|) covers that
//    (x is the pre-activation value, taken from the oracle).
inline constexpr double gemm_node_rel = 5.9604644775390625e-8;  // 0.5 ulp = 2^-24
inline constexpr double gemm_act_lipschitz = 1.5;

/// |got - want| <= bound, treating NaN == NaN and equal infinities as equal (a NaN `got` where
/// `want` is finite fails).
inline bool gemm_close(double got, double want, double bound) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= bound;
}

}  // namespace fusedops::test::tolerance
