// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// rotary_embedding on every backend vs the double oracle: 3-D and 4-D layouts, rotate-half and
// interleaved, partial rotary dims, position ids / offset / per-token caches, odd head counts,
// strides, in place, 1 and 2 threads; and every bad argument.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/reference/rope.hpp"
#include "fusedops/rotary_embedding.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;
namespace tol = fusedops::test::tolerance;

constexpr float sentinel = -12345.5f;

enum class mode { ids, offset, per_token };

struct rope_case {
  int rank = 4;  // 3: [B, S, H·D]; 4: [B, H, S, D]
  index_t batch = 2, seq = 3, heads = 3, head_size = 16, rot = 0;
  bool interleaved = false;
  mode positions = mode::ids;
  index_t pad = 0;  // extra elements after every token (3-D) / every (b, h, s) row (4-D), and
                    // after every cache row
  int threads = 1;
  bool in_place = false;

  std::string str(const char* backend) const {
    return std::string(backend) + " rank " + std::to_string(rank) + " B" + std::to_string(batch) +
           " S" + std::to_string(seq) + " H" + std::to_string(heads) + " D" +
           std::to_string(head_size) + " rot " + std::to_string(rot) +
           (interleaved ? " interleaved" : " half") + " mode " + std::to_string(int(positions)) +
           " pad " + std::to_string(pad) + " threads " + std::to_string(threads) +
           (in_place ? " in place" : "");
  }
};

/// Runs one case and compares every element (padding included) with the oracle.
template <class B>
void run_case(const rope_case& k, std::uint32_t seed) {
  const std::string what = k.str(B::name);
  CAPTURE(what);
  const index_t Bn = k.batch, S = k.seq, H = k.heads, D = k.head_size;
  const index_t rot = k.rot == 0 ? D : k.rot, half = rot / 2;
  // x and y storage with padding; their 4-D [B, H, S, D] views for the oracle.
  index_t st4[4];
  index_t n;
  if (k.rank == 3) {
    const index_t tok = H * D + k.pad;
    st4[0] = S * tok, st4[1] = D, st4[2] = tok, st4[3] = 1;
    n = Bn * S * tok;
  } else {
    const index_t row = D + k.pad;
    st4[0] = H * S * row, st4[1] = S * row, st4[2] = row, st4[3] = 1;
    n = Bn * H * S * row;
  }
  auto xs = test::random_floats(std::size_t(n), seed, -2.f, 2.f);
  std::vector<float> ys(std::size_t(n), sentinel);
  const std::vector<float> x_orig = xs;
  float* yp = k.in_place ? xs.data() : ys.data();
  // caches
  const index_t max_pos = S + 9, cache_rows = k.positions == mode::per_token ? Bn * S : max_pos;
  const index_t crow = half + k.pad;
  std::vector<float> cs(std::size_t(cache_rows * crow)), sn(cs.size());
  const auto angles = test::random_floats(cs.size(), seed + 1, -3.2f, 3.2f);
  for (std::size_t i = 0; i < cs.size(); ++i)
    cs[i] = std::cos(angles[i]), sn[i] = std::sin(angles[i]);
  std::vector<std::int64_t> ids(std::size_t(Bn * S));
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i] = std::int64_t((i * 7 + 3) % std::size_t(max_pos));
  const index_t offset = k.positions == mode::offset ? 5 : 0;

  rotary_embedding_params p;
  p.interleaved = k.interleaved;
  p.rotary_embedding_dim = k.rot;
  p.num_heads = k.rank == 3 ? H : 0;
  p.threads = k.threads == 1 ? threading::serial() : threading::openmp(k.threads);
  if (k.positions == mode::ids)
    p.position_ids = make_view(static_cast<const std::int64_t*>(ids.data()), {Bn, S});
  if (k.positions == mode::offset) p.position_offset = offset;

  status st;
  if (k.rank == 3) {
    const index_t tok = H * D + k.pad;
    const auto x =
        make_view(static_cast<const float*>(xs.data()), {Bn, S, H * D}, {S * tok, tok, 1});
    const auto y = make_view(yp, {Bn, S, H * D}, {S * tok, tok, 1});
    if (k.positions == mode::per_token)
      st = rotary_embedding<B>(
          x, make_view(static_cast<const float*>(cs.data()), {Bn, S, half}, {S * crow, crow, 1}),
          make_view(static_cast<const float*>(sn.data()), {Bn, S, half}, {S * crow, crow, 1}), y,
          p);
    else
      st = rotary_embedding<B>(
          x, make_view(static_cast<const float*>(cs.data()), {max_pos, half}, {crow, 1}),
          make_view(static_cast<const float*>(sn.data()), {max_pos, half}, {crow, 1}), y, p);
  } else {
    const auto x =
        make_view(static_cast<const float*>(xs.data()), {Bn, H, S, D}, {st4[0], st4[1], st4[2], 1});
    const auto y = make_view(yp, {Bn, H, S, D}, {st4[0], st4[1], st4[2], 1});
    if (k.positions == mode::per_token)
      st = rotary_embedding<B>(
          x, make_view(static_cast<const float*>(cs.data()), {Bn, S, half}, {S * crow, crow, 1}),
          make_view(static_cast<const float*>(sn.data()), {Bn, S, half}, {S * crow, crow, 1}), y,
          p);
    else
      st = rotary_embedding<B>(
          x, make_view(static_cast<const float*>(cs.data()), {max_pos, half}, {crow, 1}),
          make_view(static_cast<const float*>(sn.data()), {max_pos, half}, {crow, 1}), y, p);
  }
  REQUIRE_MESSAGE(st.ok(), std::string(st.message()));

  // The oracle on the original x.
  const auto x4 = make_view(x_orig.data(), {Bn, H, S, D}, {st4[0], st4[1], st4[2], st4[3]});
  const bool per_token = k.positions == mode::per_token;
  const auto c3 = per_token ? make_view(cs.data(), {Bn, S, half}, {S * crow, crow, 1})
                            : make_view(cs.data(), {index_t{1}, max_pos, half}, {0, crow, 1});
  const auto s3 = per_token ? make_view(sn.data(), {Bn, S, half}, {S * crow, crow, 1})
                            : make_view(sn.data(), {index_t{1}, max_pos, half}, {0, crow, 1});
  reference::rope_positions pos;
  if (k.positions == mode::ids)
    pos.ids = make_view(static_cast<const std::int64_t*>(ids.data()), {Bn, S});
  pos.offset = offset;
  const auto want = reference::rotary_embedding(x4, c3, s3, per_token, pos, rot, k.interleaved);

  std::vector<char> covered(std::size_t(n), 0);
  int bad = 0;
  for (index_t b = 0; b < Bn; ++b)
    for (index_t h = 0; h < H; ++h)
      for (index_t s = 0; s < S; ++s) {
        const index_t row =
            per_token
                ? s
                : (k.positions == mode::ids ? index_t(ids[std::size_t(b * S + s)]) : offset + s);
        const index_t cb = per_token ? b : 0;
        for (index_t d = 0; d < D; ++d) {
          const index_t off = b * st4[0] + h * st4[1] + s * st4[2] + d;
          covered[std::size_t(off)] = 1;
          const double w = want[std::size_t(((b * H + h) * S + s) * D + d)];
          const double g = double(yp[off]);
          double bound = 0;  // pass-through: exact
          if (d < rot) {
            const index_t i = k.interleaved ? d / 2 : d % half;
            const index_t partner = k.interleaved ? (d ^ 1) : (d < half ? d + half : d - half);
            bound = tol::rope_y_bound(double(x4(b, h, s, d)), double(c3(cb, row, i)),
                                      double(x4(b, h, s, partner)), double(s3(cb, row, i)));
          }
          if (!tol::gemm_close(g, w, bound) && ++bad <= 3)
            MESSAGE("y[" << b << "," << h << "," << s << "," << d << "] = " << g << ", oracle " << w
                         << ", bound " << bound);
        }
      }
  CHECK(bad == 0);
  // Padding (elements no view covers) is untouched: the sentinel in y, the original x in place.
  int touched = 0;
  for (index_t i = 0; i < n; ++i)
    if (!covered[std::size_t(i)])
      touched += k.in_place ? std::memcmp(&yp[i], &x_orig[std::size_t(i)], sizeof(float)) != 0
                            : yp[i] != sentinel;
  CHECK(touched == 0);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("rotary_embedding vs reference: layouts, dims, positions", B,
                          rope_ref_id) {
  std::uint32_t seed = 1;
  constexpr index_t L = simd::lanes_of<float, B>;
  for (int rank : {3, 4})
    for (bool inter : {false, true})
      for (mode m : {mode::ids, mode::offset, mode::per_token})
        for (index_t D : {index_t{2}, index_t{16}, 2 * L + 6, index_t{64}, index_t{128},
                          index_t{256}})
          for (index_t rot : {index_t{0}, D / 2 + (D / 2) % 2, index_t{2}}) {
            rope_case k;
            k.rank = rank, k.interleaved = inter, k.positions = m, k.head_size = D, k.rot = rot;
            k.heads = (D % 3) + 1;  // 1, 2 or 3 heads: odd counts included
            run_case<B>(k, seed++);
          }
}
TEST_CASE_TEMPLATE_APPLY(rope_ref_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("rotary_embedding: strides, odd heads, threads, in place", B,
                          rope_misc_id) {
  std::uint32_t seed = 500;
  for (int rank : {3, 4})
    for (bool inter : {false, true})
      for (int threads : {1, 2})
        for (bool in_place : {false, true}) {
          rope_case k;
          k.rank = rank, k.interleaved = inter, k.threads = threads, k.in_place = in_place;
          k.batch = 3, k.seq = 5, k.heads = 7, k.head_size = 80, k.rot = 48, k.pad = 5;
          run_case<B>(k, seed++);
          k.heads = 1, k.head_size = 34, k.rot = 0, k.pad = 0, k.positions = mode::offset;
          run_case<B>(k, seed++);
        }
}
TEST_CASE_TEMPLATE_APPLY(rope_misc_id, fusedops::test::compiled_backends_tuple);

namespace {
struct rope_arena {
  static constexpr index_t Bn = 2, S = 3, H = 2, D = 8, P = 6;
  std::vector<float> x = std::vector<float>(std::size_t(Bn * S * H * D), 0.5f);
  std::vector<float> y = std::vector<float>(std::size_t(Bn * S * H * D * 2), sentinel);
  std::vector<float> c = std::vector<float>(std::size_t(P * D), 1.0f);
  std::vector<float> s = std::vector<float>(std::size_t(P * D), 0.0f);
  std::vector<std::int64_t> ids = std::vector<std::int64_t>(std::size_t(Bn * S), 1);
  view<const float, 4> x4() const { return make_view(x.data(), {Bn, H, S, D}); }
  view<float, 4> y4() { return make_view(y.data(), {Bn, H, S, D}); }
  view<const float, 3> x3() const { return make_view(x.data(), {Bn, S, H * D}); }
  view<float, 3> y3() { return make_view(y.data(), {Bn, S, H * D}); }
  view<const float, 2> cos2(index_t half = D / 2) const { return make_view(c.data(), {P, half}); }
  view<const float, 2> sin2(index_t half = D / 2) const { return make_view(s.data(), {P, half}); }
};

void expect_rope_error(const std::function<status(rope_arena&)>& call, errc code,
                       const std::vector<std::string>& needles) {
  rope_arena a;
  const auto y0 = a.y;
  const status st = call(a);
  const std::string msg = st.message();
  CAPTURE(msg);
  CHECK(st.code() == code);
  for (const auto& n : needles) CHECK_MESSAGE(msg.find(n) != std::string::npos, "missing: " << n);
  CHECK(std::memcmp(a.y.data(), y0.data(), y0.size() * sizeof(float)) == 0);
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("rotary_embedding: argument errors leave y untouched", B, rope_err_id) {
  using A = rope_arena;
  const char* op = "rotary_embedding";
  expect_rope_error([](A& a) { return rotary_embedding<B>(a.x3(), a.cos2(), a.sin2(), a.y3()); },
                    errc::invalid_argument, {op, "'num_heads'", "3-D"});
  expect_rope_error(
      [](A& a) {
        rotary_embedding_params p;
        p.num_heads = 3;  // 16 is not a multiple of 3
        return rotary_embedding<B>(a.x3(), a.cos2(), a.sin2(), a.y3(), p);
      },
      errc::shape_mismatch, {op, "'num_heads'", "[2, 3, 16]"});
  expect_rope_error(
      [](A& a) {
        rotary_embedding_params p;
        p.num_heads = 5;
        return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(), a.y4(), p);
      },
      errc::shape_mismatch, {op, "'num_heads'", "2 heads"});
  for (index_t rot : {index_t{3}, index_t{10}, index_t{-2}})
    expect_rope_error(
        [rot](A& a) {
          rotary_embedding_params p;
          p.rotary_embedding_dim = rot;
          return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(), a.y4(), p);
        },
        errc::invalid_argument, {op, "'rotary_embedding_dim'", std::to_string(rot)});
  expect_rope_error([](A& a) { return rotary_embedding<B>(a.x4(), a.cos2(3), a.sin2(3), a.y4()); },
                    errc::shape_mismatch, {op, "'cos_cache'", "[6, 3]", "= 4"});
  expect_rope_error([](A& a) { return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(3), a.y4()); },
                    errc::shape_mismatch, {op, "'sin_cache'", "[6, 3]"});
  expect_rope_error(
      [](A& a) {
        return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(),
                                   make_view(a.y.data(), {A::Bn, A::H, A::S, A::D - 2}));
      },
      errc::shape_mismatch, {op, "'y'"});
  expect_rope_error(
      [](A& a) {
        return rotary_embedding<B>(
            make_view(a.x.data(), {A::Bn, A::H, A::S, A::D / 2}, {48, 24, 8, 2}), a.cos2(2),
            a.sin2(2), make_view(a.y.data(), {A::Bn, A::H, A::S, A::D / 2}));
      },
      errc::bad_stride, {op, "'x'", "unit stride"});
  expect_rope_error(
      [](A& a) {
        return rotary_embedding<B>(
            a.x4(), make_view(static_cast<const float*>(a.c.data()), {A::P, A::D / 2}, {A::D, 2}),
            a.sin2(), a.y4());
      },
      errc::bad_stride, {op, "'cos_cache'"});
  expect_rope_error(
      [](A& a) {
        rotary_embedding_params p;
        a.ids[4] = A::P;  // one past the cache
        p.position_ids = make_view(static_cast<const std::int64_t*>(a.ids.data()), {A::Bn, A::S});
        return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(), a.y4(), p);
      },
      errc::invalid_argument, {op, "position_ids[1, 1] = 6", "[0, 6)"});
  expect_rope_error(
      [](A& a) {
        rotary_embedding_params p;
        a.ids[0] = -1;
        p.position_ids = make_view(static_cast<const std::int64_t*>(a.ids.data()), {A::Bn, A::S});
        return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(), a.y4(), p);
      },
      errc::invalid_argument, {op, "position_ids[0, 0] = -1"});
  expect_rope_error(
      [](A& a) {
        rotary_embedding_params p;
        p.position_ids =
            make_view(static_cast<const std::int64_t*>(a.ids.data()), {A::Bn, A::S - 1});
        return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(), a.y4(), p);
      },
      errc::shape_mismatch, {op, "'position_ids'", "[2, 2]"});
  expect_rope_error(
      [](A& a) {
        rotary_embedding_params p;
        p.position_ids = make_view(static_cast<const std::int64_t*>(a.ids.data()), {A::Bn, A::S});
        p.position_offset = 1;
        return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(), a.y4(), p);
      },
      errc::invalid_argument, {op, "'position_offset'"});
  for (index_t off : {index_t{-1}, index_t{4}})
    expect_rope_error(
        [off](A& a) {
          rotary_embedding_params p;
          p.position_offset = off;  // 4 + 3 tokens > 6 rows
          return rotary_embedding<B>(a.x4(), a.cos2(), a.sin2(), a.y4(), p);
        },
        errc::invalid_argument, {op, "'position_offset'", std::to_string(off)});
  expect_rope_error(
      [](A& a) {  // per-token caches of the wrong shape
        return rotary_embedding<B>(
            a.x4(), make_view(static_cast<const float*>(a.c.data()), {A::Bn, A::S + 1, A::D / 2}),
            make_view(static_cast<const float*>(a.s.data()), {A::Bn, A::S + 1, A::D / 2}), a.y4());
      },
      errc::shape_mismatch, {op, "'cos_cache'", "[2, 4, 4]", "[2, 3, 4]"});
  expect_rope_error(
      [](A& a) {
        rotary_embedding_params p;
        p.position_offset = 1;
        return rotary_embedding<B>(
            a.x4(), make_view(static_cast<const float*>(a.c.data()), {A::Bn, A::S, A::D / 2}),
            make_view(static_cast<const float*>(a.s.data()), {A::Bn, A::S, A::D / 2}), a.y4(), p);
      },
      errc::invalid_argument, {op, "per-token"});
  expect_rope_error(
      [](A& a) {  // y partially overlaps x
        auto x = make_view(static_cast<const float*>(a.y.data()), {A::Bn, A::H, A::S, A::D});
        return rotary_embedding<B>(x, a.cos2(), a.sin2(),
                                   make_view(a.y.data() + 8, {A::Bn, A::H, A::S, A::D}));
      },
      errc::invalid_argument, {op, "'y'", "'x'"});
  expect_rope_error(
      [](A& a) {  // y over the sin cache
        return rotary_embedding<B>(
            a.x4(), a.cos2(), make_view(static_cast<const float*>(a.y.data()), {A::P, A::D / 2}),
            a.y4());
      },
      errc::invalid_argument, {op, "'y'", "'sin_cache'"});
  expect_rope_error(
      [](A& a) {
        return rotary_embedding<B>(
            make_view(static_cast<const float*>(nullptr), {A::Bn, A::H, A::S, A::D}), a.cos2(),
            a.sin2(), a.y4());
      },
      errc::null_pointer, {op, "'x'"});
  // Empty input: nothing to do, not an error.
  rope_arena a;
  CHECK(rotary_embedding<B>(
            make_view(static_cast<const float*>(a.x.data()), {index_t{0}, A::H, A::S, A::D}),
            a.cos2(), a.sin2(), make_view(a.y.data(), {index_t{0}, A::H, A::S, A::D}))
            .ok());
}
TEST_CASE_TEMPLATE_APPLY(rope_err_id, fusedops::test::compiled_backends_tuple);
