// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// attention's argument checks: each bad argument gets its error code and a message naming the
// argument and the shapes, and the output is untouched (sentinel check). Plus the broadcasting
// helpers (attention_mask_view, split_heads).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/attention.hpp"
#include "support/random.hpp"

namespace {

using namespace fusedops;

constexpr float sentinel = -777.0f;

struct setup {
  index_t b = 2, hq = 4, hkv = 2, sq = 5, skv = 9, d = 8, dv = 8;
  std::vector<float> q, k, v, y;
  setup() { alloc(); }
  void alloc() {
    q = test::random_floats(std::size_t(b * hq * sq * d), 1);
    k = test::random_floats(std::size_t(b * hkv * skv * d), 2);
    v = test::random_floats(std::size_t(b * hkv * skv * dv), 3);
    y.assign(std::size_t(b * hq * sq * dv), sentinel);
  }
  view<const float, 4> qv() const { return make_view(q.data(), {b, hq, sq, d}); }
  view<const float, 4> kv() const { return make_view(k.data(), {b, hkv, skv, d}); }
  view<const float, 4> vv() const { return make_view(v.data(), {b, hkv, skv, dv}); }
  view<float, 4> yv() { return make_view(y.data(), {b, hq, sq, dv}); }
  bool untouched() const {
    return std::all_of(y.begin(), y.end(), [](float x) { return x == sentinel; });
  }
};

/// Expects code `code` and a message containing every string of `words`.
void expect_error(const status& s, errc code, std::initializer_list<const char*> words) {
  CHECK(s.code() == code);
  const std::string m = s.message();
  for (const char* w : words) CHECK_MESSAGE(m.find(w) != std::string::npos, m << " lacks " << w);
}

}  // namespace

TEST_CASE("attention errors: shapes of q, k, v and out") {
  setup s;
  SUBCASE("query heads not a multiple of key/value heads") {
    s.hq = 3, s.alloc();
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv()), errc::shape_mismatch,
                 {"attention", "multiple", "[2, 3, 5, 8]", "[2, 2, 9, 8]"});
  }
  SUBCASE("Dqk of k differs from q") {
    const auto k2 = make_view(s.k.data(), {s.b, s.hkv, s.skv / 2, 2 * s.d});
    expect_error(attention(s.qv(), k2, s.vv(), s.yv()), errc::shape_mismatch, {"'k'", "[2, 2, 4, 16]"});
  }
  SUBCASE("v's keys differ from k's") {
    const auto v2 = make_view(s.v.data(), {s.b, s.hkv, s.skv - 1, s.dv});
    expect_error(attention(s.qv(), s.kv(), v2, s.yv()), errc::shape_mismatch, {"'v'", "[2, 2, 8, 8]"});
  }
  SUBCASE("out shape") {
    const auto y2 = make_view(s.y.data(), {s.b, s.hq, s.sq - 1, s.dv});
    expect_error(attention(s.qv(), s.kv(), s.vv(), y2), errc::shape_mismatch, {"'out'", "[2, 4, 4, 8]"});
  }
  SUBCASE("out overlapping q") {
    std::vector<float> qy(s.y.size() + 8, 0.5f);
    const auto qq = make_view(static_cast<const float*>(qy.data()), {s.b, s.hq, s.sq, s.d});
    const auto yy = make_view(qy.data() + 8, {s.b, s.hq, s.sq, s.dv});
    expect_error(attention(qq, s.kv(), s.vv(), yy), errc::invalid_argument, {"overlaps", "'q'"});
  }
  SUBCASE("out with overlapping rows") {
    const auto y2 = view<float, 4>(s.y.data(), {s.b, s.hq, s.sq, s.dv}, {0, 0, 1, 1});
    expect_error(attention(s.qv(), s.kv(), s.vv(), y2), errc::bad_stride, {"'out'"});
  }
  CHECK(s.untouched());
}

TEST_CASE("attention errors: masks, lengths, attributes, workspace") {
  setup s;
  attention_params p;
  SUBCASE("float mask that does not broadcast") {
    std::vector<float> m(std::size_t(3 * s.skv), 0.0f);
    CHECK_FALSE(attention_mask_view<float, 2>(make_view(static_cast<const float*>(m.data()), {3, s.skv}),
                                              s.b, s.hq, s.sq)
                    .has_value());
    p.float_mask = view<const float, 4>(m.data(), {s.b, s.hq, 3, s.skv}, {0, 0, s.skv, 1});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::shape_mismatch,
                 {"'float_mask'", "[2, 4, 3, 9]", "[2, 4, 5, <= 9]"});
  }
  SUBCASE("bool mask longer than the keys") {
    std::vector<char> m(std::size_t(s.sq * (s.skv + 1)), 1);
    p.bool_mask = *attention_mask_view<bool, 2>(
        make_view(reinterpret_cast<const bool*>(m.data()), {s.sq, s.skv + 1}), s.b, s.hq, s.sq);
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::shape_mismatch, {"'bool_mask'"});
  }
  SUBCASE("nonpad_kv_seqlen out of range or mis-shaped") {
    std::vector<std::int64_t> lens = {3, 10};
    p.nonpad_kv_seqlen = make_view(static_cast<const std::int64_t*>(lens.data()), {2});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"nonpad_kv_seqlen[1]", "10", "[0, 9]"});
    p.nonpad_kv_seqlen = make_view(static_cast<const std::int64_t*>(lens.data()), {1});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::shape_mismatch,
                 {"'nonpad_kv_seqlen'", "[1]"});
  }
  SUBCASE("softcap, scale, window") {
    p.softcap = -1.0f;
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument, {"softcap"});
    p.softcap = 0.0f, p.scale = std::numeric_limits<float>::infinity();
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument, {"scale"});
    p.scale = 0.0f, p.window_left = -2;
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument, {"window"});
  }
  SUBCASE("workspace too small without allocation") {
    const std::size_t need = attention_workspace_size(s.qv(), s.kv(), s.vv(), s.yv(), p);
    REQUIRE(need > 0);
    std::vector<float> ws(need - 1);
    p.workspace = make_view(ws.data(), {index_t(ws.size())});
    p.allow_allocation = false;
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::buffer_too_small,
                 {"'workspace'", "attention_workspace_size"});
  }
  CHECK(s.untouched());
}

TEST_CASE("attention errors: score policies and qk_output") {
  setup s;
  attention_params p;
  std::vector<float> per_head(std::size_t(s.hq), 0.5f);
  std::vector<float> qk(std::size_t(s.b * s.hq * s.sq * s.skv), sentinel);
  auto qk_untouched = [&] {
    return std::all_of(qk.begin(), qk.end(), [](float x) { return x == sentinel; });
  };
  SUBCASE("alibi_slopes: shape, non-finite slope") {
    p.alibi_slopes = make_view(static_cast<const float*>(per_head.data()), {s.hq - 1});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::shape_mismatch,
                 {"'alibi_slopes'", "[3]", "[4]"});
    per_head[2] = std::numeric_limits<float>::quiet_NaN();
    p.alibi_slopes = make_view(static_cast<const float*>(per_head.data()), {s.hq});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"alibi_slopes[2]", "finite"});
    per_head[2] = std::numeric_limits<float>::infinity();
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"alibi_slopes[2]"});
  }
  SUBCASE("sinks: shape, NaN, +inf; -inf is accepted") {
    p.sinks = make_view(static_cast<const float*>(per_head.data()), {2});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::shape_mismatch,
                 {"'sinks'", "[2]", "[4]"});
    per_head[1] = std::numeric_limits<float>::infinity();
    p.sinks = make_view(static_cast<const float*>(per_head.data()), {s.hq});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"sinks[1]", "-inf"});
    per_head[1] = std::numeric_limits<float>::quiet_NaN();
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"sinks[1]"});
    CHECK(s.untouched());
    per_head[1] = -std::numeric_limits<float>::infinity();
    CHECK(attention(s.qv(), s.kv(), s.vv(), s.yv(), p).ok());
    s.y.assign(s.y.size(), sentinel);
  }
  SUBCASE("qk_output: shape, mode, overlap") {
    p.qk_output = make_view(qk.data(), {s.b, s.hq, s.sq, s.skv - 1});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::shape_mismatch,
                 {"'qk_output'", "[2, 4, 5, 8]", "[2, 4, 5, 9]"});
    p.qk_output = make_view(qk.data(), {s.b, s.hq, s.sq, s.skv});
    p.qk_output_mode = 4;
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"'qk_output_mode'", "4"});
    p.qk_output_mode = -1;
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"'qk_output_mode'"});
    p.qk_output_mode = 3;
    // qk_output over the output.
    std::vector<float> big(qk.size() + s.y.size(), sentinel);
    p.qk_output = make_view(big.data(), {s.b, s.hq, s.sq, s.skv});
    const auto y2 = make_view(big.data() + 16, {s.b, s.hq, s.sq, s.dv});
    expect_error(attention(s.qv(), s.kv(), s.vv(), y2, p), errc::invalid_argument,
                 {"'qk_output'", "overlaps", "'out'"});
    CHECK(std::all_of(big.begin(), big.end(), [](float x) { return x == sentinel; }));
    // Rows that overlap each other.
    p.qk_output = view<float, 4>(qk.data(), {s.b, s.hq, s.sq, s.skv}, {0, 0, 0, 1});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::bad_stride, {"'qk_output'"});
  }
  SUBCASE("qk_output over the float mask; the workspace error leaves qk_output untouched") {
    std::vector<float> m(qk.size(), 0.0f);
    p.float_mask = view<const float, 4>(m.data(), {s.b, s.hq, s.sq, s.skv},
                                        row_major_strides<4>(dims<4>{s.b, s.hq, s.sq, s.skv}));
    p.qk_output = make_view(m.data(), {s.b, s.hq, s.sq, s.skv});
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::invalid_argument,
                 {"'qk_output'", "overlaps", "'float_mask'"});
    p.float_mask = {};
    p.qk_output = make_view(qk.data(), {s.b, s.hq, s.sq, s.skv});
    const std::size_t need = attention_workspace_size(s.qv(), s.kv(), s.vv(), s.yv(), p);
    REQUIRE(need > 0);
    std::vector<float> ws(need - 1);
    p.workspace = make_view(ws.data(), {index_t(ws.size())});
    p.allow_allocation = false;
    expect_error(attention(s.qv(), s.kv(), s.vv(), s.yv(), p), errc::buffer_too_small,
                 {"'workspace'"});
  }
  CHECK(s.untouched());
  CHECK(qk_untouched());
}

TEST_CASE("attention helpers: attention_mask_view and split_heads") {
  std::vector<float> m(3 * 7);
  // 3-D [1, Sq, M] against B = 2, Hq = 4, Sq = 3: batch and heads broadcast with stride 0.
  const auto v3 = attention_mask_view<float, 3>(
      make_view(static_cast<const float*>(m.data()), {1, 3, 7}), 2, 4, 3);
  REQUIRE(v3.has_value());
  CHECK(v3->shape() == dims<4>{2, 4, 3, 7});
  CHECK(v3->strides() == dims<4>{0, 0, 7, 1});
  // 4-D [2, 1, 1, 7]: per batch, broadcast over heads and queries.
  std::vector<float> m4(2 * 7);
  const auto v4 = attention_mask_view<float, 4>(
      make_view(static_cast<const float*>(m4.data()), {2, 1, 1, 7}), 2, 4, 3);
  REQUIRE(v4.has_value());
  CHECK(v4->strides() == dims<4>{7, 0, 0, 1});
  CHECK_FALSE(attention_mask_view<float, 4>(
                  make_view(static_cast<const float*>(m4.data()), {2, 1, 1, 7}), 3, 4, 3)
                  .has_value());
  // split_heads: [B, S, H·D] → [B, H, S, D] without copies.
  std::vector<float> x(2 * 5 * 3 * 4);
  const auto h = split_heads(make_view(x.data(), {2, 5, 12}), 3);
  CHECK(h.shape() == dims<4>{2, 3, 5, 4});
  CHECK(&h(1, 2, 3, 1) == &x[std::size_t(1 * 60 + 3 * 12 + 2 * 4 + 1)]);
}
