// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// LayerNorm, RMSNorm and fused residual + LayerNorm side by side in one binary, same flags:
//   layernorm/fusedops_<backend>    fusedops::layer_norm (scale + bias)
//   layernorm/two_pass              the straightforward loops: mean, variance, normalize (scalar
//                                   float reductions, which GCC keeps scalar without -ffast-math)
//   layernorm/eigen                 Eigen array expressions per row (mean, variance, normalize)
//   layernorm/onednn                oneDNN's layer_normalization_forward (inference, scale+shift),
//                                   when CMake found libdnnl-dev
//   rmsnorm/fusedops_<backend>, rmsnorm/two_pass, rmsnorm/eigen
//   add_layernorm/fusedops_<b>      fusedops::add_layer_norm: sum = x + r and y = LN(sum), one pass
//   add_layernorm/unfused           the same with a separate residual pass (Eigen, per row), then
//                                   fusedops::layer_norm on the sum
//   <op>/fusedops_<b>_stream        cold rows only: the fusedops call with store_policy::streaming
//                                   (non-temporal stores for y and sum); the plain fusedops rows use
//                                   store_policy::automatic, which streams only when the call's
//                                   tensors exceed the last-level cache (16384 × 4096 here)
//   <op>/copy                       a same-size copy alone, in arrays of its own (reference)
// Rows: <op>/<impl>/<rows>x<hidden>/threads:<t>/<hot|cold>; counters "bytes" (GB/s of x read + y
// written + scale/bias; with the residual: x, r read, sum, y written), "of_copy" (that over the GB/s
// of a same-size copy x -> y timed in turn with the row's calls, on its arrays: copy_GBps; see
// support/memory_bound.hpp), "load" (foreign CPU use during the row).
// 16384 × 4096 (256 MiB per tensor) is registered cold only: it cannot be cache-resident.
// The README table came from
//   norm_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//              --benchmark_min_time=0.2
// CI's smoke run: --benchmark_min_time=0.01 --benchmark_filter='1x4096'.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include <fusedops/normalization.hpp>
#include <fusedops/reference/norm.hpp>

#include "support/memory_bound.hpp"

#if defined(FUSEDOPS_BENCH_HAVE_ONEDNN)
#include <dnnl.hpp>
#endif

namespace {

using fusedops::index_t;
using fusedops_bench::cache_state;
constexpr float k_eps = 1e-5f;

// Operand arrays of one shape (shared by every row of that shape and state).
enum array : std::size_t { X, Y, GAMMA, BETA, RES, SUM, n_arrays };

std::vector<std::size_t> layout(long rows, long cols) {
  const std::size_t n = std::size_t(rows) * std::size_t(cols), h = std::size_t(cols);
  return {n, n, h, h, n, n};
}

fusedops_bench::rotating_sets& sets_for(long rows, long cols, cache_state st) {
  const std::size_t n = std::size_t(rows) * std::size_t(cols), h = std::size_t(cols);
  return fusedops_bench::shared_sets("norm", layout(rows, cols), st,
                                     [=](std::size_t s, float* const* a) {
                                       std::uint64_t g = 0x9E3779B97F4A7C15ull * (s + 1);
                                       auto next = [&g] {
                                         g = g * 6364136223846793005ull + 1442695040888963407ull;
                                         return float(g >> 40) * 0x1p-24f;  // [0, 1)
                                       };
                                       for (std::size_t i = 0; i < n; ++i)
                                         a[X][i] = 4 * next() - 1, a[RES][i] = 2 * next() - 1;
                                       for (std::size_t i = 0; i < h; ++i)
                                         a[GAMMA][i] = 0.5f + next(), a[BETA][i] = next() - 0.5f;
                                     });
}

void check(const fusedops::status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "fusedops error: %s\n", s.message());
  std::exit(1);
}

fusedops::threading policy(int t) {
  return t == 1 ? fusedops::threading::serial() : fusedops::threading::openmp(t);
}

// Rows [0, rows) split between t OpenMP threads, like fusedops::parallel_for.
template <class F>
void omp_rows(long rows, int t, F&& f) {
#if FUSEDOPS_HAS_OPENMP
  if (t > 1 && rows > 1) {
#pragma omp parallel for num_threads(t) schedule(static)
    for (long r = 0; r < rows; ++r) f(r);
    return;
  }
#endif
  for (long r = 0; r < rows; ++r) f(r);
}

// --- the peers -----------------------------------------------------------------------------------

void two_pass_ln(const float* x, const float* g, const float* b, float* y, long rows, long h,
                 int t) {
  omp_rows(rows, t, [=](long r) {
    const float* xr = x + r * h;
    float* yr = y + r * h;
    float sum = 0;
    for (long j = 0; j < h; ++j) sum += xr[j];
    const float mean = sum / float(h);
    float sq = 0;
    for (long j = 0; j < h; ++j) sq += (xr[j] - mean) * (xr[j] - mean);
    const float rstd = 1.0f / std::sqrt(sq / float(h) + k_eps);
    for (long j = 0; j < h; ++j) yr[j] = (xr[j] - mean) * rstd * g[j] + b[j];
  });
}

void two_pass_rms(const float* x, const float* g, float* y, long rows, long h, int t) {
  omp_rows(rows, t, [=](long r) {
    const float* xr = x + r * h;
    float* yr = y + r * h;
    float sq = 0;
    for (long j = 0; j < h; ++j) sq += xr[j] * xr[j];
    const float rstd = 1.0f / std::sqrt(sq / float(h) + k_eps);
    for (long j = 0; j < h; ++j) yr[j] = xr[j] * rstd * g[j];
  });
}

using row_t = Eigen::Array<float, 1, Eigen::Dynamic>;

void eigen_ln(const float* x, const float* g, const float* b, float* y, long rows, long h, int t) {
  const Eigen::Map<const row_t> G(g, h), Bv(b, h);
  omp_rows(rows, t, [&](long r) {
    const Eigen::Map<const row_t> X(x + r * h, h);
    Eigen::Map<row_t> Y(y + r * h, h);
    const float mean = X.mean();
    const float var = (X - mean).square().mean();
    Y = (X - mean) * (1.0f / std::sqrt(var + k_eps)) * G + Bv;
  });
}

void eigen_rms(const float* x, const float* g, float* y, long rows, long h, int t) {
  const Eigen::Map<const row_t> G(g, h);
  omp_rows(rows, t, [&](long r) {
    const Eigen::Map<const row_t> X(x + r * h, h);
    Eigen::Map<row_t> Y(y + r * h, h);
    Y = X * (1.0f / std::sqrt(X.square().mean() + k_eps)) * G;
  });
}

void eigen_add(const float* x, const float* res, float* s, long rows, long h, int t) {
  omp_rows(rows, t, [&](long r) {
    Eigen::Map<row_t>(s + r * h, h) =
        Eigen::Map<const row_t>(x + r * h, h) + Eigen::Map<const row_t>(res + r * h, h);
  });
}

template <class B>
void fusedops_ln(float* const* a, long rows, long h, int t,
                 fusedops::store_policy stores = fusedops::store_policy::automatic) {
  fusedops::layer_norm_params p;
  p.epsilon = k_eps;
  p.bias = fusedops::make_view(static_cast<const float*>(a[BETA]), {index_t(h)});
  p.threads = policy(t);
  p.stores = stores;
  check(fusedops::layer_norm<B>(
      fusedops::make_view(static_cast<const float*>(a[X]), {index_t(rows), index_t(h)}),
      fusedops::make_view(static_cast<const float*>(a[GAMMA]), {index_t(h)}),
      fusedops::make_view(a[Y], {index_t(rows), index_t(h)}), p));
}

template <class B>
void fusedops_rms(float* const* a, long rows, long h, int t,
                 fusedops::store_policy stores = fusedops::store_policy::automatic) {
  fusedops::rms_norm_params p;
  p.epsilon = k_eps;
  p.threads = policy(t);
  p.stores = stores;
  check(fusedops::rms_norm<B>(
      fusedops::make_view(static_cast<const float*>(a[X]), {index_t(rows), index_t(h)}),
      fusedops::make_view(static_cast<const float*>(a[GAMMA]), {index_t(h)}),
      fusedops::make_view(a[Y], {index_t(rows), index_t(h)}), p));
}

template <class B>
void fusedops_add_ln(float* const* a, long rows, long h, int t,
                 fusedops::store_policy stores = fusedops::store_policy::automatic) {
  fusedops::layer_norm_params p;
  p.epsilon = k_eps;
  p.bias = fusedops::make_view(static_cast<const float*>(a[BETA]), {index_t(h)});
  p.threads = policy(t);
  p.stores = stores;
  const index_t R = rows, H = h;
  check(fusedops::add_layer_norm<B>(fusedops::make_view(static_cast<const float*>(a[X]), {R, H}),
                                    fusedops::make_view(static_cast<const float*>(a[RES]), {R, H}),
                                    fusedops::make_view(static_cast<const float*>(a[GAMMA]), {H}),
                                    fusedops::make_view(a[SUM], {R, H}),
                                    fusedops::make_view(a[Y], {R, H}), p));
}

template <class B>
void unfused_add_ln(float* const* a, long rows, long h, int t) {
  eigen_add(a[X], a[RES], a[SUM], rows, h, t);
  fusedops::layer_norm_params p;
  p.epsilon = k_eps;
  p.bias = fusedops::make_view(static_cast<const float*>(a[BETA]), {index_t(h)});
  p.threads = policy(t);
  check(fusedops::layer_norm<B>(
      fusedops::make_view(static_cast<const float*>(a[SUM]), {index_t(rows), index_t(h)}),
      fusedops::make_view(static_cast<const float*>(a[GAMMA]), {index_t(h)}),
      fusedops::make_view(a[Y], {index_t(rows), index_t(h)}), p));
}

#if defined(FUSEDOPS_BENCH_HAVE_ONEDNN)
// oneDNN 2.6 layer normalization, inference, scale + shift; its OpenMP runtime's thread count is
// set per call (omp_set_num_threads).
struct onednn_ln {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::memory::desc md, wd;
  dnnl::layer_normalization_forward prim;
  dnnl::memory src, dst, scale, shift;
  onednn_ln(long rows, long h) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    md = dnnl::memory::desc({rows, h}, dt::f32, tag::ab);
    wd = dnnl::memory::desc({h}, dt::f32, tag::a);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, md, k_eps, flags);
    prim = dnnl::layer_normalization_forward(
        dnnl::layer_normalization_forward::primitive_desc(d, eng));
    src = dnnl::memory(md, eng, nullptr), dst = dnnl::memory(md, eng, nullptr);
    scale = dnnl::memory(wd, eng, nullptr), shift = dnnl::memory(wd, eng, nullptr);
  }
  void run(float* const* a, int t) {
    omp_set_num_threads(t);
    src.set_data_handle(a[X]), dst.set_data_handle(a[Y]);
    scale.set_data_handle(a[GAMMA]), shift.set_data_handle(a[BETA]);
    prim.execute(strm, {{DNNL_ARG_SRC, src},
                        {DNNL_ARG_DST, dst},
                        {DNNL_ARG_SCALE, scale},
                        {DNNL_ARG_SHIFT, shift}});
    strm.wait();
  }
};
#endif

// --- correctness, once, before timing ------------------------------------------------------------

// Max |y - oracle| / (1 + |oracle|) of a rows × h LayerNorm (rms: RMSNorm) output.
double max_err(const float* x, const float* g, const float* b, const float* y, long rows, long h,
               bool rms) {
  const auto xv = fusedops::make_view(x, {index_t(rows), index_t(h)});
  const auto gv = fusedops::make_view(g, {index_t(h)});
  const auto want = rms ? fusedops::reference::rms_norm<2>(xv, -1, gv, k_eps)
                        : fusedops::reference::layer_norm<2>(
                              xv, -1, gv, fusedops::make_view(b, {index_t(h)}), k_eps);
  double worst = 0;
  for (std::size_t i = 0; i < want.y.size(); ++i) {
    const double e = std::fabs(double(y[i]) - want.y[i]) / (1 + std::fabs(want.y[i]));
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

bool self_check() {
  const long rows = 37, h = 1000;
  auto& sets = sets_for(rows, h, cache_state::hot);
  float* a[n_arrays];
  for (std::size_t i = 0; i < n_arrays; ++i) a[i] = sets.get(i);
  bool ok = true;
  auto report = [&](const char* name, double err, double limit) {
    std::printf("self-check %-22s max err %.2e%s\n", name, err, err <= limit ? "" : "  FAILED");
    ok = ok && err <= limit;
  };
  using B = fusedops::default_backend;
  fusedops_ln<B>(a, rows, h, 2);
  report("layernorm/fusedops", max_err(a[X], a[GAMMA], a[BETA], a[Y], rows, h, false), 1e-5);
  two_pass_ln(a[X], a[GAMMA], a[BETA], a[Y], rows, h, 1);
  report("layernorm/two_pass", max_err(a[X], a[GAMMA], a[BETA], a[Y], rows, h, false), 1e-4);
  eigen_ln(a[X], a[GAMMA], a[BETA], a[Y], rows, h, 1);
  report("layernorm/eigen", max_err(a[X], a[GAMMA], a[BETA], a[Y], rows, h, false), 1e-4);
#if defined(FUSEDOPS_BENCH_HAVE_ONEDNN)
  onednn_ln dn(rows, h);
  dn.run(a, 1);
  report("layernorm/onednn", max_err(a[X], a[GAMMA], a[BETA], a[Y], rows, h, false), 1e-4);
#endif
  fusedops_rms<B>(a, rows, h, 2);
  report("rmsnorm/fusedops", max_err(a[X], a[GAMMA], nullptr, a[Y], rows, h, true), 1e-5);
  two_pass_rms(a[X], a[GAMMA], a[Y], rows, h, 1);
  report("rmsnorm/two_pass", max_err(a[X], a[GAMMA], nullptr, a[Y], rows, h, true), 1e-4);
  eigen_rms(a[X], a[GAMMA], a[Y], rows, h, 1);
  report("rmsnorm/eigen", max_err(a[X], a[GAMMA], nullptr, a[Y], rows, h, true), 1e-4);
  fusedops_add_ln<B>(a, rows, h, 2);
  report("add_layernorm/fusedops", max_err(a[SUM], a[GAMMA], a[BETA], a[Y], rows, h, false), 1e-5);
  unfused_add_ln<B>(a, rows, h, 1);
  report("add_layernorm/unfused", max_err(a[SUM], a[GAMMA], a[BETA], a[Y], rows, h, false), 1e-5);
  return ok;
}

// --- registration --------------------------------------------------------------------------------

template <class Run>
void add(const std::string& op, const std::string& impl, long rows, long h, int t, cache_state st,
         double bytes, Run run) {
  fusedops_bench::register_bandwidth(fusedops_bench::row_name(op, impl, rows, h, t, st),
                                     [=](benchmark::State& state) {
                                       auto& sets = sets_for(rows, h, st);
                                       float* a[n_arrays];
                                       fusedops_bench::traffic tr{rows, h, t, st, bytes};
                                       fusedops_bench::run_bandwidth(state, sets, tr, [&] {
                                         for (std::size_t i = 0; i < n_arrays; ++i)
                                           a[i] = sets.get(i);
                                         run(a);
                                       });
                                     });
}

void register_shape(long rows, long h, int t, cache_state st) {
  using B = fusedops::default_backend;
  const std::string fo = std::string("fusedops_") + B::name;
  const double n = double(rows) * double(h) * 4, w = double(h) * 4;
  fusedops_bench::register_copy("norm", rows, h, t, st);
  add("layernorm", fo, rows, h, t, st, 2 * n + 2 * w,
      [=](float* const* a) { fusedops_ln<B>(a, rows, h, t); });
  const std::string fs = fo + "_stream";
  const bool cold = st == cache_state::cold;
  constexpr auto streaming = fusedops::store_policy::streaming;
  if (cold)
    add("layernorm", fs, rows, h, t, st, 2 * n + 2 * w,
        [=](float* const* a) { fusedops_ln<B>(a, rows, h, t, streaming); });
  add("layernorm", "two_pass", rows, h, t, st, 2 * n + 2 * w,
      [=](float* const* a) { two_pass_ln(a[X], a[GAMMA], a[BETA], a[Y], rows, h, t); });
  add("layernorm", "eigen", rows, h, t, st, 2 * n + 2 * w,
      [=](float* const* a) { eigen_ln(a[X], a[GAMMA], a[BETA], a[Y], rows, h, t); });
#if defined(FUSEDOPS_BENCH_HAVE_ONEDNN)
  add("layernorm", "onednn", rows, h, t, st, 2 * n + 2 * w, [=](float* const* a) {
    static thread_local std::unique_ptr<onednn_ln> dn;
    static thread_local long key = -1;
    if (key != rows * 100000 + h)
      dn = std::make_unique<onednn_ln>(rows, h), key = rows * 100000 + h;
    dn->run(a, t);
  });
#endif
  add("rmsnorm", fo, rows, h, t, st, 2 * n + w,
      [=](float* const* a) { fusedops_rms<B>(a, rows, h, t); });
  if (cold)
    add("rmsnorm", fs, rows, h, t, st, 2 * n + w,
        [=](float* const* a) { fusedops_rms<B>(a, rows, h, t, streaming); });
  add("rmsnorm", "two_pass", rows, h, t, st, 2 * n + w,
      [=](float* const* a) { two_pass_rms(a[X], a[GAMMA], a[Y], rows, h, t); });
  add("rmsnorm", "eigen", rows, h, t, st, 2 * n + w,
      [=](float* const* a) { eigen_rms(a[X], a[GAMMA], a[Y], rows, h, t); });
  add("add_layernorm", fo, rows, h, t, st, 4 * n + 2 * w,
      [=](float* const* a) { fusedops_add_ln<B>(a, rows, h, t); });
  if (cold)
    add("add_layernorm", fs, rows, h, t, st, 4 * n + 2 * w,
        [=](float* const* a) { fusedops_add_ln<B>(a, rows, h, t, streaming); });
  add("add_layernorm", "unfused", rows, h, t, st, 4 * n + 2 * w,
      [=](float* const* a) { unfused_add_ln<B>(a, rows, h, t); });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!self_check()) {
    std::fprintf(stderr, "self-check failed: not timing wrong code\n");
    return 1;
  }
  std::vector<int> thread_counts = {1};
  if (FUSEDOPS_HAS_OPENMP) thread_counts.push_back(2);
  const std::pair<long, long> shapes[] = {{1, 4096}, {4096, 768}, {512, 4096}, {16384, 4096}};
  for (auto [rows, h] : shapes)
    for (int t : thread_counts)
      for (cache_state st : {cache_state::hot, cache_state::cold}) {
        if (rows * h * 4 > (64L << 20) && st == cache_state::hot) continue;  // cannot be hot
        register_shape(rows, h, t, st);
      }
  benchmark::AddCustomContext("cold_span_mib",
                              std::to_string(fusedops_bench::cold_span_bytes() >> 20));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
