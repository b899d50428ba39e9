// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// gemm's fused epilogues on every backend vs the double oracle (reference::gemm evaluates each
// epilogue's scalar form in double): every node, a chain, the gated (SwiGLU / GEGLU) forms over
// unpacked and prepacked weights, a user-written epilogue, and ONNX Gemm's broadcast C; then
// gemm_batched and N-d matmul, whose epilogue (test::coord_epilogue) checks coord.batch (kept in
// this file so that the epilogue type is compiled once).
// Every shape list crosses the paths that finish results differently: the three GEMV kinds (the
// N = 1 one calls the scalar form), direct A / B tiles, packed tiles, and two passes over K.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/gemm.hpp"
#include "support/backends.hpp"
#include "support/gemm_case.hpp"

namespace {

using namespace fusedops;
using test::b_form;
using test::gemm_setup;
using test::layout;
using test::matrix;
namespace tol = fusedops::test::tolerance;

/// Shapes for the epilogue tests, each tagged with the path it exercises.
std::vector<gemm_setup> epilogue_shapes() {
  std::vector<gemm_setup> v;
  auto add = [&](index_t m, index_t n, index_t k, layout a, layout b, layout c, float alpha,
                 float beta, b_form form) {
    gemm_setup s;
    s.m = m, s.n = n, s.k = k, s.a = a, s.b = b, s.c = c, s.alpha = alpha, s.beta = beta;
    s.separate_c_in = beta != 0.0f && m % 2 == 1, s.c_in = layout::transposed, s.form = form;
    v.push_back(s);
  };
  const layout rm = layout::row_major, tr = layout::transposed, pd = layout::padded;
  add(1, 37, 19, rm, rm, rm, 1.0f, 0.0f, b_form::plain);    // GEMV rows
  add(1, 37, 19, rm, tr, pd, 1.25f, 0.5f, b_form::plain);   // GEMV dots over B^T
  add(37, 1, 19, rm, rm, tr, 1.0f, -1.0f, b_form::plain);   // GEMV dots over A: scalar epilogue
  add(3, 33, 40, rm, rm, rm, -0.5f, 0.0f, b_form::plain);   // direct A and B, partial panel
  add(20, 47, 30, tr, tr, tr, 1.0f, 0.75f, b_form::plain);  // packed A and B, C column-strided
  add(70, 65, 33, pd, rm, pd, 1.0f, 0.0f, b_form::packed_weights);   // prepacked, row blocks
  add(9, 40, 1100, rm, pd, rm, 0.5f, 1.0f, b_form::packed_storage);  // two passes over K
  return v;
}

/// Runs every shape of epilogue_shapes() with ep; returns the failed cases.
template <class B, class E>
int run_all_shapes(const E& ep, const test::epi_error& err, const std::string& tag,
                   std::uint32_t& seed) {
  int failed = 0;
  for (const gemm_setup& s : epilogue_shapes()) {
    const int bad = test::run_gemm_case<B>(s, seed, ep, err, tag);
    seed += 3;
    failed += bad != 0;
  }
  return failed;
}

/// Swish with alpha != 1 gets its own type name in messages.
struct silu17 : act::silu {
  silu17() noexcept { alpha = 1.7f; }
};
struct clip_asym : act::clip {
  clip_asym() noexcept { lo = -0.5f, hi = 0.75f; }
};
using activations = std::tuple<act::identity, act::relu, clip_asym, act::gelu_erf, act::gelu_tanh,
                               act::silu, silu17, act::sigmoid, act::tanh, act::hardswish>;

template <class F>
void for_each_activation(F&& f) {
  std::apply([&](auto... a) { (f(a), ...); }, activations{});
}

template <class Act>
std::string act_name(const Act& a) {
  if constexpr (std::is_base_of_v<act::silu, Act>) {
    return "silu(alpha=" + std::to_string(a.alpha).substr(0, 3) + ")";
  } else if constexpr (std::is_base_of_v<act::clip, Act>) {
    return "clip(" + std::to_string(a.lo).substr(0, 4) + ", " + std::to_string(a.hi).substr(0, 4) +
           ")";
  } else {
    return Act::name;
  }
}

/// Epilogue arguments sized for every shape of epilogue_shapes() (at most 70 rows / 65 columns).
struct node_data {
  std::vector<float> bias = test::random_floats(3 * 70, 31);  // strided views use every 3rd
  std::vector<float> res = test::random_floats(70 * 70, 32);
};

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("gemm epilogues vs reference: every node", B, gemm_nodes_id) {
  // none; scale, bias_col, bias_row and residual through test::linear_chain, one node at a time
  // (the others neutral) and all together, with contiguous, strided, transposed and broadcast
  // (stride 0) arguments; activation<Act> for every act functor.
  std::uint32_t seed = 30000;
  node_data d;
  const std::vector<float> zeros(70 * 70, 0.0f);
  for (const gemm_setup& s : epilogue_shapes()) {
    const std::string shape = test::describe(B::name, s);
    CAPTURE(shape);
    const index_t m = s.m, n = s.n;
    const auto bias_n = make_view(static_cast<const float*>(d.bias.data()), {n});
    const auto bias_n3 = make_view(static_cast<const float*>(d.bias.data()), {n}, {3});
    const auto bias_m = make_view(static_cast<const float*>(d.bias.data()), {m});
    const auto bias_m2 = make_view(static_cast<const float*>(d.bias.data()), {m}, {2});
    const auto res = make_view(static_cast<const float*>(d.res.data()), {m, n});
    const auto res_t = make_view(static_cast<const float*>(d.res.data()), {n, m}).transpose();
    const auto res_padded = make_view(static_cast<const float*>(d.res.data()), {m, n}, {n + 3, 1});
    const auto res_row = make_view(static_cast<const float*>(d.res.data()), {m, n}, {0, 1});
    const auto zero_n = make_view(zeros.data(), {n}), zero_m = make_view(zeros.data(), {m});
    const auto zero_r = make_view(zeros.data(), {m, n});
    struct variant {
      const char* name;
      float s;
      view<const float, 1> col, row;
      view<const float, 2> r;
    };
    const variant variants[] = {
        {"scale", -1.5f, zero_n, zero_m, zero_r},
        {"bias_col", 1.0f, bias_n, zero_m, zero_r},
        {"bias_col stride 3", 1.0f, bias_n3, zero_m, zero_r},
        {"bias_row", 1.0f, zero_n, bias_m, zero_r},
        {"bias_row stride 2", 1.0f, zero_n, bias_m2, zero_r},
        {"residual", 1.0f, zero_n, zero_m, res},
        {"residual transposed", 1.0f, zero_n, zero_m, res_t},
        {"residual padded", 1.0f, zero_n, zero_m, res_padded},
        {"residual broadcast row (stride 0)", 1.0f, zero_n, zero_m, res_row},
        {"scale, bias_col, bias_row, residual", 0.5f, bias_n3, bias_m, res_t},
    };
    CHECK(test::run_gemm_case<B>(s, seed++, epilogue::none{}, test::exact_epilogue, "none") == 0);
    for (const variant& v : variants)
      CHECK(test::run_gemm_case<B>(s, seed++, test::make_linear_chain(v.s, v.col, v.row, v.r),
                                   test::linear_chain_error(v.s), v.name) == 0);
    for_each_activation([&](auto act) {
      CHECK(test::run_gemm_case<B>(s, seed++, epilogue::activation<decltype(act)>{act},
                                   test::activation_error(), act_name(act)) == 0);
    });
  }
}
TEST_CASE_TEMPLATE_APPLY(gemm_nodes_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm epilogues vs reference: chain bias_col -> gelu_tanh -> residual", B,
                          gemm_chain_id) {
  // The error: the sum's Δ and the bias add's rounding go through GELU (Lipschitz 1.5); GELU's
  // own error is bias_activation's, at x = s + bias with |bias| < 1, so 1 + |x| <= 2 (1 + |s|);
  // its relative part is relative to g = y - r with |r| < 1, so <= rel |y| + rel (1 + |s|); the
  // residual add rounds once more (gemm_node_rel of y).
  const test::epi_error err{
      tol::gemm_act_lipschitz, tol::bias_activation_rel + tol::gemm_node_rel,
      2 * (tol::bias_activation_abs + tol::gemm_act_lipschitz * tol::gemm_node_rel) +
          tol::bias_activation_rel};
  node_data d;
  std::uint32_t seed = 32000;
  for (threading t : {threading::serial(), threading::openmp(2)}) {
    for (gemm_setup s : epilogue_shapes()) {
      s.threads = t;
      const std::string shape = test::describe(B::name, s);
      CAPTURE(shape);
      const auto bias = make_view(static_cast<const float*>(d.bias.data()), {s.n}, {3});
      const auto res = make_view(static_cast<const float*>(d.res.data()), {s.m, s.n});
      const auto ep =
          epilogue::chain(epilogue::bias_col{bias}, epilogue::activation<act::gelu_tanh>{},
                          epilogue::residual{res});
      CHECK(test::run_gemm_case<B>(s, seed, ep, err, "bias_col/gelu_tanh/residual") == 0);
      s.form = b_form::packed_weights;
      CHECK(test::run_gemm_case<B>(s, seed, ep, err, "bias_col/gelu_tanh/residual") == 0);
      seed += 3;
    }
  }
  // chain's validate() checks every node: a residual of the wrong shape at the end of the chain
  // fails the call before anything is written.
  const matrix a = test::random_matrix(4, 5, layout::row_major, 1);
  const matrix b = test::random_matrix(5, 6, layout::row_major, 2);
  matrix c = test::output_matrix(4, 6, layout::row_major, 1.0f);
  const std::vector<float> before = c.buf;
  const auto ep = epilogue::chain(
      epilogue::bias_col{make_view(static_cast<const float*>(d.bias.data()), {6}, {3})},
      epilogue::activation<act::gelu_tanh>{},
      epilogue::residual{make_view(static_cast<const float*>(d.res.data()), {4, 7})});
  const status st = gemm<B>(a.in(), b.in(), c.v, ep);
  CHECK(st.code() == errc::shape_mismatch);
  CHECK(std::string(st.message()).find("'residual.r'") != std::string::npos);
  CHECK(test::bitwise_equal(c.buf, before));
}
TEST_CASE_TEMPLATE_APPLY(gemm_chain_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm gated epilogues vs reference: SwiGLU and GEGLU", B, gemm_gated_id) {
  // B is [K, 2N] (gate columns, then up columns) unpacked, or gate and up packed side by side by
  // pack_b_gated / packed_weights::pack_gated. Output widths that leave half panels partial
  // (a panel holds width / 2 = 8 or 16 output columns), K up to 1100 (gated runs one pass).
  // Types: swiglu, geglu and gated<silu, residual> only (each type adds compile time).
  struct g_case {
    index_t m, n, k;
    layout a, b, c;
  };
  const layout rm = layout::row_major, tr = layout::transposed, pd = layout::padded;
  const g_case cases[] = {{1, 5, 7, rm, rm, rm},    {1, 40, 33, rm, tr, rm},
                          {3, 17, 20, rm, rm, pd},  {7, 8, 65, tr, pd, rm},
                          {20, 33, 40, rm, tr, tr}, {70, 24, 31, pd, rm, rm},
                          {5, 9, 1100, rm, rm, rm}};
  const auto bg = test::random_floats(40, 41), bu = test::random_floats(80, 42);
  const auto rbuf = test::random_floats(70 * 40, 43);
  std::uint32_t seed = 34000;
  for (const auto& gc : cases)
    for (b_form form : {b_form::plain, b_form::packed_storage, b_form::packed_weights}) {
      gemm_setup s;
      s.m = gc.m, s.n = gc.n, s.k = gc.k, s.a = gc.a, s.b = gc.b, s.c = gc.c, s.form = form;
      s.alpha = gc.m % 2 ? 1.0f : 0.5f;
      s.threads = gc.m > 10 ? threading::openmp(2) : threading::serial();
      const std::string shape = test::describe(B::name, s);
      CAPTURE(shape);
      const auto bias_gate = make_view(bg.data(), {gc.n});
      const auto bias_up = make_view(bu.data(), {gc.n}, {2});
      const auto res = make_view(rbuf.data(), {gc.m, gc.n});
      const test::epi_error none_after{}, residual_after = test::linear_nodes(1);

      CHECK(test::run_gemm_case<B>(s, seed, epilogue::swiglu{}, none_after, "swiglu") == 0);
      CHECK(test::run_gemm_case<B>(s, seed + 3, epilogue::geglu{}, none_after, "geglu") == 0);
      CHECK(test::run_gemm_case<B>(s, seed + 6,
                                   epilogue::swiglu{act::silu{1.7f}, bias_gate, bias_up},
                                   none_after, "swiglu(alpha 1.7) + gate/up biases") == 0);
      CHECK(test::run_gemm_case<B>(s, seed + 9, epilogue::geglu{{}, bias_gate, {}}, none_after,
                                   "geglu + gate bias") == 0);
      CHECK(test::run_gemm_case<B>(s, seed + 12, epilogue::geglu{{}, {}, bias_up}, none_after,
                                   "geglu + up bias (strided)") == 0);
      CHECK(test::run_gemm_case<B>(s, seed + 15,
                                   epilogue::gated<act::silu, epilogue::residual>{
                                       {}, bias_gate, bias_up, epilogue::residual{res}},
                                   residual_after, "swiglu then residual") == 0);
      seed += 18;
    }
  // gated's validate() also checks its `then` node.
  const matrix a = test::random_matrix(4, 5, layout::row_major, 1);
  const matrix b = test::random_matrix(5, 12, layout::row_major, 2);
  matrix c = test::output_matrix(4, 6, layout::row_major, 1.0f);
  const std::vector<float> before = c.buf;
  const status st = gemm<B>(a.in(), b.in(), c.v,
                            epilogue::gated<act::silu, epilogue::residual>{
                                {}, {}, {}, epilogue::residual{make_view(rbuf.data(), {5, 6})}});
  CHECK(st.code() == errc::shape_mismatch);
  CHECK(std::string(st.message()).find("'residual.r'") != std::string::npos);
  CHECK(test::bitwise_equal(c.buf, before));
}
TEST_CASE_TEMPLATE_APPLY(gemm_gated_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm_batched with a gated epilogue", B, gemm_batched_gated_id) {
  constexpr index_t batch = 2, m = 6, n = 19, k = 23;
  const auto abuf = test::random_floats(batch * m * k, 51);
  const auto bbuf = test::random_floats(batch * k * 2 * n, 52);
  std::vector<float> cbuf(batch * m * n, test::gemm_qnan);
  const view<const float, 3> a(abuf.data(), dims<3>{batch, m, k});
  const view<const float, 3> b(bbuf.data(), dims<3>{batch, k, 2 * n});
  const view<float, 3> c(cbuf.data(), dims<3>{batch, m, n});
  REQUIRE(gemm_batched<B>(a, b, c, epilogue::swiglu{}).ok());
  for (index_t i = 0; i < batch; ++i)
    CHECK(test::gemm_mismatches(c.select(0, i),
                                test::expect_gemm(a.select(0, i), b.select(0, i),
                                                  epilogue::swiglu{}, test::epi_error{}),
                                "batched swiglu " + std::to_string(i)) == 0);
}
TEST_CASE_TEMPLATE_APPLY(gemm_batched_gated_id, fusedops::test::compiled_backends_tuple);

namespace {
/// A user epilogue with its own argument check: it wants an even number of output columns.
struct even_columns_only {
  template <class V>
  V operator()(V x, const epilogue::coord&) const noexcept {
    return x;
  }
  status validate(const char* op, const view<float, 2>& out) const noexcept {
    if (out.shape(1) % 2 != 0)
      return status::error(errc::invalid_argument,
                           "%s: epilogue 'even_columns_only' needs an even number of columns, "
                           "output is %s",
                           op, out.shape_string().c_str());
    return {};
  }
};
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("gemm with a user-written epilogue (coord row / col / batch)", B,
                          gemm_user_epilogue_id) {
  std::uint32_t seed = 36000;
  CHECK(run_all_shapes<B>(test::coord_epilogue{}, test::coord_epilogue_error, "coord_epilogue",
                          seed) == 0);
  // Its validate() runs before anything is written.
  const matrix a = test::random_matrix(4, 5, layout::row_major, 1);
  const matrix b = test::random_matrix(5, 7, layout::row_major, 2);
  matrix c = test::output_matrix(4, 7, layout::row_major, 1.0f);
  const std::vector<float> before = c.buf;
  const status st = gemm<B>(a.in(), b.in(), c.v, even_columns_only{});
  CHECK(st.code() == errc::invalid_argument);
  CHECK(std::string(st.message()).find("even_columns_only") != std::string::npos);
  CHECK(std::string(st.message()).find("gemm") != std::string::npos);
  CHECK(test::bitwise_equal(c.buf, before));
  const matrix b8 = test::random_matrix(5, 8, layout::row_major, 3);
  matrix c8 = test::output_matrix(4, 8, layout::row_major);
  REQUIRE(gemm<B>(a.in(), b8.in(), c8.v, even_columns_only{}).ok());
  CHECK(test::gemm_mismatches(
            c8.in(), test::expect_gemm(a.in(), b8.in(), even_columns_only{}, test::exact_epilogue),
            "even_columns_only") == 0);
}
TEST_CASE_TEMPLATE_APPLY(gemm_user_epilogue_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm with ONNX Gemm's C broadcast by broadcast_c", B,
                          gemm_broadcast_c_id) {
  // C of rank 0, [N], [1], [M, 1], [1, N], [1, 1] and [M, N], as stride-0 views of the right
  // shape; Y = alpha · A·B + beta · C with a bias-free epilogue and with relu.
  struct bc_case {
    index_t m, n, k;
  };
  std::uint32_t seed = 38000;
  for (const bc_case& bc : {bc_case{1, 17, 9}, bc_case{1, 20, 11}, bc_case{5, 33, 20},
                            bc_case{70, 40, 30}, bc_case{13, 1, 8}}) {
    const index_t m = bc.m, n = bc.n;
    const matrix a = test::random_matrix(m, bc.k, layout::row_major, seed);
    const matrix b =
        test::random_matrix(bc.k, n, n == 20 ? layout::transposed : layout::row_major, seed + 1);
    const auto cbuf = test::random_floats(std::size_t(m * n), seed + 2);
    const float* cp = cbuf.data();
    struct named {
      std::string name;
      std::optional<view<const float, 2>> c;
    };
    const std::vector<named> forms = {
        {"scalar", broadcast_c(view<const float, 0>(cp, dims<0>{}), m, n)},
        {"[N]", broadcast_c(view<const float, 1>(cp, dims<1>{n}), m, n)},
        {"[1]", broadcast_c(view<const float, 1>(cp, dims<1>{1}), m, n)},
        {"[M, 1]", broadcast_c(view<const float, 2>(cp, dims<2>{m, 1}), m, n)},
        {"[1, N]", broadcast_c(view<const float, 2>(cp, dims<2>{1, n}), m, n)},
        {"[1, 1]", broadcast_c(view<const float, 2>(cp, dims<2>{1, 1}), m, n)},
        {"[M, N]", broadcast_c(view<const float, 2>(cp, dims<2>{m, n}), m, n)},
        {"[N, M] transposed",
         broadcast_c(view<const float, 2>(cp, dims<2>{n, m}).transpose(), m, n)},
    };
    for (const named& f : forms) {
      const std::string what = test::case_name(B::name, m, n, bc.k, "C " + f.name);
      CAPTURE(what);
      REQUIRE(f.c.has_value());
      CHECK(f.c->shape(0) == m);
      CHECK(f.c->shape(1) == n);
      for (int with_relu = 0; with_relu < 2; ++with_relu) {
        matrix y = test::output_matrix(m, n, layout::row_major);
        gemm_params p;
        p.alpha = 0.75f, p.beta = -1.25f, p.c_in = *f.c;
        const status st = with_relu
                              ? gemm<B>(a.in(), b.in(), y.v, epilogue::activation<act::relu>{}, p)
                              : gemm<B>(a.in(), b.in(), y.v, epilogue::none{}, p);
        REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
        const auto x = with_relu
                           ? test::expect_gemm(a.in(), b.in(), epilogue::activation<act::relu>{},
                                               test::exact_epilogue, 0.75, -1.25, *f.c)
                           : test::expect_gemm(a.in(), b.in(), epilogue::none{},
                                               test::exact_epilogue, 0.75, -1.25, *f.c);
        CHECK(test::gemm_mismatches(y.in(), x, what) == 0);
      }
    }
    // Shapes that do not broadcast to [M, N].
    CHECK_FALSE(broadcast_c(view<const float, 1>(cp, dims<1>{n + 1}), m, n).has_value());
    CHECK_FALSE(broadcast_c(view<const float, 2>(cp, dims<2>{m + 1, n}), m, n).has_value());
    CHECK_FALSE(broadcast_c(view<const float, 2>(cp, dims<2>{2, n + 2}), m, n).has_value());
    seed += 3;
  }
}
TEST_CASE_TEMPLATE_APPLY(gemm_broadcast_c_id, fusedops::test::compiled_backends_tuple);

namespace {

/// A batch [count, rows, cols] of random matrices, each stored transposed if asked.
struct batch3 {
  std::vector<float> buf;
  view<float, 3> v;
  view<const float, 3> in() const { return v; }
};
batch3 random_batch(index_t count, index_t rows, index_t cols, bool transposed,
                    std::uint32_t seed) {
  batch3 b;
  b.buf = test::random_floats(std::size_t(std::max<index_t>(1, count * rows * cols)), seed);
  const view<float, 3> stored(b.buf.data(),
                              transposed ? dims<3>{count, cols, rows} : dims<3>{count, rows, cols});
  b.v = transposed ? stored.transpose(1, 2) : stored;
  return b;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("gemm_batched vs reference: per-batch and shared operands", B,
                          gemm_batched_id) {
  // Products over dimension 0 with a per-batch or shared (extent 1, or stride 0) A or B, one
  // thread per matrix (batch >= threads) or all threads on each matrix (openmp(4) > batch: once,
  // since 4 threads on a busy 2-core CI machine make every barrier slow);
  // the epilogue sees coord.batch (coord_epilogue adds 64 · batch / 64 = batch).
  constexpr index_t batch = 3;
  struct bt_case {
    index_t m, n, k;
    bool ta, tb;
  };
  const bt_case cases[] = {{1, 33, 20, false, false},
                           {1, 20, 17, false, true},
                           {5, 17, 31, true, false},
                           {70, 40, 25, false, true}};
  const char* share_names[] = {"per-batch", "b extent 1", "b stride 0", "a extent 1"};
  std::uint32_t seed = 19000;
  for (const auto& bc : cases)
    for (int share = 0; share < 4; ++share)
      for (int threads : {1, 2, 4}) {
        if (threads == 4 && (share != 0 || bc.m != 70)) continue;
        const std::string what = test::case_name(B::name, bc.m, bc.n, bc.k) + " " +
                                 share_names[share] + " threads " + std::to_string(threads);
        CAPTURE(what);
        const batch3 a = random_batch(share == 3 ? 1 : batch, bc.m, bc.k, bc.ta, seed);
        const batch3 b =
            random_batch(share == 1 || share == 2 ? 1 : batch, bc.k, bc.n, bc.tb, seed + 1);
        view<const float, 3> bv = b.in();
        if (share == 2)
          bv = view<const float, 3>(b.v.data(), dims<3>{batch, bc.k, bc.n},
                                    dims<3>{0, b.v.stride(1), b.v.stride(2)});
        const matrix c_in = test::random_matrix(bc.m, bc.n, layout::padded, seed + 2);
        std::vector<float> cbuf(std::size_t(batch * bc.m * bc.n), test::gemm_qnan);
        const view<float, 3> c(cbuf.data(), dims<3>{batch, bc.m, bc.n});
        gemm_params p;
        p.threads = threading::openmp(threads);
        p.alpha = 0.5f, p.beta = -1.0f, p.c_in = c_in.in();
        const status st = gemm_batched<B>(a.in(), bv, c, test::coord_epilogue{}, p);
        REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
        auto a_of = [&](index_t i) { return a.in().select(0, a.v.shape(0) == 1 ? 0 : i); };
        auto b_of = [&](index_t i) { return bv.select(0, bv.shape(0) == 1 ? 0 : i); };
        for (index_t i = 0; i < batch; ++i)
          CHECK(test::gemm_mismatches(
                    c.select(0, i),
                    test::expect_gemm(a_of(i), b_of(i), test::coord_epilogue{},
                                      test::coord_epilogue_error, 0.5, -1.0, c_in.in(), i),
                    what + " batch " + std::to_string(i)) == 0);

        {  // gemm_batched_workspace_size is exactly what an allocation-free call needs
          gemm_params q = p;
          q.allow_allocation = false;
          const std::size_t need = gemm_batched_workspace_size<B>(a.in(), bv, c, q);
          std::vector<float> ws(need + 1, test::gemm_qnan);
          q.workspace = view<float, 1>(ws.data(), dims<1>{index_t(need)});
          const status ok = gemm_batched<B>(a.in(), bv, c, test::coord_epilogue{}, q);
          CHECK_MESSAGE(ok.ok(), std::string(ok.message()));
          if (need > 0) {
            q.workspace = view<float, 1>(ws.data(), dims<1>{index_t(need - 1)});
            CHECK(gemm_batched<B>(a.in(), bv, c, test::coord_epilogue{}, q).code() ==
                  errc::buffer_too_small);
          }
        }
        if (share == 0 || share == 3) {  // one prepacked B shared by every product
          packed_weights<B> w;
          REQUIRE(w.pack(b.in().select(0, 0)).ok());
          std::fill(cbuf.begin(), cbuf.end(), test::gemm_qnan);
          gemm_params q = p;  // with exactly the reported workspace, allocation off
          q.allow_allocation = false;
          const std::size_t need = gemm_batched_workspace_size<B>(a.in(), w.get(), c, q);
          std::vector<float> ws(need + 1, test::gemm_qnan);
          q.workspace = view<float, 1>(ws.data(), dims<1>{index_t(need)});
          REQUIRE(gemm_batched<B>(a.in(), w.get(), c, test::coord_epilogue{}, q).ok());
          for (index_t i = 0; i < batch; ++i)
            CHECK(test::gemm_mismatches(
                      c.select(0, i),
                      test::expect_gemm(a_of(i), b.in().select(0, 0), test::coord_epilogue{},
                                        test::coord_epilogue_error, 0.5, -1.0, c_in.in(), i),
                      what + " packed, batch " + std::to_string(i)) == 0);
        }
        if (share == 0) {  // beta with no c_in scales each C[i] itself
          const std::vector<float> c0 = test::random_floats(cbuf.size(), seed + 3);
          cbuf = c0;
          const view<float, 3> cc(cbuf.data(), dims<3>{batch, bc.m, bc.n});
          const view<const float, 3> before(c0.data(), dims<3>{batch, bc.m, bc.n});
          p.c_in = {}, p.beta = 0.5f;
          REQUIRE(gemm_batched<B>(a.in(), bv, cc, test::coord_epilogue{}, p).ok());
          for (index_t i = 0; i < batch; ++i)
            CHECK(test::gemm_mismatches(cc.select(0, i),
                                        test::expect_gemm(a_of(i), b_of(i), test::coord_epilogue{},
                                                          test::coord_epilogue_error, 0.5, 0.5,
                                                          before.select(0, i), i),
                                        what + " beta in place, batch " + std::to_string(i)) == 0);
        }
        seed += 4;
      }
  // An empty batch is a no-op.
  const batch3 a = random_batch(1, 4, 5, false, 1), b = random_batch(1, 5, 6, false, 2);
  CHECK(gemm_batched<B>(view<const float, 3>(a.v.data(), dims<3>{0, 4, 5}),
                        view<const float, 3>(b.v.data(), dims<3>{0, 5, 6}),
                        view<float, 3>(nullptr, dims<3>{0, 4, 6}))
            .ok());
}
TEST_CASE_TEMPLATE_APPLY(gemm_batched_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("matmul vs reference: N-d views with broadcast leading dimensions", B,
                          matmul_id) {
  // a [2, 1, M, K] (each matrix stored transposed), b [1, 3, K, N], c [2, 3, M, N]: the product
  // (i0, i1) is a[i0, 0] · b[0, i1], and coord.batch the flattened index i0 · 3 + i1.
  struct mm_case {
    index_t m, n, k;
  };
  std::uint32_t seed = 21000;
  for (const mm_case& mc : {mm_case{1, 17, 9}, mm_case{7, 33, 20}, mm_case{65, 20, 40}})
    for (int threads : {1, 2}) {
      const std::string what =
          test::case_name(B::name, mc.m, mc.n, mc.k) + " threads " + std::to_string(threads);
      CAPTURE(what);
      const auto abuf = test::random_floats(std::size_t(2 * mc.m * mc.k), seed);
      const auto bbuf = test::random_floats(std::size_t(3 * mc.k * mc.n), seed + 1);
      std::vector<float> cbuf(std::size_t(6 * mc.m * mc.n), test::gemm_qnan);
      const view<const float, 4> a =
          view<const float, 4>(abuf.data(), dims<4>{2, 1, mc.k, mc.m}).transpose(2, 3);
      const view<const float, 4> b(bbuf.data(), dims<4>{1, 3, mc.k, mc.n});
      const view<float, 4> c(cbuf.data(), dims<4>{2, 3, mc.m, mc.n});
      gemm_params p;
      p.threads = threading::openmp(threads);
      const status st = matmul<B>(a, b, c, test::coord_epilogue{}, p);
      REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
      for (index_t i0 = 0; i0 < 2; ++i0)
        for (index_t i1 = 0; i1 < 3; ++i1)
          CHECK(test::gemm_mismatches(
                    c.select(0, i0).select(0, i1),
                    test::expect_gemm(a.select(0, i0).select(0, 0), b.select(0, 0).select(0, i1),
                                      test::coord_epilogue{}, test::coord_epilogue_error, 1.0, 0.0,
                                      {}, i0 * 3 + i1),
                    what + " [" + std::to_string(i0) + ", " + std::to_string(i1) + "]") == 0);
      seed += 2;
    }
  // Rank 2 is a plain gemm; rank 3 with a broadcast B.
  const matrix a2 = test::random_matrix(9, 13, layout::transposed, 1);
  const matrix b2 = test::random_matrix(13, 21, layout::padded, 2);
  matrix c2 = test::output_matrix(9, 21, layout::row_major);
  REQUIRE(matmul<B>(a2.in(), b2.in(), c2.v).ok());
  CHECK(test::gemm_mismatches(
            c2.in(), test::expect_gemm(a2.in(), b2.in(), epilogue::none{}, test::exact_epilogue),
            "matmul rank 2") == 0);
  const auto a3buf = test::random_floats(4 * 9 * 13, 3);
  std::vector<float> c3buf(4 * 9 * 21, test::gemm_qnan);
  const view<const float, 3> a3(a3buf.data(), dims<3>{4, 9, 13});
  const view<const float, 3> b3(b2.v.data(), dims<3>{1, 13, 21},
                                dims<3>{0, b2.v.stride(0), b2.v.stride(1)});
  const view<float, 3> c3(c3buf.data(), dims<3>{4, 9, 21});
  REQUIRE(matmul<B>(a3, b3, c3).ok());
  for (index_t i = 0; i < 4; ++i)
    CHECK(test::gemm_mismatches(
              c3.select(0, i),
              test::expect_gemm(a3.select(0, i), b2.in(), epilogue::none{}, test::exact_epilogue),
              "matmul rank 3, batch " + std::to_string(i)) == 0);
  // A leading dimension that is neither the output's nor 1.
  const view<const float, 3> a_bad(a3buf.data(), dims<3>{2, 9, 13});
  const std::vector<float> before = c3buf;
  const status st = matmul<B>(a_bad, b3, c3);
  CHECK(st.code() == errc::shape_mismatch);
  CHECK(std::string(st.message()).find("matmul") != std::string::npos);
  CHECK(test::bitwise_equal(c3buf, before));
}
TEST_CASE_TEMPLATE_APPLY(matmul_id, fusedops::test::compiled_backends_tuple);
