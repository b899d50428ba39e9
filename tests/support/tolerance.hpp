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

// --- norm: layer_norm, rms_norm, add_layer_norm, add_rms_norm (fp32) ----------------------------
// The kernels (ops/norm/norm_generic.hpp) accumulate, per row of n elements, with K = the row's
// first element (after the residual add), S1 = Σ(x - K) and S2 = Σ(x - K)² in fp32 in some order
// (vector lanes, 4 accumulators, a horizontal sum), then in fp32: d = S1 · (1/n),
// var = S2 · (1/n) - d², rstd = 1 / sqrt(var + eps), t = fma(x - K, rstd, -(d · rstd)),
// y = fma(t, g, b). With u = 2^-24 and gamma_m = m·u/(1 - m·u) (Higham §3.1: any summation order
// of m terms), the error terms are
//   d     |δd| <= gamma_{n+1} · Σ|x - K| / n + 2u·|d|           (x - K rounds once, n - 1 adds;
//                                                                1/n and the product round)
//   var   |δvar| <= gamma_{n+5} · S2/n + 2|d| · |δd|             (the square, n - 1 adds, 1/n,
//                                                                the product, d², the difference;
//                                                                d² <= S2/n)
//   rstd  |δr|/r <= |δvar| / (2 (var + eps)) + 2u                 (+ eps, sqrt, the division)
//   y     |δy| <= |g|·r·(|δd| + u|d| + u|x - K|) + |y - b|·(|δr|/r + u) + u|y|
//                                              (x - K, d · rstd and the two FMAs round once each)
// with m the depth of the summation (Higham §4.2: the error of a summation tree is bounded with
// gamma of its height, not of n): every term passes through at most ceil(n / (U·L)) + 1 adds in
// its accumulator (U = 4 accumulators, L >= 4 lanes on every backend; +1: the leftover vectors and
// the tail), 2 combining the accumulators and log2(L) <= 4 in the horizontal sum, so
// m <= ceil(n / 16) + 7 (norm_depth); the gamma_{n+c} above read gamma_{m+c}. A dropped or
// doubled element shifts the mean by ~|x - mean|/n, far beyond this for every tested n.
// All computed by the test from the oracle's exact statistics. S2/n = var + d²: the bound grows
// with ((mean - K)/std)², the shifted scheme's only cancellation, and stays ~1e-6 relative for
// typical rows and rows with a large mean (there x - K is exact).
inline constexpr double norm_u = 5.9604644775390625e-8;  // 2^-24
inline double norm_gamma(double m) { return m * norm_u / (1.0 - m * norm_u); }
inline double norm_depth(double n) { return std::ceil(n / 16) + 7; }

/// A row's exact statistics (from the double oracle) that the layer_norm bound needs.
struct layer_norm_row {
  double n = 0;       ///< elements in the row
  double k = 0;       ///< the kernel's shift: the row's first (fp32) element
  double mean = 0;    ///< exact mean
  double var = 0;     ///< exact biased variance
  double abs_k = 0;   ///< Σ|x - K|
  double eps = 0;
};

/// Error bound of d = S1/n (so of the mean output, plus u·|mean| for its fp32 rounding).
inline double layer_norm_mean_bound(const layer_norm_row& s) {
  return norm_gamma(norm_depth(s.n) + 1) * s.abs_k / s.n +
         2 * norm_u * std::fabs(s.mean - s.k);
}

/// Relative error bound of rstd (the inv_std_dev output).
inline double layer_norm_rstd_rel_bound(const layer_norm_row& s) {
  const double dk = s.mean - s.k;
  const double e_var = norm_gamma(norm_depth(s.n) + 5) * (s.var + dk * dk) +
                       2 * std::fabs(dk) * layer_norm_mean_bound(s);
  return e_var / (2 * (s.var + s.eps)) + 2 * norm_u;
}

/// |got - want| bound of one y element: x the (fp32) input, g/b its scale/bias, want the oracle.
inline double layer_norm_y_bound(const layer_norm_row& s, double x, double g, double b,
                                 double want) {
  const double r = 1.0 / std::sqrt(s.var + s.eps);
  return std::fabs(g) * r *
             (layer_norm_mean_bound(s) + norm_u * std::fabs(s.mean - s.k) +
              norm_u * std::fabs(x - s.k)) +
         std::fabs(want - b) * (layer_norm_rstd_rel_bound(s) + norm_u) +
         norm_u * std::fabs(want);
}

// rms_norm: S2 = Σx² in fp32, the same accumulator structure (gamma_{m+1}: the square and the
// adds, m = norm_depth(n)), then in fp32 S2/n, + eps, sqrt, 1/ (3.5u; sqrt halves the relative
// error of S2), y = (x · rstd) · g (2u):
//   |δy| <= |y| · (gamma_{m+1}/2 + 5.5u).
inline double rms_norm_y_bound(double n, double want) {
  return std::fabs(want) * (norm_gamma(norm_depth(n) + 1) / 2 + 5.5 * norm_u);
}

// rotary_embedding, fp32: each rotated output is x·c ∓ x'·s computed as one product and one FMA
// (or, in the interleaved pair loop, however the compiler contracts it: two products and a
// subtraction at worst); either way at most two roundings of terms bounded by |x·c| + |x'·s|:
//   |δy| <= gamma_2 · (|x·c| + |x'·s|).   The pass-through part y[rot:] is copied exactly.
inline double rope_y_bound(double x, double c, double x_partner, double s) {
  return norm_gamma(2) * (std::fabs(x * c) + std::fabs(x_partner * s));
}

}  // namespace fusedops::test::tolerance

// ---- ATTENTION (fusedops::attention, fp32; ops/attention/*) -----------------------------------
namespace fusedops::test::tolerance {

// y_d = Σ_j p_j v_jd with p = softmax(s), s_j = softcap(scale · q·k_j) + mask_j. With u = 2^-24,
// gamma_n = n·u / (1 - n·u) (Higham §3.1), A = max over weighted keys of scale · Σ_d |q_d k_jd|
// and M = max |float mask| (both from the oracle / the test):
//  * scores: Q is pre-multiplied by scale (1 rounding), the dot product is Dqk FMAs in the
//    micro-kernel's order, softcap adds tanh (<= 3 ulp, |tanh'| <= 1) and 3 roundings, the mask
//    add one:  |δs_j| <= E_s = gamma_{Dqk+8} · (A + M).
//  * score modifiers (attention_policies_test): R = max over weighted keys of the additive
//    modification |x_j - softcap(raw_j)| (ALiBi's -slope·|p - j| plus what an additive score
//    functor adds; reference::attention_result::max_mod) plus |sink|. ALiBi is one fma
//    (slope·dist exact in the product, one rounding of the sum <= u·(A + R)); an additive
//    functor receives the rounded score and rounds its own sum (<= u·(A + R)) and maybe its
//    bias (<= u·R): E_s grows by gamma_4 · (A + M + R). The sink is an exact logit: it only
//    widens the range of s_j - m (next item) by |sink| and adds one term to l (inside gamma).
//  * probabilities: p_j = e^{s_j - m} / Σ e^{s_k - m}; a perturbation δs moves p_j by
//    p_j (δs_j - Σ_k p_k δs_k), at most 2 E_s · p_j. The kernel's own steps add, relative to p_j:
//    s_j - m rounded (u · |s_j - m| <= 2u (A + M + R)), exp (<= 3 ulp = 6u), the running sum
//    l (<= Skv terms plus one rescale per key block: gamma_{Skv + 2·blocks}); the rescale factors
//    alpha = e^{m_old - m_new} multiply O and l alike, so their own error cancels in O / l
//    (what remains are the products' roundings, inside the gamma term); the same holds for the
//    flash-decoding merge weights.
//  * P·V: Skv FMAs plus a rescale per block: gamma_{Skv + 2·blocks} relative to Σ_j p_j |v_jd|;
//    the final division by l: 2 roundings.
// So |got - want| <= (2 E_s + 2u (A + M + R) + 2 gamma_{Skv + 2·blocks} + 12u) · Σ_j p_j |v_jd|.
// The oracle reports Σ_j p_j |v_jd| per element. Typical errors are ~sqrt(D)·u, far below; a
// wrong key, head, mask element or row misses this by orders of magnitude (an error of order
// |v|). R = 0 (the default) is the plain operator's bound unchanged.
inline double attention_bound(double abs_pv, double a, double m, long dqk, long keys,
                              double r = 0.0) {
  const double u = 5.9604644775390625e-8;
  auto gamma = [&](double n) { return n * u / (1.0 - n * u); };
  const double blocks = double((keys + 63) / 64);
  const double e_s = gamma(double(dqk) + 8) * (a + m) + (r > 0 ? gamma(4) * (a + m + r) : 0.0);
  return (2 * e_s + 2 * u * (a + m + r) + 2 * gamma(double(keys) + 2 * blocks) + 12 * u) * abs_pv +
         1e-30;
}

// qk_output (ops/attention/qk_output.hpp), per element against the oracle's double value w. The
// pass accumulates dot products in double and rounds each stage to float once, and a functor
// sees a float score and returns a float: a score x (|x| <= A + M + R) carries <= 3u (A + M + R)
// (the functor's input and result roundings, the stored value's) beyond the double oracle.
// Modes 0-2: |got - w| <= 4u · (|w| + A + M + R). Mode 3 (the probabilities, computed in double
// from the float mode-2 row): a perturbation δx moves p_j by p_j (δx_j - Σ_k p_k δx_k), at most
// 2 · 3u (A + M + R) · p_j, plus the final rounding u · p_j: <= (8u (A + M + R) + 2u) · w.
// Removed keys are exactly -inf (mode 2) or 0 (mode 3) on both sides.
inline double attention_qk_bound(int mode, double w, double a, double m, double r) {
  const double u = 5.9604644775390625e-8;
  if (mode < 3) return 4 * u * (std::fabs(w) + a + m + r) + 1e-30;
  return (8 * u * (a + m + r) + 2 * u) * std::fabs(w) + 1e-30;
}

// ---- vector math, standalone activations, softmax (arch/vector_math.hpp, activation.hpp,
// softmax.hpp) ----------------------------------------------------------------------------------
// u = 2^-24: half an ulp of 1, the unit roundoff of fp32.
inline constexpr double vm_u = 5.9604644775390625e-8;

// The elementary functions, in ulp of the float result: the largest error measured over the
// whole float range (vector_math.hpp's table: exp 2.23, expm1 1.57, tanh 2.40, sigmoid 3.44,
// erf 2.41) plus a margin of about half an ulp for backends that round differently (the generic
// backend's fma is a * b + c with two roundings unless the compiler contracts it). The issue's
// goal, 1e-6 relative, is 8.4 ulp at the worst (2^-23 per ulp near 1): all are well inside it,
// and the test checks the relative error against 1e-6 separately.
inline constexpr double vm_exp_ulp = 3.0;
inline constexpr double vm_expm1_ulp = 2.5;
inline constexpr double vm_tanh_ulp = 3.0;
inline constexpr double vm_sigmoid_ulp = 4.0;
inline constexpr double vm_erf_ulp = 3.0;
inline constexpr double vm_max_rel = 1e-6;

// Standalone activations, y = act(x) on exact fp32 inputs: |got - want| <= act_rel · |want|
// + act_abs · (1 + |x|).
//  * act_rel = 8u: the function's own error (sigmoid 3.5 ulp <= 7u at the worst, exp/tanh/erf
//    <= 2.5 ulp) plus the functor's one or two roundings (x / (1 + e), x · gate, 0.5 · x · ...).
//  * act_abs = 4u per unit of |x|: where the functor cancels, 1 + erf(x/√2) (GELU) and
//    1 + tanh / the gate of hardswish for x < 0, the result is |x|/2 · (an error of ~3.5u on a
//    quantity <= 1); exp's argument 2·inner in gelu_tanh carries ~3u relative error, which
//    multiplies a result <= |x| e^-2|inner| and stays below u·|x|.
inline constexpr double act_rel = 8 * vm_u;
inline constexpr double act_abs = 4 * vm_u;
inline double activation_bound(double want, double x) {
  return act_rel * std::fabs(want) + act_abs * (1 + std::fabs(x));
}
// SwiGLU / gated: y = act(a) · b: the activation's bound times |b| plus one rounding of the
// product (u |want|, inside act_rel's margin).
inline double gated_bound(double want, double a, double b) {
  return act_rel * std::fabs(want) + act_abs * (1 + std::fabs(a)) * std::fabs(b);
}

// Summation of n fp32 terms spread over `lanes` accumulators, then a horizontal reduction: at most
// n/lanes + lanes + 4 roundings on any term's path (+4: the tail, two accumulators merged, the
// reciprocal). Bound gamma_k = k·u / (1 - k·u) (Higham §3.1), relative to the sum of positive terms.
inline double vm_sum_gamma(long n, int lanes) {
  const double k = double(n) / lanes + lanes + 4;
  return k * vm_u / (1 - k * vm_u);
}

// softmax, y_i = e_i / S with e_j = exp(d_j), d_j = x_j - max, S = Σ e_j (all from the oracle):
//   d_i rounded once:                relative error of e_i <= u·|d_i|
//   exp:                             <= 3 ulp <= 6u relative
//   S:                               Σ_j e_j (6u + u|d_j|) + gamma·S, i.e. S·(6u + u·W + gamma)
//                                    with W = Σ_j e_j |d_j| / S (computed from the oracle)
//   1/S, then the product:           2 roundings: u
// so |got - want| <= want · (13u + u|d_i| + u·W + gamma) + 4·2^-149 (denormal results are exact
// only to their absolute spacing 2^-149; exp rounds them twice, the product once more). A masked
// entry (d_i = -inf) is exactly 0 on both sides.
inline double softmax_bound(double want, double d_i, double w, long n, int lanes) {
  const double rel =
      want == 0 ? 0 : 13 * vm_u + vm_u * std::fabs(d_i) + vm_u * w + vm_sum_gamma(n, lanes);
  return std::fabs(want) * rel + 4 * 1.401298464324817e-45;
}
// log_softmax, y_i = d_i - log S: d_i rounded (u|d_i|), log of the fp32 S (its relative error
// 6u + u·W + gamma, as above, becomes an absolute one), log rounded to fp32 (u|log S|), the final
// subtraction (u|y_i|).
inline double log_softmax_bound(double want, double d_i, double w, double log_s, long n,
                                int lanes) {
  return vm_u * (std::fabs(d_i) + std::fabs(log_s) + std::fabs(want)) + 6 * vm_u + vm_u * w +
         vm_sum_gamma(n, lanes);
}

}  // namespace fusedops::test::tolerance
