// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// attention's score modifiers beyond ONNX (ALiBi slopes, attention sinks, a user score functor)
// and the debugging output qk_output (ONNX qk_matmul_output_mode 0-3), on every backend against
// the double oracle (reference::attention): random shapes (Sq/Skv in {1, 3, 17, 65, 130}, MHA,
// GQA, MQA), causal with and without offset, windows, valid lengths, float/bool masks combined
// with each policy, 1 and 2 threads (Sq = 1 with long Skv at 2 threads runs the flash-decoding
// split, whose merge must count a sink once); fully masked rows with sinks (zero rows), NaN, the
// no-op forms of each policy (bit-identical to the plain call). Tolerance: tolerance.hpp
// (attention_bound with the modifier term R, attention_qk_bound).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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
constexpr int random_cases = 72;
#endif

constexpr float sentinel = 4321.0f;
constexpr float inf = std::numeric_limits<float>::infinity();

/// Additive relative-position bias, T5-like: a per-head value per clamped distance bucket. Generic
/// in the score type, so the oracle runs it in double (exact) and the kernel in float.
struct rel_bias {
  const float* table;  // [heads][17]
  template <class T>
  T operator()(T s, index_t, index_t h, index_t i, index_t j) const noexcept {
    const index_t rel = std::clamp<index_t>(j - i, -8, 8) + 8;
    return s + T(table[h * 17 + rel]);
  }
};

/// FlexAttention-style masking through the score: -inf on a pattern, and on every key of
/// query 1 of batch 0 (a fully masked row when the pattern allows).
struct mask_mod {
  template <class T>
  T operator()(T s, index_t b, index_t h, index_t i, index_t j) const noexcept {
    if ((b == 0 && i == 1) || (i + 2 * j + h) % 5 == 0) return T(-inf);
    return s;
  }
};

enum class functor { none, rel, mask };
using test::mask_kind;

struct config : test::attention_case {
  config() { dqk = dv = 16; }
  bool alibi = false, sinks = false;
  functor fn = functor::none;
  int qk_mode = -1;  // -1: no qk_output

  std::string str() const {
    std::ostringstream o;
    o << attention_case::str() << " alibi=" << alibi << " sinks=" << sinks
      << " functor=" << int(fn) << " qk_mode=" << qk_mode;
    return o.str();
  }
};

struct data {
  std::vector<float> q, k, v, out, fm, slopes, sinks, table, qk;
  std::vector<char> bm;
  std::vector<std::int64_t> lens;
  attention_params p;
  view<const float, 4> qv, kv, vv;
  view<float, 4> ov;
};

/// Builds the inputs of a case (bhsd layout; attention_test.cpp covers the layouts).
void build(const config& c, std::uint32_t seed, data& d) {
  std::mt19937 gen(seed);
  d.q = test::random_floats(std::size_t(c.b * c.hq * c.sq * c.dqk), seed + 1);
  d.k = test::random_floats(std::size_t(c.b * c.hkv * c.skv * c.dqk), seed + 2);
  d.v = test::random_floats(std::size_t(c.b * c.hkv * c.skv * c.dv), seed + 3);
  d.out.assign(std::size_t(c.b * c.hq * c.sq * c.dv) + 8,
               sentinel);  // + a tail the call must not touch
  d.qv = make_view(static_cast<const float*>(d.q.data()), {c.b, c.hq, c.sq, c.dqk});
  d.kv = make_view(static_cast<const float*>(d.k.data()), {c.b, c.hkv, c.skv, c.dqk});
  d.vv = make_view(static_cast<const float*>(d.v.data()), {c.b, c.hkv, c.skv, c.dv});
  d.ov = make_view(d.out.data(), {c.b, c.hq, c.sq, c.dv});
  attention_params& p = d.p;
  p = attention_params{};
  p.is_causal = c.causal, p.causal_offset = c.offset, p.window_left = c.left;
  p.window_right = c.right, p.softcap = c.softcap;
  p.threads = c.threads > 1 ? threading::openmp(c.threads) : threading::serial();
  // Masks as ONNX's 4-D [B, 1, Sq, Skv] (broadcast over heads).
  const std::size_t mcount = std::size_t(c.b * c.sq * c.skv);
  d.fm.assign(std::max<std::size_t>(mcount, 1), 0.0f);
  d.bm.assign(std::max<std::size_t>(mcount, 1), 1);
  std::uniform_real_distribution<float> md(-2.f, 2.f);
  for (auto& x : d.fm) x = gen() % 10 == 0 ? -inf : md(gen);
  for (auto& x : d.bm) x = gen() % 5 != 0;
  if (c.mask == mask_kind::float_mask || c.mask == mask_kind::both)
    p.float_mask = *attention_mask_view<float, 4>(
        make_view(static_cast<const float*>(d.fm.data()), {c.b, 1, c.sq, c.skv}), c.b, c.hq, c.sq);
  if (c.mask == mask_kind::bool_mask || c.mask == mask_kind::both)
    p.bool_mask = *attention_mask_view<bool, 4>(
        make_view(reinterpret_cast<const bool*>(d.bm.data()), {c.b, 1, c.sq, c.skv}), c.b, c.hq,
        c.sq);
  d.lens.resize(std::size_t(c.b));
  for (auto& x : d.lens) x = std::int64_t(gen() % std::uint32_t(c.skv + 1));
  if (c.nonpad)
    p.nonpad_kv_seqlen = make_view(static_cast<const std::int64_t*>(d.lens.data()), {c.b});
  // ALiBi's geometric slopes 2^(-8 (h + 1) / Hq), as in the paper, and sinks in [-3, 3] (one -inf).
  d.slopes.resize(std::size_t(c.hq));
  for (index_t h = 0; h < c.hq; ++h)
    d.slopes[std::size_t(h)] = float(std::exp2(-8.0 * double(h + 1) / double(c.hq)));
  if (c.alibi) p.alibi_slopes = make_view(static_cast<const float*>(d.slopes.data()), {c.hq});
  d.sinks = test::random_floats(std::size_t(c.hq), seed + 4, -3.f, 3.f);
  if (c.hq > 2) d.sinks[1] = -inf;
  if (c.sinks) p.sinks = make_view(static_cast<const float*>(d.sinks.data()), {c.hq});
  d.table = test::random_floats(std::size_t(c.hq * 17), seed + 5);
  d.qk.assign(std::size_t(c.b * c.hq * c.sq * c.skv) + 8, sentinel);
  if (c.qk_mode >= 0) {
    p.qk_output = make_view(d.qk.data(), {c.b, c.hq, c.sq, c.skv});
    p.qk_output_mode = c.qk_mode;
  }
}

/// Runs attention<Bk> with the case's functor and compares with the oracle; returns the number
/// of wrong elements (output, qk_output, and writes outside them).
template <class Bk, class Mod>
int check_case(const config& c, data& d, const Mod& mod) {
  const status s = attention<Bk>(d.qv, d.kv, d.vv, d.ov, d.p, mod);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const auto want = reference::attention(d.qv, d.kv, d.vv, d.p, mod);
  double mask_mag = 0;
  if (d.p.float_mask.data() != nullptr)
    for (float x : d.fm)
      if (std::isfinite(x)) mask_mag = std::max(mask_mag, double(std::fabs(x)));
  int bad = 0;
  for (index_t row = 0; row < c.b * c.hq * c.sq; ++row)
    for (index_t e = 0; e < c.dv; ++e) {
      const std::size_t i = std::size_t(row * c.dv + e);
      const float got = d.out[i];
      const double w = want.y[i];
      const std::size_t r = std::size_t(row);
      const double bound = test::tolerance::attention_bound(
          want.abs_pv[i], want.max_abs[r], mask_mag, long(c.dqk), want.keys[r], want.max_mod[r]);
      const bool ok = std::isnan(w) ? std::isnan(got) : std::fabs(double(got) - w) <= bound;
      if (!ok && bad++ < 3)
        MESSAGE(c.str() << ": out[" << row << ", " << e << "] = " << got << ", want " << w
                        << " (bound " << bound << ")");
    }
  for (std::size_t i = std::size_t(c.b * c.hq * c.sq * c.dv); i < d.out.size(); ++i)
    if (d.out[i] != sentinel && bad++ < 3) MESSAGE(c.str() << ": wrote past the output");
  if (c.qk_mode < 0) {
    if (!std::all_of(d.qk.begin(), d.qk.end(), [](float x) { return x == sentinel; }) && bad++ < 3)
      MESSAGE(c.str() << ": wrote qk_output scratch without qk_output");
    return bad;
  }
  // Global magnitudes for modes 0-2 (every key, weighted or not): |raw| and the modifiers.
  attention_params p0 = d.p;
  p0.qk_output_mode = 0;
  const auto raw = reference::attention(d.qv, d.kv, d.vv, p0, mod);
  double a_all = 0;
  for (double x : raw.qk) a_all = std::max(a_all, std::fabs(x));
  double r_all = 1.0 + 3.0;                        // |rel_bias| <= 1, |sink| <= 3
  if (c.alibi) r_all += double(c.skv + c.sq + 8);  // slopes <= 1/2 · |p - j|, offsets included
  for (index_t row = 0; row < c.b * c.hq * c.sq; ++row)
    for (index_t j = 0; j < c.skv; ++j) {
      const std::size_t i = std::size_t(row * c.skv + j);
      const float got = d.qk[i];
      const double w = want.qk[i];
      const std::size_t r = std::size_t(row);
      bool ok;
      if (std::isnan(w))
        ok = std::isnan(got);
      else if (std::isinf(w))
        ok = double(got) == w;
      else if (c.qk_mode < 3)
        ok = std::fabs(double(got) - w) <=
             test::tolerance::attention_qk_bound(c.qk_mode, w, a_all, mask_mag, r_all);
      else
        ok = std::fabs(double(got) - w) <=
             test::tolerance::attention_qk_bound(3, w, want.max_abs[r], mask_mag, want.max_mod[r]);
      if (!ok && bad++ < 3)
        MESSAGE(c.str() << ": qk_output[" << row << ", " << j << "] = " << got << ", want " << w);
    }
  for (std::size_t i = std::size_t(c.b * c.hq * c.sq * c.skv); i < d.qk.size(); ++i)
    if (d.qk[i] != sentinel && bad++ < 3) MESSAGE(c.str() << ": wrote past qk_output");
  return bad;
}

template <class Bk>
int run_case(const config& c, std::uint32_t seed) {
  data d;
  build(c, seed, d);
  switch (c.fn) {
    case functor::rel:
      return check_case<Bk>(c, d, rel_bias{d.table.data()});
    case functor::mask:
      return check_case<Bk>(c, d, mask_mod{});
    case functor::none:
      break;
  }
  return check_case<Bk>(c, d, no_score_mod{});
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("attention policies vs reference: random configurations", Bk,
                          pol_random_id) {
  std::mt19937 gen(11);
  constexpr index_t seqs[] = {1, 3, 17, 65, 130};
  constexpr index_t heads[] = {8, 16, 32, 64};
  std::uint32_t seed = 3000;
  int bad_cases = 0;
  for (int n = 0; n < random_cases; ++n) {
    config c;
    c.draw_shape(gen, seqs, heads, 2);
    c.draw_masking(gen);
    // Each policy alone and in combination; at least one per case.
    do {
      c.alibi = gen() % 2 == 0, c.sinks = gen() % 2 == 0;
      c.fn = static_cast<functor>(gen() % 3);
    } while (!c.alibi && !c.sinks && c.fn == functor::none);
    c.qk_mode = gen() % 3 == 0 ? int(gen() % 4) : -1;
    const int bad = run_case<Bk>(c, seed);
    seed += 7;
    CHECK_MESSAGE(bad == 0, c.str());
    bad_cases += bad != 0;
  }
  MESSAGE(std::string(Bk::name) << ": " << random_cases << " random policy configurations, "
                                << bad_cases << " failed");
}
TEST_CASE_TEMPLATE_APPLY(pol_random_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention policies: each policy with each mask kind, causal, window", Bk,
                          pol_masks_id) {
  std::uint32_t seed = 90;
  for (int policy = 0; policy < 4; ++policy)  // alibi, sinks, rel functor, mask functor
    for (int kind = 0; kind < 4; ++kind)
      for (int causal = 0; causal < 2; ++causal) {
        config c;
        c.b = 2, c.hq = 4, c.hkv = 2, c.sq = 17, c.skv = 65, c.dqk = 32, c.dv = 32;
        c.mask = static_cast<mask_kind>(kind), c.causal = causal != 0;
        c.alibi = policy == 0, c.sinks = policy == 1;
        c.fn = policy == 2 ? functor::rel : policy == 3 ? functor::mask : functor::none;
        CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
        c.left = 9, c.right = causal ? -1 : 4;
        CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
        c.offset = 3, c.nonpad = true, c.threads = 2;
        CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      }
  // Long causal prefill with everything at once (many skipped and partial blocks).
  for (int t = 1; t <= 2; ++t) {
    config c;
    c.b = 1, c.hq = 8, c.hkv = 2, c.sq = 130, c.skv = 300, c.dqk = 64, c.dv = 64;
    c.causal = true, c.alibi = true, c.sinks = true, c.fn = functor::rel, c.threads = t;
    c.mask = mask_kind::both, c.softcap = 5.0f;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
  }
  // Long decode (two full 1024-key blocks of the dot path and a partial one): ALiBi distances
  // and the functor's key indices far into a block, 1 and 2 threads.
  for (int t = 1; t <= 2; ++t) {
    config c;
    c.b = 1, c.hq = 4, c.hkv = 1, c.sq = 1, c.skv = 2500, c.dqk = 32, c.dv = 32;
    c.alibi = true, c.sinks = true, c.fn = functor::rel, c.threads = t;
    c.mask = mask_kind::both, c.causal = true, c.left = 1800;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
  }
}
TEST_CASE_TEMPLATE_APPLY(pol_masks_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention policies: decode split over keys counts a sink once", Bk,
                          pol_split_id) {
  using impl = impl_for_t<ops::attention_op, Bk>;
  std::uint32_t seed = 700;
  for (index_t skv : {300, 1000}) {
    for (index_t hq : {1, 4}) {
      ops::attention_problem pr;
      pr.batch = 1, pr.hq = hq, pr.hkv = 1, pr.group = hq, pr.sq = 1, pr.skv = skv, pr.dqk = 64,
      pr.dv = 64;
      CHECK(impl::make_plan(pr, 2).splits > 1);  // the merge path runs below
      config c;
      c.b = 1, c.hq = hq, c.hkv = 1, c.sq = 1, c.skv = skv, c.dqk = 64, c.dv = 64, c.threads = 2;
      c.sinks = true;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      c.alibi = true, c.fn = functor::rel;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
      c.causal = true, c.left = 100, c.mask = mask_kind::bool_mask, c.nonpad = true;
      CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
    }
  }
  // A large sink dominates: the output shrinks by the sink's share, identically at 1 and 2
  // threads up to rounding.
  const index_t K = 1000, D = 32;
  auto q = test::random_floats(std::size_t(D), 1), k = test::random_floats(std::size_t(K * D), 2),
       v = test::random_floats(std::size_t(K * D), 3);
  std::vector<float> y1(static_cast<std::size_t>(D)), y2(static_cast<std::size_t>(D));
  const float sink = 8.0f;
  attention_params p;
  p.sinks = make_view(&sink, {1});
  const auto qv = make_view(static_cast<const float*>(q.data()), {1, 1, 1, D});
  const auto kv = make_view(static_cast<const float*>(k.data()), {1, 1, K, D});
  const auto vv = make_view(static_cast<const float*>(v.data()), {1, 1, K, D});
  REQUIRE(attention<Bk>(qv, kv, vv, make_view(y1.data(), {1, 1, 1, D}), p).ok());
  p.threads = threading::openmp(2);
  REQUIRE(attention<Bk>(qv, kv, vv, make_view(y2.data(), {1, 1, 1, D}), p).ok());
  const auto want = reference::attention(qv, kv, vv, p);
  for (index_t d = 0; d < D; ++d) {
    CHECK(std::fabs(double(y1[std::size_t(d)]) - want.y[std::size_t(d)]) < 1e-6);
    CHECK(std::fabs(double(y2[std::size_t(d)]) - want.y[std::size_t(d)]) < 1e-6);
  }
}
TEST_CASE_TEMPLATE_APPLY(pol_split_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE(
    "attention policies: fully masked rows with sinks are zero, NaN propagates", Bk,
    pol_special_id) {
  const index_t B = 1, H = 2, S = 5, K = 70, D = 16;
  auto q = test::random_floats(std::size_t(B * H * S * D), 1);
  auto k = test::random_floats(std::size_t(B * H * K * D), 2);
  auto v = test::random_floats(std::size_t(B * H * K * D), 3);
  const auto qv = make_view(static_cast<const float*>(q.data()), {B, H, S, D});
  const auto kv = make_view(static_cast<const float*>(k.data()), {B, H, K, D});
  const auto vv = make_view(static_cast<const float*>(v.data()), {B, H, K, D});
  const float sinks[2] = {0.5f, -1.0f}, slopes[2] = {0.25f, 0.0625f};
  for (int threads : {1, 2}) {
    std::vector<float> y(std::size_t(B * H * S * D), sentinel);
    const auto yv = make_view(y.data(), {B, H, S, D});
    attention_params p;
    p.threads = threads > 1 ? threading::openmp(threads) : threading::serial();
    p.sinks = make_view(sinks, {H});
    p.alibi_slopes = make_view(slopes, {H});
    // Row 1: float mask -inf everywhere (and mask_mod's -inf on query 1 of batch 0); row 3: bool
    // mask false everywhere; the other rows keep the keys mask_mod's pattern leaves.
    std::vector<float> fm(std::size_t(S * K), 0.0f);
    for (index_t j = 0; j < K; ++j) fm[std::size_t(1 * K + j)] = -inf;
    std::vector<char> bm(std::size_t(S * K), 1);
    for (index_t j = 0; j < K; ++j) bm[std::size_t(3 * K + j)] = 0;
    p.float_mask = *attention_mask_view<float, 2>(
        make_view(static_cast<const float*>(fm.data()), {S, K}), B, H, S);
    p.bool_mask = *attention_mask_view<bool, 2>(
        make_view(reinterpret_cast<const bool*>(bm.data()), {S, K}), B, H, S);
    REQUIRE(attention<Bk>(qv, kv, vv, yv, p, mask_mod{}).ok());
    for (index_t h = 0; h < H; ++h)
      for (index_t i = 0; i < S; ++i)
        for (index_t d = 0; d < D; ++d) {
          const float x = yv(0, h, i, d);
          if (i == 1 || i == 3)
            CHECK(x == 0.0f);
          else
            CHECK((std::isfinite(x) && x != 0.0f));
        }
    // A causal rule that leaves no key, with a sink: zero rows.
    attention_params w = p;
    w.float_mask = {}, w.bool_mask = {};
    w.is_causal = true, w.causal_offset = -10;
    REQUIRE(attention<Bk>(qv, kv, vv, yv, w).ok());
    CHECK(std::all_of(y.begin(), y.end(), [](float x) { return x == 0.0f; }));
  }
  SUBCASE("NaN in K or V with every policy") {
    config c;
    c.b = 1, c.hq = 2, c.hkv = 1, c.sq = 5, c.skv = 70, c.alibi = true, c.sinks = true;
    c.fn = functor::rel, c.causal = true, c.qk_mode = 3;
    for (int which = 0; which < 2; ++which) {
      data d;
      build(c, 50 + std::uint32_t(which), d);
      if (which == 0)
        d.k[std::size_t(c.dqk - 1)] = std::numeric_limits<float>::quiet_NaN();  // key 0
      else
        d.v[0] = std::numeric_limits<float>::quiet_NaN();  // value 0, column 0
      CHECK(check_case<Bk>(c, d, rel_bias{d.table.data()}) == 0);
      CHECK(std::isnan(d.out[0]));  // every row attends key 0 (causal, bottom-right)
      if (which == 1) CHECK(std::isfinite(d.out[1]));
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(pol_special_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention qk_output: every mode vs the reference", Bk, pol_qk_id) {
  std::uint32_t seed = 400;
  for (int mode = 0; mode < 4; ++mode) {
    config c;
    c.b = 2, c.hq = 4, c.hkv = 2, c.sq = 17, c.skv = 65, c.dqk = 32, c.dv = 16, c.qk_mode = mode;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());  // ONNX only
    c.mask = mask_kind::both, c.causal = true, c.softcap = 5.0f, c.nonpad = true;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
    c.alibi = true, c.sinks = true, c.fn = functor::rel, c.threads = 2, c.left = 20;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
    c.fn = functor::mask, c.sq = 1, c.skv = 130, c.hq = 2, c.hkv = 1;
    CHECK_MESSAGE(run_case<Bk>(c, seed++) == 0, c.str());
  }
  // ONNX semantics without softcap: mode 1 equals mode 0; with softcap it is softcap(mode 0),
  // and mode 2 adds the float mask on top of mode 1.
  config c;
  c.b = 1, c.hq = 2, c.hkv = 2, c.sq = 3, c.skv = 17, c.mask = mask_kind::float_mask;
  data d0, d1, d2;
  c.qk_mode = 0, build(c, 5, d0);
  c.qk_mode = 1, build(c, 5, d1);
  REQUIRE(attention<Bk>(d0.qv, d0.kv, d0.vv, d0.ov, d0.p).ok());
  REQUIRE(attention<Bk>(d1.qv, d1.kv, d1.vv, d1.ov, d1.p).ok());
  CHECK(d0.qk == d1.qk);
  c.softcap = 2.0f, c.qk_mode = 1, build(c, 5, d1);
  c.qk_mode = 2, build(c, 5, d2);
  REQUIRE(attention<Bk>(d1.qv, d1.kv, d1.vv, d1.ov, d1.p).ok());
  REQUIRE(attention<Bk>(d2.qv, d2.kv, d2.vv, d2.ov, d2.p).ok());
  for (index_t i = 0; i < c.sq; ++i)
    for (index_t j = 0; j < c.skv; ++j) {
      const std::size_t e = std::size_t(i * c.skv + j);  // batch 0, head 0
      CHECK(std::fabs(d1.qk[e]) <= 2.0f);
      CHECK(std::fabs(2.0 * std::tanh(double(d0.qk[e]) / 2.0) - double(d1.qk[e])) < 1e-6);
      const float m = d0.fm[e];
      if (std::isinf(m))
        CHECK(d2.qk[e] == -inf);
      else
        CHECK(std::fabs(double(d2.qk[e]) - (double(d1.qk[e]) + double(m))) < 1e-5);
    }
}
TEST_CASE_TEMPLATE_APPLY(pol_qk_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention policies: no-op forms are bit-identical to the plain call", Bk,
                          pol_noop_id) {
  for (int threads : {1, 2}) {
    config c;
    c.b = 2, c.hq = 4, c.hkv = 2, c.sq = 17, c.skv = 130, c.dqk = 32, c.dv = 32, c.causal = true;
    c.mask = mask_kind::float_mask, c.threads = threads;
    data d;
    build(c, 9, d);
    std::vector<float> plain(d.out.size(), sentinel), other(d.out.size(), sentinel);
    d.ov = make_view(plain.data(), {c.b, c.hq, c.sq, c.dv});
    REQUIRE(attention<Bk>(d.qv, d.kv, d.vv, d.ov, d.p).ok());
    d.ov = make_view(other.data(), {c.b, c.hq, c.sq, c.dv});
    REQUIRE(attention<Bk>(d.qv, d.kv, d.vv, d.ov, d.p, no_score_mod{}).ok());
    CHECK(plain == other);
    const std::vector<float> zeros(std::size_t(c.hq), 0.0f), none(std::size_t(c.hq), -inf);
    attention_params p = d.p;
    p.alibi_slopes = make_view(zeros.data(), {c.hq});  // -0 · |p - j| added: exact
    p.sinks = make_view(none.data(), {c.hq});          // e^{-inf} = 0: no sink
    std::fill(other.begin(), other.end(), sentinel);
    REQUIRE(attention<Bk>(d.qv, d.kv, d.vv, d.ov, p).ok());
    CHECK(plain == other);
    std::fill(other.begin(), other.end(), sentinel);
    auto identity = [](float s, index_t, index_t, index_t, index_t) noexcept { return s; };
    REQUIRE(attention<Bk>(d.qv, d.kv, d.vv, d.ov, d.p, identity).ok());
    CHECK(plain == other);
  }
}
TEST_CASE_TEMPLATE_APPLY(pol_noop_id, fusedops::test::compiled_backends_tuple);
