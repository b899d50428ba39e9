// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Fused attention beside the unfused composition a user would otherwise write, one binary, same
// flags (-O3 -march=native):
//   attention/fusedops/...        fusedops::attention (one tiled pass, online softmax), caller
//                                 workspace (no allocation in the timed loop)
//   attention/unfused/...         per (batch, KV head): S = Q·Kᵀ·scale (sgemm, NoTrans × Trans;
//                                 the G query heads of a KV head stacked as rows when Sq = 1),
//                                 causal -inf, row softmax (fusedops::softmax), O = P·V (sgemm);
//                                 OpenMP over (batch, head) with single-threaded sgemm calls (the
//                                 anchors' best strategy). sgemm = OpenBLAS when CMake found it
//                                 (FUSEDOPS_BENCH_HAVE_OPENBLAS), else Eigen.
//   attention/unfused_blocked/... causal only: the same in blocks of 256 query rows, each computing
//                                 only the keys its last row may attend (the causal-block-skipping
//                                 composition).
// Shapes (B, Hq, Hkv, Sq, Skv, D, causal) from issue 4, named BxHqxHkvxSqxSkvxD[_causal].
// RoPE rows (Llama's rotate-half, full head):
//   attention_rope/fusedops/...   attention_params::rotary: Q and the new keys rotated inside the
//                                 call
//   attention_rope/unfused/...    rotary_embedding on Q (into a buffer) and on the new K, then
//                                 attention
// on a causal prefill without a cache (every key new), and on a decode step with a KV cache of
// Skv - 1 positions (the unfused step writes the rotated key and the value into the cache slot;
// the fused one passes past / present views of the cache and the raw new K/V).
//
// clang-format off
//   attention_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2
// clang-format on
// Counters: ms per call; GFLOPS = 4·B·Hq·Sq·Skv·D per call (halved for causal) per second;
// peak_frac = GFLOPS / the FMA peak this process measures at the same thread count
// (support/machine_peak.hpp); decode rows (Sq = 1) also KV_GBps = bytes of K and V per second and
// read_frac = KV_GBps / the measured read bandwidth (the best moment of the process), and for
// fusedops read_frac_paired = the same calls timed in turn with reads of as many bytes, both in the
// same seconds (read_GBps_paired: the reads'; machine_peak.hpp: alternate_with_reads); on a shared
// machine the bandwidth moves between moments; foreign_cpu = other processes' CPU use during
// the timed loop (a shared machine). Every implementation's output is checked against a double
// reference on a small shape before anything is registered, and each row checks sampled rows of
// its first call against the fusedops result.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include <fusedops/attention.hpp>
#include <fusedops/reference/attention.hpp>
#include <fusedops/rotary_embedding.hpp>
#include <fusedops/softmax.hpp>

#include "support/machine_peak.hpp"

#ifndef FUSEDOPS_BENCH_HAVE_OPENBLAS
#define FUSEDOPS_BENCH_HAVE_OPENBLAS 0
#endif
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if FUSEDOPS_HAS_OPENMP
#include <omp.h>
#endif

namespace {

using fusedops::index_t;
using backend = fusedops::default_backend;

struct shape {
  index_t b, hq, hkv, sq, skv, d;
  bool causal;
  std::string str() const {
    return std::to_string(b) + "x" + std::to_string(hq) + "x" + std::to_string(hkv) + "x" +
           std::to_string(sq) + "x" + std::to_string(skv) + "x" + std::to_string(d) +
           (causal ? "_causal" : "");
  }
  double flops() const {
    return 4.0 * double(b * hq) * double(sq) * double(skv) * double(d) * (causal ? 0.5 : 1.0);
  }
  double kv_bytes() const { return 2.0 * double(b * hkv) * double(skv) * double(d) * 4.0; }
};

const shape k_shapes[] = {{1, 12, 12, 512, 512, 64, false},    {4, 12, 12, 128, 128, 64, false},
                          {1, 32, 32, 1024, 1024, 128, true},  {1, 32, 8, 2048, 2048, 128, true},
                          {1, 32, 8, 1, 4096, 128, false},     {1, 32, 8, 1, 16384, 128, false}};

std::vector<int> thread_counts() {
#if FUSEDOPS_HAS_OPENMP
  return {1, 2};
#else
  return {1};
#endif
}

/// Operands of one shape, [B, H, S, D] contiguous, uniform random in [-1, 1).
struct operands {
  shape s;
  std::vector<float> q, k, v, out;
  explicit operands(const shape& sh) : s(sh) {
    auto fill = [](std::vector<float>& x, std::size_t n, unsigned seed) {
      x.resize(n);
      std::srand(seed);
      for (auto& e : x) e = float(std::rand()) / float(RAND_MAX) * 2.f - 1.f;
    };
    fill(q, std::size_t(s.b * s.hq * s.sq * s.d), 1);
    fill(k, std::size_t(s.b * s.hkv * s.skv * s.d), 2);
    fill(v, std::size_t(s.b * s.hkv * s.skv * s.d), 3);
    out.assign(q.size(), 0.f);
  }
  fusedops::view<const float, 4> qv() const { return fusedops::make_view(q.data(), {s.b, s.hq, s.sq, s.d}); }
  fusedops::view<const float, 4> kv() const { return fusedops::make_view(k.data(), {s.b, s.hkv, s.skv, s.d}); }
  fusedops::view<const float, 4> vv() const { return fusedops::make_view(v.data(), {s.b, s.hkv, s.skv, s.d}); }
  fusedops::view<float, 4> ov() { return fusedops::make_view(out.data(), {s.b, s.hq, s.sq, s.d}); }
};

// --- the unfused composition ---------------------------------------------------------------------

/// C[m, n] = alpha · A[m, k] · op(B) with row-major operands; op(B) = Bᵀ (B [n, k]) or B [k, n].
void sgemm(bool b_trans, index_t m, index_t n, index_t k, float alpha, const float* a, index_t lda,
           const float* b, index_t ldb, float* c, index_t ldc) {
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
  cblas_sgemm(CblasRowMajor, CblasNoTrans, b_trans ? CblasTrans : CblasNoTrans, int(m), int(n),
              int(k), alpha, a, int(lda), b, int(ldb), 0.f, c, int(ldc));
#else
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<const Mat, 0, Stride> A(a, m, k, Stride(lda));
  Eigen::Map<Mat, 0, Stride> C(c, m, n, Stride(ldc));
  if (b_trans) {
    Eigen::Map<const Mat, 0, Stride> Bm(b, n, k, Stride(ldb));
    C.noalias() = alpha * A * Bm.transpose();
  } else {
    Eigen::Map<const Mat, 0, Stride> Bm(b, k, n, Stride(ldb));
    C.noalias() = alpha * A * Bm;
  }
#endif
}

const char* sgemm_name() { return FUSEDOPS_BENCH_HAVE_OPENBLAS ? "OpenBLAS sgemm" : "Eigen"; }

/// One (batch, KV head) group, or one query head when Sq > 1: rows of Q against all its keys.
/// blocked: causal prefill in blocks of 256 rows, each over only the keys it may attend.
void unfused(operands& o, int threads, bool blocked, std::vector<std::vector<float>>& scratch) {
  const shape& s = o.s;
  const index_t g = s.hq / s.hkv;
  const float scale = 1.0f / std::sqrt(float(s.d));
  const bool stack = s.sq == 1;  // decode: the G heads of a group are the rows of one sgemm
  const index_t units = stack ? s.b * s.hkv : s.b * s.hq;
  const index_t rows = stack ? g : s.sq;
  const index_t block = blocked ? 256 : rows;
  const index_t offset = s.skv - s.sq;
#if FUSEDOPS_HAS_OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
#endif
  for (index_t u = 0; u < units; ++u) {
    int t = 0;
#if FUSEDOPS_HAS_OPENMP
    t = omp_get_thread_num();
#endif
    std::vector<float>& sc = scratch[std::size_t(t)];
    const index_t b = stack ? u / s.hkv : u / s.hq;
    const index_t h0 = stack ? (u % s.hkv) * g : u % s.hq;
    const index_t kh = stack ? u % s.hkv : h0 / g;
    const float* q = o.q.data() + ((b * s.hq + h0) * s.sq) * s.d;
    const float* k = o.k.data() + ((b * s.hkv + kh) * s.skv) * s.d;
    const float* v = o.v.data() + ((b * s.hkv + kh) * s.skv) * s.d;
    float* y = o.out.data() + ((b * s.hq + h0) * s.sq) * s.d;
    for (index_t r0 = 0; r0 < rows; r0 += block) {
      const index_t m = std::min(block, rows - r0);
      const index_t keys = s.causal && blocked ? std::min(s.skv, r0 + m + offset) : s.skv;
      float* S = sc.data();
      sgemm(true, m, keys, s.d, scale, q + r0 * s.d, s.d, k, s.d, S, keys);
      if (s.causal)
        for (index_t i = 0; i < m; ++i)
          for (index_t j = r0 + i + offset + 1; j < keys; ++j)
            S[i * keys + j] = -std::numeric_limits<float>::infinity();
      const auto sv = fusedops::make_view(S, {m, keys});
      static_cast<void>(fusedops::softmax<backend, 2>(sv, sv));
      sgemm(false, m, s.d, keys, 1.0f, S, keys, v, s.d, y + r0 * s.d, s.d);
    }
  }
  static_cast<void>(threads);
}

struct row_state {
  std::unique_ptr<operands> ops;
  std::vector<float> ws;
  std::vector<std::vector<float>> scratch;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

enum class impl { fused, plain, blocked };

void run_row(benchmark::State& st, const shape& s, int threads, impl which) {
  row_state rs;
  rs.ops = std::make_unique<operands>(s);
  operands& o = *rs.ops;
  fusedops::attention_params p;
  p.is_causal = s.causal;
  p.threads = threads > 1 ? fusedops::threading::openmp(threads) : fusedops::threading::serial();
  const std::size_t need = fusedops::attention_workspace_size<backend>(o.qv(), o.kv(), o.vv(), o.ov(), p);
  rs.ws.resize(need);
  p.workspace = fusedops::make_view(rs.ws.data(), {index_t(need)});
  p.allow_allocation = false;
  const index_t rows = s.sq == 1 ? s.hq / s.hkv : std::min<index_t>(s.sq, which == impl::blocked ? 256 : s.sq);
  rs.scratch.assign(std::size_t(threads), std::vector<float>(std::size_t(rows * s.skv)));
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(1);
#endif
  auto call = [&] {
    if (which == impl::fused) {
      const auto r = fusedops::attention<backend>(o.qv(), o.kv(), o.vv(), o.ov(), p);
      if (!r.ok()) st.SkipWithError(r.message());
    } else {
      unfused(o, threads, which == impl::blocked, rs.scratch);
    }
  };
  call();
  if (which != impl::fused) {  // agree with fusedops on the real shape
    std::vector<float> mine = o.out;
    const auto r = fusedops::attention<backend>(o.qv(), o.kv(), o.vv(), o.ov(), p);
    double worst = 0;
    for (std::size_t i = 0; i < mine.size(); ++i)
      worst = std::max(worst, double(std::fabs(mine[i] - o.out[i])));
    if (!r.ok() || !(worst < 1e-4)) {
      st.SkipWithError(("disagrees with fusedops: max abs diff " + std::to_string(worst)).c_str());
      return;
    }
  }
  const double peak = fusedops_bench::fma_peak_gflops(threads);
  const double read_bw = s.sq == 1 ? fusedops_bench::stream_read_gbps(threads) : 0.0;
  fusedops_bench::wait_for_quiet();
  const fusedops_bench::load_probe load;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : st) call();
  const double secs = seconds_since(t0);
  const double calls = double(st.iterations());
  st.counters["foreign_cpu"] = load.foreign_cpus();
  st.counters["ms"] = secs / calls * 1e3;
  const double gflops = calls * s.flops() / secs * 1e-9;
  st.counters["GFLOPS"] = gflops;
  st.counters["peak_frac"] = gflops / peak;
  if (s.sq == 1) {
    const double gbps = calls * s.kv_bytes() / secs * 1e-9;
    st.counters["KV_GBps"] = gbps;
    st.counters["read_frac"] = gbps / read_bw;
    if (which == impl::fused) {  // calls timed in turn with reads of as many bytes
      const auto pr = fusedops_bench::alternate_with_reads(threads, s.kv_bytes(), [&] { call(); });
      st.counters["read_GBps_paired"] = pr.read_gbps;
      st.counters["read_frac_paired"] = pr.ratio();
    }
  }
  st.SetLabel(which == impl::fused ? backend::name : sgemm_name());
}

/// RoPE tables [max_pos, D / 2] (angle pos · 10000^(-2i/D)).
struct rope_tables {
  std::vector<float> cos, sin;
  index_t rows, half;
  rope_tables(index_t max_pos, index_t d) : rows(max_pos), half(d / 2) {
    cos.resize(std::size_t(rows * half)), sin.resize(cos.size());
    for (index_t p = 0; p < rows; ++p)
      for (index_t i = 0; i < half; ++i) {
        const double a = double(p) * std::pow(10000.0, -2.0 * double(i) / double(2 * half));
        cos[std::size_t(p * half + i)] = float(std::cos(a));
        sin[std::size_t(p * half + i)] = float(std::sin(a));
      }
  }
  fusedops::view<const float, 2> c() const { return fusedops::make_view(cos.data(), {rows, half}); }
  fusedops::view<const float, 2> s() const { return fusedops::make_view(sin.data(), {rows, half}); }
};

/// attention_rope rows. Prefill (Sq = Skv): no cache, every key rotated. Decode (Sq = 1): the
/// operands' K/V are the cache, positions [0, Skv - 1) cached and Skv - 1 the new token's slot.
/// Before timing, the fused and the unfused step must agree on the row's real shape.
void run_rope_row(benchmark::State& st, const shape& s, int threads, bool fused) {
  using namespace fusedops;
  operands o(s);
  const rope_tables tab(s.skv, s.d);
  const bool decode = s.sq == 1;
  const index_t past = decode ? s.skv - 1 : 0;
  // The new token's raw K/V (decode), and the unfused path's rotated copies of Q (and K).
  std::vector<float> k_new(std::size_t(s.b * s.hkv * s.d), 0.5f), v_new(k_new.size(), 0.25f);
  std::vector<float> q_rot(o.q.size()), k_rot(decode ? 0 : o.k.size());
  const auto kc = make_view(o.k.data(), {s.b, s.hkv, s.skv, s.d});
  const auto vc = make_view(o.v.data(), {s.b, s.hkv, s.skv, s.d});
  const auto kn = make_view(static_cast<const float*>(k_new.data()), {s.b, s.hkv, 1, s.d});
  const auto vn = make_view(static_cast<const float*>(v_new.data()), {s.b, s.hkv, 1, s.d});
  const auto qr = make_view(static_cast<const float*>(q_rot.data()), {s.b, s.hq, s.sq, s.d});
  const auto kr = make_view(static_cast<const float*>(k_rot.data()), {s.b, s.hkv, s.skv, s.d});
  attention_params base;
  base.is_causal = true;
  base.threads = threads > 1 ? threading::openmp(threads) : threading::serial();
  base.allow_allocation = false;
  attention_params pf = base, pu = base;  // fused, unfused
  pf.rotary.cos_cache = tab.c(), pf.rotary.sin_cache = tab.s();
  if (decode) {
    pf.past_key = kc.slice(2, 0, past), pf.past_value = vc.slice(2, 0, past);
    pf.present_key = kc, pf.present_value = vc;
  }
  rotary_embedding_params rp;
  rp.threads = base.threads;
  rp.position_offset = past;
  std::vector<float> ws(std::max(
      attention_workspace_size<backend>(o.qv(), decode ? kn : o.kv(), decode ? vn : o.vv(),
                                        o.ov(), pf),
      attention_workspace_size<backend>(qr, decode ? o.kv() : kr, o.vv(), o.ov(), pu)));
  pf.workspace = pu.workspace = make_view(ws.data(), {index_t(ws.size())});
  auto step = [&](bool f) {
    if (f)
      return attention<backend>(o.qv(), decode ? kn : o.kv(), decode ? vn : o.vv(), o.ov(), pf);
    status r = rotary_embedding<backend>(o.qv(), tab.c(), tab.s(),
                                         make_view(q_rot.data(), {s.b, s.hq, s.sq, s.d}), rp);
    if (r.ok() && decode) {
      r = rotary_embedding<backend>(kn, tab.c(), tab.s(), kc.slice(2, past, past + 1), rp);
      for (index_t b = 0; b < s.b; ++b)
        for (index_t h = 0; h < s.hkv; ++h) std::copy_n(&vn(b, h, 0, 0), s.d, &vc(b, h, past, 0));
    } else if (r.ok()) {
      r = rotary_embedding<backend>(o.kv(), tab.c(), tab.s(),
                                    make_view(k_rot.data(), {s.b, s.hkv, s.skv, s.d}), rp);
    }
    return r.ok() ? attention<backend>(qr, decode ? o.kv() : kr, o.vv(), o.ov(), pu) : r;
  };
  status r = step(!fused);
  const std::vector<float> other = o.out;
  if (r.ok()) r = step(fused);
  double worst = 0;
  for (std::size_t i = 0; i < other.size(); ++i)
    worst = std::max(worst, double(std::fabs(other[i] - o.out[i])));
  if (!r.ok() || !(worst < 1e-4)) {
    st.SkipWithError(r.ok() ? ("fused and unfused RoPE disagree: " + std::to_string(worst)).c_str()
                            : r.message());
    return;
  }
  fusedops_bench::wait_for_quiet();
  const fusedops_bench::load_probe load;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : st) static_cast<void>(step(fused));
  const double secs = seconds_since(t0), calls = double(st.iterations());
  st.counters["foreign_cpu"] = load.foreign_cpus();
  st.counters["ms"] = secs / calls * 1e3;
  st.counters["GFLOPS"] = calls * s.flops() / secs * 1e-9;
  if (decode) st.counters["KV_GBps"] = calls * s.kv_bytes() / secs * 1e-9;
  st.SetLabel(backend::name);
}

/// Every implementation against the double oracle on a small odd shape; false if any is off.
bool self_check() {
  bool ok = true;
  for (bool causal : {false, true}) {
    const shape s{2, 4, 2, causal ? 37 : 1, 300, 32, causal};
    for (impl which : {impl::fused, impl::plain, impl::blocked}) {
      operands o(s);
      fusedops::attention_params p;
      p.is_causal = causal;
      if (which == impl::fused) {
        if (!fusedops::attention<backend>(o.qv(), o.kv(), o.vv(), o.ov(), p).ok()) ok = false;
      } else {
        std::vector<std::vector<float>> sc(8, std::vector<float>(std::size_t(s.sq * s.skv + s.hq * s.skv)));
        unfused(o, 1, which == impl::blocked, sc);
      }
      const auto want = fusedops::reference::attention(o.qv(), o.kv(), o.vv(), p);
      double worst = 0;
      for (std::size_t i = 0; i < want.y.size(); ++i)
        worst = std::max(worst, std::fabs(double(o.out[i]) - want.y[i]));
      std::printf("self-check %-16s %-10s max abs err %.2e\n",
                  which == impl::fused ? "fusedops" : which == impl::plain ? "unfused" : "unfused_blocked",
                  causal ? "causal" : "decode", worst);
      if (!(worst < 1e-5)) ok = false;
    }
  }
  return ok;
}

void register_rows() {
  for (const shape& s : k_shapes)
    for (int threads : thread_counts())
      for (impl which : {impl::fused, impl::plain, impl::blocked}) {
        if (which == impl::blocked && !s.causal) continue;
        const char* n = which == impl::fused ? "fusedops" : which == impl::plain ? "unfused" : "unfused_blocked";
        const std::string name =
            std::string("attention/") + n + "/" + s.str() + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), [s, threads, which](benchmark::State& st) {
          run_row(st, s, threads, which);
        })->UseRealTime()->Unit(benchmark::kMillisecond);
      }
  const shape rope_shapes[] = {{1, 32, 8, 512, 512, 128, true}, {1, 32, 8, 1, 4096, 128, false}};
  for (const shape& s : rope_shapes)
    for (int threads : thread_counts())
      for (bool fused : {true, false}) {
        const std::string name = std::string("attention_rope/") +
                                 (fused ? "fusedops/" : "unfused/") + s.str() +
                                 "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), [s, threads, fused](benchmark::State& st) {
          run_rope_row(st, s, threads, fused);
        })->UseRealTime()->Unit(benchmark::kMillisecond);
      }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!self_check()) {
    std::fprintf(stderr, "attention_bench: self-check failed\n");
    return 1;
  }
  benchmark::AddCustomContext("fusedops_backend", backend::name);
  benchmark::AddCustomContext("sgemm", sgemm_name());
  benchmark::AddCustomContext("fma_isa", fusedops_bench::fma_isa());
  register_rows();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
