// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Streaming (non-temporal) stores in the normalizations (store_policy, ops/norm/norm_generic.hpp)
// on every backend: store_policy::streaming must write bit for bit what store_policy::cached
// writes (y, sum, mean, inv_std_dev), which norm_test.cpp checks against the double oracle. The
// streaming path differs in where the fused sum is computed (pass 2 instead of pass 1) and in the
// stores, and takes non-temporal stores only for rows whose outputs start aligned: the cases
// cover aligned and misaligned outputs, hidden sizes around the vector width, every fused form
// with and without biases, the in-place aliasings (sum = x, y = residual) and 1 and 2 threads.
// store_policy::automatic is checked to choose by size.
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/normalization.hpp"
#include "support/backends.hpp"
#include "support/bits.hpp"
#include "support/random.hpp"

namespace {

using namespace fusedops;

enum class op { layer_norm, add_layer_norm, rms_norm, add_rms_norm };

struct stream_case {
  op kind = op::layer_norm;
  index_t rows = 1, hidden = 1;
  index_t shift = 0;  // floats added to the output buffers' start: 0 = aligned rows
  bool bias = false, residual_bias = false, stats = false;
  int alias = 0;  // fused: 0 separate, 1 sum = x, 2 y = residual
  int threads = 1;
  std::string str() const {
    std::ostringstream o;
    o << "op=" << int(kind) << " rows=" << rows << " hidden=" << hidden << " shift=" << shift
      << " bias=" << bias << " residual_bias=" << residual_bias << " stats=" << stats
      << " alias=" << alias << " threads=" << threads;
    return o.str();
  }
};

/// Runs the case under `policy`; returns every output buffer (sum, y, mean, inv_std) in one
/// vector.
template <class Bk>
std::vector<float> run(const stream_case& c, store_policy policy) {
  const index_t n = c.rows * c.hidden, pad = 64;
  auto x = test::random_floats(std::size_t(n + pad), 1, -3.f, 5.f);
  auto r = test::random_floats(std::size_t(n + pad), 2);
  const auto g = test::random_floats(std::size_t(c.hidden), 3, 0.5f, 1.5f);
  const auto b = test::random_floats(std::size_t(c.hidden), 4);
  const auto rb = test::random_floats(std::size_t(c.hidden), 5);
  // 64-byte aligned output buffers, then shifted by c.shift floats.
  std::vector<float> ybuf(std::size_t(n + 2 * pad), -1.f), sbuf(ybuf.size(), -2.f);
  std::vector<float> stats(std::size_t(2 * c.rows), -3.f);
  auto aligned = [&](std::vector<float>& v) {
    float* p = v.data();
    while (reinterpret_cast<std::uintptr_t>(p) % 64 != 0) ++p;
    return p + c.shift;
  };
  const bool fused = c.kind == op::add_layer_norm || c.kind == op::add_rms_norm;
  float* y = aligned(ybuf);
  float* sum = aligned(sbuf);
  if (fused && c.alias == 1) sum = x.data();
  if (fused && c.alias == 2) y = r.data();
  const view<const float, 2> xv =
      make_view(static_cast<const float*>(x.data()), {c.rows, c.hidden});
  const view<const float, 2> rv =
      make_view(static_cast<const float*>(r.data()), {c.rows, c.hidden});
  const view<float, 2> yv = make_view(y, {c.rows, c.hidden});
  const view<float, 2> sv = make_view(sum, {c.rows, c.hidden});
  const view<const float, 1> gv = make_view(g.data(), {c.hidden});
  const threading t = c.threads > 1 ? threading::openmp(c.threads) : threading::serial();
  status s;
  if (c.kind == op::layer_norm || c.kind == op::add_layer_norm) {
    layer_norm_params p;
    p.stores = policy, p.threads = t;
    if (c.bias) p.bias = make_view(b.data(), {c.hidden});
    if (c.residual_bias && fused) p.residual_bias = make_view(rb.data(), {c.hidden});
    if (c.stats) {
      p.mean = make_view(stats.data(), {c.rows});
      p.inv_std_dev = make_view(stats.data() + c.rows, {c.rows});
    }
    s = fused ? add_layer_norm<Bk>(xv, rv, gv, sv, yv, p) : layer_norm<Bk>(xv, gv, yv, p);
  } else {
    rms_norm_params p;
    p.stores = policy, p.threads = t;
    if (c.residual_bias && fused) p.residual_bias = make_view(rb.data(), {c.hidden});
    s = fused ? add_rms_norm<Bk>(xv, rv, gv, sv, yv, p) : rms_norm<Bk>(xv, gv, yv, p);
  }
  REQUIRE_MESSAGE(s.ok(), c.str() << ": " << s.message());
  // The outputs as the views see them (the buffers' alignment differs between runs).
  std::vector<float> all(y, y + n);
  if (fused) all.insert(all.end(), sum, sum + n);
  all.insert(all.end(), stats.begin(), stats.end());
  all.insert(all.end(), x.begin(), x.begin() + n);  // aliased outputs land in x / r
  all.insert(all.end(), r.begin(), r.begin() + n);
  return all;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("norms: streaming stores write what cached stores write", Bk,
                          norm_stream_id) {
  std::mt19937 gen(77);
  constexpr index_t hiddens[] = {1, 3, 15, 16, 17, 63, 64, 65, 768, 1000};
  constexpr op kinds[] = {op::layer_norm, op::add_layer_norm, op::rms_norm, op::add_rms_norm};
  int bad_cases = 0;
  for (int n = 0; n < 64; ++n) {
    stream_case c;
    c.kind = kinds[n % 4];
    c.hidden = hiddens[gen() % 10];
    c.rows = 1 + index_t(gen() % 37);
    c.shift = gen() % 3 == 0 ? index_t(1 + gen() % 15) : 0;
    c.bias = gen() % 2 == 0;
    c.residual_bias = gen() % 2 == 0;
    c.stats = gen() % 2 == 0;
    c.alias = int(gen() % 3);
    c.threads = 1 + int(gen() % 2);
    const int bad = test::differing_floats(run<Bk>(c, store_policy::streaming),
                                           run<Bk>(c, store_policy::cached));
    if (bad != 0 && bad_cases++ < 5) MESSAGE(c.str() << ": " << bad << " floats differ");
  }
  CHECK(bad_cases == 0);
}
TEST_CASE_TEMPLATE_APPLY(norm_stream_id, fusedops::test::compiled_backends_tuple);

TEST_CASE("store_policy: automatic streams only beyond the last-level cache") {
  const std::size_t l3 = static_cast<std::size_t>(cache_sizes::detected().l3);
  CHECK(!streams(store_policy::automatic, l3));
  CHECK(streams(store_policy::automatic, l3 + 1));
  CHECK(!streams(store_policy::cached, 4 * l3));
  CHECK(streams(store_policy::streaming, 1));
  CHECK(cache_sizes::detected().l3 >= cache_sizes::detected().l2);
}
