// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Fused RoPE in attention (attention_params::rotary) on every backend:
//  * without a KV cache (Q and every key rotated inside the tile loop) against the double oracle,
//    which rotates in double: random shapes, head ratios, rotate-half / interleaved, partial
//    rotary_dim, explicit position ids or the causal offset, 4-D and 3-D layouts, causal, an
//    external cache (nonpad_kv_seqlen, rotate_keys = false), 1 and 2 threads;
//  * with a KV cache, bit for bit against the unfused composition rotary_embedding(q),
//    rotary_embedding(k) then attention over concat(past, rotated k): present must hold exactly
//    those rotated keys, also when the engine's single cache buffer is rotated in place over a
//    decode loop;
//  * qk_output with RoPE, the allocation-free workspace, and the argument errors (nothing
//    written).
// Tolerance: attention_bound (tolerance.hpp, ATTENTION) with Dqk + 4: each rotated element
// carries at most two roundings of its magnitude bound |x_e c| + |x_partner s| (the oracle's
// max_abs is built from those bounds), so a score moves by at most 4u more of that A.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/attention.hpp"
#include "fusedops/reference/attention.hpp"
#include "fusedops/rotary_embedding.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;

#if FUSEDOPS_ARCH_AARCH64
constexpr int rope_cases = 16;  // qemu is 20-50x slower
#else
constexpr int rope_cases = 48;
#endif

constexpr float sentinel = 4321.0f;

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

/// cos/sin caches [max_pos, half] of real RoPE angles pos · 10000^(-i/half).
struct rope_tables {
  std::vector<float> cos, sin;
  index_t max_pos, half;
  rope_tables(index_t max_pos_, index_t half_) : max_pos(max_pos_), half(half_) {
    cos.resize(std::size_t(max_pos * half)), sin.resize(cos.size());
    for (index_t p = 0; p < max_pos; ++p)
      for (index_t i = 0; i < half; ++i) {
        const double theta = double(p) * std::pow(10000.0, -double(i) / double(half));
        cos[std::size_t(p * half + i)] = float(std::cos(theta));
        sin[std::size_t(p * half + i)] = float(std::sin(theta));
      }
  }
  view<const float, 2> cos_view() const { return make_view(cos.data(), {max_pos, half}); }
  view<const float, 2> sin_view() const { return make_view(sin.data(), {max_pos, half}); }
};

struct rope_config {
  index_t b = 1, hq = 1, hkv = 1, sq = 1, skv = 1, d = 8, dv = 8, rot = 0;
  bool interleaved = false, causal = false, ids = false, bshd = false, external = false;
  int threads = 1;
  std::string str() const {
    std::ostringstream o;
    o << "B=" << b << " Hq=" << hq << " Hkv=" << hkv << " Sq=" << sq << " Skv=" << skv << " D=" << d
      << " Dv=" << dv << " rot=" << rot << " interleaved=" << interleaved << " causal=" << causal
      << " ids=" << ids << " bshd=" << bshd << " external=" << external << " threads=" << threads;
    return o.str();
  }
};

/// A [B, H, S, D] tensor, 4-D contiguous or 3-D [B, S, H·D] (split_heads), random values.
struct tensor {
  std::vector<float> buf;
  view<float, 4> v;
  tensor(index_t b, index_t h, index_t s, index_t d, bool bshd, std::uint32_t seed) {
    buf = test::random_floats(std::size_t(std::max<index_t>(b * h * s * d, 1)), seed);
    v = bshd ? split_heads(make_view(buf.data(), {b, s, h * d}), h)
             : make_view(buf.data(), {b, h, s, d});
  }
};

threading threads_of(int t) { return t > 1 ? threading::openmp(t) : threading::serial(); }

/// No KV cache: fused call vs the double oracle. Returns the number of wrong elements.
template <class Bk>
int run_prefill_case(const rope_config& c, std::uint32_t seed) {
  tensor q(c.b, c.hq, c.sq, c.d, c.bshd, seed), k(c.b, c.hkv, c.skv, c.d, c.bshd, seed + 1),
      v(c.b, c.hkv, c.skv, c.dv, c.bshd, seed + 2);
  tensor out(c.b, c.hq, c.sq, c.dv, c.bshd, seed + 3);
  std::fill(out.buf.begin(), out.buf.end(), sentinel);
  std::mt19937 gen(seed);
  const index_t rot = c.rot == 0 ? c.d : c.rot;
  const rope_tables tab(c.skv + 1 + index_t(gen() % 7), rot / 2);
  std::vector<std::int64_t> ids(std::size_t(c.b * c.sq));
  for (auto& x : ids) x = std::int64_t(gen() % std::uint32_t(tab.max_pos));
  std::vector<std::int64_t> lens(std::size_t(c.b));
  for (auto& x : lens) x = std::int64_t(c.sq + index_t(gen() % std::uint32_t(c.skv - c.sq + 1)));

  attention_params p;
  p.is_causal = c.causal;
  p.threads = threads_of(c.threads);
  p.rotary.cos_cache = tab.cos_view(), p.rotary.sin_cache = tab.sin_view();
  p.rotary.interleaved = c.interleaved, p.rotary.rotary_dim = c.rot;
  if (c.ids)
    p.rotary.position_ids = make_view(static_cast<const std::int64_t*>(ids.data()), {c.b, c.sq});
  if (c.external) {  // K/V = an external cache of rotated keys, valid lengths per batch
    p.rotary.rotate_keys = false;
    p.nonpad_kv_seqlen = make_view(static_cast<const std::int64_t*>(lens.data()), {c.b});
  }
  const status s = attention<Bk>(q.v, k.v, v.v, out.v, p);
  REQUIRE_MESSAGE(s.ok(), c.str() << ": " << s.message());
  const auto want = reference::attention(q.v, k.v, v.v, p);
  int bad = 0;
  for (index_t b = 0; b < c.b; ++b)
    for (index_t h = 0; h < c.hq; ++h)
      for (index_t i = 0; i < c.sq; ++i) {
        const std::size_t row = std::size_t((b * c.hq + h) * c.sq + i);
        for (index_t e = 0; e < c.dv; ++e) {
          const std::size_t at = row * std::size_t(c.dv) + std::size_t(e);
          const double w = want.y[at], got = out.v(b, h, i, e);
          const double bound = test::tolerance::attention_bound(want.abs_pv[at], want.max_abs[row],
                                                                0.0, long(c.d + 4), want.keys[row]);
          if (!(std::fabs(got - w) <= bound) && bad++ < 3)
            MESSAGE(c.str() << ": out(" << b << "," << h << "," << i << "," << e << ") = " << got
                            << ", want " << w << " (bound " << bound << ")");
        }
      }
  return bad;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("attention with fused RoPE vs reference (no KV cache)", Bk,
                          rope_prefill_id) {
  std::mt19937 gen(23);
  constexpr index_t seqs[] = {1, 2, 3, 17, 64, 65, 130};
  constexpr index_t heads[] = {8, 32, 64, 80, 128};
  int bad_cases = 0;
  std::uint32_t seed = 7000;
  for (int n = 0; n < rope_cases; ++n) {
    rope_config c;
    c.b = 1 + index_t(gen() % 2);
    c.hkv = 1 + index_t(gen() % 2);
    c.hq = c.hkv * index_t(1u << (gen() % 3));
    c.sq = seqs[gen() % 7];
    c.d = heads[gen() % 5];
    c.dv = gen() % 4 == 0 ? heads[gen() % 5] : c.d;
    c.rot = gen() % 3 == 0 ? c.d / 2 / 2 * 2 : 0;  // partial rotation (even) or the whole head
    c.interleaved = gen() % 2 == 0;
    c.causal = gen() % 2 == 0;
    c.bshd = gen() % 3 == 0;
    c.threads = 1 + int(gen() % 2);
    c.external = gen() % 5 == 0;
    c.ids = !c.external && gen() % 3 == 0;
    // Keys: as many as queries with ids (they share the positions), else possibly more (a
    // chunk of a longer prefill: queries at the end, bottom-right).
    c.skv = c.ids ? c.sq : c.sq + (gen() % 2 == 0 ? 0 : seqs[gen() % 7]);
    if (run_prefill_case<Bk>(c, seed++) != 0) ++bad_cases;
  }
  CHECK(bad_cases == 0);
}
TEST_CASE_TEMPLATE_APPLY(rope_prefill_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention with fused RoPE: edge cases vs reference", Bk, rope_edges_id) {
  // Head size 2 (one pair), the vector tails of rotate-half (half = 20, 40), D = 256, rotary_dim
  // 2, MQA decode (the split-KV path at 2 threads: keys rotated inside each chunk).
  rope_config c;
  c.d = c.dv = 2, c.sq = c.skv = 5, c.causal = true;
  CHECK(run_prefill_case<Bk>(c, 1) == 0);
  c.d = c.dv = 40, c.sq = c.skv = 33, c.interleaved = true;
  CHECK(run_prefill_case<Bk>(c, 2) == 0);
  c.d = c.dv = 80, c.interleaved = false, c.hq = 4, c.hkv = 2;
  CHECK(run_prefill_case<Bk>(c, 3) == 0);
  c.d = c.dv = 256, c.rot = 2, c.sq = c.skv = 9;
  CHECK(run_prefill_case<Bk>(c, 4) == 0);
  c.d = c.dv = 64, c.rot = 0, c.hq = 8, c.hkv = 1, c.sq = 1, c.skv = 700, c.causal = false;
  for (int t = 1; t <= 2; ++t) {
    c.threads = t;
    CHECK(run_prefill_case<Bk>(c, 5) == 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(rope_edges_id, fusedops::test::compiled_backends_tuple);

namespace {

/// The unfused composition of one cache step: rotary_embedding on q and the new k (positions
/// from `ids` or the offset P), present = concat(past, rotated k), attention over it.
template <class Bk>
void unfused_step(const view<const float, 4>& q, const view<const float, 4>& k,
                  const view<const float, 4>& v, const view<const float, 4>& past_k,
                  const view<const float, 4>& past_v, const rope_tables& tab, bool interleaved,
                  const std::int64_t* ids, const threading& threads, std::vector<float>& present_k,
                  std::vector<float>& present_v, std::vector<float>& out) {
  const index_t b = q.shape(0), hq = q.shape(1), sq = q.shape(2), d = q.shape(3);
  const index_t hkv = k.shape(1), s = k.shape(2), dv = v.shape(3), past = past_k.shape(2);
  rotary_embedding_params rp;
  rp.interleaved = interleaved;
  if (ids != nullptr)
    rp.position_ids = make_view(ids, {b, sq});
  else
    rp.position_offset = past;
  std::vector<float> qr(std::size_t(b * hq * sq * d)), kr(std::size_t(b * hkv * s * d));
  REQUIRE(rotary_embedding<Bk>(q, tab.cos_view(), tab.sin_view(),
                               make_view(qr.data(), {b, hq, sq, d}), rp)
              .ok());
  REQUIRE(rotary_embedding<Bk>(k, tab.cos_view(), tab.sin_view(),
                               make_view(kr.data(), {b, hkv, s, d}), rp)
              .ok());
  present_k.assign(std::size_t(b * hkv * (past + s) * d), 0.0f);
  present_v.assign(std::size_t(b * hkv * (past + s) * dv), 0.0f);
  const auto pk = make_view(present_k.data(), {b, hkv, past + s, d});
  const auto pv = make_view(present_v.data(), {b, hkv, past + s, dv});
  for (index_t i = 0; i < b; ++i)
    for (index_t h = 0; h < hkv; ++h)
      for (index_t t = 0; t < past + s; ++t) {
        for (index_t e = 0; e < d; ++e)
          pk(i, h, t, e) = t < past ? past_k(i, h, t, e)
                                    : kr[std::size_t(((i * hkv + h) * s + t - past) * d + e)];
        for (index_t e = 0; e < dv; ++e)
          pv(i, h, t, e) = t < past ? past_v(i, h, t, e) : v(i, h, t - past, e);
      }
  attention_params p;
  p.is_causal = true;
  p.threads = threads;  // the same plan (row blocks, key splits) as the fused call: same roundings
  out.assign(std::size_t(b * hq * sq * dv), 0.0f);
  REQUIRE(attention<Bk>(make_view(static_cast<const float*>(qr.data()), {b, hq, sq, d}),
                        view<const float, 4>(pk), view<const float, 4>(pv),
                        make_view(out.data(), {b, hq, sq, dv}), p)
              .ok());
}

int differing(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return int(std::max(a.size(), b.size()));
  int n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += !same_bits(a[i], b[i]);
  return n;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("attention with fused RoPE and a KV cache = the unfused composition", Bk,
                          rope_cache_id) {
  std::mt19937 gen(31);
  constexpr index_t pasts[] = {0, 1, 17, 64, 130};
  constexpr index_t news[] = {1, 3, 17};
  constexpr index_t heads[] = {8, 32, 64, 80};
  for (int n = 0; n < 16; ++n) {
    const index_t b = 1 + index_t(gen() % 2), hkv = 1 + index_t(gen() % 2);
    const index_t hq = hkv * index_t(1u << (gen() % 3)), past = pasts[gen() % 5];
    const index_t s = news[gen() % 3], d = heads[gen() % 4], dv = gen() % 3 == 0 ? 8 : d;
    const bool interleaved = gen() % 2 == 0, use_ids = gen() % 3 == 0;
    const int threads = 1 + int(gen() % 2);
    const std::uint32_t seed = 9000 + std::uint32_t(n) * 8;
    CAPTURE(b);
    CAPTURE(hq);
    CAPTURE(hkv);
    CAPTURE(past);
    CAPTURE(s);
    CAPTURE(d);
    CAPTURE(dv);
    CAPTURE(interleaved);
    CAPTURE(use_ids);
    CAPTURE(threads);
    const rope_tables tab(past + s + 3, d / 2);
    const auto qb = test::random_floats(std::size_t(b * hq * s * d), seed);
    const auto kb = test::random_floats(std::size_t(b * hkv * s * d), seed + 1);
    const auto vb = test::random_floats(std::size_t(b * hkv * s * dv), seed + 2);
    const auto pkb = test::random_floats(std::size_t(b * hkv * past * d) + 1, seed + 3);
    const auto pvb = test::random_floats(std::size_t(b * hkv * past * dv) + 1, seed + 4);
    std::vector<std::int64_t> ids(std::size_t(b * s));
    for (auto& x : ids) x = std::int64_t(gen() % std::uint32_t(tab.max_pos));
    const view<const float, 4> q = make_view(qb.data(), {b, hq, s, d}),
                               k = make_view(kb.data(), {b, hkv, s, d}),
                               v = make_view(vb.data(), {b, hkv, s, dv}),
                               pk = make_view(pkb.data(), {b, hkv, past, d}),
                               pv = make_view(pvb.data(), {b, hkv, past, dv});
    std::vector<float> want_pk, want_pv, want_out;
    unfused_step<Bk>(q, k, v, pk, pv, tab, interleaved, use_ids ? ids.data() : nullptr,
                     threads_of(threads), want_pk, want_pv, want_out);

    std::vector<float> present_k(want_pk.size(), sentinel), present_v(want_pv.size(), sentinel);
    std::vector<float> out(want_out.size(), sentinel);
    attention_params p;
    p.is_causal = true;
    p.threads = threads_of(threads);
    p.past_key = pk, p.past_value = pv;
    p.present_key = make_view(present_k.data(), {b, hkv, past + s, d});
    p.present_value = make_view(present_v.data(), {b, hkv, past + s, dv});
    p.rotary.cos_cache = tab.cos_view(), p.rotary.sin_cache = tab.sin_view();
    p.rotary.interleaved = interleaved;
    if (use_ids)
      p.rotary.position_ids = make_view(static_cast<const std::int64_t*>(ids.data()), {b, s});
    const status st = attention<Bk>(q, k, v, make_view(out.data(), {b, hq, s, dv}), p);
    REQUIRE_MESSAGE(st.ok(), st.message());
    CHECK(differing(present_k, want_pk) == 0);
    CHECK(differing(present_v, want_pv) == 0);
    CHECK(differing(out, want_out) == 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(rope_cache_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE(
    "attention with fused RoPE: decode loop rotating an engine's cache in "
    "place",
    Bk, rope_inplace_id) {
  // One cache buffer [B, Hkv, max, D] per side; each step writes the raw new K/V at positions
  // P.. and calls with past = [0, P), present = [0, P + S), k = [P, P + S): the call rotates
  // those keys in place. A mirror runs the unfused composition step by step.
  constexpr index_t b = 2, hq = 8, hkv = 2, d = 64, dv = 64, max_len = 40;
  const rope_tables tab(max_len, d / 2);
  std::vector<float> kc(std::size_t(b * hkv * max_len * d), sentinel);
  std::vector<float> vc(std::size_t(b * hkv * max_len * dv), sentinel);
  std::vector<float> mirror_k, mirror_v;  // the unfused pipeline's present
  const auto kcv = make_view(kc.data(), {b, hkv, max_len, d});
  const auto vcv = make_view(vc.data(), {b, hkv, max_len, dv});
  index_t past = 0;
  const index_t steps[] = {7, 1, 1, 3, 1, 0, 1};
  std::uint32_t seed = 11000;
  for (index_t s : steps) {
    CAPTURE(past);
    CAPTURE(s);
    const auto qb = test::random_floats(std::size_t(b * hq * s * d) + 1, seed++);
    const auto kb = test::random_floats(std::size_t(b * hkv * s * d) + 1, seed++);
    const auto vb = test::random_floats(std::size_t(b * hkv * s * dv) + 1, seed++);
    const auto kn = make_view(kb.data(), {b, hkv, s, d});
    const auto vn = make_view(vb.data(), {b, hkv, s, dv});
    for (index_t i = 0; i < b; ++i)
      for (index_t h = 0; h < hkv; ++h)
        for (index_t t = 0; t < s; ++t) {
          for (index_t e = 0; e < d; ++e) kcv(i, h, past + t, e) = kn(i, h, t, e);
          for (index_t e = 0; e < dv; ++e) vcv(i, h, past + t, e) = vn(i, h, t, e);
        }
    const view<const float, 4> q = make_view(qb.data(), {b, hq, s, d});
    std::vector<float> want_pk, want_pv, want_out;
    const view<const float, 4> mk =
        make_view(static_cast<const float*>(mirror_k.data()), {b, hkv, past, d});
    const view<const float, 4> mv =
        make_view(static_cast<const float*>(mirror_v.data()), {b, hkv, past, dv});
    unfused_step<Bk>(q, kn, vn, mk, mv, tab, false, nullptr, threads_of(2), want_pk, want_pv,
                     want_out);

    std::vector<float> out(want_out.size(), sentinel);
    attention_params p;
    p.is_causal = true;
    p.threads = threads_of(2);
    p.past_key = kcv.slice(2, 0, past), p.past_value = vcv.slice(2, 0, past);
    p.present_key = kcv.slice(2, 0, past + s), p.present_value = vcv.slice(2, 0, past + s);
    p.rotary.cos_cache = tab.cos_view(), p.rotary.sin_cache = tab.sin_view();
    const status st = attention<Bk>(q, view<const float, 4>(kcv.slice(2, past, past + s)),
                                    view<const float, 4>(vcv.slice(2, past, past + s)),
                                    make_view(out.data(), {b, hq, s, dv}), p);
    REQUIRE_MESSAGE(st.ok(), st.message());
    CHECK(differing(out, want_out) == 0);
    past += s;
    // The cache's first `past` positions equal the mirror's present.
    std::vector<float> got_k(std::size_t(b * hkv * past * d));
    for (index_t i = 0; i < b; ++i)
      for (index_t h = 0; h < hkv; ++h)
        for (index_t t = 0; t < past; ++t)
          for (index_t e = 0; e < d; ++e)
            got_k[std::size_t(((i * hkv + h) * past + t) * d + e)] = kcv(i, h, t, e);
    CHECK(differing(got_k, want_pk) == 0);
    mirror_k = want_pk, mirror_v = want_pv;
  }
}
TEST_CASE_TEMPLATE_APPLY(rope_inplace_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention with fused RoPE: qk_output and the allocation-free workspace",
                          Bk, rope_qk_id) {
  constexpr index_t b = 1, hq = 4, hkv = 2, sq = 19, skv = 19, d = 32;
  const rope_tables tab(skv + 2, d / 2);
  const auto qb = test::random_floats(std::size_t(b * hq * sq * d), 1);
  const auto kb = test::random_floats(std::size_t(b * hkv * skv * d), 2);
  const auto vb = test::random_floats(std::size_t(b * hkv * skv * d), 3);
  const view<const float, 4> q = make_view(qb.data(), {b, hq, sq, d}),
                             k = make_view(kb.data(), {b, hkv, skv, d}),
                             v = make_view(vb.data(), {b, hkv, skv, d});
  for (int mode = 0; mode <= 3; ++mode) {
    CAPTURE(mode);
    std::vector<float> out(std::size_t(b * hq * sq * d)), qk(std::size_t(b * hq * sq * skv));
    attention_params p;
    p.is_causal = true;
    p.rotary.cos_cache = tab.cos_view(), p.rotary.sin_cache = tab.sin_view();
    p.rotary.interleaved = mode % 2 == 1;
    p.qk_output = make_view(qk.data(), {b, hq, sq, skv}), p.qk_output_mode = mode;
    const auto outv = make_view(out.data(), {b, hq, sq, d});
    std::vector<float> ws(attention_workspace_size<Bk>(q, k, v, outv, p));
    REQUIRE(!ws.empty());
    p.workspace = make_view(ws.data(), {index_t(ws.size())});
    p.allow_allocation = false;
    REQUIRE(attention<Bk>(q, k, v, outv, p).ok());
    const auto want = reference::attention(q, k, v, p);
    int bad = 0;
    for (std::size_t i = 0; i < qk.size(); ++i) {
      const std::size_t row = i / std::size_t(skv);
      const double w = want.qk[i];
      const double bound =
          test::tolerance::attention_qk_bound(mode, w, want.max_abs[row], 0.0, 0.0);
      const bool ok = std::isinf(w) ? double(qk[i]) == w : std::fabs(double(qk[i]) - w) <= bound;
      if (!ok && bad++ < 3) MESSAGE("qk[" << i << "] = " << qk[i] << ", want " << w);
    }
    CHECK(bad == 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(rope_qk_id, fusedops::test::compiled_backends_tuple);

TEST_CASE("attention with fused RoPE: argument errors name the argument, nothing is written") {
  constexpr index_t b = 1, hq = 2, hkv = 1, sq = 4, d = 16, past = 5;
  const rope_tables tab(8, d / 2), wrong(8, d / 4);
  const auto qb = test::random_floats(std::size_t(b * hq * sq * d), 1);
  const auto kb = test::random_floats(std::size_t(b * hkv * sq * d), 2);
  const auto pb = test::random_floats(std::size_t(b * hkv * past * d), 3);
  const view<const float, 4> q = make_view(qb.data(), {b, hq, sq, d}),
                             k = make_view(kb.data(), {b, hkv, sq, d}),
                             pk = make_view(pb.data(), {b, hkv, past, d});
  std::vector<float> out(std::size_t(b * hq * sq * d), sentinel);
  std::vector<float> pres_k(std::size_t(b * hkv * (past + sq) * d), sentinel);
  std::vector<float> pres_v(pres_k.size(), sentinel);
  std::vector<std::int64_t> ids(std::size_t(b * sq), 1), bad_ids(std::size_t(b * sq), 2);
  bad_ids[2] = 8;  // one past the cache
  std::vector<float> strided_q(qb.size() * 2);
  auto base = [&] {
    attention_params p;
    p.rotary.cos_cache = tab.cos_view(), p.rotary.sin_cache = tab.sin_view();
    return p;
  };
  struct bad_case {
    const char* what;
    const char* needle;
    attention_params p;
    view<const float, 4> q;
  };
  std::vector<bad_case> cases;
  {
    attention_params p = base();
    p.rotary.sin_cache = wrong.sin_view();
    cases.push_back({"cos/sin shapes differ", "rotary.sin_cache", p, q});
  }
  {
    attention_params p = base();
    p.rotary.cos_cache = wrong.cos_view(), p.rotary.sin_cache = wrong.sin_view();
    cases.push_back({"cache width != rotary_dim / 2", "rotary.cos_cache", p, q});
  }
  {
    attention_params p = base();
    p.rotary.rotary_dim = 7;
    cases.push_back({"odd rotary_dim", "rotary.rotary_dim", p, q});
  }
  {
    attention_params p = base();
    p.rotary.rotary_dim = 18;
    cases.push_back({"rotary_dim > Dqk", "rotary.rotary_dim", p, q});
  }
  {
    attention_params p = base();
    p.rotary.position_ids = make_view(static_cast<const std::int64_t*>(ids.data()), {b, sq - 1});
    cases.push_back({"position_ids shape", "rotary.position_ids", p, q});
  }
  {
    attention_params p = base();
    p.rotary.position_ids = make_view(static_cast<const std::int64_t*>(bad_ids.data()), {b, sq});
    cases.push_back({"position id outside the cache", "rotary.position_ids[0, 2] = 8", p, q});
  }
  {
    attention_params p = base();
    p.causal_offset = 5;  // queries at 5..8, the cache has 8 rows
    cases.push_back({"offset positions outside the cache", "positions [5, 9)", p, q});
  }
  {
    attention_params p = base();
    p.past_key = pk, p.past_value = pk;
    p.present_key = make_view(pres_k.data(), {b, hkv, past + sq, d});
    p.present_value = make_view(pres_v.data(), {b, hkv, past + sq, d});
    cases.push_back({"past + new keys beyond the cache", "rotary.cos_cache", p, q});
  }
  {
    attention_params p;
    p.rotary.rotary_dim = 8;
    cases.push_back({"rotary fields without caches", "rotary.cos_cache", p, q});
  }
  {
    attention_params p = base();
    const view<const float, 4> sq_view(strided_q.data(), {b, hq, sq, d},
                                       {2 * hq * sq * d, 2 * sq * d, 2 * d, 2});
    cases.push_back({"q not unit-stride along D", "'q'", p, sq_view});
  }
  {
    attention_params p = base();
    p.rotary.cos_cache = make_view(static_cast<const float*>(out.data()), {8, d / 2});
    cases.push_back({"out overlaps cos_cache", "rotary.cos_cache", p, q});
  }
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const status s = attention(c.q, k, k, make_view(out.data(), {b, hq, sq, d}), c.p);
    REQUIRE(!s.ok());
    CHECK_MESSAGE(std::string(s.message()).find(c.needle) != std::string::npos, s.message());
    CHECK(std::all_of(out.begin(), out.end(), [](float x) { return x == sentinel; }));
    CHECK(std::all_of(pres_k.begin(), pres_k.end(), [](float x) { return x == sentinel; }));
    CHECK(std::all_of(pres_v.begin(), pres_v.end(), [](float x) { return x == sentinel; }));
  }
}
