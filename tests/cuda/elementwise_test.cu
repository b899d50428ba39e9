// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// softmax / log_softmax and apply_activation on backend::cuda against the double oracles
// (reference/softmax.hpp, reference/activation.hpp): the CPU tests' cases (tests/ops/
// softmax_test.cpp, activation_test.cpp) on device memory. Random data; line lengths reaching
// every softmax kernel (warp per line, block per line, looping block; 16-byte vectors and scalars
// through a base offset of one float) and the strided kernel (other axes, transposed views);
// rank-3 tensors on every axis; in place; padding untouched; -inf (masked), NaN, +inf and
// all -inf lines; rotary_embedding on 3-D and 4-D layouts, both pairings, partial rotation, the
// three position modes (offset, device ids, per-token caches), in place, out-of-range device ids;
// bad arguments, which must come back as errors with y untouched.
//
// Tolerances: the CPU bounds of tests/support/tolerance.hpp. softmax_bound / log_softmax_bound
// take the summation's shape as (n, lanes): the row kernels sum at most 32 elements per thread in
// order, then a butterfly over <= 32 lanes and <= 16 warps, a depth below n/32 + 32 + 4, so
// lanes = 32; the strided kernel (one thread per line) sums sequentially, lanes = 1
// (depth n + 5). CUDA's expf is within 2 ulp (the table allows 3); log_softmax takes log(S) in
// double as the CPU does. Activations: activation_bound (8u relative + 4u·(1 + |x|) absolute);
// CUDA's expf / tanhf / erff (<= 2 ulp) are within what the table allows for the vector math.
// RoPE: rope_y_bound (one product and one FMA per output, as on the CPU); pass-through exact.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "cuda/device_support.cuh"
#include "fusedops/activation.hpp"
#include "fusedops/core/numerics.hpp"
#include "fusedops/reference/activation.hpp"
#include "fusedops/reference/rope.hpp"
#include "fusedops/reference/softmax.hpp"
#include "fusedops/rotary_embedding.hpp"
#include "fusedops/softmax.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using fusedops::device_view;
using fusedops::dims;
using fusedops::errc;
using fusedops::index_t;
using fusedops::status;
using fusedops::view;
namespace tol = fusedops::test::tolerance;
namespace act = fusedops::act;
using cuda = fusedops::backend::cuda;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float sentinel = -12345.5f;

using device_buffer = fusedops::test::device_buffer<float>;
using fusedops::test::stream_guard;

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Offset of element i (row-major logical index) of a strided shape.
template <int R>
index_t offset_of(const dims<R>& shape, const dims<R>& strides, index_t i) {
  index_t off = 0;
  for (int d = R - 1; d >= 0; --d) {
    off += (i % shape[std::size_t(d)]) * strides[std::size_t(d)];
    i /= shape[std::size_t(d)];
  }
  return off;
}
template <int R>
index_t count(const dims<R>& shape) {
  index_t n = 1;
  for (int d = 0; d < R; ++d) n *= shape[std::size_t(d)];
  return n;
}
/// Elements a strided view of `shape` reaches past its base (strides >= 0 here).
template <int R>
index_t extent_of(const dims<R>& shape, const dims<R>& strides) {
  index_t hi = 0;
  for (int d = 0; d < R; ++d) hi += (shape[std::size_t(d)] - 1) * strides[std::size_t(d)];
  return hi + 1;
}

/// One layout of a problem: x and y at `offset` floats into their buffers, given strides; y may
/// be the very same memory and view as x (in place).
template <int R>
struct layout {
  dims<R> shape, xs, ys;
  index_t offset = 0;
  bool in_place = false;
};

/// Host data for a layout: x's buffer, random, then `edit`ed.
template <int R>
std::vector<float> make_x(const layout<R>& l, std::uint32_t seed, float lo, float hi) {
  return fusedops::test::random_floats(std::size_t(l.offset + extent_of<R>(l.shape, l.xs)), seed,
                                       lo, hi);
}

/// Runs softmax / log_softmax on the GPU for x (host buffer xh, layout l) and checks every element
/// against the oracle, and that y's buffer outside the view is untouched. Returns the failures.
template <int R>
int check_softmax(const layout<R>& l, const std::vector<float>& xh, int axis, bool log,
                  const std::string& what) {
  INFO(what << (log ? " log_softmax" : " softmax") << " axis " << axis << " offset " << l.offset
            << (l.in_place ? " in place" : ""));
  const index_t ysize = l.in_place ? index_t(xh.size()) : l.offset + extent_of<R>(l.shape, l.ys);
  device_buffer dx(xh), dy(std::vector<float>(std::size_t(ysize), sentinel));
  float* ymem = l.in_place ? dx.get() : dy.get();
  const dims<R>& ys = l.in_place ? l.xs : l.ys;
  const device_view<const float, R> x(dx.get() + l.offset, l.shape, l.xs);
  const device_view<float, R> y(ymem + l.offset, l.shape, ys);
  stream_guard stream;
  const status st = log ? fusedops::log_softmax<cuda>(x, y, axis, stream.get())
                        : fusedops::softmax<cuda>(x, y, axis, stream.get());
  REQUIRE_MESSAGE(st.ok(), st.message());
  stream.sync();
  const std::vector<float> yh = l.in_place ? dx.download() : dy.download();

  const int a = axis < 0 ? axis + R : axis;
  const view<const float, R> hx(xh.data() + l.offset, l.shape, l.xs);
  const std::vector<double> want = fusedops::reference::softmax<R>(hx, a, log);
  const index_t n = l.shape[std::size_t(a)], total = count<R>(l.shape);
  // The row kernels (unit stride along the axis) or the strided one: see the tolerance note.
  const bool row_kernel = n == 1 || (l.xs[std::size_t(a)] == 1 && ys[std::size_t(a)] == 1);
  const int lanes = row_kernel ? 32 : 1;
  const dims<R> rm = fusedops::row_major_strides<R>(l.shape);
  const index_t step = rm[std::size_t(a)];
  std::vector<char> in_view(yh.size(), 0);
  // Per line, stored at the index of its first element (which precedes all its elements): the
  // oracle's max, sum and W = Σ e_j |d_j| / sum that the bound needs.
  const auto lines = static_cast<std::size_t>(total);
  std::vector<double> line_max(lines), line_sum(lines), line_w(lines);
  int bad = 0;
  for (index_t i = 0; i < total; ++i) {
    const index_t k = (i / step) % n, first = i - k * step;
    if (k == 0) {
      double m0 = -std::numeric_limits<double>::infinity(), s0 = 0, w0 = 0;
      for (index_t j = 0; j < n; ++j)
        m0 = fusedops::max_nan(m0, double(hx.data()[offset_of<R>(l.shape, l.xs, i + j * step)]));
      for (index_t j = 0; j < n; ++j) {
        const double d = double(hx.data()[offset_of<R>(l.shape, l.xs, i + j * step)]) - m0;
        const double e = std::exp(d);
        s0 += e;
        if (e > 0) w0 += e * std::fabs(d);  // (-inf entries contribute nothing)
      }
      line_max[std::size_t(i)] = m0, line_sum[std::size_t(i)] = s0;
      line_w[std::size_t(i)] = s0 > 0 ? w0 / s0 : 0;
    }
    const double m = line_max[std::size_t(first)], s = line_sum[std::size_t(first)],
                 w = line_w[std::size_t(first)];
    const double d_i = double(hx.data()[offset_of<R>(l.shape, l.xs, i)]) - m;
    const std::size_t yk = std::size_t(l.offset + offset_of<R>(l.shape, ys, i));
    in_view[yk] = 1;
    const double got = double(yh[yk]), want_i = want[std::size_t(i)];
    bool ok;
    if (std::isnan(want_i) || std::isinf(want_i)) {
      ok = std::isnan(want_i) ? std::isnan(got) : got == want_i;
    } else {
      const double bound = log ? tol::log_softmax_bound(want_i, d_i, w, std::log(s), long(n), lanes)
                               : tol::softmax_bound(want_i, d_i, w, long(n), lanes);
      ok = std::fabs(got - want_i) <= bound;
    }
    if (!ok && ++bad <= 3) MESSAGE("element " << i << " got " << got << ", oracle " << want_i);
  }
  index_t stray = 0;
  for (std::size_t k = 0; k < yh.size(); ++k) {
    const float orig = l.in_place ? xh[k] : sentinel;
    stray += !in_view[k] && !same_bits(yh[k], orig);
  }
  if (stray != 0) {
    ++bad;
    MESSAGE(stray << " elements of y's buffer outside the view were written");
  }
  return bad;
}

layout<2> dense2(index_t rows, index_t n, index_t offset = 0, index_t pad = 0) {
  layout<2> l;
  l.shape = {rows, n}, l.xs = {n + pad, 1}, l.ys = {n + pad, 1}, l.offset = offset;
  return l;
}

/// Line lengths reaching every row kernel (see arch/cuda/softmax.cuh) and its vector/scalar forms.
const std::vector<index_t> line_sizes = {1,    2,    3,    4,    5,     7,     31,   32,   33,
                                         64,   127,  128,  255,  256,   257,   768,  1000, 1024,
                                         1028, 1031, 4096, 4097, 16384, 16388, 20000};

}  // namespace

TEST_CASE("cuda softmax / log_softmax vs reference: line lengths, vector and scalar paths") {
  std::uint32_t seed = 100;
  for (bool log : {false, true})
    for (index_t n : line_sizes)
      for (index_t offset : {index_t{0}, index_t{1}}) {
        const index_t rows = n >= 4096 ? 3 : 9;
        const layout<2> l = dense2(rows, n, offset);
        const std::vector<float> xh = make_x(l, seed++, -10.f, 10.f);
        CHECK(check_softmax<2>(l, xh, -1, log,
                               "[" + std::to_string(rows) + ", " + std::to_string(n) + "]") == 0);
      }
}

TEST_CASE("cuda softmax: row counts, padded rows, in place") {
  std::uint32_t seed = 400;
  for (bool log : {false, true})
    for (index_t rows : {index_t{1}, index_t{2}, index_t{13}, index_t{1001}})
      for (index_t n : {index_t{24}, index_t{768}, index_t{3000}})
        for (index_t pad : {index_t{0}, index_t{1}, index_t{4}})
          for (bool in_place : {false, true}) {
            layout<2> l = dense2(rows, n, 0, pad);
            l.in_place = in_place;
            const std::vector<float> xh = make_x(l, seed++, -5.f, 5.f);
            CHECK(check_softmax<2>(l, xh, 1, log,
                                   "rows " + std::to_string(rows) + " n " + std::to_string(n) +
                                       " pad " + std::to_string(pad)) == 0);
          }
  // In place on the looping kernel.
  layout<2> l = dense2(2, 20000, 1);
  l.in_place = true;
  CHECK(check_softmax<2>(l, make_x(l, 999, -5.f, 5.f), -1, false, "long in place") == 0);
}

TEST_CASE("cuda softmax / log_softmax: every axis of a rank-3 tensor, transposed views") {
  std::uint32_t seed = 700;
  for (bool log : {false, true}) {
    for (bool in_place : {false, true})
      for (int axis = -3; axis < 3; ++axis) {
        layout<3> l;
        l.shape = {4, 7, 33}, l.xs = {7 * 40, 40, 1}, l.ys = {7 * 33, 33, 1};
        l.in_place = in_place;
        const std::vector<float> xh = make_x(l, seed++, -8.f, 8.f);
        CHECK(check_softmax<3>(l, xh, axis, log, "[4, 7, 33]") == 0);
      }
    // x transposed (the axis has stride 300), y dense; and a long strided axis.
    for (index_t n : {index_t{5}, index_t{300}, index_t{5000}}) {
      layout<2> l;
      l.shape = {37, n}, l.xs = {1, 37}, l.ys = {n, 1};
      const std::vector<float> xh = make_x(l, seed++, -8.f, 8.f);
      CHECK(check_softmax<2>(l, xh, -1, log, "transposed x, n " + std::to_string(n)) == 0);
      CHECK(check_softmax<2>(l, xh, 0, log, "transposed x, axis 0, n " + std::to_string(n)) == 0);
    }
  }
}

TEST_CASE("cuda softmax / log_softmax: -inf (masked), NaN, +inf and all -inf lines") {
  std::uint32_t seed = 900;
  for (bool log : {false, true})
    for (index_t n : {index_t{3}, index_t{64}, index_t{1031}, index_t{4096}, index_t{20000}})
      for (int axis : {1, 0}) {
        layout<2> l = dense2(6, n);
        std::vector<float> xh = make_x(l, seed++, -10.f, 10.f);
        const auto at = [&](index_t i, index_t j) -> float& { return xh[std::size_t(i * n + j)]; };
        // Row 0: ordinary. Row 1: half the entries masked (-inf). Row 2: a NaN. Row 3: a +inf.
        // Row 4: all -inf (0/0: NaN). Row 5: one finite entry among -inf (exactly 1 / 0).
        for (index_t j = 0; j < n; j += 2) at(1, j) = -inf;
        at(2, n / 2) = qnan;
        at(3, n - 1) = inf;
        for (index_t j = 0; j < n; ++j) at(4, j) = -inf, at(5, j) = -inf;
        at(5, n / 3) = 0.5f;
        CHECK(check_softmax<2>(l, xh, axis, log, "specials n " + std::to_string(n)) == 0);
        if (axis == 1 && !log) {  // spelled out on the row kernels
          device_buffer dx(xh), dy(std::vector<float>(xh.size(), sentinel));
          stream_guard stream;
          REQUIRE(fusedops::softmax<cuda>(device_view<const float, 2>(dx.get(), {6, n}),
                                          device_view<float, 2>(dy.get(), {6, n}), -1, stream.get())
                      .ok());
          stream.sync();
          const std::vector<float> y = dy.download();
          index_t masked_nonzero = 0, nan_missing = 0;
          for (index_t j = 0; j < n; j += 2) masked_nonzero += y[std::size_t(n + j)] != 0.f;
          for (index_t r : {2, 3, 4})
            for (index_t j = 0; j < n; ++j) nan_missing += !std::isnan(y[std::size_t(r * n + j)]);
          CHECK(masked_nonzero == 0);
          CHECK(nan_missing == 0);
          CHECK(y[std::size_t(5 * n + n / 3)] == 1.f);
        }
      }
}

TEST_CASE("cuda softmax: bad arguments are reported and y is untouched") {
  const index_t rows = 3, n = 20;
  device_buffer dx(fusedops::test::random_floats(std::size_t(rows * n), 11));
  device_buffer dy(std::vector<float>(std::size_t(rows * n + 4), sentinel));
  const device_view<const float, 2> x(dx.get(), {rows, n});
  stream_guard stream;
  const auto check_error = [&](const status& st, errc code, const char* op,
                               std::initializer_list<const char*> needles) {
    const std::string msg = st.message();
    CAPTURE(msg);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == code);
    CHECK(msg.find(op) != std::string::npos);
    for (const char* nd : needles) {
      CAPTURE(nd);
      CHECK(msg.find(nd) != std::string::npos);
    }
    stream.sync();
    index_t changed = 0;
    for (float v : dy.download()) changed += !same_bits(v, sentinel);
    CHECK_MESSAGE(changed == 0, changed << " elements of y were written by a rejected call");
  };
  check_error(
      fusedops::softmax<cuda>(x, device_view<float, 2>(dy.get(), {rows, n + 1}), -1, stream.get()),
      errc::shape_mismatch, "softmax", {"'y'", "[3, 21]", "[3, 20]"});
  check_error(
      fusedops::log_softmax<cuda>(x, device_view<float, 2>(dy.get(), {rows, n}), 2, stream.get()),
      errc::invalid_argument, "log_softmax", {"'axis'", "2"});
  check_error(fusedops::softmax<cuda>(device_view<const float, 2>(nullptr, {rows, n}),
                                      device_view<float, 2>(dy.get(), {rows, n}), -1, stream.get()),
              errc::null_pointer, "softmax", {"'x'"});
  check_error(
      fusedops::softmax<cuda>(device_view<const float, 2>(dy.get(), {rows, n}),
                              device_view<float, 2>(dy.get() + 1, {rows, n}), -1, stream.get()),
      errc::invalid_argument, "softmax", {"'y'", "'x'"});
  check_error(fusedops::softmax<cuda>(x, device_view<float, 2>(dy.get(), {rows, n}, {0, 1}), -1,
                                      stream.get()),
              errc::bad_stride, "softmax", {"'y'"});
  // Empty tensors: valid no-ops.
  CHECK(fusedops::softmax<cuda>(device_view<const float, 2>(nullptr, {0, n}),
                                device_view<float, 2>(nullptr, {0, n}), -1, stream.get())
            .ok());
  REQUIRE_CUDA(cudaGetLastError());
  stream.sync();
}

// --- apply_activation
// -----------------------------------------------------------------------------

namespace {

template <class F>
void for_each_activation(F&& f) {
  std::apply([&](auto... a) { (f(a), ...); },
             std::make_tuple(act::identity{}, act::relu{}, act::gelu_erf{}, act::gelu_tanh{},
                             act::silu{1.0f}, act::silu{1.7f}, act::sigmoid{}, act::tanh{},
                             act::hardswish{}, act::clip{-1.5f, 2.0f}));
}

/// Runs apply_activation on the GPU for layout l and checks every element against the oracle
/// (activation_bound), NaN staying NaN, and the untouched rest of y's buffer.
template <int R, class Act>
int check_activation(const layout<R>& l, const std::vector<float>& xh, const Act& a,
                     const std::string& what) {
  INFO(what << " offset " << l.offset << (l.in_place ? " in place" : ""));
  const index_t ysize = l.in_place ? index_t(xh.size()) : l.offset + extent_of<R>(l.shape, l.ys);
  device_buffer dx(xh), dy(std::vector<float>(std::size_t(ysize), sentinel));
  float* ymem = l.in_place ? dx.get() : dy.get();
  const dims<R>& ys = l.in_place ? l.xs : l.ys;
  stream_guard stream;
  const status st = fusedops::apply_activation<cuda>(
      device_view<const float, R>(dx.get() + l.offset, l.shape, l.xs),
      device_view<float, R>(ymem + l.offset, l.shape, ys), a, stream.get());
  REQUIRE_MESSAGE(st.ok(), st.message());
  stream.sync();
  const std::vector<float> yh = l.in_place ? dx.download() : dy.download();
  const view<const float, R> hx(xh.data() + l.offset, l.shape, l.xs);
  const std::vector<double> want = fusedops::reference::activation<const float, R>(hx, a);
  std::vector<char> in_view(yh.size(), 0);
  int bad = 0;
  for (index_t i = 0; i < count<R>(l.shape); ++i) {
    const std::size_t yk = std::size_t(l.offset + offset_of<R>(l.shape, ys, i));
    in_view[yk] = 1;
    const double xi = double(hx.data()[offset_of<R>(l.shape, l.xs, i)]);
    const double w = want[std::size_t(i)], got = double(yh[yk]);
    const bool ok = std::isnan(w) || std::isinf(w)
                        ? (std::isnan(w) ? std::isnan(got) : got == w)
                        : std::fabs(got - w) <= tol::activation_bound(w, xi);
    if (!ok && ++bad <= 3)
      MESSAGE("element " << i << " x " << xi << " got " << got << ", oracle " << w);
  }
  index_t stray = 0;
  for (std::size_t k = 0; k < yh.size(); ++k)
    stray += !in_view[k] && !same_bits(yh[k], l.in_place ? xh[k] : sentinel);
  if (stray != 0) {
    ++bad;
    MESSAGE(stray << " elements of y's buffer outside the view were written");
  }
  return bad;
}

}  // namespace

TEST_CASE("cuda apply_activation vs reference: every functor, dense and strided layouts") {
  std::uint32_t seed = 2000;
  for (index_t n : {index_t{1}, index_t{3}, index_t{4}, index_t{33}, index_t{1000}, index_t{4097},
                    index_t{100003}})
    for (index_t offset : {index_t{0}, index_t{1}}) {
      layout<1> l;
      l.shape = {n}, l.xs = {1}, l.ys = {1}, l.offset = offset;
      std::vector<float> xh = make_x(l, seed++, -6.f, 6.f);
      if (n > 4) xh[std::size_t(offset + 2)] = qnan, xh[std::size_t(offset + 3)] = inf;
      if (n > 5) xh[std::size_t(offset + 4)] = -inf;
      for_each_activation([&](const auto& a) {
        CHECK(check_activation<1>(l, xh, a, "dense n " + std::to_string(n)) == 0);
      });
      layout<1> ip = l;
      ip.in_place = true;
      CHECK(check_activation<1>(ip, xh, act::gelu_tanh{}, "in place n " + std::to_string(n)) == 0);
    }
  // Strided: padded rows, a transposed input, a broadcast (stride 0) input, rank 3.
  {
    layout<2> l;
    l.shape = {37, 65}, l.xs = {70, 1}, l.ys = {65, 1};
    const std::vector<float> xh = make_x(l, seed++, -6.f, 6.f);
    for_each_activation(
        [&](const auto& a) { CHECK(check_activation<2>(l, xh, a, "padded x") == 0); });
    l.xs = {1, 37};
    for_each_activation(
        [&](const auto& a) { CHECK(check_activation<2>(l, xh, a, "transposed x") == 0); });
    l.xs = {0, 1}, l.ys = {70, 1};
    CHECK(check_activation<2>(l, xh, act::silu{}, "broadcast x, padded y") == 0);
    l.xs = {65, 1}, l.ys = {70, 1}, l.in_place = false;
    CHECK(check_activation<2>(l, make_x(l, seed++, -6.f, 6.f), act::relu{}, "padded y") == 0);
    layout<2> ip;
    ip.shape = {37, 65}, ip.xs = {70, 1}, ip.in_place = true;
    CHECK(check_activation<2>(ip, make_x(ip, seed++, -6.f, 6.f), act::gelu_erf{},
                              "padded in place") == 0);
  }
  {
    layout<3> l;
    l.shape = {3, 5, 7}, l.xs = {60, 10, 1}, l.ys = {1, 3, 15};
    CHECK(check_activation<3>(l, make_x(l, seed++, -6.f, 6.f), act::hardswish{}, "rank 3") == 0);
  }
}

TEST_CASE("cuda apply_activation: bad arguments are reported and y is untouched") {
  device_buffer dx(fusedops::test::random_floats(64, 5));
  device_buffer dy(std::vector<float>(68, sentinel));
  stream_guard stream;
  const auto untouched = [&] {
    stream.sync();
    index_t changed = 0;
    for (float v : dy.download()) changed += !same_bits(v, sentinel);
    return changed == 0;
  };
  status st = fusedops::apply_activation<cuda>(device_view<const float, 2>(dx.get(), {8, 8}),
                                               device_view<float, 2>(dy.get(), {8, 7}), act::relu{},
                                               stream.get());
  CHECK(st.code() == errc::shape_mismatch);
  CHECK(std::string(st.message()).find("'y'") != std::string::npos);
  CHECK(untouched());
  st = fusedops::apply_activation<cuda>(device_view<const float, 2>(nullptr, {8, 8}),
                                        device_view<float, 2>(dy.get(), {8, 8}), act::relu{},
                                        stream.get());
  CHECK(st.code() == errc::null_pointer);
  CHECK(untouched());
  st = fusedops::apply_activation<cuda>(device_view<const float, 2>(dy.get(), {8, 8}),
                                        device_view<float, 2>(dy.get() + 2, {8, 8}), act::relu{},
                                        stream.get());
  CHECK(st.code() == errc::invalid_argument);
  CHECK(untouched());
  st = fusedops::apply_activation<cuda>(device_view<const float, 2>(dx.get(), {8, 8}),
                                        device_view<float, 2>(dy.get(), {8, 8}, {1, 1}),
                                        act::relu{}, stream.get());
  CHECK(st.code() == errc::bad_stride);
  CHECK(untouched());
}

// --- rotary_embedding
// -----------------------------------------------------------------------------

namespace {

enum class rope_pos { offset, ids, per_token };

/// One RoPE problem: x [B, S, H·D] (3-D) or [B, H, S, D] (4-D) with padded token rows, caches with
/// padded rows, run on the GPU and checked per element against the oracle; padding untouched.
/// bad_id: token (1, 0) gets an id past the cache (its rotated elements must come out NaN).
int rope_case(bool four_d, bool interleaved, rope_pos mode, index_t rot, bool in_place,
              std::uint32_t seed, bool bad_id = false) {
  const index_t Bn = 2, S = 5, H = 3, D = 16, max_pos = 12, half = rot / 2, crow = half + 3;
  const index_t offset = mode == rope_pos::offset ? 4 : 0;
  INFO((four_d ? "4-D" : "3-D") << (interleaved ? " interleaved" : " halves") << " mode "
                                << int(mode) << " rot " << rot << (in_place ? " in place" : "")
                                << (bad_id ? " bad id" : ""));
  // 4-D strides [B, H, S, D] and 3-D [B, S, H·D], both with padding between tokens.
  const index_t tok = H * D + 5;  // 3-D token row
  const fusedops::dims<4> st4 = four_d ? fusedops::dims<4>{H * S * (D + 2), S * (D + 2), D + 2, 1}
                                       : fusedops::dims<4>{S * tok, D, tok, 1};
  const index_t n = Bn * st4[0];
  const std::vector<float> xh = fusedops::test::random_floats(std::size_t(n), seed, -3.f, 3.f);
  const bool per_token = mode == rope_pos::per_token;
  const index_t crows = per_token ? Bn * S : max_pos;
  const std::vector<float> ch =
      fusedops::test::random_floats(std::size_t(crows * crow), seed + 1, -1.f, 1.f);
  const std::vector<float> sh =
      fusedops::test::random_floats(std::size_t(crows * crow), seed + 2, -1.f, 1.f);
  std::vector<std::int64_t> ids(std::size_t(Bn * S));
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::int64_t((i * 7 + 3) % max_pos);
  if (bad_id) ids[std::size_t(S)] = max_pos + 5;

  device_buffer dx(xh), dc(ch), ds(sh), dy(std::vector<float>(std::size_t(n), sentinel));
  std::int64_t* did = nullptr;
  REQUIRE_CUDA(cudaMalloc(reinterpret_cast<void**>(&did), ids.size() * sizeof(std::int64_t)));
  REQUIRE_CUDA(
      cudaMemcpy(did, ids.data(), ids.size() * sizeof(std::int64_t), cudaMemcpyHostToDevice));
  float* ymem = in_place ? dx.get() : dy.get();
  fusedops::device_rotary_embedding_params p;
  p.interleaved = interleaved, p.rotary_embedding_dim = rot == D ? 0 : rot;
  if (mode == rope_pos::offset) p.position_offset = offset;
  if (mode == rope_pos::ids) p.position_ids = device_view<const std::int64_t, 2>(did, {Bn, S});
  stream_guard stream;
  status st;
  const auto run = [&](auto x, auto y) {
    if (per_token)
      return fusedops::rotary_embedding<cuda>(
          x, device_view<const float, 3>(dc.get(), {Bn, S, half}, {S * crow, crow, 1}),
          device_view<const float, 3>(ds.get(), {Bn, S, half}, {S * crow, crow, 1}), y, p,
          stream.get());
    return fusedops::rotary_embedding<cuda>(
        x, device_view<const float, 2>(dc.get(), {max_pos, half}, {crow, 1}),
        device_view<const float, 2>(ds.get(), {max_pos, half}, {crow, 1}), y, p, stream.get());
  };
  if (four_d) {
    const fusedops::dims<4> sh4{Bn, H, S, D};
    st =
        run(device_view<const float, 4>(dx.get(), sh4, st4), device_view<float, 4>(ymem, sh4, st4));
  } else {
    p.num_heads = H;
    const fusedops::dims<3> sh3{Bn, S, H * D}, st3{S * tok, tok, 1};
    st =
        run(device_view<const float, 3>(dx.get(), sh3, st3), device_view<float, 3>(ymem, sh3, st3));
  }
  REQUIRE_MESSAGE(st.ok(), st.message());
  stream.sync();
  const std::vector<float> yh = in_place ? dx.download() : dy.download();
  cudaFree(did);

  const view<const float, 4> x4(xh.data(), {Bn, H, S, D}, st4);
  const view<const float, 3> c3 =
      per_token ? view<const float, 3>(ch.data(), {Bn, S, half}, {S * crow, crow, 1})
                : view<const float, 3>(ch.data(), {1, max_pos, half}, {0, crow, 1});
  const view<const float, 3> s3 =
      per_token ? view<const float, 3>(sh.data(), {Bn, S, half}, {S * crow, crow, 1})
                : view<const float, 3>(sh.data(), {1, max_pos, half}, {0, crow, 1});
  std::vector<std::int64_t> ids_ok = ids;
  if (bad_id) ids_ok[std::size_t(S)] = 0;  // the oracle needs a valid row; that token is NaN
  fusedops::reference::rope_positions pos;
  if (mode == rope_pos::ids) pos.ids = view<const std::int64_t, 2>(ids_ok.data(), {Bn, S});
  pos.offset = offset;
  const std::vector<double> want =
      fusedops::reference::rotary_embedding(x4, c3, s3, per_token, pos, rot, interleaved);
  std::vector<char> covered(std::size_t(n), 0);
  int bad = 0;
  for (index_t b = 0; b < Bn; ++b)
    for (index_t h = 0; h < H; ++h)
      for (index_t s = 0; s < S; ++s) {
        const index_t row = per_token               ? s
                            : mode == rope_pos::ids ? index_t(ids_ok[std::size_t(b * S + s)])
                                                    : offset + s;
        const index_t cb = per_token ? b : 0;
        const bool nan_token = bad_id && b == 1 && s == 0;
        for (index_t d = 0; d < D; ++d) {
          const index_t off = b * st4[0] + h * st4[1] + s * st4[2] + d;
          covered[std::size_t(off)] = 1;
          const double w = want[std::size_t(((b * H + h) * S + s) * D + d)];
          const double g = double(yh[std::size_t(off)]);
          bool ok;
          if (nan_token && d < rot) {
            ok = std::isnan(g);
          } else {
            double bound = 0;  // pass-through: exact
            if (d < rot) {
              const index_t i = interleaved ? d / 2 : d % half;
              const index_t partner = interleaved ? (d ^ 1) : (d < half ? d + half : d - half);
              bound = tol::rope_y_bound(x4(b, h, s, d), c3(cb, row, i), x4(b, h, s, partner),
                                        s3(cb, row, i));
            }
            ok = tol::gemm_close(g, w, bound);
          }
          if (!ok && ++bad <= 3)
            MESSAGE("y[" << b << "," << h << "," << s << "," << d << "] = " << g << ", oracle "
                         << w);
        }
      }
  index_t touched = 0;
  for (index_t i = 0; i < n; ++i)
    if (!covered[std::size_t(i)])
      touched += !same_bits(yh[std::size_t(i)], in_place ? xh[std::size_t(i)] : sentinel);
  if (touched != 0) {
    ++bad;
    MESSAGE(touched << " padding elements were written");
  }
  return bad;
}

}  // namespace

TEST_CASE("cuda rotary_embedding vs reference: layouts, pairings, positions, partial, in place") {
  std::uint32_t seed = 3000;
  for (bool four_d : {false, true})
    for (bool interleaved : {false, true})
      for (rope_pos mode : {rope_pos::offset, rope_pos::ids, rope_pos::per_token})
        for (index_t rot : {index_t{16}, index_t{6}})
          for (bool in_place : {false, true})
            CHECK(rope_case(four_d, interleaved, mode, rot, in_place, seed += 10) == 0);
}

TEST_CASE("cuda rotary_embedding: a device position id past the cache gives NaN, reads nothing") {
  for (bool interleaved : {false, true})
    CHECK(rope_case(true, interleaved, rope_pos::ids, 16, false, 4000, true) == 0);
}

TEST_CASE("cuda rotary_embedding: bad arguments are reported and y is untouched") {
  const index_t Bn = 1, S = 4, H = 2, D = 8;
  device_buffer dx(fusedops::test::random_floats(std::size_t(Bn * H * S * D), 1));
  device_buffer dc(fusedops::test::random_floats(16 * 4, 2)),
      ds(fusedops::test::random_floats(64, 3));
  device_buffer dy(std::vector<float>(std::size_t(Bn * H * S * D), sentinel));
  const device_view<const float, 4> x(dx.get(), {Bn, H, S, D});
  const device_view<float, 4> y(dy.get(), {Bn, H, S, D});
  const device_view<const float, 2> c(dc.get(), {16, 4}), sn(ds.get(), {16, 4});
  stream_guard stream;
  const auto untouched = [&] {
    stream.sync();
    index_t changed = 0;
    for (float v : dy.download()) changed += !same_bits(v, sentinel);
    return changed == 0;
  };
  fusedops::device_rotary_embedding_params p;
  p.rotary_embedding_dim = 5;
  status st = fusedops::rotary_embedding<cuda>(x, c, sn, y, p, stream.get());
  CHECK(st.code() == errc::invalid_argument);
  CHECK(std::string(st.message()).find("rotary_embedding_dim") != std::string::npos);
  CHECK(untouched());
  st = fusedops::rotary_embedding<cuda>(x, device_view<const float, 2>(dc.get(), {16, 3}),
                                        device_view<const float, 2>(ds.get(), {16, 3}), y, {},
                                        stream.get());
  CHECK(st.code() == errc::shape_mismatch);
  CHECK(std::string(st.message()).find("'cos_cache'") != std::string::npos);
  CHECK(untouched());
  st = fusedops::rotary_embedding<cuda>(
      x, c, sn, device_view<float, 4>(dy.get(), {Bn, H, S, D - 2}), {}, stream.get());
  CHECK(st.code() == errc::shape_mismatch);
  CHECK(untouched());
  fusedops::device_rotary_embedding_params q;
  q.position_offset = 13;  // positions [13, 17) past the 16 cache rows
  st = fusedops::rotary_embedding<cuda>(x, c, sn, y, q, stream.get());
  CHECK(st.code() == errc::invalid_argument);
  CHECK(std::string(st.message()).find("position_offset") != std::string::npos);
  CHECK(untouched());
}
