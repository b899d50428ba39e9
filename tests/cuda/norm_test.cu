// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// layer_norm, rms_norm, add_layer_norm, add_rms_norm on backend::cuda against the double oracles
// (reference/norm.hpp): the CPU test's cases (tests/ops/norm_test.cpp) on device memory. Random
// data; hidden sizes that reach every kernel variant (warp per row, block per row, looping block;
// 16-byte vectors and the scalar path through a base pointer offset by one float or an odd row
// stride); strided rows and rank-3 tensors whose leading dimensions do not merge; every aliasing
// the operators allow; statistics outputs at stride 2; large-mean, constant and NaN/Inf rows; bad
// arguments, which must come back as errors with no output touched. __half and __nv_bfloat16
// tensors (fp32 statistics) on every kernel variant, fused and in place.
//
// Tolerances: the CPU bounds of tests/support/tolerance.hpp (layer_norm_y_bound,
// layer_norm_mean_bound, layer_norm_rstd_rel_bound, rms_norm_y_bound) hold unchanged: the kernels
// compute the same fp32 formulas (arch/cuda/normalization.cuh), and their summation tree is no
// deeper than the CPU's ceil(n/16) + 7 (a thread sums at most 32 of the row's elements in order,
// then a butterfly over at most 32 lanes and 16 warps adds 5 + 4 levels; for n <= 1024 a warp-per-
// row sum has depth <= n/32 + 5, adds of the padding zeros are exact). The fused sum is checked bit
// for bit: (x + residual) + residual_bias is two fp32 additions on both sides. 16-bit tensors: the
// oracle runs on the rounded inputs (and the rounded sum, which is what the kernel normalizes);
// y adds one rounding to the element type: bound · (1 + u_T) + u_T · |y| + the type's smallest
// subnormal, u_T = 2^-11 (half) or 2^-8 (bfloat16).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cuda/device_support.cuh"
#include "fusedops/normalization.hpp"
#include "fusedops/reference/norm.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using fusedops::device_layer_norm_params;
using fusedops::device_rms_norm_params;
using fusedops::device_view;
using fusedops::errc;
using fusedops::index_t;
using fusedops::status;
using fusedops::view;
namespace tol = fusedops::test::tolerance;
namespace ref = fusedops::reference;
using cuda = fusedops::backend::cuda;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
/// Output buffers are pre-filled with this to catch stray writes; no test input produces it.
constexpr float sentinel = -12345.5f;

using device_buffer = fusedops::test::device_buffer<float>;
using fusedops::test::stream_guard;

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Which outputs share memory with which inputs (as the operators allow).
enum class alias { none, y_is_x, sum_is_x, sum_is_residual, y_is_residual, sum_x_y_residual };

/// One rank-2 problem: rows × hidden at row stride ld, every tensor starting `offset` floats into
/// its buffer (offset 1 or an ld not a multiple of 4: the scalar path).
struct norm_case {
  bool ln = true;      // layer_norm family, else rms_norm
  bool fused = false;  // add_*_norm
  bool bias = false, rbias = false, stats = false;
  index_t rows = 3, hidden = 8, ld = 0, offset = 0;
  alias al = alias::none;
  float lo = -2.f, hi = 3.f, eps = 1e-5f;
  std::uint32_t seed = 1;
  /// Optional edit of x's host buffer (NaN / Inf / constant rows); element (r, j) is at
  /// offset + r * ld + j.
  std::function<void(std::vector<float>&, const norm_case&)> edit;

  index_t stride() const { return ld == 0 ? hidden : ld; }
  std::string name() const {
    return std::string(fused ? "add_" : "") + (ln ? "layer_norm" : "rms_norm") + " [" +
           std::to_string(rows) + ", " + std::to_string(hidden) + "] ld " +
           std::to_string(stride()) + " offset " + std::to_string(offset) + (bias ? " bias" : "") +
           (rbias ? " residual_bias" : "") + (stats ? " stats" : "") + " alias " +
           std::to_string(int(al)) + " eps " + std::to_string(eps);
  }
};

/// Exact statistics of one (host, contiguous) input row for the layer_norm bounds.
tol::layer_norm_row row_stats(const float* v, index_t n, double eps) {
  tol::layer_norm_row s;
  s.n = double(n), s.eps = eps, s.k = double(v[0]);
  double sum = 0;
  for (index_t j = 0; j < n; ++j) sum += double(v[j]);
  s.mean = sum / s.n;
  double sq = 0;
  for (index_t j = 0; j < n; ++j) {
    sq += (double(v[j]) - s.mean) * (double(v[j]) - s.mean);
    s.abs_k += std::fabs(double(v[j]) - s.k);
  }
  s.var = sq / s.n;
  return s;
}

/// Runs one case on the GPU and checks every output element, the untouched padding and inputs,
/// and the statistics. Returns the number of failures (each also reported by MESSAGE, <= 5).
int run_case(const norm_case& c) {
  INFO(c.name());
  const index_t ld = c.stride(), rows = c.rows, n = c.hidden;
  const std::size_t buf = std::size_t(c.offset + rows * ld);
  std::vector<float> xh = fusedops::test::random_floats(buf, c.seed, c.lo, c.hi);
  if (c.edit) c.edit(xh, c);
  const std::vector<float> rh = fusedops::test::random_floats(buf, c.seed + 1, -4.f, 4.f);
  const std::vector<float> gh =
      fusedops::test::random_floats(std::size_t(c.offset + n), c.seed + 2, 0.5f, 1.5f);
  const std::vector<float> bh =
      fusedops::test::random_floats(std::size_t(c.offset + n), c.seed + 3, -1.f, 1.f);
  const std::vector<float> rbh =
      fusedops::test::random_floats(std::size_t(c.offset + n), c.seed + 4, -1.f, 1.f);
  const std::vector<float> poison(buf, sentinel);
  const std::vector<float> stats_poison(std::size_t(c.offset + 2 * rows), sentinel);

  device_buffer dx(xh), dr(rh), dg(gh), db(bh), drb(rbh), ds(poison), dy(poison);
  device_buffer dmean(stats_poison), dinv(stats_poison);
  float* x_mem = dx.get();
  float* r_mem = dr.get();
  float* s_mem = ds.get();
  float* y_mem = dy.get();
  if (c.al == alias::y_is_x) y_mem = x_mem;
  if (c.al == alias::sum_is_x || c.al == alias::sum_x_y_residual) s_mem = x_mem;
  if (c.al == alias::sum_is_residual) s_mem = r_mem;
  if (c.al == alias::y_is_residual || c.al == alias::sum_x_y_residual) y_mem = r_mem;

  const auto v2 = [&](float* base) {
    return device_view<float, 2>(base + c.offset, {rows, n}, {ld, 1});
  };
  const auto v1 = [&](const device_buffer& b) {
    return device_view<const float, 1>(b.get() + c.offset, {n});
  };
  const device_view<const float, 2> x = v2(x_mem), r = v2(r_mem);
  const device_view<float, 2> s = v2(s_mem), y = v2(y_mem);

  stream_guard stream;
  status st;
  if (c.ln) {
    device_layer_norm_params p;
    p.epsilon = c.eps;
    if (c.bias) p.bias = v1(db);
    if (c.rbias) p.residual_bias = v1(drb);
    if (c.stats) {
      p.mean = device_view<float, 1>(dmean.get() + c.offset, {rows}, {2});
      p.inv_std_dev = device_view<float, 1>(dinv.get() + c.offset, {rows}, {2});
    }
    st = c.fused ? fusedops::add_layer_norm<cuda>(x, r, v1(dg), s, y, p, stream.get())
                 : fusedops::layer_norm<cuda>(x, v1(dg), y, p, stream.get());
  } else {
    device_rms_norm_params p;
    p.epsilon = c.eps;
    if (c.rbias) p.residual_bias = v1(drb);
    st = c.fused ? fusedops::add_rms_norm<cuda>(x, r, v1(dg), s, y, p, stream.get())
                 : fusedops::rms_norm<cuda>(x, v1(dg), y, p, stream.get());
  }
  REQUIRE_MESSAGE(st.ok(), st.message());
  stream.sync();

  // What each buffer should hold now, and the oracle's input (the fp32 sum in the fused forms).
  std::vector<float> input(std::size_t(rows * n)), want_sum(std::size_t(rows * n));
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < n; ++j) {
      const std::size_t k = std::size_t(c.offset + i * ld + j);
      float v = xh[k];
      if (c.fused) {
        v = v + rh[k];
        if (c.rbias) v = v + rbh[std::size_t(c.offset + j)];
      }
      input[std::size_t(i * n + j)] = v;
      want_sum[std::size_t(i * n + j)] = v;
    }
  const view<const float, 2> in(input.data(), {rows, n});
  const view<const float, 1> gv(gh.data() + c.offset, {n});
  const view<const float, 1> bv =
      c.bias ? view<const float, 1>(bh.data() + c.offset, {n}) : view<const float, 1>{};
  const ref::norm_result want = c.ln ? ref::layer_norm<2>(in, -1, gv, bv, double(c.eps))
                                     : ref::rms_norm<2>(in, -1, gv, double(c.eps));

  const std::vector<float> xd = dx.download(), rd = dr.download(), sd = ds.download(),
                           yd = dy.download(), md = dmean.download(), id = dinv.download();
  // The downloaded contents of the memory y / sum live in.
  const auto contents = [&](const float* mem) {
    return mem == dx.get() ? &xd : mem == dr.get() ? &rd : mem == ds.get() ? &sd : &yd;
  };
  const std::vector<float>& yv = *contents(y_mem);
  const std::vector<float>& sv = *contents(s_mem);

  int bad = 0;
  const auto fail = [&](const std::string& what) {
    if (++bad <= 5) MESSAGE(what);
  };
  std::vector<char> written(buf, 0);  // elements of an output view (per buffer below)
  for (index_t i = 0; i < rows; ++i) {
    const tol::layer_norm_row rs =
        c.ln ? row_stats(input.data() + i * n, n, double(c.eps)) : tol::layer_norm_row{};
    for (index_t j = 0; j < n; ++j) {
      const std::size_t k = std::size_t(c.offset + i * ld + j), f = std::size_t(i * n + j);
      written[k] = 1;
      const double w = want.y[f], got = double(yv[k]);
      const double bound = c.ln ? tol::layer_norm_y_bound(
                                      rs, double(input[f]), double(gh[std::size_t(c.offset + j)]),
                                      c.bias ? double(bh[std::size_t(c.offset + j)]) : 0.0, w)
                                : tol::rms_norm_y_bound(double(n), w);
      if (!tol::gemm_close(got, w, bound))
        fail("y(" + std::to_string(i) + ", " + std::to_string(j) + ") = " + std::to_string(got) +
             ", oracle " + std::to_string(w) + ", bound " + std::to_string(bound));
      if (c.fused && !same_bits(sv[k], want_sum[f]) &&
          !(std::isnan(sv[k]) && std::isnan(want_sum[f])))
        fail("sum(" + std::to_string(i) + ", " + std::to_string(j) +
             ") = " + std::to_string(sv[k]) + ", expected " + std::to_string(want_sum[f]));
    }
    if (c.ln && c.stats) {
      const std::size_t k = std::size_t(c.offset + 2 * i);
      const double wm = want.mean[std::size_t(i)], wi = want.inv_std_dev[std::size_t(i)];
      const double bm = tol::layer_norm_mean_bound(rs) + tol::norm_u * std::fabs(wm);
      const double bi = tol::layer_norm_rstd_rel_bound(rs) * std::fabs(wi);
      if (!tol::gemm_close(double(md[k]), wm, bm))
        fail("mean[" + std::to_string(i) + "] = " + std::to_string(md[k]) + ", oracle " +
             std::to_string(wm));
      if (!tol::gemm_close(double(id[k]), wi, bi))
        fail("inv_std_dev[" + std::to_string(i) + "] = " + std::to_string(id[k]) + ", oracle " +
             std::to_string(wi));
    }
  }
  // Outside the output views: every buffer exactly as uploaded (inputs that are not aliased by
  // an output, wholly; the padding of output buffers).
  const auto untouched = [&](const char* what, const std::vector<float>& got,
                             const std::vector<float>& orig, bool is_output) {
    index_t changed = 0;
    for (std::size_t k = 0; k < got.size(); ++k)
      changed += !(is_output && written[k]) && !same_bits(got[k], orig[k]);
    if (changed != 0)
      fail(std::string(what) + ": " + std::to_string(changed) + " elements changed");
  };
  const bool x_out = y_mem == dx.get() || s_mem == dx.get();
  const bool r_out = y_mem == dr.get() || s_mem == dr.get();
  untouched("x buffer", xd, xh, x_out);
  untouched("residual buffer", rd, rh, r_out);
  untouched("sum buffer", sd, poison, c.fused && s_mem == ds.get());
  untouched("y buffer", yd, poison, y_mem == dy.get());
  // The statistics buffers: written exactly at offset + 2·i (i < rows) when requested.
  index_t stats_changed = 0;
  for (std::size_t k = 0; k < md.size(); ++k) {
    const bool in_view = c.ln && c.stats && k >= std::size_t(c.offset) &&
                         (k - std::size_t(c.offset)) % 2 == 0 &&
                         k < std::size_t(c.offset + 2 * rows);
    if (!in_view) stats_changed += !same_bits(md[k], sentinel) || !same_bits(id[k], sentinel);
  }
  if (stats_changed != 0) fail("statistics buffers written outside their views");
  return bad;
}

/// Hidden sizes reaching every kernel variant: warp per row (n/VEC <= 256: 1, 2, 4, 8 vectors per
/// lane), block per row (<= 4096 vectors), looping block (more), each with 16-byte vectors and
/// scalars; 1, primes, odd, around 32 and around the mode boundaries.
const std::vector<index_t> hidden_sizes = {
    1,   2,   3,    4,    5,    7,    31,   32,   33,   64,   127,  128,  129,   255,   256,  257,
    512, 768, 1000, 1023, 1024, 1028, 1031, 2048, 4096, 4097, 4099, 8192, 16384, 16388, 20000};

}  // namespace

TEST_CASE("cuda layer_norm / rms_norm vs reference: hidden sizes, vector and scalar paths") {
  std::uint32_t seed = 1;
  for (bool ln : {true, false})
    for (index_t n : hidden_sizes)
      for (index_t offset : {index_t{0}, index_t{1}}) {
        norm_case c;
        c.ln = ln, c.hidden = n, c.offset = offset, c.seed = seed += 10;
        c.rows = n >= 8192 ? 3 : 7;
        c.bias = ln && (n % 2 == 1), c.stats = ln;
        CHECK(run_case(c) == 0);
      }
}

TEST_CASE("cuda layer_norm / rms_norm: row counts and strided rows (padding untouched)") {
  std::uint32_t seed = 5000;
  for (bool ln : {true, false})
    for (index_t rows :
         {index_t{1}, index_t{2}, index_t{5}, index_t{13}, index_t{97}, index_t{1001}})
      for (index_t n : {index_t{24}, index_t{768}, index_t{3000}})
        for (index_t pad : {index_t{0}, index_t{1}, index_t{4}, index_t{9}}) {
          norm_case c;
          c.ln = ln, c.rows = rows, c.hidden = n, c.ld = n + pad, c.seed = seed += 10;
          c.bias = ln, c.stats = ln && rows < 100;
          CHECK(run_case(c) == 0);
        }
}

TEST_CASE("cuda add_layer_norm / add_rms_norm vs reference: residual_bias, bias, aliasing") {
  std::uint32_t seed = 9000;
  for (bool ln : {true, false}) {
    for (index_t n : {index_t{1}, index_t{17}, index_t{64}, index_t{768}, index_t{1031},
                      index_t{4096}, index_t{20000}})
      for (bool rbias : {false, true})
        for (index_t offset : {index_t{0}, index_t{1}}) {
          norm_case c;
          c.ln = ln, c.fused = true, c.hidden = n, c.rbias = rbias, c.offset = offset;
          c.bias = ln && rbias, c.stats = ln, c.rows = 5, c.seed = seed += 10;
          CHECK(run_case(c) == 0);
        }
    for (alias al : {alias::y_is_x, alias::sum_is_x, alias::sum_is_residual, alias::y_is_residual,
                     alias::sum_x_y_residual})
      for (index_t n :
           {index_t{1}, index_t{33}, index_t{768}, index_t{2048}, index_t{4099}, index_t{20000}}) {
        norm_case c;
        c.ln = ln, c.fused = true, c.hidden = n, c.rbias = true, c.al = al, c.rows = 6;
        c.ld = n + 4, c.bias = ln, c.stats = ln, c.seed = seed += 10;
        CHECK(run_case(c) == 0);
      }
  }
}

TEST_CASE("cuda layer_norm / rms_norm in place (y is the very same view as x)") {
  std::uint32_t seed = 12000;
  for (bool ln : {true, false})
    for (index_t n : {index_t{3}, index_t{256}, index_t{1000}, index_t{4096}, index_t{20000}})
      for (index_t offset : {index_t{0}, index_t{1}}) {
        norm_case c;
        c.ln = ln, c.hidden = n, c.offset = offset, c.ld = n + 8, c.al = alias::y_is_x;
        c.bias = ln, c.stats = ln, c.rows = 4, c.seed = seed += 10;
        CHECK(run_case(c) == 0);
      }
}

TEST_CASE("cuda layer_norm: large-mean rows, constant rows, epsilon extremes") {
  std::uint32_t seed = 15000;
  for (index_t n :
       {index_t{2}, index_t{64}, index_t{768}, index_t{1031}, index_t{4096}, index_t{20000}}) {
    CAPTURE(n);
    {  // mean 1e4 ± 1: the shifted statistics keep y accurate (the bound stays ~1e-6 relative)
      norm_case c;
      c.hidden = n, c.rows = 3, c.lo = 1e4f, c.hi = 1e4f + 1.f, c.eps = 0.f, c.stats = true;
      c.seed = seed += 10;
      CHECK(run_case(c) == 0);
      c.lo = -3e5f, c.hi = -3e5f + 0.05f, c.seed = seed += 10;
      CHECK(run_case(c) == 0);
    }
    {  // constant rows: variance exactly 0, y = bias exactly
      norm_case c;
      c.hidden = n, c.rows = 3, c.bias = true, c.stats = true, c.seed = seed += 10;
      c.edit = [](std::vector<float>& x, const norm_case& cc) {
        const float values[3] = {0.f, 3.25f, -7.0e5f};
        for (index_t i = 0; i < cc.rows; ++i)
          for (index_t j = 0; j < cc.hidden; ++j)
            x[std::size_t(cc.offset + i * cc.stride() + j)] = values[i];
      };
      CHECK(run_case(c) == 0);
    }
    for (float eps : {0.f, 1e-30f, 1e-45f, 1e10f}) {
      CAPTURE(eps);
      for (bool ln : {true, false}) {
        norm_case c;
        c.ln = ln, c.hidden = n, c.rows = 2, c.eps = eps, c.bias = ln, c.lo = -1.f, c.hi = 1.f;
        c.seed = seed += 10;
        CHECK(run_case(c) == 0);
      }
    }
  }
}

TEST_CASE("cuda layer_norm / rms_norm: NaN and Inf stay in their rows") {
  std::uint32_t seed = 18000;
  for (bool ln : {true, false})
    for (bool fused : {false, true})
      for (index_t n : {index_t{37}, index_t{1024}, index_t{5000}, index_t{20000}}) {
        norm_case c;
        c.ln = ln, c.fused = fused, c.hidden = n, c.rows = 6, c.stats = ln, c.bias = ln;
        c.seed = seed += 10;
        // Row 1: a NaN; row 2: +Inf; row 3: -Inf and +Inf; row 4: NaN in the first element (the
        // LayerNorm shift). Rows 0 and 5 are ordinary and must stay exact.
        c.edit = [](std::vector<float>& x, const norm_case& cc) {
          const auto at = [&](index_t i, index_t j) -> float& {
            return x[std::size_t(cc.offset + i * cc.stride() + j)];
          };
          at(1, cc.hidden / 2) = qnan;
          at(2, cc.hidden - 1) = inf;
          at(3, 0) = -inf;
          at(3, cc.hidden / 3) = inf;
          at(4, 0) = qnan;
        };
        CHECK(run_case(c) == 0);  // the oracle gives NaN rows exactly where IEEE does
        // Spelled out for LayerNorm: every element of rows 1-4 is NaN.
        if (ln && !fused) {
          std::vector<float> xh = fusedops::test::random_floats(std::size_t(6 * n), c.seed);
          c.edit(xh, c);
          const std::vector<float> gh(std::size_t(n), 1.f);
          device_buffer dx(xh), dg(gh), dy(std::vector<float>(xh.size(), sentinel));
          stream_guard stream;
          const status st =
              fusedops::layer_norm<cuda>(device_view<const float, 2>(dx.get(), {6, n}),
                                         device_view<const float, 1>(dg.get(), {n}),
                                         device_view<float, 2>(dy.get(), {6, n}), {}, stream.get());
          REQUIRE_MESSAGE(st.ok(), st.message());
          stream.sync();
          const std::vector<float> yh = dy.download();
          index_t nan_rows_ok = 0, finite_rows_ok = 0;
          for (index_t i = 0; i < 6; ++i) {
            bool all_nan = true, all_finite = true;
            for (index_t j = 0; j < n; ++j) {
              all_nan = all_nan && std::isnan(yh[std::size_t(i * n + j)]);
              all_finite = all_finite && std::isfinite(yh[std::size_t(i * n + j)]);
            }
            nan_rows_ok += (i >= 1 && i <= 4) && all_nan;
            finite_rows_ok += (i == 0 || i == 5) && all_finite;
          }
          CHECK(nan_rows_ok == 4);
          CHECK(finite_rows_ok == 2);
        }
      }
}

TEST_CASE("cuda layer_norm / rms_norm: rank-3 tensors, leading dimensions that do not merge") {
  // x [3, 5, 24] with strides {200, 24, 1} (rows of 24 in blocks of 5, gaps between blocks):
  // axis -1 gives 15 rows over two leading dimensions; axis 1 gives 3 rows of 120.
  const index_t d0 = 3, d1 = 5, d2 = 24, s0 = 200, size = s0 * d0;
  const std::vector<float> xh = fusedops::test::random_floats(std::size_t(size), 77, -2.f, 3.f);
  for (int axis : {-1, 1, 0})
    for (bool ln : {true, false})
      for (bool misalign : {false, true}) {
        CAPTURE(axis);
        CAPTURE(ln);
        CAPTURE(misalign);
        const index_t off = misalign ? 1 : 0;
        const index_t hidden = axis == 0 ? d0 * d1 * d2 : axis == 1 ? d1 * d2 : d2;
        // axis 0 needs the whole tensor contiguous: use dense strides then.
        const fusedops::dims<3> strides =
            axis == 0 ? fusedops::dims<3>{d1 * d2, d2, 1} : fusedops::dims<3>{s0, d2, 1};
        const std::vector<float> gh =
            fusedops::test::random_floats(std::size_t(hidden + off), 78, 0.5f, 1.5f);
        const std::vector<float> bh = fusedops::test::random_floats(std::size_t(hidden + off), 79);
        std::vector<float> xbuf(std::size_t(size + off));
        std::copy(xh.begin(), xh.end(), xbuf.begin() + off);
        device_buffer dx(xbuf), dg(gh), db(bh),
            dy(std::vector<float>(std::size_t(size + off), sentinel));
        const device_view<const float, 3> x(dx.get() + off, {d0, d1, d2}, strides);
        const device_view<float, 3> y(dy.get() + off, {d0, d1, d2}, strides);
        const device_view<const float, 1> g(dg.get() + off, {hidden}), b(db.get() + off, {hidden});
        stream_guard stream;
        status st;
        if (ln) {
          device_layer_norm_params p;
          p.axis = axis, p.bias = b;
          st = fusedops::layer_norm<cuda>(x, g, y, p, stream.get());
        } else {
          device_rms_norm_params p;
          p.axis = axis;
          st = fusedops::rms_norm<cuda>(x, g, y, p, stream.get());
        }
        REQUIRE_MESSAGE(st.ok(), st.message());
        stream.sync();
        const std::vector<float> yh = dy.download();
        const view<const float, 3> hx(xbuf.data() + off, {d0, d1, d2}, strides);
        const view<const float, 1> hg(gh.data() + off, {hidden}), hb(bh.data() + off, {hidden});
        const ref::norm_result want =
            ln ? ref::layer_norm<3>(hx, axis, hg, hb, 1e-5) : ref::rms_norm<3>(hx, axis, hg, 1e-5);
        const index_t rows = d0 * d1 * d2 / hidden;
        int bad = 0;
        std::vector<char> written(yh.size(), 0);
        for (index_t r = 0; r < rows; ++r) {
          std::vector<float> row(static_cast<std::size_t>(hidden));
          std::vector<std::size_t> pos(static_cast<std::size_t>(hidden));
          for (index_t j = 0; j < hidden; ++j) {
            index_t flat = r * hidden + j, o = 0;
            for (int d = 2; d >= 0; --d) {
              const index_t e = d == 0 ? d0 : d == 1 ? d1 : d2;
              o += (flat % e) * strides[std::size_t(d)];
              flat /= e;
            }
            row[std::size_t(j)] = xbuf[std::size_t(off + o)];
            pos[std::size_t(j)] = std::size_t(off + o);
          }
          const tol::layer_norm_row rs = row_stats(row.data(), hidden, 1e-5);
          for (index_t j = 0; j < hidden; ++j) {
            const double w = want.y[std::size_t(r * hidden + j)];
            const double got = double(yh[pos[std::size_t(j)]]);
            written[pos[std::size_t(j)]] = 1;
            const double bound = ln ? tol::layer_norm_y_bound(rs, double(row[std::size_t(j)]),
                                                              double(gh[std::size_t(off + j)]),
                                                              double(bh[std::size_t(off + j)]), w)
                                    : tol::rms_norm_y_bound(double(hidden), w);
            bad += !tol::gemm_close(got, w, bound);
          }
        }
        index_t stray = 0;
        for (std::size_t k = 0; k < yh.size(); ++k)
          stray += !written[k] && !same_bits(yh[k], sentinel);
        CHECK(bad == 0);
        CHECK(stray == 0);
      }
}

TEST_CASE("cuda normalization: empty row ranges are valid no-ops, even with null data") {
  stream_guard stream;
  // hidden 8 but no rows: x, y, residual and sum may be null (empty); scale [8] is not empty.
  device_buffer dg(std::vector<float>(8, 1.f));
  const device_view<const float, 1> scale(dg.get(), {8});
  CHECK(fusedops::layer_norm<cuda>(device_view<const float, 2>(nullptr, {0, 8}), scale,
                                   device_view<float, 2>(nullptr, {0, 8}), {}, stream.get())
            .ok());
  CHECK(fusedops::add_rms_norm<cuda>(device_view<const float, 2>(nullptr, {0, 8}),
                                     device_view<const float, 2>(nullptr, {0, 8}), scale,
                                     device_view<float, 2>(nullptr, {0, 8}),
                                     device_view<float, 2>(nullptr, {0, 8}), {}, stream.get())
            .ok());
  REQUIRE_CUDA(cudaGetLastError());
  stream.sync();
}

TEST_CASE("cuda normalization: bad arguments are reported and no output is touched") {
  const index_t rows = 3, n = 40;
  device_buffer dx(fusedops::test::random_floats(std::size_t(rows * n + 8), 11));
  device_buffer dr(fusedops::test::random_floats(std::size_t(rows * n + 8), 12));
  device_buffer dg(fusedops::test::random_floats(std::size_t(n + 8), 13, 0.5f, 1.5f));
  device_buffer dy(std::vector<float>(std::size_t(rows * n + 8), sentinel));
  device_buffer ds(std::vector<float>(std::size_t(rows * n + 8), sentinel));
  device_buffer dm(std::vector<float>(std::size_t(rows + 8), sentinel));
  const device_view<const float, 2> x(dx.get(), {rows, n}), r(dr.get(), {rows, n});
  const device_view<const float, 1> g(dg.get(), {n});
  const device_view<float, 2> y(dy.get(), {rows, n}), s(ds.get(), {rows, n});
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
    stream.sync();  // had anything been enqueued, it would have run by now
    index_t changed = 0;
    for (const device_buffer* b : {&dy, &ds, &dm})
      for (float v : b->download()) changed += !same_bits(v, sentinel);
    CHECK_MESSAGE(changed == 0, changed << " output elements were written by a rejected call");
  };

  SUBCASE("shape mismatches") {
    check_error(fusedops::layer_norm<cuda>(x, g, device_view<float, 2>(dy.get(), {rows, n - 1}), {},
                                           stream.get()),
                errc::shape_mismatch, "layer_norm", {"'y'", "[3, 39]", "[3, 40]"});
    check_error(fusedops::rms_norm<cuda>(x, device_view<const float, 1>(dg.get(), {n + 1}), y, {},
                                         stream.get()),
                errc::shape_mismatch, "rms_norm", {"'scale'", "[41]", "[40]"});
    check_error(
        fusedops::add_layer_norm<cuda>(x, device_view<const float, 2>(dr.get(), {rows + 1, n}), g,
                                       s, y, {}, stream.get()),
        errc::shape_mismatch, "add_layer_norm", {"'residual'", "[4, 40]"});
    device_layer_norm_params p;
    p.mean = device_view<float, 1>(dm.get(), {rows + 1});
    check_error(fusedops::layer_norm<cuda>(x, g, y, p, stream.get()), errc::shape_mismatch,
                "layer_norm", {"'mean'", "[4]", "[3]"});
    device_rms_norm_params q;
    q.residual_bias = device_view<const float, 1>(dg.get(), {n - 2});
    check_error(fusedops::add_rms_norm<cuda>(x, r, g, s, y, q, stream.get()), errc::shape_mismatch,
                "add_rms_norm", {"'residual_bias'", "[38]"});
  }
  SUBCASE("null data pointers") {
    check_error(fusedops::layer_norm<cuda>(device_view<const float, 2>(nullptr, {rows, n}), g, y,
                                           {}, stream.get()),
                errc::null_pointer, "layer_norm", {"'x'", "null"});
    check_error(
        fusedops::rms_norm<cuda>(x, device_view<const float, 1>(nullptr, {n}), y, {}, stream.get()),
        errc::null_pointer, "rms_norm", {"'scale'"});
    check_error(fusedops::add_rms_norm<cuda>(x, r, g, device_view<float, 2>(nullptr, {rows, n}), y,
                                             {}, stream.get()),
                errc::null_pointer, "add_rms_norm", {"'sum'"});
  }
  SUBCASE("bad scalars and strides") {
    device_layer_norm_params p;
    p.epsilon = -1.f;
    check_error(fusedops::layer_norm<cuda>(x, g, y, p, stream.get()), errc::invalid_argument,
                "layer_norm", {"'epsilon'"});
    p.epsilon = 1e-5f, p.axis = 2;
    check_error(fusedops::layer_norm<cuda>(x, g, y, p, stream.get()), errc::invalid_argument,
                "layer_norm", {"'axis'"});
    // hidden run not contiguous
    check_error(
        fusedops::rms_norm<cuda>(device_view<const float, 2>(dx.get(), {rows, n / 2}, {n, 2}),
                                 device_view<const float, 1>(dg.get(), {n / 2}),
                                 device_view<float, 2>(dy.get(), {rows, n / 2}), {}, stream.get()),
        errc::bad_stride, "rms_norm", {"'x'", "contiguous"});
    // residual_bias on an unfused form
    device_layer_norm_params q;
    q.residual_bias = g;
    check_error(fusedops::layer_norm<cuda>(x, g, y, q, stream.get()), errc::invalid_argument,
                "layer_norm", {"'residual_bias'"});
  }
  SUBCASE("overlaps") {
    // y one element past x in the same buffer: neither in place nor disjoint.
    check_error(fusedops::layer_norm<cuda>(device_view<const float, 2>(dy.get(), {rows, n}), g,
                                           device_view<float, 2>(dy.get() + 1, {rows, n}), {},
                                           stream.get()),
                errc::invalid_argument, "layer_norm", {"'y'", "'x'"});
    // y and sum the same memory.
    check_error(fusedops::add_layer_norm<cuda>(x, r, g, y, y, {}, stream.get()),
                errc::invalid_argument, "add_layer_norm", {"'y'", "'sum'"});
    // mean inside y.
    device_layer_norm_params p;
    p.mean = device_view<float, 1>(dy.get(), {rows});
    check_error(fusedops::layer_norm<cuda>(x, g, y, p, stream.get()), errc::invalid_argument,
                "layer_norm", {"'mean'", "'y'"});
  }
}

// --- 16-bit tensors
// -------------------------------------------------------------------------------

namespace {

template <class T>
float to_f(T v) {
  if constexpr (std::is_same_v<T, __half>)
    return __half2float(v);
  else
    return __bfloat162float(v);
}
template <class T>
T from_f(float v) {
  if constexpr (std::is_same_v<T, __half>)
    return __float2half_rn(v);
  else
    return __float2bfloat16_rn(v);
}
/// Unit roundoff and smallest subnormal of T.
template <class T>
constexpr double unit_of() {
  return std::is_same_v<T, __half> ? 4.8828125e-4 : 3.90625e-3;
}
template <class T>
constexpr double tiny_of() {
  return std::is_same_v<T, __half> ? 5.9604644775390625e-8 : 1e-38;
}
template <class T>
bool same_t(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}
template <class T>
std::vector<T> random_t(std::size_t n, std::uint32_t seed, float lo, float hi) {
  const std::vector<float> f = fusedops::test::random_floats(n, seed, lo, hi);
  std::vector<T> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = from_f<T>(f[i]);
  return t;
}

/// One 16-bit case: rows × n at row stride n + pad, every tensor `offset` elements into its
/// buffer; fused with residual_bias, bias and statistics on the LayerNorm family; `in_place`: y is
/// x (plain) or sum is x (fused). Returns the failures.
template <class T>
int run_case_16(bool ln, bool fused, index_t rows, index_t n, index_t pad, index_t offset,
                bool in_place, std::uint32_t seed) {
  INFO((std::is_same_v<T, __half> ? "half " : "bf16 ")
       << (fused ? "add_" : "") << (ln ? "layer_norm" : "rms_norm") << " [" << rows << ", " << n
       << "] pad " << pad << " offset " << offset << (in_place ? " in place" : ""));
  using buffer = fusedops::test::device_buffer<T>;
  const index_t ld = n + pad;
  const std::size_t size = std::size_t(offset + rows * ld);
  const T poison = from_f<T>(sentinel);
  const std::vector<T> xh = random_t<T>(size, seed, -2.f, 3.f);
  const std::vector<T> rh = random_t<T>(size, seed + 1, -4.f, 4.f);
  const std::vector<T> gh = random_t<T>(std::size_t(offset + n), seed + 2, 0.5f, 1.5f);
  const std::vector<T> bh = random_t<T>(std::size_t(offset + n), seed + 3, -1.f, 1.f);
  const std::vector<T> rbh = random_t<T>(std::size_t(offset + n), seed + 4, -1.f, 1.f);
  buffer dx(xh), dr(rh), dg(gh), db(bh), drb(rbh), ds(std::vector<T>(size, poison)),
      dy(std::vector<T>(size, poison));
  fusedops::test::device_buffer<float> dmean(std::vector<float>(std::size_t(rows), sentinel));
  T* s_mem = fused && in_place ? dx.get() : ds.get();
  T* y_mem = !fused && in_place ? dx.get() : dy.get();
  const auto v2 = [&](T* base) { return device_view<T, 2>(base + offset, {rows, n}, {ld, 1}); };
  const auto v1 = [&](const buffer& b) { return device_view<const T, 1>(b.get() + offset, {n}); };
  stream_guard stream;
  status st;
  if (ln) {
    fusedops::device_layer_norm_params_of<T> p;
    p.bias = v1(db);
    p.mean = device_view<float, 1>(dmean.get(), {rows});
    if (fused) p.residual_bias = v1(drb);
    st = fused ? fusedops::add_layer_norm<cuda>(v2(dx.get()), v2(dr.get()), v1(dg), v2(s_mem),
                                                v2(y_mem), p, stream.get())
               : fusedops::layer_norm<cuda>(v2(dx.get()), v1(dg), v2(y_mem), p, stream.get());
  } else {
    fusedops::device_rms_norm_params_of<T> p;
    if (fused) p.residual_bias = v1(drb);
    st = fused ? fusedops::add_rms_norm<cuda>(v2(dx.get()), v2(dr.get()), v1(dg), v2(s_mem),
                                              v2(y_mem), p, stream.get())
               : fusedops::rms_norm<cuda>(v2(dx.get()), v1(dg), v2(y_mem), p, stream.get());
  }
  REQUIRE_MESSAGE(st.ok(), st.message());
  stream.sync();
  const std::vector<T> xd = dx.download(), sd = ds.download(), yd = dy.download();
  const std::vector<float> md = dmean.download();
  const std::vector<T>& yv = y_mem == dx.get() ? xd : yd;
  const std::vector<T>& sv = s_mem == dx.get() ? xd : sd;

  // The oracle's input: x, or the sum rounded to T as the operator stores it.
  const auto cells = static_cast<std::size_t>(rows * n), width = static_cast<std::size_t>(n);
  std::vector<float> in(cells), g(width), b(width);
  std::vector<T> want_sum(cells);
  for (index_t j = 0; j < n; ++j)
    g[std::size_t(j)] = to_f(gh[std::size_t(offset + j)]),
    b[std::size_t(j)] = to_f(bh[std::size_t(offset + j)]);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < n; ++j) {
      const std::size_t k = std::size_t(offset + i * ld + j);
      float v = to_f(xh[k]);
      if (fused) {
        v = v + to_f(rh[k]);
        v = v + to_f(rbh[std::size_t(offset + j)]);
        want_sum[std::size_t(i * n + j)] = from_f<T>(v);
        v = to_f(want_sum[std::size_t(i * n + j)]);
      }
      in[std::size_t(i * n + j)] = v;
    }
  const view<const float, 2> inv(in.data(), {rows, n});
  const view<const float, 1> gv(g.data(), {n}), bv(b.data(), {n});
  const ref::norm_result want =
      ln ? ref::layer_norm<2>(inv, -1, gv, bv, 1e-5) : ref::rms_norm<2>(inv, -1, gv, 1e-5);
  const double u = unit_of<T>();
  int bad = 0;
  std::vector<char> written(size, 0);
  for (index_t i = 0; i < rows; ++i) {
    const tol::layer_norm_row rs =
        ln ? row_stats(in.data() + i * n, n, 1e-5) : tol::layer_norm_row{};
    for (index_t j = 0; j < n; ++j) {
      const std::size_t k = std::size_t(offset + i * ld + j), f = std::size_t(i * n + j);
      written[k] = 1;
      const double w = want.y[f], got = double(to_f(yv[k]));
      const double b32 = ln ? tol::layer_norm_y_bound(rs, double(in[f]), double(g[std::size_t(j)]),
                                                      double(b[std::size_t(j)]), w)
                            : tol::rms_norm_y_bound(double(n), w);
      const double bound = b32 * (1 + u) + u * std::fabs(w) + tiny_of<T>();
      if (!tol::gemm_close(got, w, bound) && ++bad <= 5)
        MESSAGE("y(" << i << ", " << j << ") = " << got << ", oracle " << w << ", bound " << bound);
      if (fused && !same_t(sv[k], want_sum[f]) && ++bad <= 5)
        MESSAGE("sum(" << i << ", " << j << ") = " << to_f(sv[k]) << ", expected "
                       << to_f(want_sum[f]));
    }
    if (ln) {
      const double wm = want.mean[std::size_t(i)];
      const double bm = tol::layer_norm_mean_bound(rs) + tol::norm_u * std::fabs(wm);
      if (!tol::gemm_close(double(md[std::size_t(i)]), wm, bm) && ++bad <= 5)
        MESSAGE("mean[" << i << "] = " << md[std::size_t(i)] << ", oracle " << wm);
    }
  }
  // Padding of the output buffers untouched; inputs untouched unless aliased.
  index_t changed = 0;
  for (std::size_t k = 0; k < size; ++k) {
    const bool x_is_out = in_place;
    changed += !(x_is_out && written[k]) && !same_t(xd[k], xh[k]);
    changed += !(s_mem == ds.get() && fused && written[k]) && !same_t(sd[k], poison);
    changed += !(y_mem == dy.get() && written[k]) && !same_t(yd[k], poison);
  }
  if (changed != 0 && ++bad <= 5) MESSAGE(changed << " elements outside the outputs changed");
  return bad;
}

}  // namespace

TEST_CASE_TEMPLATE("cuda normalization on 16-bit tensors vs reference (fp32 statistics)", T, __half,
                   __nv_bfloat16) {
  // 8 halves per 16-byte access, <= 4 per thread: warp per row up to 1024, block per row up to
  // 16384, then the looping block; offset 1 / odd n: the scalar path (warp <= 128, block <= 2048).
  std::uint32_t seed = 30000;
  for (bool ln : {true, false})
    for (bool fused : {false, true})
      for (index_t n : {index_t{1}, index_t{3}, index_t{8}, index_t{33}, index_t{256}, index_t{768},
                        index_t{1000}, index_t{2048}, index_t{2056}, index_t{4100}, index_t{8192},
                        index_t{32768}, index_t{40000}})
        for (index_t offset : {index_t{0}, index_t{1}}) {
          const index_t rows = n >= 8192 ? 2 : 5;
          CHECK(run_case_16<T>(ln, fused, rows, n, 0, offset, false, seed += 10) == 0);
        }
  for (bool ln : {true, false})
    for (bool fused : {false, true})
      for (index_t n : {index_t{64}, index_t{1024}, index_t{5000}, index_t{40000}})
        CHECK(run_case_16<T>(ln, fused, 4, n, 8, 0, true, seed += 10) == 0);
}
