// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// gemm's argument checks on every backend: each bad argument gives its own error code and a
// message naming the operator and the argument, and the output (and packed storage) stays
// exactly as it was. Epilogue types: none, test::linear_chain and swiglu only (each epilogue
// type adds compile time for every backend).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/gemm.hpp"
#include "support/backends.hpp"
#include "support/gemm_case.hpp"

namespace {

using namespace fusedops;
using test::layout;
using test::matrix;

constexpr float filler = 7.25f;

/// Checks a failed status: code, "gemm" (or the named op) and every needle in the message, and
/// that `buf` still equals `before` bit for bit.
void check_error(const status& st, errc code, const std::vector<std::string>& needles,
                 const std::vector<float>& buf, const std::vector<float>& before,
                 const char* op = "gemm") {
  const std::string msg = st.message();
  CAPTURE(msg);
  CHECK_FALSE(st.ok());
  CHECK(std::string(to_string(st.code())) == to_string(code));
  CHECK(msg.find(op) != std::string::npos);
  for (const auto& needle : needles) {
    CAPTURE(needle);
    CHECK(msg.find(needle) != std::string::npos);
  }
  CHECK(test::bitwise_equal(buf, before));
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("gemm: bad arguments are reported and C is untouched", B,
                          gemm_errors_id) {
  constexpr index_t m = 6, n = 20, k = 9;
  const matrix a = test::random_matrix(m, k, layout::row_major, 1);
  const matrix b = test::random_matrix(k, n, layout::row_major, 2);
  const matrix b_gated = test::random_matrix(k, 2 * n, layout::row_major, 3);
  // C lives in a larger buffer so that wrong shapes and strides stay inside it.
  std::vector<float> cbuf(std::size_t((m + 2) * (2 * n + 4)), filler);
  const std::vector<float> before = cbuf;
  const view<float, 2> c(cbuf.data(), dims<2>{m, n});
  const auto bias = test::random_floats(2 * n + 2, 4);
  const auto rbuf = test::random_floats(std::size_t((m + 1) * (n + 1)), 5);
  // Valid neutral epilogue arguments; one of them is replaced by a bad one per check.
  const std::vector<float> zeros(std::size_t((m + 1) * (n + 1)), 0.0f);
  const auto ok_col = make_view(zeros.data(), {n}), ok_row = make_view(zeros.data(), {m});
  const auto ok_r = make_view(zeros.data(), {m, n});
  auto lin = [](view<const float, 1> col, view<const float, 1> row, view<const float, 2> r) {
    return test::make_linear_chain(1.0f, col, row, r);
  };
  packed_weights<B> plain_w, gated_w;
  REQUIRE(plain_w.pack(b.in()).ok());
  REQUIRE(gated_w.pack_gated(b_gated.in().slice(1, 0, n), b_gated.in().slice(1, n, 2 * n)).ok());

  SUBCASE("inner dimensions (K) disagree") {
    const matrix b10 = test::random_matrix(k + 1, n, layout::row_major, 6);
    check_error(gemm<B>(a.in(), b10.in(), c), errc::shape_mismatch, {"'a'", "'b'", "[6, 9]", "10"},
                cbuf, before);
    packed_weights<B> w10;
    REQUIRE(w10.pack(b10.in()).ok());
    check_error(gemm<B>(a.in(), w10.get(), c), errc::shape_mismatch, {"'a'", "'b'", "[6, 9]"}, cbuf,
                before);
  }
  SUBCASE("output of the wrong shape") {
    check_error(gemm<B>(a.in(), b.in(), view<float, 2>(cbuf.data(), dims<2>{m, n + 1})),
                errc::shape_mismatch, {"'c'", "[6, 21]", "[6, 20]"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), view<float, 2>(cbuf.data(), dims<2>{m + 1, n})),
                errc::shape_mismatch, {"'c'", "[7, 20]", "[6, 20]"}, cbuf, before);
    check_error(gemm<B>(a.in(), plain_w.get(), view<float, 2>(cbuf.data(), dims<2>{m, n - 1})),
                errc::shape_mismatch, {"'c'", "[6, 19]"}, cbuf, before);
  }
  SUBCASE("leading dimension smaller than the row") {
    check_error(
        gemm<B>(view<const float, 2>(a.v.data(), dims<2>{m, k}, dims<2>{k - 1, 1}), b.in(), c),
        errc::bad_stride, {"'a'", "[6, 9]", "leading dimension"}, cbuf, before);
    check_error(
        gemm<B>(a.in(), view<const float, 2>(b.v.data(), dims<2>{k, n}, dims<2>{n - 1, 1}), c),
        errc::bad_stride, {"'b'", "[9, 20]", "leading dimension"}, cbuf, before);
    check_error(
        gemm<B>(a.in(), b.in(), view<float, 2>(cbuf.data(), dims<2>{m, n}, dims<2>{n - 1, 1})),
        errc::bad_stride, {"'c'", "[6, 20]"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), view<float, 2>(cbuf.data(), dims<2>{m, n}, dims<2>{0, 1})),
                errc::bad_stride, {"'c'"}, cbuf, before);
    check_error(gemm<B>(view<const float, 2>(a.v.data(), dims<2>{m, k}, dims<2>{0, 1}), b.in(), c),
                errc::bad_stride, {"'a'"}, cbuf, before);  // inputs may not broadcast either
  }
  SUBCASE("null data pointers with a non-empty shape") {
    check_error(gemm<B>(view<const float, 2>(nullptr, dims<2>{m, k}), b.in(), c),
                errc::null_pointer, {"'a'", "[6, 9]", "null"}, cbuf, before);
    check_error(gemm<B>(a.in(), view<const float, 2>(nullptr, dims<2>{k, n}), c),
                errc::null_pointer, {"'b'", "[9, 20]", "null"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), view<float, 2>(nullptr, dims<2>{m, n})), errc::null_pointer,
                {"'c'", "[6, 20]", "null"}, cbuf, before);
    gemm_params p;
    p.beta = 1.0f, p.c_in = view<const float, 2>(nullptr, dims<2>{m, n});
    check_error(gemm<B>(a.in(), b.in(), c, epilogue::none{}, p), errc::null_pointer, {"'c_in'"},
                cbuf, before);
    p = {};
    p.workspace = view<float, 1>(nullptr, dims<1>{100});
    check_error(gemm<B>(a.in(), b.in(), c, epilogue::none{}, p), errc::null_pointer,
                {"'workspace'"}, cbuf, before);
    check_error(
        gemm<B>(a.in(), b.in(), c, lin(view<const float, 1>(nullptr, dims<1>{n}), ok_row, ok_r)),
        errc::null_pointer, {"'bias_col.bias'"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), c,
                        lin(ok_col, ok_row, view<const float, 2>(nullptr, dims<2>{m, n}))),
                errc::null_pointer, {"'residual.r'"}, cbuf, before);
    check_error(gemm<B>(a.in(), packed_b<B>::adopt(nullptr, k, n, false), c), errc::null_pointer,
                {"'b'"}, cbuf, before);
  }
  SUBCASE("negative extents") {
    check_error(gemm<B>(view<const float, 2>(a.v.data(), dims<2>{-1, k}), b.in(), c),
                errc::invalid_argument, {"'a'", "negative"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), view<float, 2>(cbuf.data(), dims<2>{m, -n})),
                errc::invalid_argument, {"'c'", "negative"}, cbuf, before);
  }
  SUBCASE("pack_b into storage that is too small") {
    const std::size_t need = packed_b_size<B>(k, n);
    std::vector<float> storage(need - 1, filler);
    const std::vector<float> storage_before = storage;
    packed_b<B> out;
    check_error(pack_b<B>(b.in(), view<float, 1>(storage.data(), dims<1>{index_t(need - 1)}), out),
                errc::buffer_too_small, {"'storage'", std::to_string(need)}, storage,
                storage_before, "pack_b");
    CHECK(out.data() == nullptr);
    const std::size_t need_g = packed_b_size<B>(k, n, true);
    std::vector<float> storage_g(need_g - 1, filler);
    const std::vector<float> storage_g_before = storage_g;
    check_error(
        pack_b_gated<B>(b_gated.in().slice(1, 0, n), b_gated.in().slice(1, n, 2 * n),
                        view<float, 1>(storage_g.data(), dims<1>{index_t(need_g - 1)}), out),
        errc::buffer_too_small, {"'storage'", std::to_string(need_g)}, storage_g, storage_g_before,
        "pack_b_gated");
    CHECK(out.data() == nullptr);
    // gate and up of different shapes; storage overlapping the matrix it packs
    check_error(
        pack_b_gated<B>(b_gated.in().slice(1, 0, n), b_gated.in().slice(1, n, 2 * n - 1),
                        view<float, 1>(storage_g.data(), dims<1>{index_t(need_g - 1)}), out),
        errc::shape_mismatch, {"'up'", "[9, 19]", "[9, 20]"}, storage_g, storage_g_before,
        "pack_b_gated");
    std::vector<float> shared(2 * need + std::size_t(k * n), filler);
    const view<const float, 2> b_in_shared(shared.data(), dims<2>{k, n});
    const std::vector<float> shared_before = shared;
    check_error(
        pack_b<B>(b_in_shared, view<float, 1>(shared.data() + 1, dims<1>{index_t(need)}), out),
        errc::invalid_argument, {"'storage'", "overlaps"}, shared, shared_before, "pack_b");
  }
  SUBCASE("output overlapping an input") {
    std::vector<float> buf(std::size_t(m * k + m * n + 8), filler);
    const view<const float, 2> a_in(buf.data(), dims<2>{m, k});
    std::copy(a.buf.begin(), a.buf.end(), buf.begin());  // real values; buf_before is the filler
    const std::vector<float> with_a = buf;
    check_error(gemm<B>(a_in, b.in(), view<float, 2>(buf.data() + m * k - 3, dims<2>{m, n})),
                errc::invalid_argument, {"'c'", "'a'", "overlaps"}, buf, with_a);
    std::vector<float> bbuf(std::size_t(k * n + m * n), filler);
    const view<const float, 2> b_in(bbuf.data(), dims<2>{k, n});
    const std::vector<float> bbuf_before = bbuf;
    check_error(gemm<B>(a.in(), b_in, view<float, 2>(bbuf.data() + 5, dims<2>{m, n})),
                errc::invalid_argument, {"'c'", "'b'", "overlaps"}, bbuf, bbuf_before);
    // C written over the packed weights' storage
    std::vector<float> storage(packed_b_size<B>(k, n) + std::size_t(m * n), filler);
    packed_b<B> pk;
    REQUIRE(pack_b<B>(b.in(), view<float, 1>(storage.data(), dims<1>{index_t(storage.size())}), pk)
                .ok());
    const std::vector<float> storage_before = storage;
    check_error(gemm<B>(a.in(), pk, view<float, 2>(storage.data() + 2, dims<2>{m, n})),
                errc::invalid_argument, {"'c'", "'b'"}, storage, storage_before);
    // c_in partially overlapping C (the same view would be in place, which is allowed)
    gemm_params p;
    p.beta = 0.5f, p.c_in = view<const float, 2>(cbuf.data() + 1, dims<2>{m, n});
    check_error(gemm<B>(a.in(), b.in(), c, epilogue::none{}, p), errc::invalid_argument,
                {"'c_in'", "'c'"}, cbuf, before);
  }
  SUBCASE("epilogue arguments") {
    check_error(gemm<B>(a.in(), b.in(), c, lin(make_view(bias.data(), {n - 1}), ok_row, ok_r)),
                errc::shape_mismatch, {"'bias_col.bias'", "[19]", "[20]", "[6, 20]"}, cbuf, before);
    check_error(
        gemm<B>(a.in(), plain_w.get(), c, lin(make_view(bias.data(), {n + 1}), ok_row, ok_r)),
        errc::shape_mismatch, {"'bias_col.bias'", "[21]"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), c, lin(ok_col, make_view(bias.data(), {m + 1}), ok_r)),
                errc::shape_mismatch, {"'bias_row.bias'", "[7]", "[6]"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), c, lin(ok_col, ok_row, make_view(rbuf.data(), {m, n + 1}))),
                errc::shape_mismatch, {"'residual.r'", "[6, 21]", "[6, 20]"}, cbuf, before);
    // a residual that overlaps the output (even exactly: C may be written in several passes)
    check_error(gemm<B>(a.in(), b.in(), c, lin(ok_col, ok_row, view<const float, 2>(c))),
                errc::invalid_argument, {"'residual.r'", "overlaps"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), c,
                        lin(ok_col, ok_row, view<const float, 2>(cbuf.data() + n, dims<2>{m, n}))),
                errc::invalid_argument, {"'residual.r'", "overlaps"}, cbuf, before);
    // biases inside the output
    check_error(gemm<B>(a.in(), b.in(), c,
                        lin(view<const float, 1>(cbuf.data() + 3, dims<1>{n}), ok_row, ok_r)),
                errc::invalid_argument, {"'bias_col.bias'"}, cbuf, before);
    check_error(gemm<B>(a.in(), b.in(), c,
                        lin(ok_col, view<const float, 1>(cbuf.data() + 3 * n, dims<1>{m}), ok_r)),
                errc::invalid_argument, {"'bias_row.bias'"}, cbuf, before);
  }
  SUBCASE("c_in of the wrong shape or strides") {
    gemm_params p;
    p.beta = 1.0f;
    const matrix c_in = test::random_matrix(m, n + 1, layout::row_major, 7);
    p.c_in = c_in.in();
    check_error(gemm<B>(a.in(), b.in(), c, epilogue::none{}, p), errc::shape_mismatch,
                {"'c_in'", "[6, 21]", "broadcast_c"}, cbuf, before);
    p.c_in = view<const float, 2>(c_in.v.data(), dims<2>{m, n}, dims<2>{n - 2, 1});
    check_error(gemm<B>(a.in(), b.in(), c, epilogue::none{}, p), errc::bad_stride, {"'c_in'"}, cbuf,
                before);
  }
  SUBCASE("workspace") {
    gemm_params p;
    std::vector<float> ws(4096, 0.0f);
    p.workspace = view<float, 1>(ws.data(), dims<1>{2048}, dims<1>{2});
    check_error(gemm<B>(a.in(), b.in(), c, epilogue::none{}, p), errc::bad_stride,
                {"'workspace'", "contiguous"}, cbuf, before);
  }
  SUBCASE("gated epilogues") {
    // B must be [K, 2N]
    check_error(gemm<B>(a.in(), b.in(), c, epilogue::swiglu{}), errc::shape_mismatch,
                {"'b'", "40", "20"}, cbuf, before);
    const matrix b41 = test::random_matrix(k, 2 * n + 1, layout::row_major, 8);
    check_error(gemm<B>(a.in(), b41.in(), c, epilogue::swiglu{}), errc::shape_mismatch,
                {"'b'", "41"}, cbuf, before);
    // packed weights must match the epilogue, both ways
    check_error(gemm<B>(a.in(), plain_w.get(), c, epilogue::swiglu{}), errc::invalid_argument,
                {"pack_b_gated"}, cbuf, before);
    check_error(gemm<B>(a.in(), gated_w.get(), c), errc::invalid_argument, {"gated epilogue"}, cbuf,
                before);
    check_error(gemm<B>(a.in(), gated_w.get(), c, lin(ok_col, ok_row, ok_r)),
                errc::invalid_argument, {"gated epilogue"}, cbuf, before);
    // beta != 0 is not supported with a gated epilogue
    gemm_params p;
    p.beta = 1.0f;
    check_error(gemm<B>(a.in(), b_gated.in(), c, epilogue::swiglu{}, p), errc::unsupported,
                {"beta"}, cbuf, before);
    check_error(gemm<B>(a.in(), gated_w.get(), c, epilogue::swiglu{}, p), errc::unsupported,
                {"beta"}, cbuf, before);
    // gate / up biases of the wrong length
    check_error(
        gemm<B>(a.in(), b_gated.in(), c, epilogue::swiglu{{}, make_view(bias.data(), {2 * n}), {}}),
        errc::shape_mismatch, {"'gated.bias_gate'", "[40]", "[20]"}, cbuf, before);
    check_error(gemm<B>(a.in(), gated_w.get(), c,
                        epilogue::swiglu{{}, {}, make_view(bias.data(), {n - 1})}),
                errc::shape_mismatch, {"'gated.bias_up'", "[19]"}, cbuf, before);
  }
  SUBCASE("gemm_batched") {
    std::vector<float> abuf(std::size_t(3 * m * k), 0.5f), bbuf(std::size_t(3 * k * n), 0.25f);
    std::vector<float> c3buf(std::size_t(3 * m * n), filler);
    const std::vector<float> c3_before = c3buf;
    const view<float, 3> c3(c3buf.data(), dims<3>{3, m, n});
    const view<const float, 3> b3(bbuf.data(), dims<3>{3, k, n});
    check_error(gemm_batched<B>(view<const float, 3>(abuf.data(), dims<3>{2, m, k}), b3, c3),
                errc::shape_mismatch, {"'a'", "[2, 6, 9]"}, c3buf, c3_before, "gemm_batched");
    check_error(gemm_batched<B>(view<const float, 3>(abuf.data(), dims<3>{3, m, k}),
                                view<const float, 3>(bbuf.data(), dims<3>{2, k, n}), c3),
                errc::shape_mismatch, {"'b'"}, c3buf, c3_before, "gemm_batched");
    check_error(gemm_batched<B>(view<const float, 3>(abuf.data(), dims<3>{3, m, k - 1}), b3, c3),
                errc::shape_mismatch, {"'a'", "'b'"}, c3buf, c3_before);
    check_error(gemm_batched<B>(view<const float, 3>(c3buf.data() + 4, dims<3>{3, m, k}), b3, c3),
                errc::invalid_argument, {"'c'", "'a'"}, c3buf, c3_before);
    check_error(gemm_batched<B>(view<const float, 3>(abuf.data(), dims<3>{3, m, k}), plain_w.get(),
                                c3, epilogue::swiglu{}),
                errc::invalid_argument, {"pack_b_gated"}, c3buf, c3_before);
  }
}
TEST_CASE_TEMPLATE_APPLY(gemm_errors_id, fusedops::test::compiled_backends_tuple);
