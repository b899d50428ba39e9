// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The vector elementary functions (arch/vector_math.hpp) on every backend against double std::
// functions: dense sweeps over the whole float range (every 509th bit pattern of each sign, i.e.
// ~8.4 M inputs per function, plus every float near the overflow / underflow thresholds), exact
// limits, NaN propagation and signed zeros.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/arch/simd.hpp"
#include "support/backends.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;
namespace tol = fusedops::test::tolerance;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr double denorm_min = 1.401298464324817e-45;  // 2^-149

float from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// Spacing of floats at |r| (the ulp of a correctly rounded float result), denormals included.
double float_ulp(double r) {
  const double a = std::fabs(r);
  if (a < double(FLT_MIN)) return denorm_min;
  int e = 0;
  std::frexp(a, &e);
  return std::ldexp(1.0, e - 24);
}

/// Every `step`-th finite float bit pattern of both signs inside [lo, hi], then `extra`.
std::vector<float> sweep_inputs(float lo, float hi, std::uint32_t step,
                                const std::vector<float>& extra = {}) {
  std::vector<float> xs;
  for (std::uint32_t u = 0; u < 0x7f800000u; u += step)
    for (float x : {from_bits(u), -from_bits(u)})
      if (x >= lo && x <= hi) xs.push_back(x);
  xs.insert(xs.end(), extra.begin(), extra.end());
  return xs;
}

/// Every float in [lo, hi] (ascending), every `step`-th one.
std::vector<float> all_floats(float lo, float hi, int step = 1) {
  std::vector<float> xs;
  int k = 0;
  for (float x = lo; x <= hi; x = std::nextafter(x, inf))
    if (k++ % step == 0) xs.push_back(x);
  return xs;
}

struct stats {
  double max_ulp = 0, max_rel = 0, at_ulp = 0, max_abs_denorm = 0;
  long points = 0, wrong_special = 0;
};

template <class V>
std::vector<float> apply(const std::vector<float>& xs, const std::function<V(const V&)>& f) {
  constexpr int L = simd::lanes<V>;
  std::vector<float> out(xs.size());
  for (std::size_t i = 0; i < xs.size(); i += L) {
    const int n = static_cast<int>(std::min<std::size_t>(L, xs.size() - i));
    simd::store_partial(out.data() + i, f(simd::load_partial<V>(xs.data() + i, n)), n);
  }
  return out;
}

/// Errors of f against the double function g at the very same float inputs. Results whose
/// double value is a normal float count towards ulp / relative error; denormal results towards
/// the absolute error; infinities and NaN must match exactly (wrong_special).
template <class V>
stats measure(const std::vector<float>& xs, const std::function<V(const V&)>& f,
              double (*g)(double)) {
  const std::vector<float> got = apply<V>(xs, f);
  stats s;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double want = g(double(xs[i]));
    const double y = double(got[i]);
    ++s.points;
    if (std::isnan(want) || std::isinf(want) || std::fabs(want) > double(FLT_MAX)) {
      const bool ok = std::isnan(want) ? std::isnan(y) : (std::isinf(y) && (y > 0) == (want > 0));
      if (!ok && ++s.wrong_special <= 3)
        MESSAGE("f(" << xs[i] << ") = " << y << ", want " << want);
      continue;
    }
    const double err = std::fabs(y - want);
    if (std::fabs(want) < double(FLT_MIN)) {
      s.max_abs_denorm = std::max(s.max_abs_denorm, err);
      continue;
    }
    const double ulp = err / float_ulp(want);
    if (ulp > s.max_ulp) s.max_ulp = ulp, s.at_ulp = xs[i];
    s.max_rel = std::max(s.max_rel, err / std::fabs(want));
  }
  return s;
}

double d_exp(double x) { return std::exp(x); }
double d_expm1(double x) { return std::expm1(x); }
double d_tanh(double x) { return std::tanh(x); }
double d_erf(double x) { return std::erf(x); }
double d_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

constexpr std::uint32_t sweep_step = 509;  // prime: hits every exponent and mantissa pattern

template <class B>
void report(const char* fn, const stats& s) {
  MESSAGE((std::string(B::name) + " " + fn + ": ") << s.points << " points, max "
                               << s.max_ulp << " ulp (at x = " << s.at_ulp << "), max rel "
                               << s.max_rel << ", denormal results max abs " << s.max_abs_denorm);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("vector math: exp over the whole float range", B, vm_exp_id) {
  using V = simd::vec_t<float, B>;
  // Whole range + every float around the overflow threshold (ln FLT_MAX = 88.7228) and the
  // normal / denormal / zero boundaries (ln FLT_MIN = -87.336, ln 2^-149 = -103.28).
  std::vector<float> xs = sweep_inputs(-FLT_MAX, FLT_MAX, sweep_step, all_floats(88.6f, 88.8f));
  const auto low = all_floats(-104.5f, -86.5f, 61);
  xs.insert(xs.end(), low.begin(), low.end());
  const auto s = measure<V>(xs, [](const V& v) { return simd::exp(v); }, d_exp);
  report<B>("exp", s);
  CHECK(s.wrong_special == 0);
  CHECK(s.max_ulp <= tol::vm_exp_ulp);
  CHECK(s.max_rel <= tol::vm_max_rel);
  // Denormal results: gradual underflow, rounded twice ((1 + p)·2^(n+125), then ·2^-125): within
  // 2 spacings (2^-149) of the exact value, never flushed to 0.
  CHECK(s.max_abs_denorm <= 2 * denorm_min);

  const auto e = measure<V>(sweep_inputs(-87.3f, 88.7f, sweep_step / 4),
                            [](const V& v) { return simd::expm1(v); }, d_expm1);
  report<B>("expm1", e);
  CHECK(e.wrong_special == 0);
  CHECK(e.max_ulp <= tol::vm_expm1_ulp);
}
TEST_CASE_TEMPLATE_APPLY(vm_exp_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("vector math: tanh, sigmoid, erf over the whole float range", B,
                          vm_funcs_id) {
  using V = simd::vec_t<float, B>;
  const std::vector<float> xs = sweep_inputs(-FLT_MAX, FLT_MAX, sweep_step);
  struct fn {
    const char* name;
    std::function<V(const V&)> f;
    double (*g)(double);
    double max_ulp;
  };
  const fn fns[] = {
      {"tanh", [](const V& v) { return simd::tanh(v); }, d_tanh, tol::vm_tanh_ulp},
      {"sigmoid", [](const V& v) { return simd::sigmoid(v); }, d_sigmoid, tol::vm_sigmoid_ulp},
      {"erf", [](const V& v) { return simd::erf(v); }, d_erf, tol::vm_erf_ulp},
  };
  for (const auto& f : fns) {
    const std::string name = f.name;
    CAPTURE(name);
    // Plus every 7th float around the points where a form changes regime (0 is covered by the
    // sweep: every exponent there).
    std::vector<float> in = xs;
    for (float c : {1.f, 3.925f, 9.01f, 87.3f}) {
      const auto near = all_floats(c - 0.01f, c + 0.01f, 7);
      in.insert(in.end(), near.begin(), near.end());
      for (float x : near) in.push_back(-x);
    }
    const auto s = measure<V>(in, f.f, f.g);
    report<B>(f.name, s);
    CHECK(s.wrong_special == 0);
    CHECK(s.max_ulp <= f.max_ulp);
    CHECK(s.max_rel <= tol::vm_max_rel);
    CHECK(s.max_abs_denorm <= 2 * denorm_min);
  }
}
TEST_CASE_TEMPLATE_APPLY(vm_funcs_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("vector math: limits, NaN and signed zeros", B, vm_special_id) {
  using V = simd::vec_t<float, B>;
  const std::vector<float> xs = {-inf, inf, qnan, -qnan, 0.f, -0.f, FLT_MAX, -FLT_MAX,
                                 88.7228f, 88.7229f, -103.98f, -104.f, 1e-40f, -1e-40f,
                                 9.1f, -9.1f, 4.f, -4.f, 200.f, -200.f};
  const auto ex = apply<V>(xs, [](const V& v) { return simd::exp(v); });
  const auto th = apply<V>(xs, [](const V& v) { return simd::tanh(v); });
  const auto sg = apply<V>(xs, [](const V& v) { return simd::sigmoid(v); });
  const auto ef = apply<V>(xs, [](const V& v) { return simd::erf(v); });
  auto sign_bit = [](float v) { return std::signbit(v); };
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const float x = xs[i];
    CAPTURE(x);
    if (std::isnan(x)) {
      CHECK(std::isnan(ex[i]));
      CHECK(std::isnan(th[i]));
      CHECK(std::isnan(sg[i]));
      CHECK(std::isnan(ef[i]));
      continue;
    }
    if (x == 0.f) {  // exp(±0) = 1 = 2·sigmoid(±0); tanh and erf keep the sign of zero
      CHECK(ex[i] == 1.f);
      CHECK(sg[i] == 0.5f);
      CHECK((th[i] == 0.f && sign_bit(th[i]) == sign_bit(x)));
      CHECK((ef[i] == 0.f && sign_bit(ef[i]) == sign_bit(x)));
      continue;
    }
    if (x >= 88.7229f) CHECK(ex[i] == inf);  // overflow
    if (x <= -104.f) CHECK(ex[i] == 0.f);    // below half the smallest denormal
    if (x == 88.7228f) CHECK(ex[i] < inf);   // e^88.7228 = 3.4028e38 <= FLT_MAX
    if (std::fabs(x) >= 9.1f) CHECK(th[i] == std::copysign(1.f, x));  // exactly ±1
    if (std::fabs(x) >= 4.f) CHECK(ef[i] == std::copysign(1.f, x));
    if (x >= 200.f) CHECK(sg[i] == 1.f);
    if (x <= -200.f) CHECK(sg[i] == 0.f);
    if (std::fabs(x) < 1e-30f) {  // tiny: tanh(x) = erf(x)/(2/√π) = x to the last bit
      CHECK(th[i] == x);
      CHECK(ef[i] == static_cast<float>(double(x) * 1.1283791670955126));
    }
  }
  // Exactly representable results.
  const auto e1 = apply<V>({1.f, -1.f, 2.f, 0.5f}, [](const V& v) { return simd::exp(v); });
  CHECK(e1[0] == doctest::Approx(2.718281828).epsilon(2e-7));
  CHECK(e1[1] == doctest::Approx(0.3678794412).epsilon(2e-7));
}
TEST_CASE_TEMPLATE_APPLY(vm_special_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("vector math: every backend computes the same algorithm", B,
                          vm_same_id) {
  // The generic backend is the portable form of the algorithm: B's results agree with it to within
  // 2 ulp. They differ only where an fma is contracted on one side and rounded twice on the other
  // (the generic fma is a * b + c, contracted or not at the compiler's choice): half an ulp of an
  // intermediate per step, 0-1 ulp of the result in optimised builds and up to 2 ulp at
  // -O1 (sanitizer builds: 2 ulp measured for avx2 vs generic). A different algorithm (xsimd's,
  // libm's) differs by more somewhere on
  // this grid.
  using V = simd::vec_t<float, B>;
  using G = simd::vec_t<float, backend::generic>;
  std::vector<float> xs;
  for (int k = -4000; k <= 4000; ++k) xs.push_back(float(k) * 0.0123f);
  double max_ulp = 0;
  auto cmp = [&](const std::vector<float>& a, const std::vector<float>& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
      max_ulp = std::max(max_ulp, std::fabs(double(a[i]) - double(b[i])) / float_ulp(b[i]));
  };
  cmp(apply<V>(xs, [](const V& v) { return simd::exp(v); }),
      apply<G>(xs, [](const G& v) { return simd::exp(v); }));
  cmp(apply<V>(xs, [](const V& v) { return simd::tanh(v); }),
      apply<G>(xs, [](const G& v) { return simd::tanh(v); }));
  cmp(apply<V>(xs, [](const V& v) { return simd::erf(v); }),
      apply<G>(xs, [](const G& v) { return simd::erf(v); }));
  cmp(apply<V>(xs, [](const V& v) { return simd::sigmoid(v); }),
      apply<G>(xs, [](const G& v) { return simd::sigmoid(v); }));
  MESSAGE(std::string(B::name) << " vs generic: max difference " << max_ulp << " ulp");
  CHECK(max_ulp <= 2.5);
}
TEST_CASE_TEMPLATE_APPLY(vm_same_id, fusedops::test::compiled_backends_tuple);
