// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// RotaryEmbedding side by side in one binary, same flags:
//   rope/fusedops_<backend>         fusedops::rotary_embedding, rotate-half, 3-D [1, T, H·D],
//                                   positions from an offset into 2-D cos/sin caches
//   rope_interleaved/fusedops_<b>   the same, interleaved pairs
//   rope/loop, rope_interleaved/loop  the straightforward per-element loops
//   rope/copy                       a same-size copy alone (reference; each row's of_copy
//                                   compares with copies timed in turn with its calls:
//                                   support/memory_bound.hpp)
// Shapes are <tokens>x<hidden> with head_size 128 (hidden 4096: 32 heads; 768: 6 heads), full
// rotary dim. Rows and counters as in norm_bench (bytes: x read + y written + the cos/sin rows).
// CI's smoke run: --benchmark_min_time=0.01 --benchmark_filter='1x4096'.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <fusedops/reference/rope.hpp>
#include <fusedops/rotary_embedding.hpp>

#include "support/memory_bound.hpp"

namespace {

using fusedops::index_t;
using fusedops_bench::cache_state;
constexpr long k_head = 128, k_half = k_head / 2, k_offset = 3;

enum array : std::size_t { X, Y, COS, SIN, n_arrays };

fusedops_bench::rotating_sets& sets_for(long tokens, long hidden, cache_state st) {
  const std::size_t n = std::size_t(tokens) * std::size_t(hidden);
  const std::size_t c = std::size_t(tokens + k_offset) * k_half;
  return fusedops_bench::shared_sets("rope", {n, n, c, c}, st, [=](std::size_t s, float* const* a) {
    std::uint64_t g = 0x2545F4914F6CDD1Dull * (s + 1);
    auto next = [&g] {
      g = g * 6364136223846793005ull + 1442695040888963407ull;
      return float(g >> 40) * 0x1p-24f;
    };
    for (std::size_t i = 0; i < n; ++i) a[X][i] = 2 * next() - 1;
    for (std::size_t i = 0; i < c; ++i) {
      const float t = 6.28f * next();
      a[COS][i] = std::cos(t), a[SIN][i] = std::sin(t);
    }
  });
}

void check(const fusedops::status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "fusedops error: %s\n", s.message());
  std::exit(1);
}

template <class B>
void fusedops_rope(float* const* a, long tokens, long hidden, int t, bool interleaved) {
  fusedops::rotary_embedding_params p;
  p.num_heads = hidden / k_head;
  p.interleaved = interleaved;
  p.position_offset = k_offset;
  p.threads = t == 1 ? fusedops::threading::serial() : fusedops::threading::openmp(t);
  const index_t T = tokens, Hd = hidden, P = tokens + k_offset;
  check(fusedops::rotary_embedding<B>(
      fusedops::make_view(static_cast<const float*>(a[X]), {index_t{1}, T, Hd}),
      fusedops::make_view(static_cast<const float*>(a[COS]), {P, index_t{k_half}}),
      fusedops::make_view(static_cast<const float*>(a[SIN]), {P, index_t{k_half}}),
      fusedops::make_view(a[Y], {index_t{1}, T, Hd}), p));
}

// What one writes without a library: per token, per head, per element.
void loop_rope(float* const* a, long tokens, long hidden, int t, bool interleaved) {
  const long heads = hidden / k_head;
  auto token = [=](long s) {
    const float* c = a[COS] + (s + k_offset) * k_half;
    const float* sn = a[SIN] + (s + k_offset) * k_half;
    for (long h = 0; h < heads; ++h) {
      const float* x = a[X] + s * hidden + h * k_head;
      float* y = a[Y] + s * hidden + h * k_head;
      for (long i = 0; i < k_half; ++i) {
        const long i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + k_half;
        const float x1 = x[i1], x2 = x[i2];
        y[i1] = x1 * c[i] - x2 * sn[i];
        y[i2] = x2 * c[i] + x1 * sn[i];
      }
    }
  };
#if FUSEDOPS_HAS_OPENMP
  if (t > 1 && tokens > 1) {
#pragma omp parallel for num_threads(t) schedule(static)
    for (long s = 0; s < tokens; ++s) token(s);
    return;
  }
#endif
  for (long s = 0; s < tokens; ++s) token(s);
}

// Max |y - oracle| over a small problem, for every implementation, before timing.
bool self_check() {
  const long tokens = 9, hidden = 3 * k_head;
  auto& sets = sets_for(tokens, hidden, cache_state::hot);
  float* a[n_arrays];
  for (std::size_t i = 0; i < n_arrays; ++i) a[i] = sets.get(i);
  bool ok = true;
  for (bool inter : {false, true}) {
    const auto x4 = fusedops::make_view(
        static_cast<const float*>(a[X]),
        {index_t{1}, hidden / k_head, index_t(tokens), index_t{k_head}},
        {index_t(tokens * hidden), index_t{k_head}, index_t(hidden), index_t{1}});
    const index_t P = tokens + k_offset;
    const auto c3 =
        fusedops::make_view(static_cast<const float*>(a[COS]), {index_t{1}, P, index_t{k_half}});
    const auto s3 =
        fusedops::make_view(static_cast<const float*>(a[SIN]), {index_t{1}, P, index_t{k_half}});
    fusedops::reference::rope_positions pos;
    pos.offset = k_offset;
    const auto want = fusedops::reference::rotary_embedding(x4, c3, s3, false, pos, k_head, inter);
    auto err = [&] {
      double worst = 0;
      for (long h = 0; h < hidden / k_head; ++h)
        for (long s = 0; s < tokens; ++s)
          for (long d = 0; d < k_head; ++d) {
            const double w = want[std::size_t((h * tokens + s) * k_head + d)];
            const double e = std::fabs(double(a[Y][s * hidden + h * k_head + d]) - w);
            if (!(e <= worst)) worst = e;
          }
      return worst;
    };
    fusedops_rope<fusedops::default_backend>(a, tokens, hidden, 2, inter);
    const double e1 = err();
    loop_rope(a, tokens, hidden, 1, inter);
    const double e2 = err();
    std::printf("self-check rope%s fusedops %.2e loop %.2e\n", inter ? "_interleaved" : "", e1, e2);
    ok = ok && e1 <= 1e-6 && e2 <= 1e-6;
  }
  return ok;
}

template <class Run>
void add(const std::string& op, const std::string& impl, long tokens, long hidden, int t,
         cache_state st, Run run) {
  const double bytes = (2.0 * double(tokens) * double(hidden) + 2.0 * double(tokens) * k_half) * 4;
  fusedops_bench::register_bandwidth(fusedops_bench::row_name(op, impl, tokens, hidden, t, st),
                                     [=](benchmark::State& state) {
                                       auto& sets = sets_for(tokens, hidden, st);
                                       float* a[n_arrays];
                                       fusedops_bench::traffic tr{tokens, hidden, t, st, bytes};
                                       fusedops_bench::run_bandwidth(state, sets, tr, [&] {
                                         for (std::size_t i = 0; i < n_arrays; ++i)
                                           a[i] = sets.get(i);
                                         run(a);
                                       });
                                     });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!self_check()) {
    std::fprintf(stderr, "self-check failed: not timing wrong code\n");
    return 1;
  }
  using B = fusedops::default_backend;
  const std::string fo = std::string("fusedops_") + B::name;
  std::vector<int> thread_counts = {1};
  if (FUSEDOPS_HAS_OPENMP) thread_counts.push_back(2);
  const std::pair<long, long> shapes[] = {{1, 4096}, {4096, 768}, {512, 4096}};
  for (const auto& shape : shapes) {
    // Plain variables, not a structured binding: C++17 lambdas cannot capture bindings (clang).
    const long tokens = shape.first, hidden = shape.second;
    for (int t : thread_counts)
      for (cache_state st : {cache_state::hot, cache_state::cold}) {
        fusedops_bench::register_copy("rope", tokens, hidden, t, st);
        for (bool inter : {false, true}) {
          const char* op = inter ? "rope_interleaved" : "rope";
          add(op, fo, tokens, hidden, t, st,
              [=](float* const* a) { fusedops_rope<B>(a, tokens, hidden, t, inter); });
          add(op, "loop", tokens, hidden, t, st,
              [=](float* const* a) { loop_rope(a, tokens, hidden, t, inter); });
        }
      }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
