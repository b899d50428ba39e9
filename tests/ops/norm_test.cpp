// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// layer_norm, rms_norm, add_layer_norm, add_rms_norm on every backend vs the double oracles:
// hidden sizes around the vector widths, every axis, strided rows, epsilon extremes, constant and
// large-magnitude rows, NaN/Inf, 1 and 2 threads, in-place forms. Argument errors are in
// norm_errors_test.cpp.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/normalization.hpp"
#include "fusedops/reference/norm.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;
namespace tol = fusedops::test::tolerance;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float sentinel = -12345.5f;

const std::vector<index_t> hidden_sizes = {1, 3, 15, 16, 17, 63, 64, 65, 768, 1000, 4096};

threading policy(int threads) {
  return threads == 1 ? threading::serial() : threading::openmp(threads);
}

/// Element `flat` (row-major logical order) of a strided view, as a reference.
template <class T, int R>
T& at(const view<T, R>& v, index_t flat) {
  index_t off = 0;
  for (int d = R - 1; d >= 0; --d) {
    off += (flat % v.shape(d)) * v.stride(d);
    flat /= v.shape(d);
  }
  return v.data()[off];
}

/// The exact statistics of row r (what tolerance::layer_norm_y_bound needs).
template <int R>
tol::layer_norm_row row_stats(const view<const float, R>& x, index_t hidden, index_t r,
                              double eps) {
  tol::layer_norm_row s;
  s.n = double(hidden), s.eps = eps;
  s.k = double(at(x, r * hidden));
  double sum = 0;
  for (index_t j = 0; j < hidden; ++j) sum += double(at(x, r * hidden + j));
  s.mean = sum / s.n;
  double sq = 0;
  for (index_t j = 0; j < hidden; ++j) {
    const double v = double(at(x, r * hidden + j));
    sq += (v - s.mean) * (v - s.mean);
    s.abs_k += std::fabs(v - s.k);
  }
  s.var = sq / s.n;
  return s;
}

/// Checks a layer_norm result (y, and mean / inv_std_dev when given) against the oracle with the
/// tolerance table's per-element bounds. Returns the number of elements out of bounds.
template <int R>
int check_layer_norm(const view<const float, R>& x, const std::vector<float>& scale,
                     const std::vector<float>& bias, const layer_norm_params& p,
                     const view<float, R>& y, const std::string& what) {
  const int axis = p.axis < 0 ? p.axis + R : p.axis;
  index_t rows = 1, hidden = 1;
  for (int d = 0; d < R; ++d) (d < axis ? rows : hidden) *= x.shape(d);
  const auto sv = make_view(scale.data(), {index_t(scale.size())});
  const auto bv = bias.empty() ? view<const float, 1>{} : make_view(bias.data(), {hidden});
  const auto want = reference::layer_norm<R>(x, p.axis, sv, bv, double(p.epsilon));
  int bad = 0;
  for (index_t r = 0; r < rows; ++r) {
    const auto st = row_stats<R>(x, hidden, r, double(p.epsilon));
    for (index_t j = 0; j < hidden; ++j) {
      const index_t f = r * hidden + j;
      const double w = want.y[std::size_t(f)], g = double(at(y, f));
      const double b = bias.empty() ? 0.0 : double(bias[std::size_t(j)]);
      const double bound =
          tol::layer_norm_y_bound(st, double(at(x, f)), double(scale[std::size_t(j)]), b, w);
      if (!tol::gemm_close(g, w, bound) && ++bad <= 3)
        MESSAGE(what << ": y[row " << r << ", " << j << "] = " << g << ", oracle " << w << ", diff "
                     << (g - w) << ", bound " << bound);
    }
    if (!p.mean.empty()) {
      const double g = double(p.mean(r)), w = want.mean[std::size_t(r)];
      const double bound = tol::layer_norm_mean_bound(st) + tol::norm_u * std::fabs(w);
      if (!tol::gemm_close(g, w, bound) && ++bad <= 3)
        MESSAGE(what << ": mean[" << r << "] = " << g << ", oracle " << w);
    }
    if (!p.inv_std_dev.empty()) {
      const double g = double(p.inv_std_dev(r)), w = want.inv_std_dev[std::size_t(r)];
      const double bound = tol::layer_norm_rstd_rel_bound(st) * std::fabs(w);
      if (!tol::gemm_close(g, w, bound) && ++bad <= 3)
        MESSAGE(what << ": inv_std_dev[" << r << "] = " << g << ", oracle " << w);
    }
  }
  return bad;
}

template <int R>
int check_rms_norm(const view<const float, R>& x, const std::vector<float>& scale,
                   const rms_norm_params& p, const view<float, R>& y, const std::string& what) {
  const int axis = p.axis < 0 ? p.axis + R : p.axis;
  index_t hidden = 1;
  for (int d = axis; d < R; ++d) hidden *= x.shape(d);
  const auto sv = make_view(scale.data(), {index_t(scale.size())});
  const auto want = reference::rms_norm<R>(x, p.axis, sv, double(p.epsilon));
  int bad = 0;
  for (index_t f = 0; f < x.size(); ++f) {
    const double w = want.y[std::size_t(f)], g = double(at(y, f));
    const double bound = tol::rms_norm_y_bound(double(hidden), w);
    if (!tol::gemm_close(g, w, bound) && ++bad <= 3)
      MESSAGE(what << ": y[" << f << "] = " << g << ", oracle " << w << ", diff " << (g - w));
  }
  return bad;
}

std::string name(const char* backend, const char* what, index_t rows, index_t hidden, int threads) {
  return std::string(backend) + " " + what + " [" + std::to_string(rows) + ", " +
         std::to_string(hidden) + "] threads " + std::to_string(threads);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("layer_norm vs reference: hidden sizes, bias, statistics, threads", B,
                          ln_sizes_id) {
  std::uint32_t seed = 1;
  for (int threads : {1, 2})
    for (index_t rows : {index_t{1}, index_t{3}, index_t{5}})
      for (index_t hidden : hidden_sizes)
        for (bool with_bias : {false, true}) {
          const std::string what =
              name(B::name, with_bias ? "bias" : "no bias", rows, hidden, threads);
          CAPTURE(what);
          const auto xs = test::random_floats(std::size_t(rows * hidden), seed++, -2.f, 3.f);
          const auto sc = test::random_floats(std::size_t(hidden), seed++, 0.5f, 1.5f);
          const auto bi =
              with_bias ? test::random_floats(std::size_t(hidden), seed++) : std::vector<float>{};
          std::vector<float> ys(xs.size(), sentinel), mean(std::size_t(rows), sentinel),
              inv(std::size_t(rows), sentinel);
          layer_norm_params p;
          if (with_bias) p.bias = make_view(bi.data(), {hidden});
          p.mean = make_view(mean.data(), {rows});
          p.inv_std_dev = make_view(inv.data(), {rows});
          p.threads = policy(threads);
          const auto x = make_view(xs.data(), {rows, hidden});
          const auto y = make_view(ys.data(), {rows, hidden});
          const status st = layer_norm<B>(x, make_view(sc.data(), {hidden}), y, p);
          REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
          CHECK(check_layer_norm<2>(x, sc, bi, p, y, what) == 0);
        }
}
TEST_CASE_TEMPLATE_APPLY(ln_sizes_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("rms_norm vs reference: hidden sizes, threads", B, rms_sizes_id) {
  std::uint32_t seed = 500;
  for (int threads : {1, 2})
    for (index_t rows : {index_t{1}, index_t{3}, index_t{5}})
      for (index_t hidden : hidden_sizes) {
        const std::string what = name(B::name, "rms", rows, hidden, threads);
        CAPTURE(what);
        const auto xs = test::random_floats(std::size_t(rows * hidden), seed++, -2.f, 3.f);
        const auto sc = test::random_floats(std::size_t(hidden), seed++, -1.5f, 1.5f);
        std::vector<float> ys(xs.size(), sentinel);
        rms_norm_params p;
        p.threads = policy(threads);
        const auto x = make_view(xs.data(), {rows, hidden});
        const auto y = make_view(ys.data(), {rows, hidden});
        const status st = rms_norm<B>(x, make_view(sc.data(), {hidden}), y, p);
        REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
        CHECK(check_rms_norm<2>(x, sc, p, y, what) == 0);
      }
}
TEST_CASE_TEMPLATE_APPLY(rms_sizes_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("layer_norm and rms_norm: every axis of a rank-4 tensor", B,
                          norm_axes_id) {
  const index_t shape[4] = {2, 3, 4, 17};
  const index_t n = 2 * 3 * 4 * 17;
  const auto xs = test::random_floats(std::size_t(n), 7, -1.f, 2.f);
  const auto x = make_view(xs.data(), shape);
  for (int axis = -4; axis < 4; ++axis) {
    CAPTURE(axis);
    const int a = axis < 0 ? axis + 4 : axis;
    index_t hidden = 1, rows = 1;
    for (int d = 0; d < 4; ++d) (d < a ? rows : hidden) *= shape[d];
    const auto sc = test::random_floats(std::size_t(hidden), 8 + std::uint32_t(a), 0.5f, 1.5f);
    const auto bi = test::random_floats(std::size_t(hidden), 20 + std::uint32_t(a));
    std::vector<float> ys(std::size_t(n), sentinel), mean(std::size_t(rows), sentinel);
    layer_norm_params p;
    p.axis = axis;
    p.bias = make_view(bi.data(), {hidden});
    p.mean = make_view(mean.data(), {rows});
    const auto y = make_view(ys.data(), shape);
    REQUIRE(layer_norm<B>(x, make_view(sc.data(), {hidden}), y, p).ok());
    CHECK(check_layer_norm<4>(x, sc, bi, p, y, "layer_norm axis " + std::to_string(axis)) == 0);

    std::vector<float> zs(std::size_t(n), sentinel);
    rms_norm_params q;
    q.axis = axis;
    const auto z = make_view(zs.data(), shape);
    REQUIRE(rms_norm<B>(x, make_view(sc.data(), {hidden}), z, q).ok());
    CHECK(check_rms_norm<4>(x, sc, q, z, "rms_norm axis " + std::to_string(axis)) == 0);
  }
  // Rank 1: the whole vector is one row.
  const auto x1 = make_view(xs.data(), {index_t{65}});
  const auto sc1 = test::random_floats(65, 40, 0.5f, 1.5f);
  std::vector<float> y1(65, sentinel);
  layer_norm_params p1;
  p1.axis = 0;
  REQUIRE(layer_norm<B>(x1, make_view(sc1.data(), {index_t{65}}),
                        make_view(y1.data(), {index_t{65}}), p1)
              .ok());
  CHECK(check_layer_norm<1>(x1, sc1, {}, p1, make_view(y1.data(), {index_t{65}}), "rank 1") == 0);
}
TEST_CASE_TEMPLATE_APPLY(norm_axes_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("layer_norm and rms_norm: strided rows leave padding untouched", B,
                          norm_strided_id) {
  std::uint32_t seed = 900;
  for (index_t hidden : {index_t{1}, index_t{17}, index_t{64}, index_t{1000}}) {
    CAPTURE(hidden);
    const auto sc = test::random_floats(std::size_t(hidden), seed++, 0.5f, 1.5f);
    {  // rank 2, leading dimensions larger than the row, different for x and y
      const index_t rows = 5, ldx = hidden + 7, ldy = hidden + 3;
      const auto xs = test::random_floats(std::size_t(rows * ldx), seed++);
      std::vector<float> ys(std::size_t(rows * ldy), sentinel);
      const auto x = make_view(xs.data(), {rows, hidden}, {ldx, 1});
      const auto y = make_view(ys.data(), {rows, hidden}, {ldy, 1});
      layer_norm_params p;
      p.threads = policy(2);
      REQUIRE(layer_norm<B>(x, make_view(sc.data(), {hidden}), y, p).ok());
      CHECK(check_layer_norm<2>(x, sc, {}, p, y, "ln ld") == 0);
      int touched = 0;
      for (index_t r = 0; r < rows; ++r)
        for (index_t j = hidden; j < ldy; ++j) touched += ys[std::size_t(r * ldy + j)] != sentinel;
      CHECK(touched == 0);
      std::fill(ys.begin(), ys.end(), sentinel);
      REQUIRE(rms_norm<B>(x, make_view(sc.data(), {hidden}), y).ok());
      CHECK(check_rms_norm<2>(x, sc, {}, y, "rms ld") == 0);
    }
    {  // rank 3 [4, 3, hidden] seen through a transpose of the leading dims: rows do not merge;
       // mean and inv_std_dev with stride 2
      const index_t a = 3, b = 4;
      const auto xs = test::random_floats(std::size_t(a * b * hidden), seed++, -5.f, 5.f);
      std::vector<float> ys(xs.size(), sentinel), stats(4 * std::size_t(a * b) + 1, sentinel);
      const auto x = make_view(xs.data(), {a, b, hidden}).transpose(0, 1);  // [b, a, hidden]
      const auto y = make_view(ys.data(), {b, a, hidden});
      layer_norm_params p;
      p.mean = make_view(stats.data(), {a * b}, {2});
      p.inv_std_dev = make_view(stats.data() + 2 * a * b, {a * b}, {2});
      REQUIRE(layer_norm<B>(x, make_view(sc.data(), {hidden}), y, p).ok());
      CHECK(check_layer_norm<3>(x, sc, {}, p, y, "ln transposed rows") == 0);
      int gaps = 0;  // the elements between the strided statistics stay untouched
      for (std::size_t i = 1; i < stats.size(); i += 2) gaps += stats[i] != sentinel;
      CHECK(gaps == 0);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(norm_strided_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("layer_norm: constant rows, large-magnitude rows, epsilon extremes", B,
                          ln_numerics_id) {
  std::uint32_t seed = 1300;
  for (index_t hidden : hidden_sizes) {
    CAPTURE(hidden);
    const auto sc = test::random_floats(std::size_t(hidden), seed++, 0.5f, 1.5f);
    const auto bi = test::random_floats(std::size_t(hidden), seed++);
    const auto scv = make_view(sc.data(), {hidden});
    {  // constant rows: variance exactly 0, y = bias exactly (0 · scale + bias), mean exact
      const index_t rows = 3;
      std::vector<float> xs(std::size_t(rows * hidden));
      const float values[3] = {0.f, 3.25f, -7.0e5f};
      for (index_t r = 0; r < rows; ++r) std::fill_n(xs.begin() + r * hidden, hidden, values[r]);
      std::vector<float> ys(xs.size(), sentinel), mean(3, sentinel), inv(3, sentinel);
      layer_norm_params p;
      p.bias = make_view(bi.data(), {hidden});
      p.mean = make_view(mean.data(), {rows});
      p.inv_std_dev = make_view(inv.data(), {rows});
      REQUIRE(layer_norm<B>(make_view(xs.data(), {rows, hidden}), scv,
                            make_view(ys.data(), {rows, hidden}), p)
                  .ok());
      int bad = 0;
      for (index_t r = 0; r < rows; ++r) {
        for (index_t j = 0; j < hidden; ++j)
          bad += ys[std::size_t(r * hidden + j)] != bi[std::size_t(j)];
        CHECK(mean[std::size_t(r)] == values[r]);
        CHECK(inv[std::size_t(r)] == doctest::Approx(1.0 / std::sqrt(1e-5)).epsilon(1e-6));
      }
      CHECK(bad == 0);
    }
    {  // large mean, small spread: mean 1e4 ± 1, -3e5 ± 0.05, 1e7 ± 100
      const index_t rows = 3;
      std::vector<float> xs(std::size_t(rows * hidden));
      const float centres[3] = {1e4f, -3e5f, 1e7f}, spreads[3] = {1.f, 0.05f, 100.f};
      for (index_t r = 0; r < rows; ++r) {
        const auto noise = test::random_floats(std::size_t(hidden), seed++);
        for (index_t j = 0; j < hidden; ++j)
          xs[std::size_t(r * hidden + j)] = centres[r] + spreads[r] * noise[std::size_t(j)];
      }
      std::vector<float> ys(xs.size(), sentinel), mean(3, sentinel), inv(3, sentinel);
      layer_norm_params p;
      p.epsilon = 0.f;
      p.mean = make_view(mean.data(), {rows});
      p.inv_std_dev = make_view(inv.data(), {rows});
      const auto x = make_view(static_cast<const float*>(xs.data()), {rows, hidden});
      const auto y = make_view(ys.data(), {rows, hidden});
      REQUIRE(layer_norm<B>(x, scv, y, p).ok());
      if (hidden > 1) {  // a single element has variance 0: 0 · inf
        CHECK(check_layer_norm<2>(x, sc, {}, p, y, "large mean") == 0);
        // The bound is not loose here: y is accurate to ~1e-5 absolute (y ~ N(0, 1) · scale),
        // where the textbook E[x²] - E[x]² in fp32 would have lost every digit.
        const auto want = reference::layer_norm<2>(x, -1, scv, {}, 0.0);
        double worst = 0;
        for (std::size_t i = 0; i < ys.size(); ++i)
          worst = std::max(worst, std::fabs(double(ys[i]) - want.y[i]));
        CHECK(worst < 1e-4);
      }
    }
    for (float eps : {0.f, 1e-30f, 1e-45f, 1e10f}) {  // epsilon extremes on random rows
      CAPTURE(eps);
      const index_t rows = 2;
      const auto xs = test::random_floats(std::size_t(rows * hidden), seed++, -1.f, 1.f);
      std::vector<float> ys(xs.size(), sentinel);
      layer_norm_params p;
      p.epsilon = eps;
      p.bias = make_view(bi.data(), {hidden});
      const auto x = make_view(xs.data(), {rows, hidden});
      const auto y = make_view(ys.data(), {rows, hidden});
      REQUIRE(layer_norm<B>(x, scv, y, p).ok());
      CHECK(check_layer_norm<2>(x, sc, bi, p, y, "epsilon") == 0);
      std::vector<float> zs(xs.size(), sentinel);
      rms_norm_params q;
      q.epsilon = eps;
      REQUIRE(rms_norm<B>(x, scv, make_view(zs.data(), {rows, hidden}), q).ok());
      CHECK(check_rms_norm<2>(x, sc, q, make_view(zs.data(), {rows, hidden}), "rms epsilon") == 0);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(ln_numerics_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("layer_norm and rms_norm: NaN and Inf stay in their rows", B,
                          norm_nan_id) {
  for (index_t hidden : {index_t{1}, index_t{17}, index_t{768}}) {
    CAPTURE(hidden);
    const index_t rows = 4;
    auto xs = test::random_floats(std::size_t(rows * hidden), 77);
    const auto sc = test::random_floats(std::size_t(hidden), 78, 0.5f, 1.5f);
    xs[std::size_t(0 * hidden + hidden / 2)] = qnan;  // row 0: NaN
    xs[std::size_t(1 * hidden + hidden - 1)] = inf;   // row 1: +Inf (the last element)
    xs[std::size_t(2 * hidden)] = -inf;               // row 2: -Inf (the first: the shift)
    const auto x = make_view(static_cast<const float*>(xs.data()), {rows, hidden});
    std::vector<float> ys(xs.size(), sentinel), zs(xs.size(), sentinel);
    REQUIRE(layer_norm<B>(x, make_view(sc.data(), {hidden}), make_view(ys.data(), {rows, hidden}))
                .ok());
    REQUIRE(
        rms_norm<B>(x, make_view(sc.data(), {hidden}), make_view(zs.data(), {rows, hidden})).ok());
    int not_nan = 0;
    for (index_t r = 0; r < 3; ++r)
      for (index_t j = 0; j < hidden; ++j) not_nan += !std::isnan(ys[std::size_t(r * hidden + j)]);
    CHECK(not_nan == 0);
    // RMSNorm: NaN row -> NaN; an Inf row -> x · 0 = 0 except the Inf itself (inf · 0 = NaN).
    int rms_bad = 0;
    for (index_t j = 0; j < hidden; ++j) rms_bad += !std::isnan(zs[std::size_t(j)]);
    for (index_t r = 1; r < 3; ++r)
      for (index_t j = 0; j < hidden; ++j) {
        const float v = zs[std::size_t(r * hidden + j)];
        const bool is_inf_elem = std::isinf(xs[std::size_t(r * hidden + j)]);
        rms_bad += is_inf_elem ? !std::isnan(v) : v != 0.f;
      }
    CHECK(rms_bad == 0);
    // Row 3 is untouched by its neighbours.
    const auto x3 = make_view(xs.data() + 3 * hidden, {index_t{1}, hidden});
    CHECK(check_layer_norm<2>(x3, sc, {}, {},
                              make_view(ys.data() + 3 * hidden, {index_t{1}, hidden}),
                              "row 3") == 0);
    CHECK(check_rms_norm<2>(x3, sc, {}, make_view(zs.data() + 3 * hidden, {index_t{1}, hidden}),
                            "rms row 3") == 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(norm_nan_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("layer_norm and rms_norm: in place (y is x)", B, norm_inplace_id) {
  for (index_t hidden : {index_t{3}, index_t{65}, index_t{4096}}) {
    CAPTURE(hidden);
    const index_t rows = 3;
    const auto orig = test::random_floats(std::size_t(rows * hidden), 31, -3.f, 1.f);
    const auto sc = test::random_floats(std::size_t(hidden), 32, 0.5f, 1.5f);
    const auto xo = make_view(orig.data(), {rows, hidden});
    auto buf = orig;
    const auto v = make_view(buf.data(), {rows, hidden});
    layer_norm_params p;
    p.threads = policy(2);
    REQUIRE(layer_norm<B>(v, make_view(sc.data(), {hidden}), v, p).ok());
    CHECK(check_layer_norm<2>(xo, sc, {}, p, v, "ln in place") == 0);
    buf = orig;
    REQUIRE(rms_norm<B>(v, make_view(sc.data(), {hidden}), v).ok());
    CHECK(check_rms_norm<2>(xo, sc, {}, v, "rms in place") == 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(norm_inplace_id, fusedops::test::compiled_backends_tuple);

namespace {

/// One fused residual case: x, residual, optional residual_bias; `alias` picks which outputs
/// share memory with which inputs. Checks sum bitwise against (x + residual) + residual_bias in
/// fp32 and y against the oracle applied to that sum.
enum class alias { none, sum_is_x, sum_is_residual, y_is_x, y_is_residual, sum_x_y_residual };

template <class B>
void fused_case(bool rms, index_t rows, index_t hidden, bool rbias, alias al, int threads,
                std::uint32_t seed) {
  const std::string what = std::string(B::name) + (rms ? " add_rms_norm" : " add_layer_norm") +
                           " [" + std::to_string(rows) + ", " + std::to_string(hidden) + "] " +
                           (rbias ? "residual_bias " : "") + "alias " + std::to_string(int(al)) +
                           " threads " + std::to_string(threads);
  CAPTURE(what);
  const std::size_t n = std::size_t(rows * hidden);
  auto xs = test::random_floats(n, seed, -2.f, 2.f);
  auto rs = test::random_floats(n, seed + 1, -20.f, 20.f);
  const auto rb = test::random_floats(std::size_t(hidden), seed + 2);
  const auto sc = test::random_floats(std::size_t(hidden), seed + 3, 0.5f, 1.5f);
  const auto bi = test::random_floats(std::size_t(hidden), seed + 4);
  // The sum as the operator defines it: fp32 adds, (x + residual) + residual_bias.
  std::vector<float> want_sum(n);
  for (std::size_t i = 0; i < n; ++i) {
    float s = xs[i] + rs[i];
    if (rbias) s = s + rb[i % std::size_t(hidden)];
    want_sum[i] = s;
  }
  std::vector<float> sum_buf(n, sentinel), y_buf(n, sentinel);
  float* sum_p = sum_buf.data();
  float* y_p = y_buf.data();
  if (al == alias::sum_is_x || al == alias::sum_x_y_residual) sum_p = xs.data();
  if (al == alias::sum_is_residual) sum_p = rs.data();
  if (al == alias::y_is_x) y_p = xs.data();
  if (al == alias::y_is_residual || al == alias::sum_x_y_residual) y_p = rs.data();
  const auto x = make_view(xs.data(), {rows, hidden});
  const auto r = make_view(rs.data(), {rows, hidden});
  const auto s = make_view(sum_p, {rows, hidden});
  const auto y = make_view(y_p, {rows, hidden});
  const auto scv = make_view(sc.data(), {hidden});
  const auto sum_in = make_view(static_cast<const float*>(want_sum.data()), {rows, hidden});
  status st;
  if (rms) {
    rms_norm_params q;
    if (rbias) q.residual_bias = make_view(rb.data(), {hidden});
    q.threads = policy(threads);
    st = add_rms_norm<B>(x, r, scv, s, y, q);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    CHECK(check_rms_norm<2>(sum_in, sc, q, y, what) == 0);
  } else {
    layer_norm_params p;
    if (rbias) p.residual_bias = make_view(rb.data(), {hidden});
    p.bias = make_view(bi.data(), {hidden});
    std::vector<float> mean(std::size_t(rows), sentinel);
    p.mean = make_view(mean.data(), {rows});
    p.threads = policy(threads);
    st = add_layer_norm<B>(x, r, scv, s, y, p);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    p.residual_bias = {};
    CHECK(check_layer_norm<2>(sum_in, sc, bi, p, y, what) == 0);
  }
  CHECK(std::memcmp(sum_p, want_sum.data(), n * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("add_layer_norm and add_rms_norm vs reference: sizes and aliasing", B,
                          add_norm_id) {
  std::uint32_t seed = 3000;
  for (bool rms : {false, true}) {
    for (int threads : {1, 2})
      for (index_t hidden : hidden_sizes)
        for (bool rbias : {false, true}) {
          fused_case<B>(rms, 3, hidden, rbias, alias::none, threads, seed);
          seed += 10;
        }
    for (alias al : {alias::sum_is_x, alias::sum_is_residual, alias::y_is_x, alias::y_is_residual,
                     alias::sum_x_y_residual})
      for (index_t hidden : {index_t{1}, index_t{17}, index_t{768}}) {
        fused_case<B>(rms, 4, hidden, true, al, 2, seed);
        seed += 10;
      }
  }
}
TEST_CASE_TEMPLATE_APPLY(add_norm_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("layer_norm: empty row range is a no-op", B, norm_empty_id) {
  std::vector<float> sc(8, 1.f), ys(1, sentinel);
  const auto x = make_view(static_cast<const float*>(ys.data()), {index_t{0}, index_t{8}});
  CHECK(layer_norm<B>(x, make_view(sc.data(), {index_t{8}}),
                      make_view(ys.data(), {index_t{0}, index_t{8}}))
            .ok());
  CHECK(rms_norm<B>(x, make_view(sc.data(), {index_t{8}}),
                    make_view(ys.data(), {index_t{0}, index_t{8}}))
            .ok());
  CHECK(ys[0] == sentinel);
}
TEST_CASE_TEMPLATE_APPLY(norm_empty_id, fusedops::test::compiled_backends_tuple);
