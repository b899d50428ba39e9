// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Softmax / LogSoftmax (ONNX opset 13) on every backend vs the double oracle: sizes around the
// vector width up to 4096, every axis (negative too) of rank-1..4 tensors, strided / transposed /
// reversed views, in place, large magnitudes, -inf entries and all -inf rows, NaN / +inf rows,
// 1 and 2 threads, and every bad argument.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/reference/softmax.hpp"
#include "fusedops/softmax.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;
namespace tol = fusedops::test::tolerance;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float sentinel = -12345.5f;

const std::vector<index_t> sizes = {1, 3, 15, 16, 17, 63, 64, 65, 768, 1000, 4096};

/// Offset of element i (row-major) of a view.
template <class T, int R>
index_t offset_of(const view<T, R>& v, index_t i) {
  index_t off = 0;
  for (int d = R - 1; d >= 0; --d) {
    off += (i % v.shape(d)) * v.stride(d);
    i /= v.shape(d);
  }
  return off;
}

/// Runs softmax (Log = false) or log_softmax on B and compares every element with the oracle
/// under the tolerance table's per-element bound (which needs, per line, the oracle's max, sum
/// and W = sum(e_j |d_j|) / sum). Returns the number of elements out of bounds.
template <class B, int R>
int check_softmax(const view<const float, R>& x, const view<float, R>& y, int axis, bool log,
                  const std::string& what, threading th = threading::serial()) {
  const status st = log ? log_softmax<B>(x, y, axis, th) : softmax<B>(x, y, axis, th);
  if (!st.ok()) {
    MESSAGE(what << ": " << st.message());
    return 1;
  }
  const int a = axis < 0 ? axis + R : axis;
  const auto want = reference::softmax<R>(x, a, log);
  const index_t n = x.shape(a);
  int bad = 0;
  const dims<R> rm = row_major_strides<R>(x.shape());
  const index_t step = rm[std::size_t(a)];
  // Per line (stored at the index of its first element, which precedes all its elements).
  std::vector<double> line_max(std::size_t(x.size())), line_sum(line_max.size()),
      line_w(line_max.size());
  for (index_t i = 0; i < x.size(); ++i) {
    const index_t k = (i / step) % n, first = i - k * step;
    if (k == 0) {
      double m = -std::numeric_limits<double>::infinity();
      for (index_t j = 0; j < n; ++j) m = max_nan(m, double(x.data()[offset_of(x, i + j * step)]));
      double s = 0, w = 0;
      for (index_t j = 0; j < n; ++j) {
        const double d = double(x.data()[offset_of(x, i + j * step)]) - m;
        const double e = std::exp(d);
        s += e;
        if (e > 0) w += e * std::fabs(d);  // (-inf entries contribute nothing)
      }
      line_max[std::size_t(i)] = m;
      line_sum[std::size_t(i)] = s;
      line_w[std::size_t(i)] = s > 0 ? w / s : 0;
    }
    const double m = line_max[std::size_t(first)], s = line_sum[std::size_t(first)],
                 w = line_w[std::size_t(first)];
    const double d_i = double(x.data()[offset_of(x, i)]) - m;
    const double want_i = want[std::size_t(i)], got = y.data()[offset_of(y, i)];
    bool ok;
    if (std::isnan(want_i) || std::isinf(want_i)) {
      ok = std::isnan(want_i) ? std::isnan(got) : got == want_i;
    } else {
      const double bound =
          log ? tol::log_softmax_bound(want_i, d_i, w, std::log(s), long(n),
                                       simd::lanes_of<float, B>)
              : tol::softmax_bound(want_i, d_i, w, long(n), simd::lanes_of<float, B>);
      ok = std::fabs(got - want_i) <= bound;
    }
    if (!ok && ++bad <= 3)
      MESSAGE((what + (log ? " log_softmax" : " softmax") + ": element ") << i << " got " << got
                   << ", oracle " << want_i);
  }
  return bad;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("softmax vs reference: sizes, last axis", B, sm_sizes_id) {
  std::uint32_t seed = 2000;
  for (bool log : {false, true})
    for (index_t rows : {index_t{1}, index_t{3}})
      for (index_t n : sizes) {
        const std::string what = std::string(B::name) + " [" + std::to_string(rows) + ", " +
                                 std::to_string(n) + "]";
        CAPTURE(what);
        const auto xs = test::random_floats(std::size_t(rows * n), seed++, -10.f, 10.f);
        std::vector<float> ys(xs.size(), sentinel);
        const auto x = make_view(xs.data(), {rows, n});
        const auto y = make_view(ys.data(), {rows, n});
        CHECK(check_softmax<B, 2>(x, y, -1, log, what) == 0);
        std::fill(ys.begin(), ys.end(), sentinel);
        CHECK(check_softmax<B, 2>(x, y, 1, log, what + " axis 1") == 0);
      }
}
TEST_CASE_TEMPLATE_APPLY(sm_sizes_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("softmax vs reference: every axis, strided views, in place", B,
                          sm_axes_id) {
  constexpr int L = simd::lanes_of<float, B>;
  std::uint32_t seed = 3000;
  for (bool log : {false, true}) {
    CAPTURE(log);
    for (index_t c : {index_t{1}, index_t{L - 1}, index_t{L + 1}, index_t{37}}) {
      CAPTURE(c);
      // rank 3 [4, 5, c], every axis, negative and positive; x padded, y dense
      const auto xs = test::random_floats(std::size_t(4 * 5 * (c + 2)), seed++, -6.f, 6.f);
      const view<const float, 3> x(xs.data(), {4, 5, c}, {5 * (c + 2), c + 2, 1});
      for (int axis = -3; axis < 3; ++axis) {
        std::vector<float> ys(std::size_t(4 * 5 * c), sentinel);
        CHECK(check_softmax<B, 3>(x, make_view(ys.data(), {4, 5, c}), axis, log,
                                  "rank 3 axis " + std::to_string(axis)) == 0);
      }
      // transposed input (unit stride on the first dimension), reversed output rows
      const auto xt = make_view(xs.data(), {5 * (c + 2), 4}).transpose().slice(1, 0, 5 * c);
      std::vector<float> yt(std::size_t(4 * 5 * c), sentinel);
      const view<float, 2> yr(yt.data() + 3 * 5 * c, {4, 5 * c}, {-5 * c, 1});
      for (int axis : {0, 1, -1})
        CHECK(check_softmax<B, 2>(xt, yr, axis, log, "transposed x axis " + std::to_string(axis)) ==
              0);
      // rank 4 permuted, every axis
      const auto x4s = test::random_floats(std::size_t(2 * 3 * 2 * c), seed++, -6.f, 6.f);
      const auto x4 = make_view(x4s.data(), {2, 3, 2, c}).permute({3, 1, 0, 2});
      for (int axis = 0; axis < 4; ++axis) {
        std::vector<float> y4(x4s.size(), sentinel);
        CHECK(check_softmax<B, 4>(x4, make_view(y4.data(), {c, 3, 2, 2}), axis, log,
                                  "rank 4 axis " + std::to_string(axis)) == 0);
      }
      // rank 1 and a broadcast (stride 0) input
      const view<const float, 2> xb(xs.data(), {3, c}, {0, 1});
      std::vector<float> yb(std::size_t(3 * c), sentinel);
      CHECK(check_softmax<B, 2>(xb, make_view(yb.data(), {3, c}), 0, log, "broadcast axis 0") == 0);
      CHECK(check_softmax<B, 2>(xb, make_view(yb.data(), {3, c}), 1, log, "broadcast axis 1") == 0);
      std::vector<float> y1(std::size_t(c), sentinel);
      CHECK(check_softmax<B, 1>(make_view(xs.data(), {c}), make_view(y1.data(), {c}), 0, log,
                                "rank 1") == 0);
      // in place, both axes, padded rows: bit for bit the out-of-place result (checked against
      // the oracle first); the padding stays untouched
      for (int axis : {0, 1}) {
        std::vector<float> buf = test::random_floats(std::size_t(3 * (c + 3)), seed++, -6.f, 6.f);
        for (index_t r = 0; r < 3; ++r)
          for (index_t j = c; j < c + 3; ++j) buf[std::size_t(r * (c + 3) + j)] = sentinel;
        const std::vector<float> orig = buf;
        std::vector<float> out(buf.size(), sentinel);
        const view<const float, 2> xo(orig.data(), {3, c}, {c + 3, 1});
        CHECK(check_softmax<B, 2>(xo, view<float, 2>(out.data(), {3, c}, {c + 3, 1}), axis, log,
                                  "out of place") == 0);
        const view<float, 2> y(buf.data(), {3, c}, {c + 3, 1});
        REQUIRE((log ? log_softmax<B>(y, y, axis) : softmax<B>(y, y, axis)).ok());
        int bad = 0;
        for (std::size_t k = 0; k < buf.size(); ++k)
          bad += !(buf[k] == out[k] || (std::isnan(buf[k]) && std::isnan(out[k])));
        CHECK(bad == 0);
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(sm_axes_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("softmax: large magnitudes, -inf, all -inf, NaN and +inf rows", B,
                          sm_special_id) {
  constexpr int L = simd::lanes_of<float, B>;
  for (bool log : {false, true}) {
    CAPTURE(log);
    for (index_t n : {index_t{3}, index_t{L + 1}, index_t{65}, index_t{1000}}) {
      CAPTURE(n);
      const index_t rows = 6;
      auto xs = test::random_floats(std::size_t(rows * n), 40 + std::uint32_t(n), -1.f, 1.f);
      for (index_t j = 0; j < n; ++j) {
        xs[std::size_t(0 * n + j)] *= 3e4f;                   // row 0: large magnitudes
        if (j % 3 == 1) xs[std::size_t(1 * n + j)] = -inf;    // row 1: some -inf (masked)
        xs[std::size_t(2 * n + j)] = -inf;                    // row 2: all -inf
        xs[std::size_t(5 * n + j)] = 1e30f + float(j);        // row 5: huge, nearly equal
      }
      xs[std::size_t(3 * n + n / 2)] = qnan;  // row 3: one NaN
      xs[std::size_t(4 * n + n - 1)] = inf;   // row 4: one +inf
      std::vector<float> ys(xs.size(), sentinel);
      const auto x = make_view(xs.data(), {rows, n});
      const auto y = make_view(ys.data(), {rows, n});
      CHECK(check_softmax<B, 2>(x, y, -1, log, "specials") == 0);
      // Spelled out (the oracle agrees; this is the ONNX semantics documented in softmax.hpp):
      int finite_row0 = 0, nan_rows = 0, masked_ok = 0;
      for (index_t j = 0; j < n; ++j) {
        finite_row0 += std::isfinite(ys[std::size_t(j)]);
        nan_rows += std::isnan(ys[std::size_t(2 * n + j)]) + std::isnan(ys[std::size_t(3 * n + j)]) +
                    std::isnan(ys[std::size_t(4 * n + j)]);
        if (j % 3 == 1)
          masked_ok += log ? ys[std::size_t(n + j)] == -inf : ys[std::size_t(n + j)] == 0.f;
      }
      CHECK(finite_row0 == n);
      CHECK(nan_rows == 3 * n);
      CHECK(masked_ok == (n + 1) / 3);
      // the same on the strided path (transposed view: axis 0 of a [n, rows] layout)
      std::vector<float> yt(xs.size(), sentinel);
      CHECK(check_softmax<B, 2>(x.transpose(), make_view(yt.data(), {n, rows}), 0, log,
                                "specials, columns") == 0);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(sm_special_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("softmax: 1 and 2 threads give identical results", B, sm_threads_id) {
  for (const auto& shape : {std::pair<index_t, index_t>{64, 1000}, {7, 4096}, {257, 19}}) {
    const index_t rows = shape.first, n = shape.second;
    CAPTURE(rows);
    CAPTURE(n);
    const auto xs = test::random_floats(std::size_t(rows * n), 91, -8.f, 8.f);
    const auto x = make_view(xs.data(), {rows, n});
    for (bool log : {false, true})
      for (int axis : {0, 1}) {
        std::vector<float> y1(xs.size(), sentinel), y2 = y1;
        const auto v1 = make_view(y1.data(), {rows, n}), v2 = make_view(y2.data(), {rows, n});
        CHECK(check_softmax<B, 2>(x, v1, axis, log, "serial") == 0);
        REQUIRE((log ? log_softmax<B>(x, v2, axis, threading::openmp(2))
                     : softmax<B>(x, v2, axis, threading::openmp(2)))
                    .ok());
        CHECK(y1 == y2);
      }
  }
}
TEST_CASE_TEMPLATE_APPLY(sm_threads_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("softmax: bad arguments are reported and y is untouched", B,
                          sm_errors_id) {
  const index_t rows = 3, cols = 52;
  const auto xs = test::random_floats(std::size_t(rows * cols), 12);
  const auto x = make_view(xs.data(), {rows, cols});
  std::vector<float> ys(std::size_t(rows * (cols + 8)), sentinel);
  auto untouched = [](const std::vector<float>& b) {
    return std::all_of(b.begin(), b.end(), [](float v) { return v == sentinel; });
  };
  auto check_error = [&](status st, errc code, const char* op, std::vector<std::string> needles,
                         const std::vector<float>& buf) {
    const std::string msg = st.message();
    CAPTURE(msg);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == code);
    CHECK(msg.find(op) != std::string::npos);
    for (const auto& nd : needles) {
      CAPTURE(nd);
      CHECK(msg.find(nd) != std::string::npos);
    }
    CHECK(untouched(buf));
  };
  const auto y = make_view(ys.data(), {rows, cols});
  SUBCASE("axis out of range") {
    check_error(softmax<B>(x, y, 2), errc::invalid_argument, "softmax",
                {"'axis'", "2", "[-2, 1]", "[3, 52]"}, ys);
    check_error(log_softmax<B>(x, y, -3), errc::invalid_argument, "log_softmax",
                {"'axis'", "-3", "[-2, 1]"}, ys);
  }
  SUBCASE("shape mismatch") {
    check_error(softmax<B>(x, make_view(ys.data(), {rows, cols - 1})), errc::shape_mismatch,
                "softmax", {"'y'", "[3, 51]", "[3, 52]"}, ys);
  }
  SUBCASE("null pointers, negative extents") {
    check_error(softmax<B>(view<const float, 2>(nullptr, {rows, cols}), y), errc::null_pointer,
                "softmax", {"'x'", "null"}, ys);
    check_error(log_softmax<B>(x, view<float, 2>(nullptr, {rows, cols})), errc::null_pointer,
                "log_softmax", {"'y'", "null"}, ys);
    check_error(softmax<B>(view<const float, 2>(xs.data(), {rows, -2}), y), errc::invalid_argument,
                "softmax", {"'x'", "negative"}, ys);
  }
  SUBCASE("overlapping y strides, y partially overlapping x") {
    check_error(softmax<B>(x, make_view(ys.data(), {rows, cols}, {0, 1})), errc::bad_stride,
                "softmax", {"'y'"}, ys);
    std::vector<float> buf(std::size_t(rows * cols + 4), sentinel);
    const auto xo = make_view(static_cast<const float*>(buf.data()), {rows, cols});
    check_error(softmax<B>(xo, make_view(buf.data() + 4, {rows, cols})), errc::invalid_argument,
                "softmax", {"'y'", "'x'", "overlaps"}, buf);
  }
  SUBCASE("empty shapes are valid no-ops") {
    CHECK(softmax<B>(view<const float, 2>(nullptr, {0, cols}), view<float, 2>(nullptr, {0, cols}))
              .ok());
    CHECK(log_softmax<B>(view<const float, 2>(nullptr, {rows, 0}), view<float, 2>(nullptr, {rows, 0}),
                         1)
              .ok());
    CHECK(untouched(ys));
  }
}
TEST_CASE_TEMPLATE_APPLY(sm_errors_id, fusedops::test::compiled_backends_tuple);
