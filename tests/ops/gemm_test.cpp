// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// gemm on every backend vs the double oracle (reference::gemm): random shapes and layouts,
// alpha / beta, several passes over K and several column blocks, the GEMV and small-M paths,
// prepacked weights, threads, caller workspace, NaN / Inf, empty shapes and K = 0.
// Epilogues, gemm_batched and N-d matmul: gemm_epilogue_test.cpp; errors: gemm_errors_test.cpp.
// Tolerances: tolerance.hpp (gemm_gamma) via support/gemm_case.hpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
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

// qemu runs the aarch64 binaries 20-50x slower than native: fewer random shapes there.
#if FUSEDOPS_ARCH_AARCH64
constexpr int random_cases = 32;
#else
constexpr int random_cases = 128;
#endif

/// Sizes around every tile height (4, 6, 14) and panel width (16, 32) in use.
constexpr index_t shape_pool[] = {1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65, 127, 129, 255};

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("gemm vs reference: random shapes, layouts, alpha and beta", B,
                          gemm_random_id) {
  // The same sample on every backend: a fixed generator, drawn fresh per test case.
  std::mt19937 gen(2026);
  auto pick = [&](auto& pool) { return pool[gen() % (sizeof(pool) / sizeof(pool[0]))]; };
  constexpr index_t deep[] = {300, 513};
  constexpr float alphas[] = {1.0f, -0.5f, 1.75f};
  std::uint32_t seed = 100;
  int bad_cases = 0;
  for (int i = 0; i < random_cases; ++i) {
    gemm_setup s;
    do {
      s.m = pick(shape_pool), s.n = pick(shape_pool);
      s.k = gen() % 6 == 0 ? pick(deep) : pick(shape_pool);
    } while (s.m * s.n * s.k > 400000);  // keeps the suite's time (and qemu's) small
    s.a = pick(test::all_layouts), s.b = pick(test::all_layouts), s.c = pick(test::all_layouts);
    s.alpha = pick(alphas);
    switch (gen() % 3) {
      case 0:
        s.beta = 0.0f;
        break;
      case 1:
        s.beta = 0.75f;
        break;  // C in place
      default:
        s.beta = -1.5f, s.separate_c_in = true, s.c_in = pick(test::all_layouts);
        break;
    }
    const int bad = test::run_gemm_case<B>(s, seed);
    seed += 3;
    CHECK_MESSAGE(bad == 0, test::describe(B::name, s));
    bad_cases += bad != 0;
  }
  MESSAGE(std::string(B::name) << ": " << random_cases << " random shapes, " << bad_cases
                               << " failed");
}
TEST_CASE_TEMPLATE_APPLY(gemm_random_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm vs reference: several passes over K, several column blocks", B,
                          gemm_blocks_id) {
  // kc <= 1024 and nc <= 1024 on every backend (blocking.hpp), half as deep when B is read in
  // place (M <= 128): K in 1100..1500 makes two or three passes (partial sums stored in C, the
  // epilogue and beta only at the right pass), N > 1024 with packed B two column blocks.
  // M = 70 > mc (56 / 60 rows) packs A in two row blocks.
  std::uint32_t seed = 5000;
  struct deep_case {
    index_t m, n, k;
    layout a, b, c;
    float alpha, beta;
    bool separate;
  };
  const deep_case cases[] = {
      {33, 47, 1300, layout::row_major, layout::row_major, layout::row_major, 1.5f, 0.5f, false},
      {70, 40, 1100, layout::transposed, layout::padded, layout::transposed, 1.0f, -1.0f, true},
      {3, 21, 1500, layout::row_major, layout::row_major, layout::padded, -1.0f, 0.0f, false},
      {2, 5, 1200, layout::transposed, layout::transposed, layout::row_major, 0.5f, 2.0f, false},
      {5, 1100, 16, layout::row_major, layout::transposed, layout::row_major, 1.0f, 0.0f, false},
      {100, 1050, 12, layout::padded, layout::row_major, layout::transposed, 1.0f, 0.25f, true},
      {1, 2100, 9, layout::row_major, layout::row_major, layout::row_major, 1.0f, 0.0f, false},
      {1, 1030, 1100, layout::row_major, layout::transposed, layout::row_major, 1.0f, 1.0f, false},
      // 11 full 32-column panels: B packed in sweeps of 8 panels and then 3 (packing.hpp).
      {70, 352, 40, layout::row_major, layout::row_major, layout::row_major, 1.0f, 0.0f, false},
      // B read in place at half depth (2 passes over K = 700), panels requesting the next one,
      // the last of which is partial (N = 100: 3 full panels of 32, then 4 columns).
      {120, 100, 700, layout::row_major, layout::padded, layout::row_major, 1.0f, 0.5f, true},
      // B in place with rows 16 KiB apart, which share so few cache sets that each row tile
      // reads the panels in turn (driver.hpp, panel_outer false); the cases above run every
      // row tile of a block on one panel before the next.
      {30, 4096, 40, layout::row_major, layout::row_major, layout::row_major, 1.0f, 0.0f, false},
  };
  for (const auto& d : cases) {
    gemm_setup s;
    s.m = d.m, s.n = d.n, s.k = d.k, s.a = d.a, s.b = d.b, s.c = d.c;
    s.alpha = d.alpha, s.beta = d.beta, s.separate_c_in = d.separate, s.c_in = layout::padded;
    CHECK(test::run_gemm_case<B>(s, seed) == 0);
    // The epilogue must run once, on the finished sum (a bias added per pass would show).
    if (d.k > 512) {
      const auto bias = test::random_floats(std::size_t(d.n), seed + 7);
      CHECK(test::run_gemm_case<B>(s, seed, epilogue::bias_col{make_view(bias.data(), {d.n})},
                                   test::linear_nodes(1), "bias_col") == 0);
    }
    s.form = b_form::packed_storage;
    CHECK(test::run_gemm_case<B>(s, seed) == 0);
    seed += 10;
  }
}
TEST_CASE_TEMPLATE_APPLY(gemm_blocks_id, fusedops::test::compiled_backends_tuple);

TEST_CASE("gemm blocking: cache room for runs at a stride (set conflicts)") {
  using ops::strided_capacity;
  constexpr index_t mib = 1 << 20, kib = 1 << 10;
  CHECK(strided_capacity(mib, 2800, 128) == mib);           // not whole lines: every set
  CHECK(strided_capacity(mib, 3 * kib, 128) == 128 * kib);  // 48 lines: every 16th set, 2 lines
  CHECK(strided_capacity(mib, 12 * kib, 128) == 32 * kib);
  CHECK(strided_capacity(mib, 16 * kib, 128) == 8 * kib);
  CHECK(strided_capacity(mib, 16 * kib, 16 * kib) == mib);  // contiguous rows
  CHECK(strided_capacity(mib, 128, 128) == mib);
}

TEST_CASE_TEMPLATE_DEFINE("gemm vs reference: GEMV paths", B, gemm_gemv_id) {
  // M = 1 with B row-major (rows kernel, 4096-column chunks), M = 1 with B = W^T for a row-major
  // W [N, K] (dot products over W's rows), M = 1 with prepacked B (panels side by side), N = 1
  // with A row-major (dot products over A's rows).
  // Counts not a multiple of 4 rows, of the lanes or of the chunk; strided C and c_in.
  const index_t ks[] = {1, 3, 7, 8, 9, 17, 33, 100};
  const index_t ns[] = {1, 2, 5, 7, 15, 16, 17, 33, 100, 2050, 4099};
  std::uint32_t seed = 7000;
  for (index_t k : ks)
    for (index_t n : ns) {
      gemm_setup s;
      s.m = 1, s.n = n, s.k = k;
      // kind 1: B row-major (also padded, and with a strided A row)
      s.b = n % 2 ? layout::row_major : layout::padded;
      s.a = k % 2 ? layout::row_major : layout::transposed;
      s.c = layout::row_major;
      CHECK(test::run_gemm_case<B>(s, seed) == 0);
      // kind 2: B transposed (unit stride along K), A row-major
      s.a = layout::row_major, s.b = n % 3 ? layout::transposed : layout::transposed_padded;
      CHECK(test::run_gemm_case<B>(s, seed + 3) == 0);
      // the same with alpha, beta from a strided c_in and C a transposed (column-stride) view
      s.alpha = -0.75f, s.beta = 0.5f, s.separate_c_in = true, s.c_in = layout::transposed;
      s.c = layout::transposed_padded;
      CHECK(test::run_gemm_case<B>(s, seed + 6) == 0);
      s.separate_c_in = false;  // beta with C in place, C strided
      CHECK(test::run_gemm_case<B>(s, seed + 9) == 0);
      // kind 4: prepacked B (four panels side by side, then 1-3; a partial last panel), A a
      // strided row for odd K, alpha and beta with C in place and strided, then 2 threads
      s.form = b_form::packed_weights, s.b = layout::row_major;
      s.a = k % 2 ? layout::transposed : layout::row_major;
      CHECK(test::run_gemm_case<B>(s, seed + 10) == 0);
      s.alpha = 1.0f, s.beta = 0.0f, s.c = layout::row_major, s.threads = threading::openmp(2);
      CHECK(test::run_gemm_case<B>(s, seed + 11) == 0);
      // kind 3: N = 1, A row-major ([M, K] = [n, k] here), B a column
      gemm_setup t;
      t.m = n, t.n = 1, t.k = k, t.a = n % 2 ? layout::row_major : layout::padded;
      t.b = layout::row_major, t.c = n % 3 ? layout::row_major : layout::transposed_padded;
      CHECK(test::run_gemm_case<B>(t, seed + 12) == 0);
      t.alpha = 2.0f, t.beta = -1.0f, t.separate_c_in = true, t.c_in = layout::padded;
      CHECK(test::run_gemm_case<B>(t, seed + 15) == 0);
      seed += 20;
    }
}
TEST_CASE_TEMPLATE_APPLY(gemm_gemv_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm vs reference: direct A (M <= 4), direct B (M <= 384), packed", B,
                          gemm_small_m_id) {
  // Heights around every tile (4, 6, 14 rows) and the direct-A / direct-B limits, widths that
  // leave a partial panel (16 or 32 columns), B row-major (read in place panel by panel up to
  // 384 rows when a panel stays in L2, as these narrow ones do; else row tile by row tile up to
  // 128 rows or 11 row tiles: 44 on generic, 66 on AVX2 and NEON) and transposed (always
  // packed), A row-major (read in place up to 4 rows) and transposed.
  const index_t ms[] = {2, 3, 4, 5, 6, 13, 14, 15, 29, 64, 65, 100, 128, 129, 200, 384, 385};
  const index_t ns[] = {1, 5, 16, 17, 31, 33, 47, 65};
  std::uint32_t seed = 9000;
  for (index_t m : ms)
    for (index_t n : ns) {
      gemm_setup s;
      s.m = m, s.n = n, s.k = 3 + (m + n) % 40;
      s.a = (m + n) % 3 == 0 ? layout::transposed : layout::row_major;
      s.b = n % 2 ? layout::row_major : layout::transposed;
      s.c = m % 2 ? layout::row_major : layout::padded;
      s.alpha = m % 3 == 0 ? 1.0f : 0.5f;
      s.beta = n % 3 == 0 ? 0.0f : 1.0f;
      CHECK(test::run_gemm_case<B>(s, seed) == 0);
      if (m <= 384 && n % 2) {  // the same with B padded (direct B with a leading dimension)
        s.b = layout::padded;
        CHECK(test::run_gemm_case<B>(s, seed + 1) == 0);
      }
      seed += 3;
    }
}
TEST_CASE_TEMPLATE_APPLY(gemm_small_m_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm vs reference: prepacked weights", B, gemm_prepacked_id) {
  // pack_b into caller storage and packed_weights give the oracle's result, whatever B's layout
  // (packing reads any strides), with and without threads, for small M (no workspace) and large.
  struct pk_case {
    index_t m, n, k;
    layout b;
  };
  const pk_case cases[] = {{1, 1, 1, layout::row_major},
                           {1, 33, 17, layout::transposed},
                           {3, 17, 65, layout::padded},
                           {4, 31, 7, layout::row_major},
                           {17, 65, 33, layout::transposed_padded},
                           {64, 16, 129, layout::row_major},
                           {65, 47, 31, layout::transposed},
                           {129, 100, 63, layout::padded}};
  std::uint32_t seed = 11000;
  for (const auto& pc : cases)
    for (b_form form : {b_form::plain, b_form::packed_storage, b_form::packed_weights}) {
      gemm_setup s;
      s.m = pc.m, s.n = pc.n, s.k = pc.k, s.b = pc.b, s.form = form;
      s.a = pc.m % 2 ? layout::row_major : layout::transposed;
      CHECK(test::run_gemm_case<B>(s, seed) == 0);
      s.beta = 0.5f, s.alpha = -2.0f, s.threads = threading::openmp(2);
      CHECK(test::run_gemm_case<B>(s, seed + 3) == 0);
      seed += 6;
    }
  // packed_b_size grows with the panels (rounded up to the panel width) and the depth.
  constexpr index_t w = packed_b<B>::panel_width;
  CHECK(packed_b_size<B>(10, w) == std::size_t(10 * w));
  CHECK(packed_b_size<B>(10, w + 1) == std::size_t(2 * 10 * w));
  CHECK(packed_b_size<B>(10, w / 2, true) == std::size_t(10 * w));
  CHECK(packed_b_size<B>(0, 5) == 0);
}
TEST_CASE_TEMPLATE_APPLY(gemm_prepacked_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm: serial, openmp(1) and openmp(2) all match the oracle", B,
                          gemm_threads_id) {
  // Shapes that split panels between threads, that split row tiles (few panels, many rows), and
  // the GEMV paths; each policy within tolerance of the oracle (bitwise equality not required).
  struct th_case {
    index_t m, n, k;
    layout a, b;
  };
  const th_case cases[] = {
      {20, 300, 50, layout::row_major, layout::row_major},   // panels
      {200, 17, 40, layout::row_major, layout::transposed},  // rows
      {130, 130, 70, layout::transposed, layout::padded},    // both candidates
      {1, 500, 64, layout::row_major, layout::row_major},    // GEMV rows
      {1, 4099, 300, layout::row_major, layout::row_major},  // GEMV rows, 2 chunks of columns
      {1, 33, 129, layout::transposed, layout::padded},      // GEMV rows, K split (K >= N)
      {1, 300, 65, layout::row_major, layout::transposed},   // GEMV dots over B^T
      {300, 1, 33, layout::row_major, layout::row_major},    // GEMV dots over A
      {3, 200, 1100, layout::row_major, layout::row_major},  // two passes over K
      // B read in place panel by panel (M <= 384): rows split, two passes over K; panels split
      {300, 40, 600, layout::row_major, layout::row_major},
      {250, 260, 90, layout::transposed, layout::row_major},
  };
  std::uint32_t seed = 13000;
  for (const auto& tc : cases)
    for (threading t : {threading::serial(), threading::openmp(1), threading::openmp(2)}) {
      gemm_setup s;
      s.m = tc.m, s.n = tc.n, s.k = tc.k, s.a = tc.a, s.b = tc.b, s.threads = t;
      s.beta = 0.25f, s.separate_c_in = true;
      CHECK(test::run_gemm_case<B>(s, seed) == 0);
      if (tc.m == 1 && tc.k >= 128) {  // a K split adds its partial sums once, before the epilogue
        const auto bias = test::random_floats(std::size_t(tc.n), seed + 7);
        CHECK(test::run_gemm_case<B>(s, seed, epilogue::bias_col{make_view(bias.data(), {tc.n})},
                                     test::linear_nodes(1), "bias_col") == 0);
      }
      s.form = b_form::packed_weights;
      CHECK(test::run_gemm_case<B>(s, seed) == 0);
      seed += 3;
    }
}
TEST_CASE_TEMPLATE_APPLY(gemm_threads_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm: caller workspace and allow_allocation = false", B,
                          gemm_workspace_id) {
  struct ws_case {
    index_t m, n, k;
    layout a, b;
    int threads;
  };
  const ws_case cases[] = {
      {70, 40, 33, layout::row_major, layout::row_major, 1},  // packed A and B
      {3, 47, 200, layout::row_major, layout::row_major, 1},  // direct A, direct B: a partial panel
      {30, 33, 1100, layout::transposed, layout::row_major, 2},  // packed A, two passes, 2 threads
      {100, 70, 16, layout::row_major, layout::transposed, 2},
  };
  std::uint32_t seed = 15000;
  for (const auto& wc : cases) {
    CAPTURE(wc.m);
    CAPTURE(wc.n);
    CAPTURE(wc.k);
    CAPTURE(wc.threads);
    const matrix a = test::random_matrix(wc.m, wc.k, wc.a, seed);
    const matrix b = test::random_matrix(wc.k, wc.n, wc.b, seed + 1);
    gemm_params p;
    p.threads = threading::openmp(wc.threads);
    p.allow_allocation = false;
    matrix c = test::output_matrix(wc.m, wc.n, layout::row_major);
    const std::size_t need = gemm_workspace_size<B>(a.in(), b.in(), c.v, p);
    REQUIRE(need > 0);  // (more than the stack scratch on every backend)
    const auto want = test::expect_gemm(a.in(), b.in(), epilogue::none{}, test::exact_epilogue);
    {  // exactly the reported size
      std::vector<float> ws(need, test::gemm_qnan);
      p.workspace = view<float, 1>(ws.data(), dims<1>{index_t(need)});
      const status st = gemm<B>(a.in(), b.in(), c.v, epilogue::none{}, p);
      REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
      CHECK(test::gemm_mismatches(c.in(), want, "exact workspace") == 0);
    }
    {  // one float short: buffer_too_small, C untouched
      matrix c2 = test::output_matrix(wc.m, wc.n, layout::row_major, 3.0f);
      const std::vector<float> before = c2.buf;
      std::vector<float> ws(need - 1, 0.0f);
      p.workspace = view<float, 1>(ws.data(), dims<1>{index_t(need - 1)});
      const status st = gemm<B>(a.in(), b.in(), c2.v, epilogue::none{}, p);
      CHECK(st.code() == errc::buffer_too_small);
      CHECK(std::string(st.message()).find("'workspace'") != std::string::npos);
      CHECK(test::bitwise_equal(c2.buf, before));
      p.workspace = {};  // and none at all
      CHECK(gemm<B>(a.in(), b.in(), c2.v, epilogue::none{}, p).code() == errc::buffer_too_small);
      CHECK(test::bitwise_equal(c2.buf, before));
      p.allow_allocation = true;  // allocating is the default: it works without a workspace
      REQUIRE(gemm<B>(a.in(), b.in(), c2.v, epilogue::none{}, p).ok());
      CHECK(test::gemm_mismatches(c2.in(), want, "allocated workspace") == 0);
      p.allow_allocation = false;
    }
    {  // prepacked B: the reported size (0 where only B would need scratch) suffices
      packed_weights<B> w;
      REQUIRE(w.pack(b.in()).ok());
      matrix c3 = test::output_matrix(wc.m, wc.n, layout::row_major);
      // (Not bounded by the unpacked size: B read in place runs shallower passes over K, so its
      // A tiles can take less room than the prepacked path's.)
      const std::size_t need_packed = gemm_workspace_size<B>(a.in(), w.get(), c3.v, p);
      std::vector<float> ws(need_packed + 1, test::gemm_qnan);
      p.workspace = view<float, 1>(ws.data(), dims<1>{index_t(need_packed)});
      const status st = gemm<B>(a.in(), w.get(), c3.v, epilogue::none{}, p);
      REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
      CHECK(test::gemm_mismatches(c3.in(), want, "packed, exact workspace") == 0);
    }
    seed += 2;
  }
  // The GEMV paths need no workspace at all.
  const matrix x = test::random_matrix(1, 40, layout::row_major, 1);
  const matrix w = test::random_matrix(40, 24, layout::row_major, 2);
  matrix y = test::output_matrix(1, 24, layout::row_major);
  gemm_params p;
  p.allow_allocation = false;
  CHECK(gemm_workspace_size<B>(x.in(), w.in(), y.v, p) == 0);
  REQUIRE(gemm<B>(x.in(), w.in(), y.v, epilogue::none{}, p).ok());
  CHECK(test::gemm_mismatches(
            y.in(), test::expect_gemm(x.in(), w.in(), epilogue::none{}, test::exact_epilogue),
            "GEMV without workspace") == 0);
  // With 2 threads a GEMV over a row-major W splits K, partial sums in scratch: the reported
  // size gets that; without it, and with allocation off, the threads split the columns.
  const matrix xk = test::random_matrix(1, 3000, layout::row_major, 3);
  const matrix wk = test::random_matrix(3000, 1500, layout::row_major, 4);
  const auto want_k = test::expect_gemm(xk.in(), wk.in(), epilogue::none{}, test::exact_epilogue);
  p.threads = threading::openmp(2);
  matrix yk = test::output_matrix(1, 1500, layout::row_major);
  const std::size_t need2 = gemm_workspace_size<B>(xk.in(), wk.in(), yk.v, p);
  CHECK(need2 >= 2 * 1500);
  std::vector<float> wsk(need2, test::gemm_qnan);
  p.workspace = view<float, 1>(wsk.data(), dims<1>{index_t(need2)});
  REQUIRE(gemm<B>(xk.in(), wk.in(), yk.v, epilogue::none{}, p).ok());
  CHECK(test::gemm_mismatches(yk.in(), want_k, "GEMV, K split, exact workspace") == 0);
  p.workspace = {};
  matrix yc = test::output_matrix(1, 1500, layout::row_major);
  REQUIRE(gemm<B>(xk.in(), wk.in(), yc.v, epilogue::none{}, p).ok());
  CHECK(test::gemm_mismatches(yc.in(), want_k, "GEMV, no workspace: columns split") == 0);
}
TEST_CASE_TEMPLATE_APPLY(gemm_workspace_id, fusedops::test::compiled_backends_tuple);

// A prepacked product with M <= 4 reads A in place and B from its panels: no scratch at all.
// Tiny products keep theirs on the stack. Empty products write nothing, so they need none.
TEST_CASE_TEMPLATE_DEFINE("gemm: prepacked small M, tiny and empty products need no workspace", B,
                          gemm_no_workspace_id) {
  gemm_params p;
  p.allow_allocation = false;
  const matrix w = test::random_matrix(40, 24, layout::row_major, 2);
  packed_weights<B> pw;
  REQUIRE(pw.pack(w.in()).ok());
  const matrix x3 = test::random_matrix(3, 40, layout::row_major, 3);
  matrix y3 = test::output_matrix(3, 24, layout::row_major);
  CHECK(gemm_workspace_size<B>(x3.in(), pw.get(), y3.v, p) == 0);
  const status st = gemm<B>(x3.in(), pw.get(), y3.v, epilogue::none{}, p);
  CHECK_MESSAGE(st.ok(), std::string(st.message()));
  if (st.ok())
    CHECK(test::gemm_mismatches(
              y3.in(), test::expect_gemm(x3.in(), w.in(), epilogue::none{}, test::exact_epilogue),
              "packed small M without workspace") == 0);
  // Unpacked products whose scratch fits in 8 KiB (fusedops::stack_scratch_floats) take it
  // from the stack: A packed (M > 4) and B's partial panel, plain and batched, 1 and 2 threads.
  const matrix a6 = test::random_matrix(6, 16, layout::row_major, 5);
  const matrix w6 = test::random_matrix(16, 24, layout::row_major, 6);
  matrix y6 = test::output_matrix(6, 24, layout::row_major);
  const auto want6 = test::expect_gemm(a6.in(), w6.in(), epilogue::none{}, test::exact_epilogue);
  for (int threads : {1, 2}) {
    p.threads = threading::openmp(threads);
    CHECK(gemm_workspace_size<B>(a6.in(), w6.in(), y6.v, p) == 0);
    const status s6 = gemm<B>(a6.in(), w6.in(), y6.v, epilogue::none{}, p);
    REQUIRE_MESSAGE(s6.ok(), std::string(s6.message()));
    CHECK(test::gemm_mismatches(y6.in(), want6, "scratch on the stack") == 0);
    std::vector<float> yb(2 * 6 * 24, test::gemm_qnan);
    const auto a2 = view<const float, 3>(a6.in().data(), dims<3>{2, 6, 16}, {0, 16, 1});
    const auto w2 = view<const float, 3>(w6.in().data(), dims<3>{2, 16, 24}, {0, 24, 1});
    const auto y2 = make_view(yb.data(), {2, 6, 24});
    CHECK(gemm_batched_workspace_size<B>(a2, w2, y2, p) == 0);
    const status sb = gemm_batched<B>(a2, w2, y2, epilogue::none{}, p);
    REQUIRE_MESSAGE(sb.ok(), std::string(sb.message()));
    for (index_t i = 0; i < 2; ++i)
      CHECK(test::gemm_mismatches(y2.select(0, i), want6, "batched, scratch on the stack") == 0);
  }
  p.threads = threading::serial();
  // M = 0 and N = 0 are no-ops, whatever the workspace.
  matrix c = test::output_matrix(5, 24, layout::row_major, 4.0f);
  const std::vector<float> before = c.buf;
  const matrix a = test::random_matrix(5, 40, layout::row_major, 1);
  const status s0 = gemm<B>(a.in().slice(0, 0, 0), w.in(), c.v.slice(0, 0, 0), epilogue::none{}, p);
  CHECK_MESSAGE(s0.ok(), std::string(s0.message()));
  const status s1 = gemm<B>(a.in(), w.in().slice(1, 0, 0), c.v.slice(1, 0, 0), epilogue::none{}, p);
  CHECK_MESSAGE(s1.ok(), std::string(s1.message()));
  const status s2 =
      gemm<B>(a.in().slice(0, 0, 0), pw.get(), c.v.slice(0, 0, 0), epilogue::none{}, p);
  CHECK_MESSAGE(s2.ok(), std::string(s2.message()));
  CHECK(test::bitwise_equal(c.buf, before));
}
TEST_CASE_TEMPLATE_APPLY(gemm_no_workspace_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm: NaN and Inf in A reach exactly their output row", B,
                          gemm_nonfinite_id) {
  // A NaN at A(i, k) makes row i of C all NaN and leaves the other rows finite; +Inf at A(i, k)
  // makes C(i, j) an infinity of the sign of B(k, j) (B has no zeros). Every path: GEMV (three
  // kinds), direct A/B, packed, prepacked, and a NaN in the second pass over K.
  struct nf_case {
    index_t m, n, k;
    layout a, b;
    b_form form;
  };
  const nf_case cases[] = {
      {1, 37, 20, layout::row_major, layout::row_major, b_form::plain},    // GEMV rows
      {1, 37, 20, layout::row_major, layout::transposed, b_form::plain},   // GEMV dots B^T
      {37, 1, 20, layout::row_major, layout::row_major, b_form::plain},    // GEMV dots A
      {3, 37, 20, layout::row_major, layout::row_major, b_form::plain},    // direct A and B
      {40, 37, 20, layout::transposed, layout::row_major, b_form::plain},  // direct B
      {90, 37, 20, layout::row_major, layout::transposed, b_form::plain},  // packed
      {20, 37, 20, layout::row_major, layout::row_major, b_form::packed_weights},
      {9, 19, 1200, layout::row_major, layout::row_major, b_form::plain},  // two passes over K
  };
  std::uint32_t seed = 17000;
  for (const auto& nc : cases)
    for (float special : {test::gemm_qnan, test::gemm_inf}) {
      CAPTURE(nc.m);
      CAPTURE(nc.n);
      CAPTURE(nc.k);
      CAPTURE(special);
      CAPTURE(test::name_of(nc.form));
      matrix a = test::random_matrix(nc.m, nc.k, nc.a, seed);
      matrix b = test::random_matrix(nc.k, nc.n, nc.b, seed + 1, 0.25f, 1.0f);
      for (index_t p = 1; p < nc.k; p += 2) b.v(p, (p / 2) % nc.n) *= -1.0f;  // both signs
      const index_t row = nc.m / 2, kk = nc.k - 1 - nc.k / 7;
      a.v(row, kk) = special;
      matrix c = test::output_matrix(nc.m, nc.n, layout::row_major);
      status st;
      packed_weights<B> w;
      if (nc.form == b_form::plain) {
        st = gemm<B>(a.in(), b.in(), c.v);
      } else {
        REQUIRE(w.pack(b.in()).ok());
        st = gemm<B>(a.in(), w.get(), c.v);
      }
      REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
      int wrong = 0;
      for (index_t i = 0; i < nc.m; ++i)
        for (index_t j = 0; j < nc.n; ++j) {
          const float v = c.v(i, j);
          bool ok;
          if (i != row)
            ok = std::isfinite(v);
          else if (std::isnan(special))
            ok = std::isnan(v);
          else
            ok = std::isinf(v) && (v > 0) == (b.v(kk, j) > 0);
          if (!ok && ++wrong <= 3) MESSAGE("c(" << i << ", " << j << ") = " << v);
        }
      CHECK(wrong == 0);
      seed += 2;
    }
}
TEST_CASE_TEMPLATE_APPLY(gemm_nonfinite_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("gemm: K = 0 gives epilogue(beta * C_in); M = 0 or N = 0 is a no-op", B,
                          gemm_empty_id) {
  const auto bias_v = test::random_floats(40, 5);
  for (index_t m : {index_t{1}, index_t{3}, index_t{37}})
    for (index_t n : {index_t{1}, index_t{17}, index_t{40}})
      for (b_form form : {b_form::plain, b_form::packed_storage}) {
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(test::name_of(form));
        const auto bias = make_view(bias_v.data(), {n});
        const epilogue::bias_col ep{bias};
        gemm_setup s;
        s.m = m, s.n = n, s.k = 0, s.form = form;
        // beta = 0: C = epilogue(0), C's NaN never read
        CHECK(test::run_gemm_case<B>(s, 1, ep, test::linear_nodes(1)) == 0);
        s.beta = 0.5f;  // in place
        CHECK(test::run_gemm_case<B>(s, 2, ep, test::linear_nodes(1)) == 0);
        s.beta = -3.0f, s.separate_c_in = true, s.c_in = layout::transposed;
        CHECK(test::run_gemm_case<B>(s, 3, ep, test::linear_nodes(1)) == 0);
        // K = 0 with a null pointer: A [m, 0] and B [0, n] hold no element.
        matrix c = test::output_matrix(m, n, layout::row_major);
        const status st = gemm<B>(view<const float, 2>(nullptr, dims<2>{m, 0}),
                                  view<const float, 2>(nullptr, dims<2>{0, n}), c.v, ep);
        REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
        int wrong = 0;
        for (index_t i = 0; i < m; ++i)
          for (index_t j = 0; j < n; ++j) wrong += c.v(i, j) != bias_v[std::size_t(j)];
        CHECK(wrong == 0);
      }
  // M = 0 or N = 0: nothing to compute, even with null data; the output stays untouched.
  const matrix a = test::random_matrix(5, 7, layout::row_major, 1);
  const matrix b = test::random_matrix(7, 6, layout::row_major, 2);
  matrix c = test::output_matrix(5, 6, layout::row_major, 4.0f);
  const std::vector<float> before = c.buf;
  gemm_params p;  // allow_allocation = false: gemm_no_workspace_id (a known bug)
  CHECK(gemm<B>(a.in().slice(0, 0, 0), b.in(), c.v.slice(0, 0, 0), epilogue::none{}, p).ok());
  CHECK(gemm<B>(a.in(), b.in().slice(1, 0, 0), c.v.slice(1, 0, 0), epilogue::none{}, p).ok());
  CHECK(gemm<B>(view<const float, 2>(nullptr, dims<2>{0, 7}), b.in(),
                view<float, 2>(nullptr, dims<2>{0, 6}))
            .ok());
  CHECK(gemm<B>(view<const float, 2>(nullptr, dims<2>{0, 0}),
                view<const float, 2>(nullptr, dims<2>{0, 0}),
                view<float, 2>(nullptr, dims<2>{0, 0}))
            .ok());
  packed_weights<B> w;
  REQUIRE(w.pack(b.in().slice(1, 0, 0)).ok());
  CHECK(gemm<B>(a.in(), w.get(), c.v.slice(1, 0, 0), epilogue::none{}, p).ok());
  CHECK(test::bitwise_equal(c.buf, before));
}
TEST_CASE_TEMPLATE_APPLY(gemm_empty_id, fusedops::test::compiled_backends_tuple);
