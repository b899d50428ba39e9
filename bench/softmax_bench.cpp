// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Softmax and LogSoftmax over the last axis side by side in one binary, same flags for everyone.
// Rows (support/memory_bound.hpp naming, "bytes" = GB/s read + written, "of_copy" = that over a
// same-size copy timed in turn with the row's calls, on its arrays, copy_GBps):
//   <softmax|log_softmax>/fusedops/<rows>x<cols>/threads:<t>/<hot|cold>   fusedops (native)
//   .../fusedops_stream/.../cold   the same with store_policy::streaming (the default,
//                    store_policy::automatic, streams only when x and y exceed the last-level
//                    cache: of these shapes, 16384 x 4096)
//   .../loop/...     the straightforward three-pass loop (max; exp and sum; divide), std::exp
//   .../eigen/...    an Eigen array expression per row
//   .../onednn/...   oneDNN's softmax_forward / logsoftmax_forward (when CMake finds it)
//   softmax/copy/... memcpy per row of the same shape, alone (reference)
// Whole comparison (medians of 3):
//   softmax_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
// CI smoke run: --benchmark_min_time=0.01 --benchmark_filter='1x4096'.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include <fusedops/reference/softmax.hpp>
#include <fusedops/softmax.hpp>

#include "support/memory_bound.hpp"

#if FUSEDOPS_BENCH_HAVE_ONEDNN
#include <dnnl.hpp>
#include <omp.h>
#endif

namespace {

using namespace fusedops_bench;
using B = fusedops::default_backend;
using rows_fn = void (*)(const float*, float*, long, long, int);

void check(const fusedops::status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "fusedops error: %s\n", s.message());
  std::exit(1);
}

fusedops::threading policy(int threads) {
  return threads == 1 ? fusedops::threading::serial() : fusedops::threading::openmp(threads);
}

template <bool Log, fusedops::store_policy Stores = fusedops::store_policy::automatic>
void fusedops_rows(const float* x, float* y, long rows, long cols, int threads) {
  const auto xv = fusedops::make_view(x, {rows, cols});
  const auto yv = fusedops::make_view(y, {rows, cols});
  check(Log ? fusedops::log_softmax<B>(xv, yv, -1, policy(threads), Stores)
            : fusedops::softmax<B>(xv, yv, -1, policy(threads), Stores));
}
constexpr auto streaming = fusedops::store_policy::streaming;

// What one writes by hand: max, then exp and sum, then normalise; same flags.
template <bool Log>
void loop_rows(const float* x, float* y, long rows, long cols, int threads) {
  fusedops::parallel_for(policy(threads), rows, 1, [&](long r0, long r1) {
    for (long r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      float m = xr[0];
      for (long j = 1; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
      float s = 0;
      for (long j = 0; j < cols; ++j) {
        const float e = std::exp(xr[j] - m);
        if (!Log) yr[j] = e;
        s += e;
      }
      if (Log) {
        const float ls = std::log(s);
        for (long j = 0; j < cols; ++j) yr[j] = xr[j] - m - ls;
      } else {
        const float inv = 1.f / s;
        for (long j = 0; j < cols; ++j) yr[j] *= inv;
      }
    }
  });
}

template <bool Log>
void eigen_rows(const float* x, float* y, long rows, long cols, int threads) {
  using row_t = Eigen::Array<float, 1, Eigen::Dynamic>;
  fusedops::parallel_for(policy(threads), rows, 1, [&](long r0, long r1) {
    for (long r = r0; r < r1; ++r) {
      const Eigen::Map<const row_t> xr(x + r * cols, cols);
      Eigen::Map<row_t> yr(y + r * cols, cols);
      const float m = xr.maxCoeff();
      if (Log) {
        const float ls = std::log((xr - m).exp().sum());
        yr = xr - (m + ls);
      } else {
        yr = (xr - m).exp();
        yr *= 1.f / yr.sum();
      }
    }
  });
}

#if FUSEDOPS_BENCH_HAVE_ONEDNN
struct onednn_softmax {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive prim;
  long rows = -1, cols = -1;
  bool log = false;
};
onednn_softmax& onednn() {
  static onednn_softmax s;
  return s;
}
template <bool Log>
void onednn_rows(const float* x, float* y, long rows, long cols, int threads) {
  auto& s = onednn();
  const dnnl::memory::desc md({rows, cols}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
  if (s.rows != rows || s.cols != cols || s.log != Log) {
    if (Log)
      s.prim = dnnl::logsoftmax_forward(dnnl::logsoftmax_forward::primitive_desc(
          dnnl::logsoftmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), s.engine));
    else
      s.prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
          dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), s.engine));
    s.rows = rows, s.cols = cols, s.log = Log;
  }
  omp_set_num_threads(threads);
  dnnl::memory src(md, s.engine, const_cast<float*>(x)), dst(md, s.engine, y);
  s.prim.execute(s.stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  s.stream.wait();
}
#endif

void fill_inputs(float* x, std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-8.f, 8.f);
  for (std::size_t i = 0; i < n; ++i) x[i] = dist(gen);
}

struct impl {
  const char* name;
  rows_fn softmax, log_softmax;
  double limit;  // self-check bound (relative to 1 + |want|)
};
std::vector<impl> impls() {
  std::vector<impl> v = {{"fusedops", fusedops_rows<false>, fusedops_rows<true>, 1e-6},
                         {"loop", loop_rows<false>, loop_rows<true>, 1e-5},
                         {"eigen", eigen_rows<false>, eigen_rows<true>, 1e-5}};
#if FUSEDOPS_BENCH_HAVE_ONEDNN
  v.push_back({"onednn", onednn_rows<false>, onednn_rows<true>, 1e-5});
#endif
  return v;
}

bool self_check() {
  const long rows = 7, cols = 1000;
  std::vector<float> x(std::size_t(rows * cols)), y(x.size());
  fill_inputs(x.data(), x.size(), 3);
  const auto xv = fusedops::make_view<const float>(x.data(), {rows, cols});
  bool ok = true;
  auto checked = impls();
  checked.push_back({"fusedops_stream", fusedops_rows<false, streaming>,
                     fusedops_rows<true, streaming>, 1e-6});
  for (bool log : {false, true}) {
    const auto want = fusedops::reference::softmax<2>(xv, 1, log);
    for (const auto& im : checked) {
      (log ? im.log_softmax : im.softmax)(x.data(), y.data(), rows, cols, 2);
      double worst = 0;
      for (std::size_t i = 0; i < y.size(); ++i)
        worst = std::max(worst, std::fabs(double(y[i]) - want[i]) / (1 + std::fabs(want[i])));
      std::printf("self-check %-12s %-12s max err %.2e%s\n", log ? "log_softmax" : "softmax", im.name,
                  worst, worst <= im.limit ? "" : "  FAILED");
      ok = ok && worst <= im.limit;
    }
  }
  return ok;
}

void add_row(const std::string& op, const std::string& name, long rows, long cols, int threads,
             cache_state st, rows_fn fn) {
  register_bandwidth(row_name(op, name, rows, cols, threads, st), [=](benchmark::State& state) {
    const std::size_t n = std::size_t(rows * cols);
    rotating_sets& sets = shared_sets("softmax", {n, n}, st, [n](std::size_t s, float* const* a) {
      fill_inputs(a[0], n, unsigned(s));
    });
    const traffic t{rows, cols, threads, st, 2.0 * double(n) * sizeof(float)};
    run_bandwidth(state, sets, t, [&] { fn(sets.get(0), sets.get(1), rows, cols, threads); });
  });
}

void register_all() {
  const long shapes[][2] = {{4096, 768}, {512, 4096}, {1, 4096}, {16384, 4096}};
  std::vector<int> thread_counts = {1};
#if FUSEDOPS_HAS_OPENMP
  thread_counts.push_back(2);
#endif
  for (const auto& sh : shapes)
    for (int t : thread_counts)
      for (cache_state st : {cache_state::hot, cache_state::cold}) {
        register_copy("softmax", sh[0], sh[1], t, st);
        for (const auto& im : impls()) {
          add_row("softmax", im.name, sh[0], sh[1], t, st, im.softmax);
          add_row("log_softmax", im.name, sh[0], sh[1], t, st, im.log_softmax);
        }
        if (st == cache_state::cold) {
          add_row("softmax", "fusedops_stream", sh[0], sh[1], t, st,
                  fusedops_rows<false, streaming>);
          add_row("log_softmax", "fusedops_stream", sh[0], sh[1], t, st,
                  fusedops_rows<true, streaming>);
        }
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
