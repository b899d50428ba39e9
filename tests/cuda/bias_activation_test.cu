// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// bias_activation on backend::cuda against the double-precision oracle: the CPU test's cases
// (tests/ops/bias_activation_test.cpp) on device memory. Random data; shapes with 1, odd, prime
// and non-multiple-of-32 extents; padded, transposed, broadcast and reversed layouts; every
// activation functor; NaN and infinities; in place; bad arguments, which must come back as errors
// without touching y.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/bias_activation.hpp"
#include "fusedops/reference/bias_activation.hpp"
#include "cuda/device_support.cuh"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using fusedops::device_view;
using fusedops::dims;
using fusedops::errc;
using fusedops::index_t;
using fusedops::status;
using fusedops::view;
namespace act = fusedops::act;
namespace tol = fusedops::test::tolerance;

// The stream type the library declares without CUDA headers is CUDA's own.
static_assert(std::is_same_v<fusedops::cuda_stream, cudaStream_t>);

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
/// y's buffers are pre-filled with this to catch stray writes; no test input produces it.
constexpr float sentinel = -12345.5f;

using device_buffer = fusedops::test::device_buffer<float>;
using fusedops::test::stream_guard;

/// Where a strided rows × cols view sits in a buffer sized just for it: element (0, 0) at
/// `origin` (past 0 when a stride is negative), `size` elements in all.
struct footprint {
  index_t origin = 0;
  index_t size = 0;
};
footprint footprint_of(index_t rows, index_t cols, const dims<2>& strides) {
  if (rows == 0 || cols == 0) return {};
  index_t lo = 0, hi = 0;
  for (const auto& [n, s] : {std::pair{rows, strides[0]}, std::pair{cols, strides[1]}})
    (s < 0 ? lo : hi) += (n - 1) * s;
  return {-lo, hi - lo + 1};
}

/// Strides of x, bias and y for one test layout.
struct layout {
  const char* name;
  dims<2> x_strides;
  index_t bias_stride;
  dims<2> y_strides;
};

std::vector<layout> layouts_for(index_t rows, index_t cols) {
  return {
      {"contiguous", {cols, 1}, 1, {cols, 1}},
      {"padded rows (ld > cols)", {cols + 5, 1}, 1, {cols + 3, 1}},
      {"transposed x, bias stride 2", {1, rows}, 2, {cols, 1}},
      {"broadcast x row, reversed y rows", {0, 1}, 1, {-cols, 1}},
  };
}

/// Host data of one problem: x and bias buffers laid out as `l` says (random values), plus y.
struct problem {
  index_t rows, cols;
  layout l;
  footprint xf, bf, yf;
  std::vector<float> x, bias;

  problem(index_t rows_, index_t cols_, const layout& l_, std::uint32_t seed, float lo, float hi)
      : rows(rows_),
        cols(cols_),
        l(l_),
        xf(footprint_of(rows, cols, l.x_strides)),
        bf(footprint_of(1, cols, {0, l.bias_stride})),
        yf(footprint_of(rows, cols, l.y_strides)),
        x(fusedops::test::random_floats(std::size_t(xf.size), seed, lo, hi)),
        bias(fusedops::test::random_floats(std::size_t(bf.size), seed + 1, lo / 2, hi / 2)) {}

  float& x_at(index_t i, index_t j) {
    return x[std::size_t(xf.origin + i * l.x_strides[0] + j * l.x_strides[1])];
  }
  float& bias_at(index_t j) { return bias[std::size_t(bf.origin + j * l.bias_stride)]; }
  view<const float, 2> host_x() const {
    return {x.data() + xf.origin, {rows, cols}, l.x_strides};
  }
  view<const float, 1> host_bias() const {
    return {bias.data() + bf.origin, {cols}, {l.bias_stride}};
  }

  /// Runs bias_activation<backend::cuda> on a copy of the data in device memory and returns y's
  /// whole buffer (sentinel where the view does not reach).
  template <class Act>
  std::vector<float> run_on_gpu(const Act& a) const {
    device_buffer dx(x), db(bias), dy(std::vector<float>(std::size_t(yf.size), sentinel));
    stream_guard stream;
    const status s = fusedops::bias_activation<fusedops::backend::cuda>(
        device_view<const float, 2>(dx.get() + xf.origin, {rows, cols}, l.x_strides),
        device_view<const float, 1>(db.get() + bf.origin, {cols}, {l.bias_stride}),
        device_view<float, 2>(dy.get() + yf.origin, {rows, cols}, l.y_strides), a, stream.get());
    REQUIRE_MESSAGE(s.ok(), s.message());
    stream.sync();
    return dy.download();
  }
};

std::string act_name(const act::silu& a) {
  return "silu(alpha=" + std::to_string(a.alpha).substr(0, 3) + ")";
}
template <class Act>
std::string act_name(const Act&) {
  return Act::name;
}

/// Calls f once per activation functor the library provides.
template <class F>
void for_each_activation(F&& f) {
  std::apply([&](auto... a) { (f(a), ...); },
             std::make_tuple(act::identity{}, act::relu{}, act::gelu_erf{}, act::gelu_tanh{},
                             act::silu{1.0f}, act::silu{1.7f}));
}

bool bit_equal(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Runs p on the GPU and checks every element of y against the oracle (NaN == NaN), that NaN
/// inputs give NaN outputs, and that y's buffer outside the view still holds the sentinel.
/// One CHECK per property naming the first bad element: per-element CHECKs would flood the log.
template <class Act>
void check_vs_oracle(const problem& p, const Act& a) {
  INFO("[" << p.rows << ", " << p.cols << "], " << p.l.name << ", " << act_name(a));
  const std::vector<float> y = p.run_on_gpu(a);
  const std::vector<double> want = fusedops::reference::bias_activation(p.host_x(), p.host_bias(), a);
  const view<const float, 2> x = p.host_x();

  std::vector<bool> in_view(y.size(), false);
  index_t bad = 0, lost_nan = 0;
  std::string first_bad;
  for (index_t i = 0; i < p.rows; ++i)
    for (index_t j = 0; j < p.cols; ++j) {
      const auto k = std::size_t(p.yf.origin + i * p.l.y_strides[0] + j * p.l.y_strides[1]);
      in_view[k] = true;
      const double w = want[std::size_t(i * p.cols + j)];
      if (!tol::close(y[k], w, tol::bias_activation_rel, tol::bias_activation_abs) && bad++ == 0)
        first_bad = "y(" + std::to_string(i) + ", " + std::to_string(j) + ") = " +
                    std::to_string(y[k]) + ", oracle " + std::to_string(w);
      lost_nan += std::isnan(x(i, j)) && !std::isnan(y[k]);
    }
  CHECK_MESSAGE(bad == 0, bad << " elements off the oracle; first: " << first_bad);
  CHECK_MESSAGE(lost_nan == 0, lost_nan << " NaN inputs gave a non-NaN output");

  index_t stray = 0;
  for (std::size_t k = 0; k < y.size(); ++k) stray += !in_view[k] && !bit_equal(y[k], sentinel);
  CHECK_MESSAGE(stray == 0, stray << " elements of y's buffer outside the view were written");
}

using shape = std::pair<index_t, index_t>;

}  // namespace

TEST_CASE("cuda bias_activation vs reference: shapes x layouts x activations") {
  // 1, odd, prime and non-multiple-of-32 extents; both narrow (block stacks rows) and wide
  // (several blocks per row) matrices.
  for (const shape& sh : {shape{1, 1}, shape{3, 7}, shape{17, 33}, shape{64, 257},
                          shape{129, 1000}, shape{1, 257}, shape{300, 1}, shape{2, 4099}}) {
    const index_t rows = sh.first, cols = sh.second;  // C++17 lambdas can't capture bindings
    for (const layout& l : layouts_for(rows, cols)) {
      const problem p(rows, cols, l, std::uint32_t(rows * 7919 + cols * 31 + l.bias_stride), -3.f,
                      3.f);
      for_each_activation([&](const auto& a) { check_vs_oracle(p, a); });
    }
  }
}

TEST_CASE("cuda bias_activation vs reference: wide input range") {
  // Saturated regions (tanh/erf -> ±1, exp overflow in silu) and the cancellation in 1 + tanh(..)
  // for x << 0, where the tolerance's absolute floor takes over.
  for (const shape& sh : {shape{3, 35}, shape{64, 257}}) {
    const problem p(sh.first, sh.second, layouts_for(sh.first, sh.second)[0], 99, -12.f, 12.f);
    for_each_activation([&](const auto& a) { check_vs_oracle(p, a); });
  }
}

TEST_CASE("cuda bias_activation: NaN and infinities propagate") {
  const index_t rows = 5, cols = 37;
  for (const layout& l : layouts_for(rows, cols)) {
    problem p(rows, cols, l, 5, -3.f, 3.f);
    const float specials[] = {qnan, inf, -inf, -qnan};
    int n = 0;
    for (index_t i = 0; i < rows; ++i)
      for (index_t j = 0; j < cols; ++j)
        if ((i * cols + j) % 3 == 0) p.x_at(i, j) = specials[n++ % 4];
    p.bias_at(1) = inf;  // x + inf on one column, and NaN where x = -inf
    for_each_activation([&](const auto& a) { check_vs_oracle(p, a); });
  }

  // Spelled out for relu: NaN stays NaN, +inf stays +inf, relu(-inf) = 0.
  problem p(1, 4, layouts_for(1, 4)[0], 6, -3.f, 3.f);
  const float xs[] = {qnan, inf, -inf, -qnan};
  for (index_t j = 0; j < 4; ++j) {
    p.x_at(0, j) = xs[j];
    p.bias_at(j) = 0.5f;
  }
  const std::vector<float> y = p.run_on_gpu(act::relu{});
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == inf);
  CHECK(y[2] == 0.f);
  CHECK(std::isnan(y[3]));
}

TEST_CASE("cuda bias_activation: more rows than one grid covers (grid-stride loop)") {
  // 256 columns fill a block row by row, and the grid holds at most 65535 blocks in y.
  const problem p(65535 + 37, 256, layouts_for(65535 + 37, 256)[0], 123, -3.f, 3.f);
  check_vs_oracle(p, act::relu{});
}

TEST_CASE("cuda bias_activation in place (y is the very same view as x)") {
  const index_t rows = 33, cols = 65;
  for (index_t ld : {cols, cols + 4})
    for_each_activation([&](const auto& a) {
      INFO("ld " << ld << ", " << act_name(a));
      const std::vector<float> original = fusedops::test::random_floats(std::size_t(rows * ld), 77);
      const std::vector<float> hb = fusedops::test::random_floats(std::size_t(cols), 78);
      const std::vector<double> want = fusedops::reference::bias_activation(
          view<const float, 2>(original.data(), {rows, cols}, {ld, 1}),
          view<const float, 1>(hb.data(), {cols}), a);

      device_buffer dxy(original), db(hb);
      const device_view<float, 2> xy(dxy.get(), {rows, cols}, {ld, 1});
      stream_guard stream;
      const status s = fusedops::bias_activation<fusedops::backend::cuda>(
          xy, device_view<const float, 1>(db.get(), {cols}), xy, a, stream.get());
      REQUIRE_MESSAGE(s.ok(), s.message());
      stream.sync();
      const std::vector<float> y = dxy.download();
      index_t bad = 0, padding_changed = 0;
      for (index_t i = 0; i < rows; ++i)
        for (index_t j = 0; j < ld; ++j) {
          const auto k = std::size_t(i * ld + j);
          if (j >= cols)
            padding_changed += !bit_equal(y[k], original[k]);
          else
            bad += !tol::close(y[k], want[std::size_t(i * cols + j)], tol::bias_activation_rel,
                               tol::bias_activation_abs);
        }
      CHECK(bad == 0);
      CHECK(padding_changed == 0);
    });
}

TEST_CASE("cuda bias_activation: bad arguments are reported and y is untouched") {
  const index_t rows = 3, cols = 52;
  device_buffer dx(fusedops::test::random_floats(std::size_t(rows * cols), 11));
  device_buffer db(fusedops::test::random_floats(std::size_t(cols + 8), 12));
  device_buffer dy(std::vector<float>(std::size_t(rows * (cols + 8)), sentinel));
  const device_view<const float, 2> x(dx.get(), {rows, cols});
  const device_view<const float, 1> bias(db.get(), {cols});
  stream_guard stream;

  // Checks the status and its message, then that nothing was written to `buf`.
  const auto check_error = [&](const status& s, errc code, std::initializer_list<const char*> needles,
                               const device_buffer& buf) {
    const std::string msg = s.message();
    CAPTURE(msg);
    CHECK_FALSE(s.ok());
    CHECK(s.code() == code);
    CHECK(msg.find("bias_activation") != std::string::npos);
    for (const char* n : needles) {
      CAPTURE(n);
      CHECK(msg.find(n) != std::string::npos);
    }
    stream.sync();  // had anything been enqueued, it would have run by now
    index_t changed = 0;
    for (float v : buf.download()) changed += !bit_equal(v, sentinel);
    CHECK_MESSAGE(changed == 0, changed << " elements were written by a rejected call");
  };
  const auto run = [&](const device_view<const float, 2>& xv, const device_view<const float, 1>& bv,
                       const device_view<float, 2>& yv) {
    return fusedops::bias_activation<fusedops::backend::cuda>(xv, bv, yv, act::silu{},
                                                              stream.get());
  };

  SUBCASE("y shape mismatch") {
    check_error(run(x, bias, device_view<float, 2>(dy.get(), {rows, cols - 1})),
                errc::shape_mismatch, {"'y'", "[3, 51]", "[3, 52]"}, dy);
    check_error(run(x, bias, device_view<float, 2>(dy.get(), {rows + 1, cols})),
                errc::shape_mismatch, {"'y'", "[4, 52]", "[3, 52]"}, dy);
  }
  SUBCASE("bias length mismatch") {
    const device_view<float, 2> y(dy.get(), {rows, cols});
    check_error(run(x, device_view<const float, 1>(db.get(), {cols - 1}), y),
                errc::shape_mismatch, {"'bias'", "[51]", "[52]", "[3, 52]"}, dy);
    check_error(run(x, device_view<const float, 1>(db.get(), {cols + 8}), y),
                errc::shape_mismatch, {"'bias'", "[60]", "[52]"}, dy);
  }
  SUBCASE("null data pointers with a nonzero shape") {
    const device_view<float, 2> y(dy.get(), {rows, cols});
    check_error(run(device_view<const float, 2>(nullptr, {rows, cols}), bias, y),
                errc::null_pointer, {"'x'", "[3, 52]", "null"}, dy);
    check_error(run(x, device_view<const float, 1>(nullptr, {cols}), y), errc::null_pointer,
                {"'bias'", "[52]", "null"}, dy);
    check_error(run(x, bias, device_view<float, 2>(nullptr, {rows, cols})), errc::null_pointer,
                {"'y'", "[3, 52]", "null"}, dy);
  }
  SUBCASE("negative extent") {
    check_error(run(device_view<const float, 2>(dx.get(), {-1, cols}), bias,
                    device_view<float, 2>(dy.get(), {rows, cols})),
                errc::invalid_argument, {"'x'", "[-1, 52]", "negative"}, dy);
  }
  SUBCASE("y with stride 0 or a leading dimension smaller than cols") {
    check_error(run(x, bias, device_view<float, 2>(dy.get(), {rows, cols}, {cols, 0})),
                errc::bad_stride, {"'y'", "[3, 52]"}, dy);
    check_error(run(x, bias, device_view<float, 2>(dy.get(), {rows, cols}, {0, 1})),
                errc::bad_stride, {"'y'", "[3, 52]"}, dy);
    check_error(run(x, bias, device_view<float, 2>(dy.get(), {rows, cols}, {cols - 1, 1})),
                errc::bad_stride, {"'y'", "[3, 52]", "leading dimension"}, dy);
  }
  SUBCASE("y partially overlapping x or bias") {
    // x and y in y's buffer, y shifted by one element: neither in place nor disjoint.
    const device_view<const float, 2> xo(dy.get(), {rows, cols});
    check_error(run(xo, bias, device_view<float, 2>(dy.get() + 1, {rows, cols})),
                errc::invalid_argument, {"'y'", "'x'", "overlaps", "[3, 52]"}, dy);
    // bias inside y's rows.
    const device_view<const float, 1> bo(dy.get() + cols, {cols});
    check_error(run(x, bo, device_view<float, 2>(dy.get(), {rows, cols})), errc::invalid_argument,
                {"'y'", "'bias'", "[52]"}, dy);
  }
  SUBCASE("empty shapes are valid no-ops, even with null data (and launch nothing)") {
    CHECK(run(device_view<const float, 2>(nullptr, {0, cols}), bias,
              device_view<float, 2>(nullptr, {0, cols}))
              .ok());
    CHECK(run(device_view<const float, 2>(nullptr, {rows, 0}),
              device_view<const float, 1>(nullptr, {0}), device_view<float, 2>(nullptr, {rows, 0}))
              .ok());
    REQUIRE_CUDA(cudaGetLastError());  // no failed launch left behind
    stream.sync();
  }
}
