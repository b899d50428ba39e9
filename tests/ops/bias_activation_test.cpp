// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// bias_activation on every backend vs the double oracle: shapes, strides, threads, errors.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/bias_activation.hpp"
#include "fusedops/reference/bias_activation.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;
namespace tol = fusedops::test::tolerance;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float sentinel = -12345.5f;

/// The activations under test, each with a printable name.
struct silu17 : act::silu {
  silu17() noexcept { alpha = 1.7f; }
};
using activations =
    std::tuple<act::identity, act::relu, act::gelu_erf, act::gelu_tanh, act::silu, silu17>;

template <class Act>
std::string act_name(const Act& a) {
  if constexpr (std::is_base_of_v<act::silu, Act>) {
    return "silu(alpha=" + std::to_string(a.alpha).substr(0, 3) + ")";
  } else {
    return Act::name;
  }
}

template <class F>
void for_each_activation(F&& f) {
  std::apply([&](auto... a) { (f(a), ...); }, activations{});
}

/// Row counts tried for every column count (qemu runs these too: keep the product small).
const std::vector<index_t> row_counts = {1, 2, 3, 7};

/// Column counts: sizes around the backend's lanes plus a large one.
template <class B>
std::vector<index_t> col_counts() {
  std::vector<index_t> c;
  for (long n : test::sizes_around(simd::lanes_of<float, B>)) c.push_back(index_t(n));
  c.push_back(1000);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

/// Number of elements of y that differ from the oracle beyond the tolerance table's bound; the
/// first few are printed.
template <class Y>
int mismatches(const Y& y, const std::vector<double>& want, const std::string& what) {
  int bad = 0;
  for (index_t i = 0; i < y.shape(0); ++i)
    for (index_t j = 0; j < y.shape(1); ++j) {
      const double w = want[std::size_t(i * y.shape(1) + j)];
      const double g = double(y(i, j));
      if (!tol::close(g, w, tol::bias_activation_rel, tol::bias_activation_abs)) {
        if (++bad <= 3)
          MESSAGE(what << ": y(" << i << ", " << j << ") = " << g << ", oracle " << w << ", diff "
                       << (g - w));
      }
    }
  return bad;
}

/// Bitwise equality of two float buffers (NaN payloads included).
bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// A stand-in for an engine's thread pool: `workers` std::threads pull task indices from an
/// atomic counter. Records how often each task ran.
class pool_executor final : public parallel_executor {
 public:
  explicit pool_executor(int workers) : workers_(workers) {}
  int max_concurrency() const noexcept override { return workers_; }
  void run(index_t n_tasks, task_ref task) noexcept override {
    runs_.assign(std::size_t(n_tasks), 0);
    calls_ += 1;
    std::atomic<index_t> next{0};
    auto work = [&] {
      for (index_t t; (t = next.fetch_add(1)) < n_tasks;) {
        task(t);
        runs_[std::size_t(t)] += 1;  // each t is claimed by one worker only
      }
    };
    std::vector<std::thread> threads;
    for (int w = 1; w < workers_; ++w) threads.emplace_back(work);
    work();
    for (auto& th : threads) th.join();
  }
  const std::vector<int>& runs() const { return runs_; }
  int calls() const { return calls_; }

 private:
  int workers_;
  int calls_ = 0;
  std::vector<int> runs_;
};

/// Runs tasks serially in reverse order: results must not depend on task order.
class reverse_executor final : public parallel_executor {
 public:
  int max_concurrency() const noexcept override { return 3; }
  void run(index_t n_tasks, task_ref task) noexcept override {
    for (index_t t = n_tasks - 1; t >= 0; --t) task(t);
  }
};

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("bias_activation vs reference: contiguous shapes", B,
                          bias_act_contig_id) {
  std::uint32_t seed = 1;
  for_each_activation([&](auto act) {
    using Act = decltype(act);
    for (index_t rows : row_counts)
      for (index_t cols : col_counts<B>()) {
        const std::string what = std::string(B::name) + " " + act_name(act) + " [" +
                                 std::to_string(rows) + ", " + std::to_string(cols) + "]";
        CAPTURE(what);
        auto xs = test::random_floats(std::size_t(rows * cols), seed++, -3.f, 3.f);
        auto bs = test::random_floats(std::size_t(cols), seed++, -1.f, 1.f);
        std::vector<float> ys(xs.size(), sentinel);
        const auto x = make_view(static_cast<const float*>(xs.data()), {rows, cols});
        const auto bias = make_view(static_cast<const float*>(bs.data()), {cols});
        const auto y = make_view(ys.data(), {rows, cols});
        const status st = bias_activation<B, Act>(x, bias, y, act);
        REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
        CHECK(mismatches(y, reference::bias_activation(x, bias, act), what) == 0);
      }
  });
}
TEST_CASE_TEMPLATE_APPLY(bias_act_contig_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("bias_activation vs reference: wide input range", B, bias_act_wide_id) {
  // Saturated regions (tanh/erf -> ±1, exp overflow in silu) and the cancellation in 1 + tanh(..)
  // for x << 0, where the tolerance's absolute floor takes over.
  const index_t rows = 3, cols = 2 * simd::lanes_of<float, B> + 3;
  for_each_activation([&](auto act) {
    using Act = decltype(act);
    CAPTURE(act_name(act));
    auto xs = test::random_floats(std::size_t(rows * cols), 99, -12.f, 12.f);
    auto bs = test::random_floats(std::size_t(cols), 98, -2.f, 2.f);
    std::vector<float> ys(xs.size(), sentinel);
    const auto x = make_view(static_cast<const float*>(xs.data()), {rows, cols});
    const auto bias = make_view(static_cast<const float*>(bs.data()), {cols});
    const auto y = make_view(ys.data(), {rows, cols});
    REQUIRE(bias_activation<B, Act>(x, bias, y, act).ok());
    CHECK(mismatches(y, reference::bias_activation(x, bias, act), act_name(act)) == 0);
  });
}
TEST_CASE_TEMPLATE_APPLY(bias_act_wide_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("bias_activation vs reference: strides and in place", B,
                          bias_act_strided_id) {
  constexpr int L = simd::lanes_of<float, B>;
  const std::vector<index_t> cols_list = {1, L - 1, L, L + 1, 2 * L + 3, 31, 257};
  std::uint32_t seed = 1000;
  for_each_activation([&](auto act) {
    using Act = decltype(act);
    for (index_t rows : {index_t{1}, index_t{3}, index_t{7}})
      for (index_t cols : cols_list) {
        const std::string shape = std::string(B::name) + " " + act_name(act) + " [" +
                                  std::to_string(rows) + ", " + std::to_string(cols) + "]";
        CAPTURE(shape);
        const auto bs = test::random_floats(std::size_t(cols), seed++);
        const auto bias = make_view(bs.data(), {cols});

        {  // x and y with leading dimensions > cols; y's padding must stay untouched.
          const index_t ldx = cols + 5, ldy = cols + 3;
          const auto xs = test::random_floats(std::size_t(rows * ldx), seed++);
          std::vector<float> ys(std::size_t(rows * ldy), sentinel);
          const auto x = make_view(xs.data(), {rows, cols}, {ldx, 1});
          const auto y = make_view(ys.data(), {rows, cols}, {ldy, 1});
          REQUIRE(bias_activation<B, Act>(x, bias, y, act).ok());
          CHECK(mismatches(y, reference::bias_activation(x, bias, act), shape + " strided") == 0);
          int padding_touched = 0;
          for (index_t i = 0; i < rows; ++i)
            for (index_t j = cols; j < ldy; ++j)
              padding_touched += ys[std::size_t(i * ldy + j)] != sentinel;
          CHECK(padding_touched == 0);
        }
        {  // transposed x: stored [cols, rows], column stride != 1 (the scalar path)
          const auto xs = test::random_floats(std::size_t(rows * cols), seed++);
          std::vector<float> ys(std::size_t(rows * cols), sentinel);
          const auto x = make_view(xs.data(), {cols, rows}).transpose();
          REQUIRE(x.stride(1) == rows);
          const auto y = make_view(ys.data(), {rows, cols});
          REQUIRE(bias_activation<B, Act>(x, bias, y, act).ok());
          CHECK(mismatches(y, reference::bias_activation(x, bias, act), shape + " transposed x") ==
                0);
        }
        {  // strided bias (every other element) and y written in reverse row order
          std::vector<float> bs2(std::size_t(2 * cols), sentinel);
          for (index_t j = 0; j < cols; ++j) bs2[std::size_t(2 * j)] = bs[std::size_t(j)];
          const auto bias2 = make_view(static_cast<const float*>(bs2.data()), {cols}, {2});
          const auto xs = test::random_floats(std::size_t(rows * cols), seed++);
          std::vector<float> ys(std::size_t(rows * cols), sentinel);
          const auto x = make_view(xs.data(), {rows, cols});
          const auto y = view<float, 2>(ys.data() + (rows - 1) * cols, {rows, cols}, {-cols, 1});
          REQUIRE(bias_activation<B, Act>(x, bias2, y, act).ok());
          CHECK(mismatches(y, reference::bias_activation(x, bias, act),
                           shape + " strided bias, reversed y") == 0);
        }
        {  // broadcast input row (x row stride 0)
          const auto xs = test::random_floats(std::size_t(cols), seed++);
          std::vector<float> ys(std::size_t(rows * cols), sentinel);
          const auto x = make_view(xs.data(), {rows, cols}, {0, 1});
          const auto y = make_view(ys.data(), {rows, cols});
          REQUIRE(bias_activation<B, Act>(x, bias, y, act).ok());
          CHECK(mismatches(y, reference::bias_activation(x, bias, act), shape + " broadcast x") ==
                0);
        }
        {  // in place: y is the very same view as x (contiguous, then strided)
          for (index_t ld : {cols, cols + 4}) {
            std::vector<float> buf = test::random_floats(std::size_t(rows * ld), seed++);
            const auto y = make_view(buf.data(), {rows, cols}, {ld, 1});
            const std::vector<float> original = buf;
            const auto want = reference::bias_activation(
                make_view(original.data(), {rows, cols}, {ld, 1}), bias, act);
            REQUIRE(bias_activation<B, Act>(y, bias, y, act).ok());
            CHECK(mismatches(y, want, shape + " in place, ld " + std::to_string(ld)) == 0);
          }
        }
      }
  });
}
TEST_CASE_TEMPLATE_APPLY(bias_act_strided_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("bias_activation: threading policies give identical results", B,
                          bias_act_threads_id) {
  // Enough rows that the 16 K-element grain splits the work into several tasks.
  for (const auto& shape : {std::pair<index_t, index_t>{64, 1000}, {203, 257}, {5, 7}}) {
    const index_t rows = shape.first, cols = shape.second;
    CAPTURE(rows);
    CAPTURE(cols);
    const auto xs = test::random_floats(std::size_t(rows * cols), 7, -4.f, 4.f);
    const auto bs = test::random_floats(std::size_t(cols), 8);
    const auto x = make_view(xs.data(), {rows, cols});
    const auto bias = make_view(bs.data(), {cols});
    const act::gelu_tanh act{};

    std::vector<float> serial(xs.size(), sentinel);
    REQUIRE(bias_activation<B>(x, bias, make_view(serial.data(), {rows, cols}), act,
                               threading::serial())
                .ok());
    CHECK(mismatches(make_view(serial.data(), {rows, cols}),
                     reference::bias_activation(x, bias, act), "serial") == 0);

    std::vector<float> omp(xs.size(), sentinel);
    REQUIRE(
        bias_activation<B>(x, bias, make_view(omp.data(), {rows, cols}), act, threading::openmp(2))
            .ok());
    CHECK(bitwise_equal(omp, serial));

    pool_executor pool(3);
    for (int max_threads : {0, 2}) {
      std::vector<float> ext(xs.size(), sentinel);
      REQUIRE(bias_activation<B>(x, bias, make_view(ext.data(), {rows, cols}), act,
                                 threading::external(pool, max_threads))
                  .ok());
      CHECK(bitwise_equal(ext, serial));
      if (rows > 5) {  // large enough to be split: every task ran exactly once
        CHECK(pool.runs().size() >= 2);
        CHECK(pool.runs().size() <= std::size_t(max_threads > 0 ? max_threads : 3));
        CHECK(std::all_of(pool.runs().begin(), pool.runs().end(), [](int r) { return r == 1; }));
      }
    }
    MESSAGE("rows " << rows << " cols " << cols << ": executor called " << pool.calls()
                    << " times");

    reverse_executor rev;
    std::vector<float> rv(xs.size(), sentinel);
    REQUIRE(bias_activation<B>(x, bias, make_view(rv.data(), {rows, cols}), act,
                               threading::external(rev))
                .ok());
    CHECK(bitwise_equal(rv, serial));
  }
}
TEST_CASE_TEMPLATE_APPLY(bias_act_threads_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("bias_activation: NaN and infinities propagate", B,
                          bias_act_nonfinite_id) {
  constexpr int L = simd::lanes_of<float, B>;
  const index_t rows = 2, cols = 2 * L + 3;  // vector body and tail both see special values
  std::vector<float> xs = test::random_floats(std::size_t(rows * cols), 5);
  const std::vector<float> specials = {qnan, inf, -inf, -qnan};
  for (std::size_t k = 0; k < xs.size(); k += 3) xs[k] = specials[(k / 3) % specials.size()];
  std::vector<float> bs = test::random_floats(std::size_t(cols), 6);
  bs[1] = inf;  // a bias of inf on a column (x + inf, and NaN where x = -inf)
  const auto x = make_view(static_cast<const float*>(xs.data()), {rows, cols});
  const auto bias = make_view(static_cast<const float*>(bs.data()), {cols});

  for_each_activation([&](auto act) {
    using Act = decltype(act);
    CAPTURE(act_name(act));
    std::vector<float> ys(xs.size(), sentinel);
    const auto y = make_view(ys.data(), {rows, cols});
    REQUIRE(bias_activation<B, Act>(x, bias, y, act).ok());
    const auto want = reference::bias_activation(x, bias, act);
    CHECK(mismatches(y, want, act_name(act)) == 0);
    // Every NaN input gives a NaN output (relu(NaN) included).
    int lost_nan = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) lost_nan += std::isnan(xs[k]) && !std::isnan(ys[k]);
    CHECK(lost_nan == 0);
  });
  // Spelled out for relu and identity: NaN stays NaN, +inf stays +inf, relu(-inf) = 0.
  std::vector<float> ys(xs.size(), sentinel);
  REQUIRE(bias_activation<B>(x,
                             make_view(std::vector<float>(std::size_t(cols), 0.f).data(), {cols}),
                             make_view(ys.data(), {rows, cols}), act::relu{})
              .ok());
  CHECK(std::isnan(ys[0]));
  CHECK(ys[3] == inf);
  CHECK(ys[6] == 0.f);
  CHECK(std::isnan(ys[9]));
}
TEST_CASE_TEMPLATE_APPLY(bias_act_nonfinite_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("bias_activation: bad arguments are reported and y is untouched", B,
                          bias_act_errors_id) {
  const index_t rows = 3, cols = 52;
  const auto xs = test::random_floats(std::size_t(rows * cols), 11);
  const auto bs = test::random_floats(std::size_t(cols + 8), 12);
  const auto x = make_view(xs.data(), {rows, cols});
  const auto bias = make_view(bs.data(), {cols});
  std::vector<float> ys(std::size_t(rows * (cols + 8)), sentinel);

  auto untouched = [&](const std::vector<float>& buf) {
    return std::all_of(buf.begin(), buf.end(), [](float v) { return v == sentinel; });
  };
  auto check_error = [&](status st, errc code, std::vector<std::string> needles,
                         const std::vector<float>& buf) {
    const std::string msg = st.message();
    CAPTURE(msg);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == code);
    CHECK(msg.find("bias_activation") != std::string::npos);
    for (const auto& n : needles) {
      CAPTURE(n);
      CHECK(msg.find(n) != std::string::npos);
    }
    CHECK(untouched(buf));
  };

  SUBCASE("y shape mismatch") {
    const auto y = make_view(ys.data(), {rows, cols - 1});
    check_error(bias_activation<B>(x, bias, y, act::relu{}), errc::shape_mismatch,
                {"'y'", "[3, 51]", "[3, 52]"}, ys);
    const auto y2 = make_view(ys.data(), {rows + 1, cols});
    check_error(bias_activation<B>(x, bias, y2, act::relu{}), errc::shape_mismatch,
                {"'y'", "[4, 52]", "[3, 52]"}, ys);
  }
  SUBCASE("bias length mismatch") {
    const auto b51 = make_view(bs.data(), {cols - 1});
    check_error(bias_activation<B>(x, b51, make_view(ys.data(), {rows, cols}), act::gelu_erf{}),
                errc::shape_mismatch, {"'bias'", "[51]", "[52]", "[3, 52]"}, ys);
    const auto b60 = make_view(bs.data(), {cols + 8});
    check_error(bias_activation<B>(x, b60, make_view(ys.data(), {rows, cols}), act::gelu_erf{}),
                errc::shape_mismatch, {"'bias'", "[60]", "[52]"}, ys);
  }
  SUBCASE("null data pointers with a nonzero shape") {
    const auto y = make_view(ys.data(), {rows, cols});
    check_error(bias_activation<B>(view<const float, 2>(nullptr, {rows, cols}), bias, y),
                errc::null_pointer, {"'x'", "[3, 52]", "null"}, ys);
    check_error(bias_activation<B>(x, view<const float, 1>(nullptr, {cols}), y), errc::null_pointer,
                {"'bias'", "[52]", "null"}, ys);
    check_error(bias_activation<B>(x, bias, view<float, 2>(nullptr, {rows, cols})),
                errc::null_pointer, {"'y'", "[3, 52]", "null"}, ys);
  }
  SUBCASE("negative extent") {
    check_error(bias_activation<B>(view<const float, 2>(xs.data(), {-1, cols}), bias,
                                   make_view(ys.data(), {rows, cols})),
                errc::invalid_argument, {"'x'", "[-1, 52]", "negative"}, ys);
  }
  SUBCASE("y with stride 0") {
    check_error(bias_activation<B>(x, bias, make_view(ys.data(), {rows, cols}, {cols, 0})),
                errc::bad_stride, {"'y'", "[3, 52]"}, ys);
    check_error(bias_activation<B>(x, bias, make_view(ys.data(), {rows, cols}, {0, 1})),
                errc::bad_stride, {"'y'", "[3, 52]"}, ys);
  }
  SUBCASE("y with a leading dimension smaller than cols") {
    check_error(bias_activation<B>(x, bias, make_view(ys.data(), {rows, cols}, {cols - 1, 1})),
                errc::bad_stride, {"'y'", "[3, 52]", "leading dimension"}, ys);
  }
  SUBCASE("y partially overlapping x or bias") {
    // x and y in the same buffer, y shifted by one element: neither in place nor disjoint.
    std::vector<float> buf(std::size_t(rows * cols + 1), sentinel);
    const auto xo = make_view(static_cast<const float*>(buf.data()), {rows, cols});
    check_error(bias_activation<B>(xo, bias, make_view(buf.data() + 1, {rows, cols})),
                errc::invalid_argument, {"'y'", "'x'", "overlaps", "[3, 52]"}, buf);
    // Same data pointer and shape but different strides is an overlap too, not "in place".
    std::vector<float> buf2(std::size_t(rows * (cols + 8)), sentinel);
    const auto xs2 = make_view(static_cast<const float*>(buf2.data()), {rows, cols}, {cols + 8, 1});
    check_error(bias_activation<B>(xs2, bias, make_view(buf2.data(), {rows, cols})),
                errc::invalid_argument, {"'y'", "'x'"}, buf2);
    // bias inside y's rows.
    std::vector<float> buf3(std::size_t(rows * cols), sentinel);
    const auto bo = make_view(static_cast<const float*>(buf3.data() + cols), {cols});
    check_error(bias_activation<B>(x, bo, make_view(buf3.data(), {rows, cols})),
                errc::invalid_argument, {"'y'", "'bias'", "[52]"}, buf3);
  }
  SUBCASE("empty shapes are valid no-ops, even with null data") {
    CHECK(bias_activation<B>(view<const float, 2>(nullptr, {0, cols}), bias,
                             view<float, 2>(nullptr, {0, cols}), act::silu{})
              .ok());
    CHECK(bias_activation<B>(view<const float, 2>(nullptr, {rows, 0}),
                             view<const float, 1>(nullptr, {0}), view<float, 2>(nullptr, {rows, 0}),
                             act::silu{})
              .ok());
    CHECK(untouched(ys));
  }
}
TEST_CASE_TEMPLATE_APPLY(bias_act_errors_id, fusedops::test::compiled_backends_tuple);
