// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Standalone activations (apply_activation) and gated activations (apply_swiglu, apply_gated) on
// every backend vs the double oracle: every act:: functor, sizes around the vector width up to
// 4096, N-d strided / transposed / broadcast / reversed views, in place, large magnitudes,
// NaN / Inf, 1 and 2 threads, and every bad argument.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/activation.hpp"
#include "fusedops/reference/activation.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;
namespace tol = fusedops::test::tolerance;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float sentinel = -12345.5f;

struct silu17 : act::silu {
  silu17() noexcept { alpha = 1.7f; }
};
struct clip_m1_2 : act::clip {
  clip_m1_2() noexcept { lo = -1.f, hi = 2.f; }
};
using activations = std::tuple<act::identity, act::relu, act::clip, clip_m1_2, act::gelu_erf,
                               act::gelu_tanh, act::silu, silu17, act::sigmoid, act::tanh,
                               act::hardswish>;

template <class Act>
std::string act_name(const Act& a) {
  if constexpr (std::is_base_of_v<act::silu, Act>) return "silu(alpha=" + std::to_string(a.alpha) + ")";
  if constexpr (std::is_base_of_v<act::clip, Act>)
    return "clip(" + std::to_string(a.lo) + ", " + std::to_string(a.hi) + ")";
  return Act::name;
}

template <class F>
void for_each_activation(F&& f) {
  std::apply([&](auto... a) { (f(a), ...); }, activations{});
}

const std::vector<index_t> sizes = {1, 3, 15, 16, 17, 63, 64, 65, 768, 1000, 4096};

/// Element i (row-major) of a view of any rank.
template <class T, int R>
T& at(const view<T, R>& v, index_t i) {
  index_t off = 0;
  for (int d = R - 1; d >= 0; --d) {
    off += (i % v.shape(d)) * v.stride(d);
    i /= v.shape(d);
  }
  return v.data()[off];
}

/// Elements of y beyond the bound of the oracle (first few printed); x gives each element's input.
template <int R>
int mismatches(const view<float, R>& y, const view<const float, R>& x,
               const std::vector<double>& want, const std::string& what) {
  int bad = 0;
  for (index_t i = 0; i < y.size(); ++i) {
    const double w = want[std::size_t(i)], g = at(y, i), xi = at(x, i);
    const bool ok = std::isnan(w) ? std::isnan(g)
                    : std::isinf(w) ? g == w
                                    : std::fabs(g - w) <= tol::activation_bound(w, xi);
    if (!ok && ++bad <= 3)
      MESSAGE(what << ": element " << i << " x = " << xi << ": got " << g << ", oracle " << w);
  }
  return bad;
}

bool all_sentinel(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float f) { return f == sentinel; });
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("activation vs reference: sizes, every functor", B, act_sizes_id) {
  std::uint32_t seed = 500;
  for_each_activation([&](auto act) {
    for (index_t rows : {index_t{1}, index_t{3}})
      for (index_t cols : sizes) {
        const std::string what = std::string(B::name) + " " + act_name(act) + " [" +
                                 std::to_string(rows) + ", " + std::to_string(cols) + "]";
        CAPTURE(what);
        const auto xs = test::random_floats(std::size_t(rows * cols), seed++, -8.f, 8.f);
        std::vector<float> ys(xs.size(), sentinel);
        const auto x = make_view(xs.data(), {rows, cols});
        const auto y = make_view(ys.data(), {rows, cols});
        const status st = apply_activation<B>(x, y, act);
        REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
        CHECK(mismatches<2>(y, x, reference::activation(x, act), what) == 0);
      }
  });
}
TEST_CASE_TEMPLATE_APPLY(act_sizes_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("activation vs reference: large magnitudes, NaN and Inf", B,
                          act_special_id) {
  const std::vector<float> specials = {qnan, inf, -inf, 1e30f, -1e30f, 90.f, -90.f, 0.f, -0.f};
  // Several vectors plus a tail, and room for every special value at every third element.
  const index_t n = std::max<index_t>(4 * simd::lanes_of<float, B> + 5,
                                      index_t(3 * specials.size() + 2));
  std::vector<float> xs = test::random_floats(std::size_t(n), 77, -60.f, 60.f);
  for (std::size_t k = 0; k < specials.size(); ++k) xs[k * 3 + 1] = specials[k];
  const auto x = make_view(xs.data(), {n});
  for_each_activation([&](auto act) {
    CAPTURE(act_name(act));
    std::vector<float> ys(xs.size(), sentinel);
    const auto y = make_view(ys.data(), {n});
    REQUIRE(apply_activation<B>(x, y, act).ok());
    CHECK(mismatches<1>(y, x, reference::activation(x, act), act_name(act)) == 0);
    for (std::size_t k = 0; k < xs.size(); ++k)
      if (std::isnan(xs[k])) CHECK(std::isnan(ys[k]));  // NaN in, NaN out, relu included
  });
  // Spelled out: the saturated limits.
  const std::vector<float> lim = {inf, -inf};
  std::vector<float> out(2);
  REQUIRE(apply_activation<B>(make_view(lim.data(), {2}), make_view(out.data(), {2}), act::sigmoid{}).ok());
  CHECK(out[0] == 1.f);
  CHECK(out[1] == 0.f);
  REQUIRE(apply_activation<B>(make_view(lim.data(), {2}), make_view(out.data(), {2}), act::tanh{}).ok());
  CHECK(out[0] == 1.f);
  CHECK(out[1] == -1.f);
  // The x · (something tending to 0) functors give their limit at -inf (a -0), not -inf · 0 = NaN;
  // silu with a negative alpha mirrors it (+0 at +inf, -inf at -inf).
  const auto limits = [&](auto act, float at_inf, float at_minus_inf) {
    CAPTURE(act_name(act));
    out = {sentinel, sentinel};
    REQUIRE(apply_activation<B>(make_view(lim.data(), {2}), make_view(out.data(), {2}), act).ok());
    CHECK(out[0] == at_inf);
    CHECK(out[1] == at_minus_inf);
    CHECK(std::signbit(out[0]) == std::signbit(at_inf));
    CHECK(std::signbit(out[1]) == std::signbit(at_minus_inf));
  };
  limits(act::gelu_erf{}, inf, -0.f);
  limits(act::gelu_tanh{}, inf, -0.f);
  limits(act::silu{}, inf, -0.f);
  limits(act::silu{0.5f}, inf, -0.f);
  limits(act::silu{-1.f}, 0.f, -inf);
  limits(act::hardswish{}, inf, -0.f);
  REQUIRE(apply_activation<B>(make_view(lim.data(), {2}), make_view(out.data(), {2}), act::relu{}).ok());
  CHECK(out[0] == inf);
  CHECK(out[1] == 0.f);
}
TEST_CASE_TEMPLATE_APPLY(act_special_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("activation vs reference: N-d strided views and in place", B,
                          act_strided_id) {
  constexpr int L = simd::lanes_of<float, B>;
  std::uint32_t seed = 900;
  const act::gelu_erf gelu{};
  const silu17 swish{};
  for (index_t c : {index_t{1}, index_t{L - 1}, index_t{L + 1}, index_t{65}}) {
    CAPTURE(c);
    {  // rank 3 [2, 3, c], padded rows in x and y; y's padding must stay untouched
      const index_t ldx = c + 3, ldy = c + 5;
      const auto xs = test::random_floats(std::size_t(6 * ldx), seed++, -5.f, 5.f);
      std::vector<float> ys(std::size_t(6 * ldy), sentinel);
      const view<const float, 3> x(xs.data(), {2, 3, c}, {3 * ldx, ldx, 1});
      const view<float, 3> y(ys.data(), {2, 3, c}, {3 * ldy, ldy, 1});
      REQUIRE(apply_activation<B>(x, y, gelu).ok());
      CHECK(mismatches<3>(y, x, reference::activation(x, gelu), "padded rank 3") == 0);
      int touched = 0;
      for (index_t r = 0; r < 6; ++r)
        for (index_t j = c; j < ldy; ++j) touched += ys[std::size_t(r * ldy + j)] != sentinel;
      CHECK(touched == 0);
    }
    {  // transposed input (last stride != 1), reversed output rows, rank 4 permuted
      const auto xs = test::random_floats(std::size_t(4 * c), seed++, -5.f, 5.f);
      std::vector<float> ys(std::size_t(4 * c), sentinel);
      const auto x = make_view(xs.data(), {c, 4}).transpose();  // [4, c], strides [1, 4]
      const view<float, 2> y(ys.data() + 3 * c, {4, c}, {-c, 1});
      REQUIRE(apply_activation<B>(x, y, swish).ok());
      CHECK(mismatches<2>(y, x, reference::activation(x, swish), "transposed x, reversed y") == 0);

      const auto x4s = test::random_floats(std::size_t(2 * 3 * 2 * c), seed++, -5.f, 5.f);
      std::vector<float> y4s(x4s.size(), sentinel);
      const auto x4 = make_view(x4s.data(), {2, 3, 2, c}).permute({3, 1, 0, 2});  // [c, 3, 2, 2]
      const auto y4 = make_view(y4s.data(), {c, 3, 2, 2}, {1, 4 * c, 2 * c, c});
      REQUIRE(apply_activation<B>(x4, y4, act::tanh{}).ok());
      CHECK(mismatches<4>(y4, x4, reference::activation(x4, act::tanh{}), "rank 4 permuted") == 0);
    }
    {  // broadcast input: one row read by every output row (row stride 0)
      const auto xs = test::random_floats(std::size_t(c), seed++, -5.f, 5.f);
      std::vector<float> ys(std::size_t(3 * c), sentinel);
      const view<const float, 2> x(xs.data(), {3, c}, {0, 1});
      const auto y = make_view(ys.data(), {3, c});
      REQUIRE(apply_activation<B>(x, y, act::hardswish{}).ok());
      CHECK(mismatches<2>(y, x, reference::activation(x, act::hardswish{}), "broadcast") == 0);
    }
    for (index_t ld : {c, c + 2}) {  // in place: y is the very same view as x
      std::vector<float> buf = test::random_floats(std::size_t(5 * ld), seed++, -5.f, 5.f);
      const std::vector<float> orig = buf;
      const view<float, 2> y(buf.data(), {5, c}, {ld, 1});
      const view<const float, 2> xo(orig.data(), {5, c}, {ld, 1});
      REQUIRE(apply_activation<B>(y, y, act::sigmoid{}).ok());
      CHECK(mismatches<2>(y, xo, reference::activation(xo, act::sigmoid{}), "in place") == 0);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(act_strided_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("activation and swiglu: 1 and 2 threads give identical results", B,
                          act_threads_id) {
  for (const auto& shape : {std::pair<index_t, index_t>{64, 1000}, {3, 4096}, {333, 17}}) {
    const index_t rows = shape.first, cols = shape.second;
    CAPTURE(rows);
    CAPTURE(cols);
    const auto xs = test::random_floats(std::size_t(rows * cols * 2), 31, -6.f, 6.f);
    const auto x = make_view(xs.data(), {rows, cols});
    std::vector<float> y1(std::size_t(rows * cols), sentinel), y2 = y1;
    REQUIRE(apply_activation<B>(x, make_view(y1.data(), {rows, cols}), act::gelu_tanh{}).ok());
    REQUIRE(apply_activation<B>(x, make_view(y2.data(), {rows, cols}), act::gelu_tanh{},
                                threading::openmp(2))
                .ok());
    CHECK(y1 == y2);
    CHECK(mismatches<2>(make_view(y1.data(), {rows, cols}), x,
                        reference::activation(x, act::gelu_tanh{}), "serial") == 0);
    // Strided rows (a padded view of the same data): the line path, also split.
    const view<const float, 2> xp(xs.data(), {rows, cols - 1}, {cols, 1});
    std::vector<float> z1(std::size_t(rows * (cols - 1)), sentinel), z2 = z1;
    REQUIRE(apply_activation<B>(xp, make_view(z1.data(), {rows, cols - 1}), act::silu{}).ok());
    REQUIRE(apply_activation<B>(xp, make_view(z2.data(), {rows, cols - 1}), act::silu{},
                                threading::openmp(2))
                .ok());
    CHECK(z1 == z2);

    const auto xg = make_view(xs.data(), {rows, 2 * cols});
    std::vector<float> g1(std::size_t(rows * cols), sentinel), g2 = g1;
    REQUIRE(apply_swiglu<B>(xg, make_view(g1.data(), {rows, cols})).ok());
    REQUIRE(apply_swiglu<B>(xg, make_view(g2.data(), {rows, cols}), 1.f, threading::openmp(2)).ok());
    CHECK(g1 == g2);
  }
}
TEST_CASE_TEMPLATE_APPLY(act_threads_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("swiglu / gated activation vs reference", B, act_gated_id) {
  std::uint32_t seed = 1300;
  auto check_gated = [&](const auto& x, const auto& y, const std::vector<double>& want,
                         const std::string& what) {
    constexpr int R = std::decay_t<decltype(y)>::rank;
    const index_t h = y.shape(R - 1);
    int bad = 0;
    for (index_t i = 0; i < y.size(); ++i) {
      index_t rest = i, off = 0;
      for (int d = R - 1; d >= 0; --d) {
        const index_t e = d == R - 1 ? h : x.shape(d);
        off += (rest % e) * x.stride(d);
        rest /= e;
      }
      const double a = x.data()[off], b = x.data()[off + h * x.stride(R - 1)];
      const double w = want[std::size_t(i)], g = at(y, i);
      const bool ok = std::isnan(w)   ? std::isnan(g)
                      : std::isinf(w) ? g == w
                                      : std::fabs(g - w) <= tol::gated_bound(w, a, b);
      if (!ok && ++bad <= 3) MESSAGE(what << ": element " << i << " got " << g << " want " << w);
    }
    return bad;
  };
  for (float alpha : {1.f, 1.702f}) {
    for (index_t h : sizes) {
      const std::string what = std::string(B::name) + " swiglu alpha " + std::to_string(alpha) +
                               " h " + std::to_string(h);
      CAPTURE(what);
      const index_t rows = 3;
      const auto xs = test::random_floats(std::size_t(rows * 2 * h), seed++, -6.f, 6.f);
      std::vector<float> ys(std::size_t(rows * h), sentinel);
      const auto x = make_view(xs.data(), {rows, 2 * h});
      const auto y = make_view(ys.data(), {rows, h});
      REQUIRE(apply_swiglu<B>(x, y, alpha).ok());
      CHECK(check_gated(x, y, reference::gated_activation(x, act::silu{alpha}), what) == 0);
    }
  }
  {  // rank 3, strided last dimension (x transposed), padded y rows; GeGLU through apply_gated
    const index_t h = 19;
    const auto xs = test::random_floats(std::size_t(2 * 3 * 2 * h), seed++, -6.f, 6.f);
    const auto x = make_view(xs.data(), {2 * h, 2, 3}).permute({1, 2, 0});  // [2, 3, 2h]
    std::vector<float> ys(std::size_t(2 * 3 * (h + 4)), sentinel);
    const view<float, 3> y(ys.data(), {2, 3, h}, {3 * (h + 4), h + 4, 1});
    REQUIRE(apply_gated<B>(x, y, act::gelu_erf{}).ok());
    CHECK(check_gated(x, y, reference::gated_activation(x, act::gelu_erf{}), "geglu rank 3") == 0);
    int touched = 0;
    for (index_t r = 0; r < 6; ++r)
      for (index_t j = h; j < h + 4; ++j) touched += ys[std::size_t(r * (h + 4) + j)] != sentinel;
    CHECK(touched == 0);
  }
  {  // NaN and Inf in gate and linear halves
    const index_t h = 2 * simd::lanes_of<float, B> + 1;
    auto xs = test::random_floats(std::size_t(2 * h), seed++, -3.f, 3.f);
    xs[0] = qnan, xs[1] = inf, xs[2] = -inf, xs[std::size_t(h + 3)] = qnan, xs[std::size_t(h + 4)] = inf;
    std::vector<float> ys(std::size_t(h), sentinel);
    const auto x = make_view(xs.data(), {1, 2 * h});
    const auto y = make_view(ys.data(), {1, h});
    REQUIRE(apply_swiglu<B>(x, y).ok());
    const auto want = reference::gated_activation(x, act::silu{});
    CHECK(check_gated(x, y, want, "swiglu specials") == 0);
    CHECK(std::isnan(ys[0]));
    CHECK(std::isnan(ys[3]));
  }
}
TEST_CASE_TEMPLATE_APPLY(act_gated_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("activation and swiglu: bad arguments, y untouched", B, act_errors_id) {
  const index_t rows = 3, cols = 52;
  const auto xs = test::random_floats(std::size_t(rows * cols), 11);
  const auto x = make_view(xs.data(), {rows, cols});
  std::vector<float> ys(std::size_t(rows * (cols + 8)), sentinel);
  auto check_error = [&](status st, errc code, const char* op, std::vector<std::string> needles,
                         const std::vector<float>& buf) {
    const std::string msg = st.message();
    CAPTURE(msg);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == code);
    CHECK(msg.find(op) != std::string::npos);
    for (const auto& n : needles) {
      CAPTURE(n);
      CHECK(msg.find(n) != std::string::npos);
    }
    CHECK(all_sentinel(buf));
  };
  SUBCASE("activation: y shape") {
    check_error(apply_activation<B>(x, make_view(ys.data(), {rows, cols - 1}), act::relu{}),
                errc::shape_mismatch, "activation", {"'y'", "[3, 51]", "[3, 52]"}, ys);
    check_error(apply_activation<B>(x, make_view(ys.data(), {rows + 1, cols}), act::relu{}),
                errc::shape_mismatch, "activation", {"'y'", "[4, 52]", "[3, 52]"}, ys);
  }
  SUBCASE("activation: null pointers, negative extent") {
    check_error(apply_activation<B>(view<const float, 2>(nullptr, {rows, cols}),
                                    make_view(ys.data(), {rows, cols}), act::relu{}),
                errc::null_pointer, "activation", {"'x'", "[3, 52]", "null"}, ys);
    check_error(apply_activation<B>(x, view<float, 2>(nullptr, {rows, cols}), act::relu{}),
                errc::null_pointer, "activation", {"'y'", "null"}, ys);
    check_error(apply_activation<B>(view<const float, 2>(xs.data(), {-1, cols}),
                                    make_view(ys.data(), {rows, cols}), act::relu{}),
                errc::invalid_argument, "activation", {"'x'", "[-1, 52]", "negative"}, ys);
  }
  SUBCASE("activation: overlapping output strides") {
    check_error(apply_activation<B>(x, make_view(ys.data(), {rows, cols}, {cols, 0})),
                errc::bad_stride, "activation", {"'y'", "[3, 52]"}, ys);
    check_error(apply_activation<B>(x, make_view(ys.data(), {rows, cols}, {cols - 1, 1})),
                errc::bad_stride, "activation", {"'y'", "leading dimension"}, ys);
  }
  SUBCASE("activation: y partially overlapping x") {
    std::vector<float> buf(std::size_t(rows * cols + 1), sentinel);
    const auto xo = make_view(static_cast<const float*>(buf.data()), {rows, cols});
    check_error(apply_activation<B>(xo, make_view(buf.data() + 1, {rows, cols}), act::tanh{}),
                errc::invalid_argument, "activation", {"'y'", "'x'", "overlaps"}, buf);
  }
  SUBCASE("swiglu: odd last dimension, y shape, overlap") {
    check_error(apply_swiglu<B>(make_view(xs.data(), {rows, 51}), make_view(ys.data(), {rows, 25})),
                errc::shape_mismatch, "swiglu", {"'x'", "[3, 51]", "even"}, ys);
    check_error(apply_swiglu<B>(x, make_view(ys.data(), {rows, cols})), errc::shape_mismatch,
                "swiglu", {"'y'", "[3, 52]", "[3, 26]"}, ys);
    check_error(apply_gated<B>(x, make_view(ys.data(), {rows + 1, cols / 2}), act::gelu_erf{}),
                errc::shape_mismatch, "gated_activation", {"'y'", "[4, 26]", "[3, 26]"}, ys);
    std::vector<float> buf(std::size_t(rows * cols), sentinel);
    const auto xb = make_view(static_cast<const float*>(buf.data()), {rows, cols});
    check_error(apply_swiglu<B>(xb, make_view(buf.data() + cols, {rows - 1, cols / 2})),
                errc::shape_mismatch, "swiglu", {"'y'"}, buf);
    check_error(apply_swiglu<B>(xb, view<float, 2>(buf.data(), {rows, cols / 2}, {cols, 1})),
                errc::invalid_argument, "swiglu", {"'y'", "'x'", "overlaps", "[3, 26]"}, buf);
    check_error(apply_swiglu<B>(view<const float, 2>(nullptr, {rows, cols}),
                                make_view(ys.data(), {rows, cols / 2})),
                errc::null_pointer, "swiglu", {"'x'", "null"}, ys);
  }
  SUBCASE("empty shapes are valid no-ops, even with null data") {
    CHECK(apply_activation<B>(view<const float, 2>(nullptr, {0, cols}),
                              view<float, 2>(nullptr, {0, cols}), act::silu{})
              .ok());
    CHECK(apply_swiglu<B>(view<const float, 2>(nullptr, {rows, 0}), view<float, 2>(nullptr, {rows, 0}))
              .ok());
    CHECK(all_sentinel(ys));
  }
}
TEST_CASE_TEMPLATE_APPLY(act_errors_id, fusedops::test::compiled_backends_tuple);
