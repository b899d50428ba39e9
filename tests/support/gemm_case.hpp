// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Shared helpers of the GEMM tests: matrices in any layout (row-major, padded rows, transposed
// storage), the double oracle (reference::gemm) with a per-element error bound (tolerance.hpp's
// gemm entries), and mismatch counting.
//
//   auto a = test::random_matrix(m, k, test::layout::transposed, seed++);
//   auto c = test::output_matrix(m, n, test::layout::padded);   // NaN inside, sentinel padding
//   REQUIRE(gemm<B>(a.in(), b.in(), c.v, ep, p).ok());
//   CHECK(test::gemm_mismatches(c.in(), test::expect_gemm(a.in(), b.in(), ep, err), what) == 0);
//   CHECK(test::padding_untouched(c));
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/gemm.hpp"
#include "fusedops/reference/gemm.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace fusedops::test {

inline constexpr float gemm_qnan = std::numeric_limits<float>::quiet_NaN();
inline constexpr float gemm_inf = std::numeric_limits<float>::infinity();
/// Fills output padding; any other value there means the GEMM wrote outside its view.
inline constexpr float gemm_sentinel = -12345.5f;

/// How a logical [rows, cols] matrix sits in memory.
enum class layout {
  row_major,          // strides {cols, 1}
  padded,             // strides {cols + 5, 1}: leading dimension larger than the row
  transposed,         // stored [cols, rows] row-major and viewed through transpose(): {1, rows}
  transposed_padded,  // stored [cols, rows + 5]: strides {1, rows + 5}
};
inline const char* name_of(layout l) {
  switch (l) {
    case layout::row_major:
      return "row-major";
    case layout::padded:
      return "padded";
    case layout::transposed:
      return "transposed";
    case layout::transposed_padded:
      return "transposed+padded";
  }
  return "?";
}
inline constexpr layout all_layouts[] = {layout::row_major, layout::padded, layout::transposed,
                                         layout::transposed_padded};

/// A logical [rows, cols] matrix owning its storage (never empty, so the pointer is non-null).
struct matrix {
  std::vector<float> buf;
  view<float, 2> v;
  layout lay = layout::row_major;

  view<const float, 2> in() const { return v; }
  index_t rows() const { return v.shape(0); }
  index_t cols() const { return v.shape(1); }
  /// Whether buf[o] is an element of the view.
  std::vector<char> inside() const {
    std::vector<char> in(buf.size(), 0);
    for (index_t i = 0; i < rows(); ++i)
      for (index_t j = 0; j < cols(); ++j) in[std::size_t(i * v.stride(0) + j * v.stride(1))] = 1;
    return in;
  }
};

/// Storage for [rows, cols] in layout l, every float (elements and padding) set to `fill`.
inline matrix make_matrix(index_t rows, index_t cols, layout l, float fill) {
  const bool t = l == layout::transposed || l == layout::transposed_padded;
  const bool pad = l == layout::padded || l == layout::transposed_padded;
  const index_t outer = t ? cols : rows, inner = t ? rows : cols;
  const index_t ld = inner + (pad ? 5 : 0);
  matrix m;
  m.lay = l;
  m.buf.assign(std::size_t(std::max<index_t>(1, outer * ld)), fill);
  const view<float, 2> stored(m.buf.data(), dims<2>{outer, inner}, dims<2>{ld, 1});
  m.v = t ? stored.transpose() : stored;
  return m;
}

/// Input: uniform random elements in [lo, hi) (fixed seed), NaN in the padding so that a read
/// of padding shows up in the result.
inline matrix random_matrix(index_t rows, index_t cols, layout l, std::uint32_t seed,
                            float lo = -1.f, float hi = 1.f) {
  matrix m = make_matrix(rows, cols, l, gemm_qnan);
  const auto vals = random_floats(std::size_t(rows * cols), seed, lo, hi);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) m.v(i, j) = vals[std::size_t(i * cols + j)];
  return m;
}

/// Output: elements = `fill` (NaN by default: a GEMM with beta = 0 must never read them),
/// padding = gemm_sentinel (must stay untouched).
inline matrix output_matrix(index_t rows, index_t cols, layout l, float fill = gemm_qnan) {
  matrix m = make_matrix(rows, cols, l, gemm_sentinel);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) m.v(i, j) = fill;
  return m;
}

/// Number of padding floats of an output that are no longer gemm_sentinel.
inline int padding_touched(const matrix& m) {
  const auto in = m.inside();
  int bad = 0;
  for (std::size_t o = 0; o < m.buf.size(); ++o)
    bad += !in[o] && std::memcmp(&m.buf[o], &gemm_sentinel, sizeof(float)) != 0;
  return bad;
}
inline bool padding_untouched(const matrix& m) { return padding_touched(m) == 0; }

/// Bitwise equality of two float buffers (NaN payloads included): "untouched" checks.
inline bool bitwise_equal(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

/// Elements of v, row-major.
inline std::vector<float> values(const view<const float, 2>& v) {
  std::vector<float> out(std::size_t(v.shape(0) * v.shape(1)));
  for (index_t i = 0; i < v.shape(0); ++i)
    for (index_t j = 0; j < v.shape(1); ++j) out[std::size_t(i * v.shape(1) + j)] = v(i, j);
  return out;
}

/// |alpha| · sum_k |a_ik||b_kj| + |beta · c_in(i, j)| in double, row-major [M, N]: the scale of
/// tolerance::gemm_gamma's bound. c_in is read only when beta != 0.
inline std::vector<double> gemm_scale(const view<const float, 2>& a, const view<const float, 2>& b,
                                      double alpha, double beta,
                                      const view<const float, 2>& c_in = {}) {
  const index_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
  std::vector<double> bt(std::size_t(k * n));
  for (index_t p = 0; p < k; ++p)
    for (index_t j = 0; j < n; ++j) bt[std::size_t(p * n + j)] = std::fabs(double(b(p, j)));
  std::vector<double> s(std::size_t(m * n), 0.0);
  for (index_t i = 0; i < m; ++i) {
    double* row = s.data() + i * n;
    for (index_t p = 0; p < k; ++p) {
      const double ai = std::fabs(double(a(i, p)));
      const double* brow = bt.data() + p * n;
      for (index_t j = 0; j < n; ++j) row[j] += ai * brow[j];
    }
    for (index_t j = 0; j < n; ++j) {
      row[j] *= std::fabs(alpha);
      if (beta != 0.0) row[j] += std::fabs(beta * double(c_in(i, j)));
    }
  }
  return s;
}

/// What an epilogue adds to the error of the sum (see tolerance.hpp): the bound of element e is
///   lipschitz · gamma_K · scale_e + rel · |want_e| + abs · (1 + |pre_e|)
/// where pre is the oracle's value before the epilogue (alpha · A·B + beta · C_in).
struct epi_error {
  double lipschitz = 1.0;
  double rel = 0.0;
  double abs = 0.0;
};
/// No epilogue: the stored value is the sum itself.
inline constexpr epi_error exact_epilogue{1.0, 0.0, 0.0};
/// `nodes` linear nodes (bias, residual), each rounding once; `factor` = |s| of a scale node.
inline constexpr epi_error linear_nodes(int nodes, double factor = 1.0) {
  return {factor, nodes * tolerance::gemm_node_rel, 0.0};
}
/// An activation (after `before` linear nodes, whose rounding it amplifies by at most 1.5).
inline constexpr epi_error activation_error(int before = 0) {
  return {tolerance::gemm_act_lipschitz, tolerance::bias_activation_rel,
          tolerance::bias_activation_abs +
              before * tolerance::gemm_act_lipschitz * tolerance::gemm_node_rel};
}

/// The oracle's answer for every element of C and its error bound.
struct expectation {
  std::vector<double> want, bound;
  index_t rows = 0, cols = 0;
};

/// reference::gemm (the only oracle) plus the bound. For a gated epilogue b is [K, 2N] and the
/// bound follows the product: with G = gate + b_g, U = up + b_u (each alpha · dot, error ΔG, ΔU),
/// y = f(G)·U is off by at most
///   L·ΔG·(|U| + ΔU) + |f(G)|·ΔU + (f's own error)·(|U| + ΔU) + one rounding of the product,
/// plus err.rel · |y| for the `then` nodes (one rounding each).
template <class E>
expectation expect_gemm(const view<const float, 2>& a, const view<const float, 2>& b, const E& ep,
                        const epi_error& err, double alpha = 1.0, double beta = 0.0,
                        const view<const float, 2>& c_in = {}, index_t batch = 0) {
  namespace tol = tolerance;
  expectation x;
  x.want = reference::gemm(a, b, ep, alpha, beta, c_in, batch);
  x.rows = a.shape(0);
  const index_t k = a.shape(1);
  const double gamma = tol::gemm_gamma(long(k));
  if constexpr (epilogue::is_gated_v<E>) {
    const index_t n = b.shape(1) / 2;
    x.cols = n;
    const auto gate_b = b.slice(1, 0, n), up_b = b.slice(1, n, 2 * n);
    const auto g = reference::gemm(a, gate_b, epilogue::none{}, alpha);
    const auto u = reference::gemm(a, up_b, epilogue::none{}, alpha);
    const auto sg = gemm_scale(a, gate_b, alpha, 0.0), su = gemm_scale(a, up_b, alpha, 0.0);
    x.bound.resize(x.want.size());
    for (index_t i = 0; i < x.rows; ++i)
      for (index_t j = 0; j < n; ++j) {
        const std::size_t e = std::size_t(i * n + j);
        double gv = g[e], uv = u[e], dg = gamma * sg[e], du = gamma * su[e];
        if (ep.bias_gate.data() != nullptr) {
          gv += double(ep.bias_gate(j));
          dg += tol::gemm_node_rel * std::fabs(gv);
        }
        if (ep.bias_up.data() != nullptr) {
          uv += double(ep.bias_up(j));
          du += tol::gemm_node_rel * std::fabs(uv);
        }
        const double f = double(ep.act(gv));
        const double own = tol::bias_activation_rel * std::fabs(f) +
                           tol::bias_activation_abs * (1.0 + std::fabs(gv));
        const double au = std::fabs(uv) + du;
        x.bound[e] = tol::gemm_act_lipschitz * dg * au + std::fabs(f) * du + own * au +
                     tol::gemm_node_rel * (std::fabs(f) + own) * au +
                     err.rel * std::fabs(x.want[e]);
      }
  } else {
    x.cols = b.shape(1);
    const auto scale = gemm_scale(a, b, alpha, beta, c_in);
    std::vector<double> pre;
    if (err.abs != 0.0) pre = reference::gemm(a, b, epilogue::none{}, alpha, beta, c_in, batch);
    x.bound.resize(x.want.size());
    for (std::size_t e = 0; e < x.want.size(); ++e)
      x.bound[e] = err.lipschitz * gamma * scale[e] + err.rel * std::fabs(x.want[e]) +
                   (err.abs != 0.0 ? err.abs * (1.0 + std::fabs(pre[e])) : 0.0);
  }
  return x;
}

/// Elements of c outside the expectation's bound (the first few are printed with `what`).
inline int gemm_mismatches(const view<const float, 2>& c, const expectation& x,
                           const std::string& what) {
  if (c.shape(0) != x.rows || c.shape(1) != x.cols) {
    MESSAGE(what << ": output shape " << std::string(c.shape_string().c_str()) << " vs oracle ["
                 << x.rows << ", " << x.cols << "]");
    return 1;
  }
  int bad = 0;
  for (index_t i = 0; i < x.rows; ++i)
    for (index_t j = 0; j < x.cols; ++j) {
      const std::size_t e = std::size_t(i * x.cols + j);
      const double got = double(c(i, j)), want = x.want[e];
      if (!tolerance::gemm_close(got, want, x.bound[e]) && ++bad <= 3)
        MESSAGE(what << ": c(" << i << ", " << j << ") = " << got << ", oracle " << want
                     << ", diff " << (got - want) << ", bound " << x.bound[e]);
    }
  if (bad > 3) MESSAGE(what << ": " << bad << " elements out of bound in all");
  return bad;
}

/// A copy of m with its own storage (same layout).
inline matrix copy_of(const matrix& m) {
  matrix c;
  c.buf = m.buf;
  c.lay = m.lay;
  c.v = view<float, 2>(c.buf.data() + (m.v.data() - m.buf.data()), m.v.shape(), m.v.strides());
  return c;
}

/// Where B comes from in run_gemm_case.
enum class b_form {
  plain,           // gemm(a, b, ...)
  packed_storage,  // pack_b / pack_b_gated into a caller std::vector, then gemm(a, packed, ...)
  packed_weights,  // packed_weights<B>::pack / pack_gated, then gemm(a, w.get(), ...)
};
inline const char* name_of(b_form f) {
  switch (f) {
    case b_form::plain:
      return "plain B";
    case b_form::packed_storage:
      return "pack_b";
    case b_form::packed_weights:
      return "packed_weights";
  }
  return "?";
}

/// One gemm call: shapes, layouts, alpha / beta and where beta's source lives.
struct gemm_setup {
  index_t m = 1, n = 1, k = 1;
  layout a = layout::row_major, b = layout::row_major, c = layout::row_major;
  float alpha = 1.0f, beta = 0.0f;
  bool separate_c_in = false;  // beta != 0: a separate c_in matrix (else C itself, in place)
  layout c_in = layout::row_major;
  threading threads = threading::serial();
  b_form form = b_form::plain;
};

inline std::string describe(const char* backend, const gemm_setup& s) {
  std::ostringstream o;
  o << backend << " M=" << s.m << " N=" << s.n << " K=" << s.k << " a:" << name_of(s.a)
    << " b:" << name_of(s.b) << " c:" << name_of(s.c) << " alpha=" << s.alpha << " beta=" << s.beta;
  if (s.beta != 0.0f)
    o << (s.separate_c_in ? std::string(" c_in:") + name_of(s.c_in) : std::string(" in place"));
  o << " threads=" << s.threads.concurrency() << " " << name_of(s.form);
  return o.str();
}

/// Builds fresh random operands for `s` (seeds seed, seed + 1, seed + 2), runs gemm<B> with
/// epilogue ep and returns the number of problems found: elements outside the oracle's bound,
/// written padding, or a failed status. For a gated epilogue B is [K, 2N] (gate, then up).
template <class B, class E = epilogue::none>
int run_gemm_case(const gemm_setup& s, std::uint32_t seed, const E& ep = {},
                  const epi_error& err = exact_epilogue, const std::string& tag = "") {
  constexpr bool gated = epilogue::is_gated_v<E>;
  const std::string what = describe(B::name, s) + (tag.empty() ? "" : " " + tag);
  const matrix a = random_matrix(s.m, s.k, s.a, seed);
  const matrix b = random_matrix(s.k, gated ? 2 * s.n : s.n, s.b, seed + 1);
  matrix c = output_matrix(s.m, s.n, s.c);
  matrix c_in;  // the oracle's beta source
  gemm_params p;
  p.alpha = s.alpha, p.beta = s.beta, p.threads = s.threads;
  if (s.beta != 0.0f) {
    if (s.separate_c_in) {
      c_in = random_matrix(s.m, s.n, s.c_in, seed + 2);
      p.c_in = c_in.in();
    } else {  // BLAS form: C holds the input
      const auto vals = random_floats(std::size_t(s.m * s.n), seed + 2);
      for (index_t i = 0; i < s.m; ++i)
        for (index_t j = 0; j < s.n; ++j) c.v(i, j) = vals[std::size_t(i * s.n + j)];
      c_in = copy_of(c);
    }
  }
  status st;
  std::vector<float> storage;
  packed_b<B> packed;
  packed_weights<B> weights;
  const auto gate = b.in().slice(1, 0, s.n), up = b.in().slice(1, s.n, 2 * s.n);
  switch (s.form) {
    case b_form::plain:
      st = gemm<B>(a.in(), b.in(), c.v, ep, p);
      break;
    case b_form::packed_storage:
      storage.assign(packed_b_size<B>(s.k, s.n, gated), gemm_qnan);
      if constexpr (gated)
        st = pack_b_gated<B>(gate, up,
                             view<float, 1>(storage.data(), dims<1>{index_t(storage.size())}),
                             packed, s.threads);
      else
        st = pack_b<B>(b.in(), view<float, 1>(storage.data(), dims<1>{index_t(storage.size())}),
                       packed, s.threads);
      if (st.ok()) st = gemm(a.in(), packed, c.v, ep, p);
      break;
    case b_form::packed_weights:
      if constexpr (gated)
        st = weights.pack_gated(gate, up, s.threads);
      else
        st = weights.pack(b.in(), s.threads);
      if (st.ok()) st = gemm(a.in(), weights.get(), c.v, ep, p);
      break;
  }
  if (!st.ok()) {
    MESSAGE(what << ": " << to_string(st.code()) << ": " << st.message());
    return 1;
  }
  const auto x = expect_gemm(a.in(), b.in(), ep, err, s.alpha, s.beta, c_in.in());
  return gemm_mismatches(c.in(), x, what) + padding_touched(c);
}

/// A user-written epilogue (the concept of fused/epilogue.hpp) that depends on every field of
/// coord: y = x · (1 + row / 1024) + (col + 64 · batch) / 64. Both constants are exact in float
/// for the sizes tested (row < 2^13, col + 64 · batch < 2^24), so each form rounds twice (the
/// multiply and the add): coord_epilogue_error bounds that for M <= 256.
struct coord_epilogue {
  template <class V>
  FUSEDOPS_INLINE V operator()(V x, const epilogue::coord& at) const noexcept {
    const float row_factor = 1.0f + float(at.row) / 1024.0f;
    const float col0 = float(at.col) + 64.0f * float(at.batch);
    if constexpr (std::is_floating_point_v<V>) {
      return x * V(row_factor) + V(col0) / V(64);
    } else {
      alignas(64) static constexpr float lane[64] = {
          0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
          22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
          44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
      const V cols =
          epilogue::detail::load_segment<V>(lane, 1, at.count) + simd::broadcast<V>(col0);
      return x * simd::broadcast<V>(row_factor) + cols * simd::broadcast<V>(1.0f / 64.0f);
    }
  }
};
inline constexpr epi_error coord_epilogue_error{1.25, tolerance::gemm_node_rel,
                                                1.25 * tolerance::gemm_node_rel};

/// Every linear node in one epilogue type: x · s + bias_col[col] + bias_row[row] + r[row, col].
/// Each epilogue type compiles its own tile-finishing code for every backend, so the node tests
/// share this one type and isolate a node by giving the others neutral arguments (s = 1, zero
/// biases / residual).
using linear_chain =
    epilogue::chain_t<epilogue::scale, epilogue::bias_col, epilogue::bias_row, epilogue::residual>;
inline linear_chain make_linear_chain(float s, view<const float, 1> col, view<const float, 1> row,
                                      view<const float, 2> r) {
  return epilogue::chain(epilogue::scale{s}, epilogue::bias_col{col}, epilogue::bias_row{row},
                         epilogue::residual{r});
}
/// Its error: Δ scaled by |s|, then three adds rounding once each, relative to intermediate
/// results bounded by |s·pre| + 3 (biases and residual lie in [-1, 1]): at most
/// 3u · max(|s|, 3) · (1 + |pre|). (Where only one node is active the others add exact zeros.)
inline constexpr epi_error linear_chain_error(double s) {
  const double as = s < 0 ? -s : s;
  return {as, 0.0, 3 * tolerance::gemm_node_rel * (as > 3 ? as : 3.0)};
}

/// "[M, N, K] a:<layout> b:<layout> c:<layout>" for messages.
inline std::string case_name(const char* backend, index_t m, index_t n, index_t k,
                             const std::string& extra = "") {
  std::ostringstream s;
  s << backend << " M=" << m << " N=" << n << " K=" << k;
  if (!extra.empty()) s << " " << extra;
  return s.str();
}

}  // namespace fusedops::test
