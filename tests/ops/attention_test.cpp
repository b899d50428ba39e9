// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// attention on every backend vs the double oracle (reference::attention): random configurations
// over batch, head ratios (MHA, GQA 2/4, MQA), Sq/Skv, head sizes (Dv != Dqk too), layouts (4-D,
// 3-D [B, S, H·D], padded strides), masks (float / bool, ranks 2-4, short masks), causal with
// and without offset, windows, softcap, valid lengths, 1 and 2 threads (the flash-decoding split
// included); fully masked rows, NaN, the caller's workspace. Errors: attention_errors_test.cpp.
// Tolerance: tolerance.hpp (ATTENTION, attention_bound).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/attention.hpp"
#include "fusedops/reference/attention.hpp"
#include "support/attention_case.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;

#if FUSEDOPS_ARCH_AARCH64
constexpr int random_cases = 24;  // qemu is 20-50x slower
#else
constexpr int random_cases = 80;
#endif

constexpr float sentinel = 12345.0f;

enum class layout { bhsd, bshd, padded };
using test::mask_kind;

struct config : test::attention_case {
  layout lay = layout::bhsd;
  int mask_rank = 2;
  bool mask_bcast[3] = {false, false, false};  // rank 4/3: broadcast B / Hq / Sq
  index_t mask_len = -1;                       // -1: Skv

  std::string str() const {
    std::ostringstream o;
    o << attention_case::str() << " layout=" << int(lay) << " rank=" << mask_rank
      << " bcast=" << mask_bcast[0] << mask_bcast[1] << mask_bcast[2] << " mask_len=" << mask_len;
    return o.str();
  }
};

/// A tensor [B, H, S, D] in one of the layouts, in a buffer with sentinel-filled gaps.
struct tensor4 {
  std::vector<float> buf;
  view<float, 4> v;
  tensor4(index_t b, index_t h, index_t s, index_t d, layout lay) {
    dims<4> shape{b, h, s, d}, strides{};
    index_t size = 0;
    switch (lay) {
      case layout::bhsd:
        strides = row_major_strides<4>(shape), size = b * h * s * d;
        break;
      case layout::bshd:  // [B, S, H·D]
        strides = {s * h * d, d, h * d, 1}, size = b * h * s * d;
        break;
      case layout::padded:  // every dimension with slack, D still unit stride
        strides = {(h + 1) * (s + 2) * (d + 3), (s + 2) * (d + 3), d + 3, 1};
        size = (b + 1) * strides[0];
        break;
    }
    buf.assign(std::size_t(std::max<index_t>(size, 1)), sentinel);
    v = view<float, 4>(buf.data(), shape, strides);
  }
  void fill(std::uint32_t seed) {
    const auto r = test::random_floats(std::size_t(v.size()), seed);
    std::size_t n = 0;
    for (index_t a = 0; a < v.shape(0); ++a)
      for (index_t b = 0; b < v.shape(1); ++b)
        for (index_t c = 0; c < v.shape(2); ++c)
          for (index_t d = 0; d < v.shape(3); ++d) v(a, b, c, d) = r[n++];
  }
};

/// Builds the case's tensors, runs attention<B> and the oracle; returns the number of wrong
/// elements (including sentinel damage outside the output view).
template <class Bk>
int run_case(const config& c, std::uint32_t seed, bool nan_q = false, bool nan_k = false,
             bool nan_v = false) {
  tensor4 q(c.b, c.hq, c.sq, c.dqk, c.lay), k(c.b, c.hkv, c.skv, c.dqk, c.lay),
      v(c.b, c.hkv, c.skv, c.dv, c.lay), out(c.b, c.hq, c.sq, c.dv, c.lay);
  q.fill(seed), k.fill(seed + 1), v.fill(seed + 2);
  if (nan_q && q.v.size() > 0) q.v(0, 0, c.sq - 1, 0) = std::numeric_limits<float>::quiet_NaN();
  if (nan_k && k.v.size() > 0) k.v(0, 0, 0, c.dqk - 1) = std::numeric_limits<float>::quiet_NaN();
  if (nan_v && v.v.size() > 0) v.v(0, 0, 0, 0) = std::numeric_limits<float>::quiet_NaN();

  attention_params p;
  p.is_causal = c.causal, p.causal_offset = c.offset, p.window_left = c.left,
  p.window_right = c.right, p.softcap = c.softcap;
  p.threads = c.threads > 1 ? threading::openmp(c.threads) : threading::serial();

  // Masks in ONNX's rank-R shape, broadcast by attention_mask_view.
  const index_t mlen = c.mask_len < 0 ? c.skv : c.mask_len;
  std::vector<index_t> shape;
  if (c.mask_rank == 4) shape = {c.mask_bcast[0] ? 1 : c.b, c.mask_bcast[1] ? 1 : c.hq,
                                 c.mask_bcast[2] ? 1 : c.sq, mlen};
  if (c.mask_rank == 3) shape = {c.mask_bcast[1] ? 1 : c.hq, c.mask_bcast[2] ? 1 : c.sq, mlen};
  if (c.mask_rank == 2) shape = {c.sq, mlen};
  index_t mcount = 1;
  for (index_t e : shape) mcount *= e;
  std::vector<float> fm(std::size_t(std::max<index_t>(mcount, 1)));
  std::vector<char> bm_store(std::size_t(std::max<index_t>(mcount, 1)));
  std::mt19937 gen(seed + 7);
  for (auto& x : fm) {
    std::uniform_real_distribution<float> d(-2.f, 2.f);
    x = gen() % 10 == 0 ? -std::numeric_limits<float>::infinity() : d(gen);
  }
  for (auto& x : bm_store) x = gen() % 5 != 0;
  const bool* bm = reinterpret_cast<const bool*>(bm_store.data());
  auto as_view = [&](auto* data) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(data)>>;
    std::optional<view<const T, 4>> r;
    if (c.mask_rank == 2)
      r = attention_mask_view<T, 2>(make_view(data, {shape[0], shape[1]}), c.b, c.hq, c.sq);
    if (c.mask_rank == 3)
      r = attention_mask_view<T, 3>(make_view(data, {shape[0], shape[1], shape[2]}), c.b, c.hq, c.sq);
    if (c.mask_rank == 4)
      r = attention_mask_view<T, 4>(make_view(data, {shape[0], shape[1], shape[2], shape[3]}), c.b,
                                    c.hq, c.sq);
    REQUIRE(r.has_value());
    return *r;
  };
  if (c.mask == mask_kind::float_mask || c.mask == mask_kind::both)
    p.float_mask = as_view(static_cast<const float*>(fm.data()));
  if (c.mask == mask_kind::bool_mask || c.mask == mask_kind::both) p.bool_mask = as_view(bm);
  std::vector<std::int64_t> lens(std::size_t(c.b));
  for (auto& x : lens) x = std::int64_t(gen() % std::uint32_t(c.skv + 1));
  if (c.nonpad) p.nonpad_kv_seqlen = make_view(static_cast<const std::int64_t*>(lens.data()), {c.b});

  const status s = attention<Bk>(q.v, k.v, v.v, out.v, p);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const auto want = reference::attention(q.v, k.v, v.v, p);

  double mask_mag = 0;
  if (p.float_mask.data() != nullptr)
    for (float x : fm)
      if (std::isfinite(x)) mask_mag = std::max(mask_mag, double(std::fabs(x)));
  int bad = 0;
  std::vector<char> inside(out.buf.size(), 0);
  for (index_t b = 0; b < c.b; ++b)
    for (index_t h = 0; h < c.hq; ++h)
      for (index_t i = 0; i < c.sq; ++i) {
        const std::size_t row = std::size_t((b * c.hq + h) * c.sq + i);
        for (index_t d = 0; d < c.dv; ++d) {
          const std::size_t e = row * std::size_t(c.dv) + std::size_t(d);
          const float got = out.v(b, h, i, d);
          inside[std::size_t(&out.v(b, h, i, d) - out.buf.data())] = 1;
          const double w = want.y[e];
          const double bound = test::tolerance::attention_bound(
              want.abs_pv[e], want.max_abs[row], mask_mag, long(c.dqk), want.keys[row]);
          const bool ok = std::isnan(w) ? std::isnan(got) : std::fabs(double(got) - w) <= bound;
          if (!ok && bad++ < 3)
            MESSAGE(c.str() << ": out(" << b << "," << h << "," << i << "," << d << ") = " << got
                            << ", want " << w << " (bound " << bound << ")");
        }
      }
  for (std::size_t i = 0; i < out.buf.size(); ++i)
    if (!inside[i] && out.buf[i] != sentinel && bad++ < 3)
      MESSAGE(c.str() << ": wrote outside the output view at " << i);
  return bad;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("attention vs reference: random configurations", Bk, attn_random_id) {
  std::mt19937 gen(4);
  constexpr index_t seqs[] = {1, 2, 3, 17, 64, 65, 127, 300};
  constexpr index_t heads[] = {8, 32, 64, 80, 96, 128};
  std::uint32_t seed = 1000;
  int bad_cases = 0;
  for (int n = 0; n < random_cases; ++n) {
    config c;
    do {
      c.draw_shape(gen, seqs, heads, 3);
    } while (c.b * c.hq * c.sq * c.skv * (c.dqk + c.dv) > 3000000);
    c.lay = static_cast<layout>(gen() % 3);
    c.draw_masking(gen);
    c.mask_rank = 2 + int(gen() % 3);
    for (bool& x : c.mask_bcast) x = gen() % 2 == 0;
    if (gen() % 5 == 0 && c.skv > 3) c.mask_len = c.skv - 3;
    const int bad = run_case<Bk>(c, seed);
    seed += 5;
    CHECK_MESSAGE(bad == 0, c.str());
    bad_cases += bad != 0;
  }
  MESSAGE(std::string(Bk::name) << ": " << random_cases << " random attention configurations, "
                                << bad_cases << " failed");
}
TEST_CASE_TEMPLATE_APPLY(attn_random_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention vs reference: every mask kind and rank, causal, windows", Bk,
                          attn_masks_id) {
  std::uint32_t seed = 77;
  for (int kind = 0; kind < 4; ++kind)
    for (int rank = 2; rank <= 4; ++rank)
      for (int causal = 0; causal < 2; ++causal) {
        config c;
        c.b = 2, c.hq = 4, c.hkv = 2, c.sq = 17, c.skv = 65, c.dqk = 32, c.dv = 32;
        c.mask = static_cast<mask_kind>(kind), c.mask_rank = rank;
        c.mask_bcast[0] = rank == 4, c.mask_bcast[1] = false, c.mask_bcast[2] = rank == 3;
        c.causal = causal != 0;
        CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
        c.left = 9, c.right = causal ? -1 : 4;  // a window on top
        CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
        c.offset = 0;  // top-left causal (ONNX without a cache)
        CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      }
  // Long sequences: many key blocks skipped by the causal rule and the window, valid lengths.
  for (int t = 1; t <= 2; ++t) {
    config c;
    c.b = 2, c.hq = 8, c.hkv = 2, c.sq = 300, c.skv = 300, c.dqk = 64, c.dv = 64, c.causal = true;
    c.threads = t;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
    c.left = 70;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
    c.left = -1, c.nonpad = true, c.sq = 3;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
  }
}
TEST_CASE_TEMPLATE_APPLY(attn_masks_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention: decode split over keys (flash-decoding) matches", Bk,
                          attn_split_id) {
  using impl = impl_for_t<ops::attention_op, Bk>;
  std::uint32_t seed = 500;
  for (index_t skv : {300, 1000}) {
    for (index_t hq : {1, 4}) {
      config c;
      c.b = 1, c.hq = hq, c.hkv = 1, c.sq = 1, c.skv = skv, c.dqk = 64, c.dv = 80, c.threads = 2;
      // The plan splits the keys at 2 threads (so the merge path runs in this test).
      ops::attention_problem pr;
      pr.batch = 1, pr.hq = hq, pr.hkv = 1, pr.group = hq, pr.sq = 1, pr.skv = skv, pr.dqk = 64,
      pr.dv = 80;
      CHECK(impl::make_plan(pr, 2).splits > 1);
      CHECK(run_case<Bk>(c, seed++) == 0);
      c.causal = true, c.left = 100;  // window: most splits see no key
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      c.mask = mask_kind::bool_mask, c.nonpad = true;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(attn_split_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention: long decode, several 1024-key blocks of the dot path", Bk,
                          attn_long_decode_id) {
  // Units of at most 4 rows with V rows of whole vectors take 1024-key blocks (tile_loop.hpp,
  // decode_block_keys): 2500 keys are two full blocks and a partial one, and the masks, the
  // window edge and the valid length fall inside blocks, beyond the first vector offsets.
  std::uint32_t seed = 900;
  for (int t = 1; t <= 2; ++t)
    for (index_t hq : {4, 2}) {  // 4 heads x 1 query, or 2 heads x 2 queries (causal rows differ)
      config c;
      c.b = 2, c.hq = hq, c.hkv = 1, c.sq = 4 / hq, c.skv = 2500, c.dqk = 64, c.dv = 32;
      c.threads = t;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      c.causal = true, c.left = 1500;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      c.left = -1, c.mask = mask_kind::float_mask, c.softcap = 20.0f;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      c.mask = mask_kind::bool_mask, c.softcap = 0.0f, c.nonpad = true;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
    }
}
TEST_CASE_TEMPLATE_APPLY(attn_long_decode_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention: fully masked rows are zero, NaN propagates", Bk,
                          attn_special_id) {
  const index_t B = 1, H = 2, S = 5, K = 70, D = 16;
  auto q = test::random_floats(std::size_t(B * H * S * D), 1);
  auto k = test::random_floats(std::size_t(B * H * K * D), 2);
  auto v = test::random_floats(std::size_t(B * H * K * D), 3);
  std::vector<float> y(std::size_t(B * H * S * D), sentinel);
  const auto qv = make_view(static_cast<const float*>(q.data()), {B, H, S, D});
  const auto kv = make_view(static_cast<const float*>(k.data()), {B, H, K, D});
  const auto vv = make_view(static_cast<const float*>(v.data()), {B, H, K, D});
  const auto yv = make_view(y.data(), {B, H, S, D});

  SUBCASE("float mask of -inf on a row, bool mask false on another, empty window") {
    std::vector<float> fm(std::size_t(S * K), 0.0f);
    for (index_t j = 0; j < K; ++j) fm[std::size_t(1 * K + j)] = -std::numeric_limits<float>::infinity();
    std::vector<char> bm(std::size_t(S * K), 1);
    for (index_t j = 0; j < K; ++j) bm[std::size_t(3 * K + j)] = 0;
    attention_params p;
    p.float_mask = *attention_mask_view<float, 2>(make_view(static_cast<const float*>(fm.data()), {S, K}), B, H, S);
    p.bool_mask = *attention_mask_view<bool, 2>(
        make_view(reinterpret_cast<const bool*>(bm.data()), {S, K}), B, H, S);
    REQUIRE(attention<Bk>(qv, kv, vv, yv, p).ok());
    for (index_t h = 0; h < H; ++h)
      for (index_t i = 0; i < S; ++i)
        for (index_t d = 0; d < D; ++d) {
          const float x = yv(0, h, i, d);
          if (i == 1 || i == 3) CHECK(x == 0.0f);
          else CHECK((std::isfinite(x) && x != 0.0f));
        }
    // A window that reaches no valid key, and valid length 0: zero rows too.
    attention_params w;
    w.causal_offset = -10, w.is_causal = true;  // query i sits at i - 10: rows 0..4 see nothing
    REQUIRE(attention<Bk>(qv, kv, vv, yv, w).ok());
    CHECK(std::all_of(y.begin(), y.end(), [](float x) { return x == 0.0f; }));
    std::fill(y.begin(), y.end(), sentinel);
    std::int64_t zero = 0;
    attention_params z;
    z.nonpad_kv_seqlen = make_view(static_cast<const std::int64_t*>(&zero), {1});
    REQUIRE(attention<Bk>(qv, kv, vv, yv, z).ok());
    CHECK(std::all_of(y.begin(), y.end(), [](float x) { return x == 0.0f; }));
  }
  SUBCASE("NaN in Q, K or V") {
    config c;
    c.b = 1, c.hq = 2, c.hkv = 1, c.sq = 5, c.skv = 70, c.dqk = 16, c.dv = 16;
    CHECK(run_case<Bk>(c, 11, true, false, false) == 0);
    CHECK(run_case<Bk>(c, 12, false, true, false) == 0);
    CHECK(run_case<Bk>(c, 13, false, false, true) == 0);
    c.causal = true;  // NaN key 0 is attended by every row, NaN value column 0 reaches all
    CHECK(run_case<Bk>(c, 14, false, true, true) == 0);
    // Whole key blocks with no mask (the score rows that skip the modifiers and keep a running
    // max that does not itself propagate NaN): GEMM tiles (33 rows) and decode (4 heads, 1 row).
    config full;
    full.b = 1, full.hq = 4, full.hkv = 1, full.sq = 33, full.skv = 256, full.dqk = 64,
    full.dv = 64;
    CHECK(run_case<Bk>(full, 15, true, false, false) == 0);
    CHECK(run_case<Bk>(full, 16, false, true, false) == 0);
    full.sq = 1;
    CHECK(run_case<Bk>(full, 17, true, false, false) == 0);
    CHECK(run_case<Bk>(full, 18, false, true, false) == 0);
    // The oracle's NaN rows are really NaN here (the comparison above treats NaN == NaN).
    tensor4 q2(1, 1, 1, 8, layout::bhsd), k2(1, 1, 3, 8, layout::bhsd), v2(1, 1, 3, 8, layout::bhsd),
        o2(1, 1, 1, 8, layout::bhsd);
    q2.fill(1), k2.fill(2), v2.fill(3);
    v2.v(0, 0, 1, 2) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE(attention<Bk>(q2.v, k2.v, v2.v, o2.v).ok());
    CHECK(std::isnan(o2.v(0, 0, 0, 2)));
    CHECK(std::isfinite(o2.v(0, 0, 0, 1)));
  }
}
TEST_CASE_TEMPLATE_APPLY(attn_special_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention: caller workspace, no allocation", Bk, attn_ws_id) {
  const index_t B = 2, Hq = 8, Hkv = 2, S = 33, K = 130, D = 32;
  tensor4 q(B, Hq, S, D, layout::bhsd), k(B, Hkv, K, D, layout::bhsd), v(B, Hkv, K, D, layout::bhsd),
      out(B, Hq, S, D, layout::bhsd), ref(B, Hq, S, D, layout::bhsd);
  q.fill(5), k.fill(6), v.fill(7);
  for (int threads : {1, 2}) {
    std::fill(out.buf.begin(), out.buf.end(), sentinel);
    attention_params p;
    p.is_causal = true;
    p.threads = threads > 1 ? threading::openmp(threads) : threading::serial();
    REQUIRE(attention<Bk>(q.v, k.v, v.v, ref.v, p).ok());
    const std::size_t need = attention_workspace_size<Bk>(q.v, k.v, v.v, out.v, p);
    CHECK(need > 0);
    std::vector<float> ws(need);
    p.allow_allocation = false;
    p.workspace = make_view(ws.data(), {index_t(need) - 1});
    const status s = attention<Bk>(q.v, k.v, v.v, out.v, p);
    CHECK(s.code() == errc::buffer_too_small);
    CHECK(std::string(s.message()).find("attention_workspace_size") != std::string::npos);
    CHECK(std::all_of(out.buf.begin(), out.buf.end(), [](float x) { return x == sentinel; }));
    p.workspace = make_view(ws.data(), {index_t(need)});
    REQUIRE(attention<Bk>(q.v, k.v, v.v, out.v, p).ok());
    CHECK(out.buf == ref.buf);  // same plan, same arithmetic: bit-identical
  }
}
TEST_CASE_TEMPLATE_APPLY(attn_ws_id, fusedops::test::compiled_backends_tuple);
