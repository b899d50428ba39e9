// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// attention's KV cache (past_key / past_value in, present_key / present_value out) on every
// backend. The kernel attends over present, so the oracle here is exact: present must equal
// concat(past, new) bit for bit, and the output must equal, bit for bit, a cache-less call over a
// buffer holding that concatenation in the same layout (same strides: the same arithmetic in the
// same order). That cache-less call is itself checked against the double oracle by
// attention_test.cpp. Covered: separate past/present buffers (copied), an engine's single cache
// buffer (past = its prefix, new K/V already in place: nothing copied), a decode loop over it, the
// 3-D [B, S, H·D] layout, present without past, Skv = 0 steps, and the argument errors (output
// and present untouched).
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/attention.hpp"
#include "support/backends.hpp"
#include "support/bits.hpp"
#include "support/random.hpp"

namespace {

using namespace fusedops;

constexpr float sentinel = -777.0f;

std::vector<float> random_buffer(index_t n, std::uint32_t seed) {
  return test::random_floats(std::size_t(n), seed);
}

view<const float, 4> contiguous(const float* data, const dims<4>& shape) {
  return view<const float, 4>(data, shape, row_major_strides<4>(shape));
}

using test::same_bits;

/// Elements of `a` and `b` (same shape) whose bits differ.
int differing(const view<const float, 4>& a, const view<const float, 4>& b) {
  int bad = 0;
  for (index_t i = 0; i < a.shape(0); ++i)
    for (index_t j = 0; j < a.shape(1); ++j)
      for (index_t s = 0; s < a.shape(2); ++s)
        for (index_t d = 0; d < a.shape(3); ++d) bad += !same_bits(a(i, j, s, d), b(i, j, s, d));
  return bad;
}

/// concat(past, x) along the sequence into a contiguous [B, H, P + S, D] buffer.
std::vector<float> concat(const view<const float, 4>& past, const view<const float, 4>& x) {
  const index_t b = x.shape(0), h = x.shape(1), p = past.shape(2), s = x.shape(2), d = x.shape(3);
  std::vector<float> r(std::size_t(b * h * (p + s) * d));
  const view<float, 4> rv = make_view(r.data(), {b, h, p + s, d});
  for (index_t i = 0; i < b; ++i)
    for (index_t j = 0; j < h; ++j)
      for (index_t t = 0; t < p + s; ++t)
        for (index_t e = 0; e < d; ++e) rv(i, j, t, e) = t < p ? past(i, j, t, e) : x(i, j, t - p, e);
  return r;
}

struct cache_case {
  index_t b, hq, hkv, past, s, sq, dqk, dv;
  bool causal;
  int threads;
  std::string str() const {
    std::ostringstream o;
    o << "B=" << b << " Hq=" << hq << " Hkv=" << hkv << " P=" << past << " Skv=" << s
      << " Sq=" << sq << " Dqk=" << dqk << " Dv=" << dv << " causal=" << causal
      << " threads=" << threads;
    return o.str();
  }
};

attention_params params_of(const cache_case& c) {
  attention_params p;
  p.is_causal = c.causal;
  p.threads = c.threads > 1 ? threading::openmp(c.threads) : threading::serial();
  return p;
}

/// Separate past and present buffers: present = concat, output = the cache-less call's.
template <class Bk>
void check_copying_case(const cache_case& c, std::uint32_t seed) {
  const dims<4> qs{c.b, c.hq, c.sq, c.dqk}, ks{c.b, c.hkv, c.s, c.dqk}, vs{c.b, c.hkv, c.s, c.dv};
  const dims<4> pks{c.b, c.hkv, c.past, c.dqk}, pvs{c.b, c.hkv, c.past, c.dv};
  const auto q = random_buffer(qs[0] * qs[1] * qs[2] * qs[3], seed);
  const auto k = random_buffer(ks[0] * ks[1] * ks[2] * ks[3], seed + 1);
  const auto v = random_buffer(vs[0] * vs[1] * vs[2] * vs[3], seed + 2);
  const auto pk = random_buffer(pks[0] * pks[1] * pks[2] * pks[3], seed + 3);
  const auto pv = random_buffer(pvs[0] * pvs[1] * pvs[2] * pvs[3], seed + 4);
  const view<const float, 4> qv = contiguous(q.data(), qs), kv = contiguous(k.data(), ks),
                             vv = contiguous(v.data(), vs), pkv = contiguous(pk.data(), pks),
                             pvv = contiguous(pv.data(), pvs);
  std::vector<float> present_k(std::size_t(c.b * c.hkv * (c.past + c.s) * c.dqk), sentinel);
  std::vector<float> present_v(std::size_t(c.b * c.hkv * (c.past + c.s) * c.dv), sentinel);
  std::vector<float> out(std::size_t(c.b * c.hq * c.sq * c.dv), sentinel);
  std::vector<float> expect_out(out.size(), sentinel);

  attention_params p = params_of(c);
  p.past_key = pkv, p.past_value = pvv;
  p.present_key = make_view(present_k.data(), {c.b, c.hkv, c.past + c.s, c.dqk});
  p.present_value = make_view(present_v.data(), {c.b, c.hkv, c.past + c.s, c.dv});
  const status s = attention<Bk>(qv, kv, vv, make_view(out.data(), {c.b, c.hq, c.sq, c.dv}), p);
  REQUIRE_MESSAGE(s.ok(), c.str() << ": " << s.message());

  const auto ck = concat(pkv, kv), cv = concat(pvv, vv);
  const view<const float, 4> ckv = make_view(ck.data(), {c.b, c.hkv, c.past + c.s, c.dqk});
  const view<const float, 4> cvv = make_view(cv.data(), {c.b, c.hkv, c.past + c.s, c.dv});
  CHECK_MESSAGE(differing(view<const float, 4>(p.present_key), ckv) == 0, c.str());
  CHECK_MESSAGE(differing(view<const float, 4>(p.present_value), cvv) == 0, c.str());
  const status e = attention<Bk>(qv, ckv, cvv, make_view(expect_out.data(), {c.b, c.hq, c.sq, c.dv}),
                                 params_of(c));
  REQUIRE(e.ok());
  int bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i) bad += !same_bits(out[i], expect_out[i]);
  CHECK_MESSAGE(bad == 0, c.str() << ": " << bad << " output elements differ");
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("attention KV cache: present = concat(past, new), output as over it", Bk,
                          cache_copy_id) {
  std::mt19937 gen(11);
  constexpr index_t pasts[] = {0, 1, 17, 64, 130};
  constexpr index_t news[] = {1, 3, 17};
  constexpr index_t dims_[] = {8, 32, 64, 80};
  std::uint32_t seed = 500;
  for (int n = 0; n < 24; ++n) {
    cache_case c{};
    c.b = 1 + gen() % 2;
    c.hkv = 1 + gen() % 2;
    c.hq = c.hkv * (1 + gen() % 4);
    c.past = pasts[gen() % 5];
    c.s = news[gen() % 3];
    c.sq = c.s;  // self-attention of the new tokens over past + new
    c.dqk = dims_[gen() % 4];
    c.dv = gen() % 3 == 0 ? dims_[gen() % 4] : c.dqk;
    c.causal = gen() % 2 == 0;
    c.threads = 1 + int(gen() % 2);
    check_copying_case<Bk>(c, seed);
    seed += 7;
  }
}
TEST_CASE_TEMPLATE_APPLY(cache_copy_id, fusedops::test::compiled_backends_tuple);

TEST_CASE_TEMPLATE_DEFINE("attention KV cache: an engine's cache buffer, decoded token by token",
                          Bk, cache_inplace_id) {
  // One [B, Hkv, max, D] buffer per side. Prefill writes the prompt through present (k/v given in
  // separate buffers, copied); every decode step has its new K/V written into the cache slot
  // first (as RoPE-into-cache does), so past and k/v are exact aliases and nothing is copied.
  // Both 4-D [B, H, S, D] and 3-D [B, S, H·D] (split_heads) cache layouts.
  for (const bool three_d : {false, true}) {
    const index_t b = 2, hq = 4, hkv = 2, dqk = 16, dv = 24, max_len = 40, prompt = 9;
    std::vector<float> kcache(std::size_t(b * hkv * max_len * dqk), sentinel);
    std::vector<float> vcache(std::size_t(b * hkv * max_len * dv), sentinel);
    auto cache_view = [&](std::vector<float>& buf, index_t d) {
      if (three_d) return split_heads(make_view(buf.data(), {b, max_len, hkv * d}), hkv);
      return make_view(buf.data(), {b, hkv, max_len, d});
    };
    const view<float, 4> kc = cache_view(kcache, dqk), vc = cache_view(vcache, dv);
    std::uint32_t seed = three_d ? 900 : 800;
    index_t len = 0;
    for (index_t step = 0; step < 6; ++step) {
      CAPTURE(three_d);
      CAPTURE(step);
      const index_t s = step == 0 ? prompt : (step == 3 ? 0 : 1);  // step 3: an empty update
      const auto q = random_buffer(b * hq * s * dqk, seed++);
      const view<const float, 4> qv = make_view(q.data(), {b, hq, s, dqk});
      const auto knew = random_buffer(b * hkv * s * dqk, seed++);
      const auto vnew = random_buffer(b * hkv * s * dv, seed++);
      view<const float, 4> kv = make_view(knew.data(), {b, hkv, s, dqk});
      view<const float, 4> vv = make_view(vnew.data(), {b, hkv, s, dv});
      if (step > 0) {  // write the new K/V into the cache slot, then pass that slot as k / v
        const view<float, 4> kslot = kc.slice(2, len, len + s), vslot = vc.slice(2, len, len + s);
        for (index_t i = 0; i < b; ++i)
          for (index_t h = 0; h < hkv; ++h)
            for (index_t t = 0; t < s; ++t) {
              for (index_t e = 0; e < dqk; ++e) kslot(i, h, t, e) = kv(i, h, t, e);
              for (index_t e = 0; e < dv; ++e) vslot(i, h, t, e) = vv(i, h, t, e);
            }
        kv = kslot, vv = vslot;
      }
      // The expected cache contents: the previous ones then the new rows.
      const std::vector<float> before_k = kcache, before_v = vcache;
      attention_params p;
      p.is_causal = true;
      p.threads = step % 2 ? threading::openmp(2) : threading::serial();
      p.past_key = kc.slice(2, 0, len), p.past_value = vc.slice(2, 0, len);
      p.present_key = kc.slice(2, 0, len + s), p.present_value = vc.slice(2, 0, len + s);
      std::vector<float> out(std::size_t(b * hq * s * dv), sentinel), expect(out.size(), sentinel);
      const status st = attention<Bk>(qv, kv, vv, make_view(out.data(), {b, hq, s, dv}), p);
      REQUIRE_MESSAGE(st.ok(), st.message());
      if (step == 0) {  // prefill copied the prompt's K/V into the cache
        CHECK(differing(view<const float, 4>(kc.slice(2, 0, s)), kv) == 0);
        CHECK(differing(view<const float, 4>(vc.slice(2, 0, s)), vv) == 0);
      } else {  // nothing moved
        CHECK(kcache == before_k);
        CHECK(vcache == before_v);
      }
      len += s;
      // Beyond the valid length the cache is untouched.
      CHECK((len == max_len || kc(0, 0, len, 0) == sentinel));
      attention_params plain;
      plain.is_causal = true;
      const status e = attention<Bk>(qv, view<const float, 4>(kc.slice(2, 0, len)),
                                     view<const float, 4>(vc.slice(2, 0, len)),
                                     make_view(expect.data(), {b, hq, s, dv}), plain);
      REQUIRE(e.ok());
      int bad = 0;
      for (std::size_t i = 0; i < out.size(); ++i) bad += !same_bits(out[i], expect[i]);
      CHECK_MESSAGE(bad == 0, bad << " output elements differ from the cache-less call");
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(cache_inplace_id, fusedops::test::compiled_backends_tuple);

TEST_CASE("attention KV cache: bad cache arguments name the argument, nothing is written") {
  const index_t b = 1, hq = 2, hkv = 1, past = 5, s = 3, d = 8;
  const auto q = random_buffer(b * hq * s * d, 1), k = random_buffer(b * hkv * s * d, 2),
             v = random_buffer(b * hkv * s * d, 3), pk = random_buffer(b * hkv * past * d, 4),
             pv = random_buffer(b * hkv * past * d, 5);
  const view<const float, 4> qv = make_view(q.data(), {b, hq, s, d}),
                             kv = make_view(k.data(), {b, hkv, s, d}),
                             vv = make_view(v.data(), {b, hkv, s, d}),
                             pkv = make_view(pk.data(), {b, hkv, past, d}),
                             pvv = make_view(pv.data(), {b, hkv, past, d});
  std::vector<float> out(std::size_t(b * hq * s * d), sentinel);
  std::vector<float> kcache(std::size_t(b * hkv * (past + s + 4) * d), sentinel);
  std::vector<float> vcache(kcache.size(), sentinel);
  const view<float, 4> kc = make_view(kcache.data(), {b, hkv, past + s + 4, d});
  const view<float, 4> vc = make_view(vcache.data(), {b, hkv, past + s + 4, d});
  const view<float, 4> ov = make_view(out.data(), {b, hq, s, d});

  auto expect_error = [&](const attention_params& p, const char* needle) {
    const status st = attention(qv, kv, vv, ov, p);
    REQUIRE_FALSE(st.ok());
    CHECK_MESSAGE(std::string(st.message()).find(needle) != std::string::npos, st.message());
    for (float x : out) REQUIRE(x == sentinel);
    for (float x : kcache) REQUIRE(x == sentinel);
    for (float x : vcache) REQUIRE(x == sentinel);
  };
  attention_params ok;
  ok.past_key = pkv, ok.past_value = pvv;
  ok.present_key = kc.slice(2, 0, past + s), ok.present_value = vc.slice(2, 0, past + s);

  attention_params p = ok;
  p.past_value = {};
  expect_error(p, "'past_value'");
  p = ok, p.present_value = {};
  expect_error(p, "'present_value'");
  p = ok, p.present_key = {}, p.present_value = {};
  expect_error(p, "'present_key'");
  p = ok, p.present_key = kc.slice(2, 0, past + s + 1);  // one position too many
  expect_error(p, "'present_key' has shape [1, 1, 9, 8], expected [1, 1, 8, 8]");
  p = ok, p.past_value = make_view(pv.data(), {b, hkv, past - 1, d});  // P differs from past_key's
  expect_error(p, "'past_value'");
  p = ok, p.present_value = view<float, 4>(kc.slice(2, 0, past + s));  // both presents in one place
  expect_error(p, "overlaps");
  // past partially inside present (shifted by one position): neither a prefix nor disjoint.
  p = ok, p.past_key = view<const float, 4>(kc.slice(2, 1, past + 1));
  expect_error(p, "overlaps 'past_key'");
  // present over q.
  std::vector<float> shared(std::size_t(b * hkv * (past + s) * d + q.size()), sentinel);
  p = ok, p.present_key = make_view(shared.data(), {b, hkv, past + s, d});
  const status st = attention(make_view(static_cast<const float*>(shared.data()), {b, hq, s, d}),
                              kv, vv, ov, p);
  CHECK_FALSE(st.ok());
  CHECK_MESSAGE(std::string(st.message()).find("'q'") != std::string::npos, st.message());
  for (float x : out) REQUIRE(x == sentinel);

  // qk_output over the new k (validate sees only present in k's place: the cache checks it).
  std::vector<float> kq(std::size_t(b * hq * s * (past + s)), 0.5f);
  p = ok, p.qk_output = make_view(kq.data(), {b, hq, s, past + s});
  const status sq = attention(qv, make_view(static_cast<const float*>(kq.data()), {b, hkv, s, d}),
                              vv, ov, p);
  CHECK_FALSE(sq.ok());
  CHECK_MESSAGE(std::string(sq.message()).find("'qk_output'") != std::string::npos, sq.message());
  for (float x : out) REQUIRE(x == sentinel);
  for (float x : kq) REQUIRE(x == 0.5f);

  // Present without past: present is a copy of k / v (P = 0).
  p = attention_params{};
  p.present_key = kc.slice(2, 0, s), p.present_value = vc.slice(2, 0, s);
  REQUIRE(attention(qv, kv, vv, ov, p).ok());
  CHECK(differing(view<const float, 4>(kc.slice(2, 0, s)), kv) == 0);
  CHECK(differing(view<const float, 4>(vc.slice(2, 0, s)), vv) == 0);
  CHECK(kc(0, 0, s, 0) == sentinel);
}
