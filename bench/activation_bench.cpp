// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Standalone activations and SwiGLU side by side in one binary, same flags for everyone. Rows
// (support/memory_bound.hpp naming, "bytes" = GB/s read + written, "of_copy" = that over a
// same-size copy timed in turn with the row's calls, on its arrays, copy_GBps):
//   <act>/fusedops/<rows>x<cols>/threads:<t>/<hot|cold>   fusedops::apply_activation (native)
//   <act>/xsimd/...     the same functor form with xsimd 8.1's exp / erf / tanh (what fusedops
//                       used before its own vector math), same loop
//   <act>/loop/...      the straightforward loop: std:: math per element
//   swiglu/...          y[r, :h] = silu(x[r, :h]) · x[r, h:], x [rows, 2·cols], y [rows, cols]
//   activation/copy/... memcpy per row of the same shape, alone (reference; swiglu's of_copy
//                       too compares with a rows × cols copy: GB/s compare whatever the byte count)
// and the cost of one vector function per element, L1-resident (4096 floats), in ns:
//   vmath/<exp|tanh|erf|sigmoid>/<fusedops|xsimd>
// Whole comparison (medians of 3):
//   activation_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
// CI smoke run: --benchmark_min_time=0.01 --benchmark_filter='1x4096'.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <fusedops/activation.hpp>
#include <fusedops/reference/activation.hpp>

#include "support/memory_bound.hpp"

namespace {

using namespace fusedops_bench;
using B = fusedops::default_backend;
using V = fusedops::simd::vec_t<float, B>;
constexpr int L = fusedops::simd::lanes<V>;

void check(const fusedops::status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "fusedops error: %s\n", s.message());
  std::exit(1);
}

fusedops::threading policy(int threads) {
  return threads == 1 ? fusedops::threading::serial() : fusedops::threading::openmp(threads);
}

// --- the activations in three implementations -----------------------------------------------------
// id: 0 gelu_erf, 1 gelu_tanh, 2 silu, 3 hardswish, 4 sigmoid, 5 tanh
const char* const act_names[] = {"gelu_erf", "gelu_tanh", "silu", "hardswish", "sigmoid", "tanh"};

template <class F>
void with_functor(int id, F&& f) {
  switch (id) {
    case 0: return f(fusedops::act::gelu_erf{});
    case 1: return f(fusedops::act::gelu_tanh{});
    case 2: return f(fusedops::act::silu{});
    case 3: return f(fusedops::act::hardswish{});
    case 4: return f(fusedops::act::sigmoid{});
    default: return f(fusedops::act::tanh{});
  }
}

// xsimd's math in the functors' forms (xsimd only exists for the SIMD backends).
V xsimd_act(int id, const V& x) {
  if constexpr (std::is_same_v<B, fusedops::backend::generic>) {
    V r;
    with_functor(id, [&](auto act) { r = act(x); });
    return r;
  } else {
    switch (id) {
      case 0: return V(0.5f) * x * (V(1.f) + xsimd::erf(x * V(0.70710678f)));
      case 1: return x / (V(1.f) + xsimd::exp(V(-2.f) * V(0.79788456f) * (x + V(0.044715f) * x * x * x)));
      case 2: return x / (V(1.f) + xsimd::exp(V(0.f) - x));
      case 3: return fusedops::act::hardswish{}(x);
      case 4: return V(1.f) / (V(1.f) + xsimd::exp(V(0.f) - x));
      default: return xsimd::tanh(x);
    }
  }
}

template <int Id>
void xsimd_rows(const float* x, float* y, long rows, long cols, int threads) {
  fusedops::parallel_for(policy(threads), rows, 1, [&](long r0, long r1) {
    for (long r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      long j = 0;
      for (; j + L <= cols; j += L) fusedops::simd::store(yr + j, xsimd_act(Id, fusedops::simd::load<V>(xr + j)));
      if (j < cols) {
        const int n = int(cols - j);
        fusedops::simd::store_partial(yr + j, xsimd_act(Id, fusedops::simd::load_partial<V>(xr + j, n)), n);
      }
    }
  });
}

float loop_one(int id, float v) {
  switch (id) {
    case 0: return 0.5f * v * (1.f + std::erf(v * 0.70710678f));
    case 1: return 0.5f * v * (1.f + std::tanh(0.79788456f * (v + 0.044715f * v * v * v)));
    case 2: return v / (1.f + std::exp(-v));
    case 3: return v * std::min(1.f, std::max(0.f, v / 6.f + 0.5f));
    case 4: return 1.f / (1.f + std::exp(-v));
    default: return std::tanh(v);
  }
}

template <int Id>
void loop_rows(const float* x, float* y, long rows, long cols, int threads) {
  fusedops::parallel_for(policy(threads), rows, 1, [&](long r0, long r1) {
    for (long i = r0 * cols; i < r1 * cols; ++i) y[i] = loop_one(Id, x[i]);
  });
}

using rows_fn = void (*)(const float*, float*, long, long, int);
template <int Id>
void fusedops_rows(const float* x, float* y, long rows, long cols, int threads) {
  with_functor(Id, [&](auto act) {
    check(fusedops::apply_activation<B>(fusedops::make_view(x, {rows, cols}),
                                        fusedops::make_view(y, {rows, cols}), act, policy(threads)));
  });
}
const rows_fn fusedops_impl[] = {fusedops_rows<0>, fusedops_rows<1>, fusedops_rows<2>,
                                 fusedops_rows<3>, fusedops_rows<4>, fusedops_rows<5>};
const rows_fn xsimd_impl[] = {xsimd_rows<0>, xsimd_rows<1>, xsimd_rows<2>,
                              xsimd_rows<3>, xsimd_rows<4>, xsimd_rows<5>};
const rows_fn loop_impl[] = {loop_rows<0>, loop_rows<1>, loop_rows<2>,
                             loop_rows<3>, loop_rows<4>, loop_rows<5>};

void swiglu_fusedops(const float* x, float* y, long rows, long cols, int threads) {
  check(fusedops::apply_swiglu<B>(fusedops::make_view(x, {rows, 2 * cols}),
                                  fusedops::make_view(y, {rows, cols}), 1.f, policy(threads)));
}
void swiglu_loop(const float* x, float* y, long rows, long cols, int threads) {
  fusedops::parallel_for(policy(threads), rows, 1, [&](long r0, long r1) {
    for (long r = r0; r < r1; ++r)
      for (long j = 0; j < cols; ++j) {
        const float a = x[r * 2 * cols + j], b = x[r * 2 * cols + cols + j];
        y[r * cols + j] = a / (1.f + std::exp(-a)) * b;
      }
  });
}

void fill_inputs(float* x, std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-6.f, 6.f);
  for (std::size_t i = 0; i < n; ++i) x[i] = dist(gen);
}

// --- correctness, once, before timing ---------------------------------------------------------------
bool self_check() {
  const long rows = 7, cols = 1000;
  std::vector<float> x(std::size_t(rows * cols * 2)), y(std::size_t(rows * cols));
  fill_inputs(x.data(), x.size(), 3);
  bool ok = true;
  auto report = [&](const std::string& name, const std::vector<double>& want, double limit) {
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      worst = std::max(worst, std::fabs(double(y[i]) - want[i]) / (1 + std::fabs(want[i])));
    std::printf("self-check %-22s max err %.2e%s\n", name.c_str(), worst, worst <= limit ? "" : "  FAILED");
    ok = ok && worst <= limit;
  };
  const auto xv = fusedops::make_view<const float>(x.data(), {rows, cols});
  for (int id = 0; id < 6; ++id)
    with_functor(id, [&](auto act) {
      const auto want = fusedops::reference::activation(xv, act);
      fusedops_impl[id](x.data(), y.data(), rows, cols, 2);
      report(std::string(act_names[id]) + "/fusedops", want, 1e-6);
      xsimd_impl[id](x.data(), y.data(), rows, cols, 1);
      report(std::string(act_names[id]) + "/xsimd", want, 1e-5);
      loop_impl[id](x.data(), y.data(), rows, cols, 1);
      report(std::string(act_names[id]) + "/loop", want, 1e-5);
    });
  const auto want = fusedops::reference::gated_activation(
      fusedops::make_view<const float>(x.data(), {rows, 2 * cols}), fusedops::act::silu{});
  swiglu_fusedops(x.data(), y.data(), rows, cols, 2);
  report("swiglu/fusedops", want, 1e-6);
  swiglu_loop(x.data(), y.data(), rows, cols, 1);
  report("swiglu/loop", want, 1e-5);
  return ok;
}

// --- registration -------------------------------------------------------------------------------------
void add_row(const std::string& op, const std::string& impl, long rows, long cols, int threads,
             cache_state st, rows_fn fn, long in_cols) {
  register_bandwidth(row_name(op, impl, rows, cols, threads, st), [=](benchmark::State& state) {
    const std::size_t nx = std::size_t(rows * in_cols), ny = std::size_t(rows * cols);
    rotating_sets& sets = shared_sets("act_in" + std::to_string(in_cols / cols), {nx, ny}, st,
                                      [nx](std::size_t s, float* const* a) { fill_inputs(a[0], nx, unsigned(s)); });
    const traffic t{rows, cols, threads, st, double(nx + ny) * sizeof(float)};
    run_bandwidth(state, sets, t, [&] { fn(sets.get(0), sets.get(1), rows, cols, threads); });
  });
}

// ns per element of one vector function on L1-resident data.
template <class F>
void add_vmath(const std::string& name, F f) {
  benchmark::RegisterBenchmark(("vmath/" + name).c_str(), [f](benchmark::State& state) {
    std::vector<float> x(4096), y(4096);
    fill_inputs(x.data(), x.size(), 5);
    for (auto _ : state) {
      for (std::size_t i = 0; i < x.size(); i += L) fusedops::simd::store(y.data() + i, f(fusedops::simd::load<V>(x.data() + i)));
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
    state.counters["ns_per_elem"] = benchmark::Counter(
        double(x.size()), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  });
}

void register_all() {
  namespace s = fusedops::simd;
  add_vmath("exp/fusedops", [](const V& v) { return s::exp(v); });
  add_vmath("tanh/fusedops", [](const V& v) { return s::tanh(v); });
  add_vmath("erf/fusedops", [](const V& v) { return s::erf(v); });
  add_vmath("sigmoid/fusedops", [](const V& v) { return s::sigmoid(v); });
  if constexpr (!std::is_same_v<B, fusedops::backend::generic>) {
    add_vmath("exp/xsimd", [](const V& v) { return xsimd::exp(v); });
    add_vmath("tanh/xsimd", [](const V& v) { return xsimd::tanh(v); });
    add_vmath("erf/xsimd", [](const V& v) { return xsimd::erf(v); });
    add_vmath("sigmoid/xsimd", [](const V& v) { return V(1.f) / (V(1.f) + xsimd::exp(V(0.f) - v)); });
  }
  const long shapes[][2] = {{4096, 768}, {512, 4096}, {1, 4096}, {16384, 4096}};
  std::vector<int> thread_counts = {1};
#if FUSEDOPS_HAS_OPENMP
  thread_counts.push_back(2);
#endif
  for (const auto& sh : shapes)
    for (int t : thread_counts)
      for (cache_state st : {cache_state::hot, cache_state::cold}) {
        const long rows = sh[0], cols = sh[1];
        const bool huge = rows * cols > (1L << 24);  // 256 MiB per tensor: peers only at 1 thread
        register_copy("activation", rows, cols, t, st);
        for (int id = 0; id < 6; ++id) {
          add_row(act_names[id], "fusedops", rows, cols, t, st, fusedops_impl[id], cols);
          if (t == 1 && !huge) {
            add_row(act_names[id], "xsimd", rows, cols, t, st, xsimd_impl[id], cols);
            add_row(act_names[id], "loop", rows, cols, t, st, loop_impl[id], cols);
          }
        }
        add_row("swiglu", "fusedops", rows, cols, t, st, swiglu_fusedops, 2 * cols);
        if (t == 1 && !huge) add_row("swiglu", "loop", rows, cols, t, st, swiglu_loop, 2 * cols);
      }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!self_check()) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
