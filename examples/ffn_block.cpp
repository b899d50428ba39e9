// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// A transformer feed-forward block on fusedops GEMMs: what an inference engine does at model load
// (pack the weights once) and per call (two GEMMs with fused epilogues, no extra passes):
//
//   GELU FFN (BERT):    h = gelu(x·W1 + b1)             one GEMM, bias + GELU in registers
//                       y = h·W2 + b2 + x               one GEMM, bias + residual in registers
//   SwiGLU FFN (Llama): g = silu(x·Wg) · (x·Wu)         one GEMM over gate and up packed together
//                       y = g·W2 + x                    one GEMM, residual in registers
//
// It checks both against the double-precision oracle, times them against the same network run
// unfused (plain GEMMs, then separate passes), shows caller-provided scratch (no allocation per
// call) and error handling without exceptions. Run with --help for the options.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <fusedops/fusedops.hpp>
#include <fusedops/reference/gemm.hpp>

namespace {

using namespace fusedops;
using matrix = std::vector<float>;

struct options {
  index_t tokens = 128, hidden = 768, ffn = 3072;
  int threads = 1, reps = 5;
};

matrix random_matrix(index_t rows, index_t cols, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  matrix m(static_cast<std::size_t>(rows * cols));
  for (float& v : m) v = dist(rng);
  return m;
}

view<const float, 2> in(const matrix& m, index_t rows, index_t cols) {
  return make_view(m.data(), {rows, cols});
}
view<float, 2> out(matrix& m, index_t rows, index_t cols) { return make_view(m.data(), {rows, cols}); }

// Median wall time of `reps` runs of f, in milliseconds.
template <class F>
double time_ms(int reps, F&& f) {
  std::vector<double> t;
  static_cast<void>(f());  // warm-up (errors were reported by the first, checked run)
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    static_cast<void>(f());
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// max |got - ref| / (1 + |ref|) over all elements.
double max_error(const matrix& got, const std::vector<double>& ref) {
  double e = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    e = std::max(e, std::abs(double(got[i]) - ref[i]) / (1.0 + std::abs(ref[i])));
  return e;
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    auto value = [&](long& dst) {
      if (i + 1 >= argc) return false;
      dst = std::strtol(argv[++i], nullptr, 10);
      return dst > 0;
    };
    long v = 0;
    if (!std::strcmp(a, "--small")) {
      o.tokens = 7, o.hidden = 33, o.ffn = 65, o.reps = 1;
    } else if (!std::strcmp(a, "--tokens") && value(v)) {
      o.tokens = v;
    } else if (!std::strcmp(a, "--hidden") && value(v)) {
      o.hidden = v;
    } else if (!std::strcmp(a, "--ffn") && value(v)) {
      o.ffn = v;
    } else if (!std::strcmp(a, "--threads") && value(v)) {
      o.threads = int(v);
    } else {
      std::printf(
          "Usage: %s [--tokens N] [--hidden N] [--ffn N] [--threads N] [--small]\n"
          "Runs a GELU FFN and a SwiGLU FFN block (defaults 128 tokens, hidden 768, FFN 3072) with\n"
          "prepacked weights and fused epilogues on the %s backend, checks them against the double\n"
          "oracle (max error <= 1e-5 relative) and times them against the unfused composition.\n",
          argv[0], backend::native::name);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) return 1;
  const index_t t = o.tokens, d = o.hidden, f = o.ffn;
  std::mt19937 rng(42);
  const matrix x = random_matrix(t, d, rng, 1.0f);
  const matrix w1 = random_matrix(d, f, rng, 0.05f), b1 = random_matrix(1, f, rng, 0.1f);
  const matrix w2 = random_matrix(f, d, rng, 0.05f), b2 = random_matrix(1, d, rng, 0.1f);
  const matrix wg = random_matrix(d, f, rng, 0.05f), wu = random_matrix(d, f, rng, 0.05f);
  const auto bias1 = make_view(b1.data(), {f}), bias2 = make_view(b2.data(), {d});

  // --- Model load: pack every weight once (this is the only allocation of the run). ---
  packed_weights<> p1, p2, pgu;
  status s = p1.pack(in(w1, d, f));
  if (s.ok()) s = p2.pack(in(w2, f, d));
  if (s.ok()) s = pgu.pack_gated(in(wg, d, f), in(wu, d, f));
  if (!s.ok()) {
    std::printf("packing failed: %s\n", s.message());
    return 1;
  }

  // --- Per call: scratch sized once, no allocation inside the GEMMs. ---
  gemm_params params;
  params.threads = threading::openmp(o.threads);
  params.allow_allocation = false;
  matrix h(std::size_t(t * f)), y(std::size_t(t * d)), g(std::size_t(t * f)), y2(std::size_t(t * d));
  matrix scratch(std::max(gemm_workspace_size(in(x, t, d), p1.get(), out(h, t, f), params),
                          gemm_workspace_size(in(h, t, f), p2.get(), out(y, t, d), params)) + 1);
  params.workspace = make_view(scratch.data(), {index_t(scratch.size())});

  using namespace fusedops::epilogue;
  auto gelu_ffn = [&] {
    status r = gemm(in(x, t, d), p1.get(), out(h, t, f),
                    chain(bias_col{bias1}, activation<act::gelu_erf>{}), params);
    if (r.ok()) r = gemm(in(h, t, f), p2.get(), out(y, t, d), chain(bias_col{bias2}, residual{in(x, t, d)}), params);
    return r;
  };
  auto swiglu_ffn = [&] {
    status r = gemm(in(x, t, d), pgu.get(), out(g, t, f), swiglu{}, params);
    if (r.ok()) r = gemm(in(g, t, f), p2.get(), out(y2, t, d), residual{in(x, t, d)}, params);
    return r;
  };
  // The unfused composition an engine would otherwise run: GEMM, then passes over the output.
  matrix hu(std::size_t(t * f)), yu(std::size_t(t * d));
  auto gelu_ffn_unfused = [&] {
    status r = gemm(in(x, t, d), p1.get(), out(hu, t, f), none{}, params);
    if (r.ok()) r = bias_activation(in(hu, t, f), bias1, out(hu, t, f), act::gelu_erf{}, params.threads);
    if (r.ok()) r = gemm(in(hu, t, f), p2.get(), out(yu, t, d), none{}, params);
    for (index_t i = 0; r.ok() && i < t; ++i)
      for (index_t j = 0; j < d; ++j) yu[std::size_t(i * d + j)] += b2[std::size_t(j)] + x[std::size_t(i * d + j)];
    return r;
  };

  s = gelu_ffn();
  if (s.ok()) s = swiglu_ffn();
  if (s.ok()) s = gelu_ffn_unfused();
  if (!s.ok()) {
    std::printf("error: %s\n", s.message());
    return 1;
  }

  // --- Check against the oracle (double precision, layer by layer from the fp32 intermediate). ---
  const double e1 = max_error(h, reference::gemm(in(x, t, d), in(w1, d, f),
                                                 chain(bias_col{bias1}, activation<act::gelu_erf>{})));
  const double e2 = max_error(y, reference::gemm(in(h, t, f), in(w2, f, d),
                                                 chain(bias_col{bias2}, residual{in(x, t, d)})));
  matrix gate_up(std::size_t(d * 2 * f));
  for (index_t k = 0; k < d; ++k)
    for (index_t j = 0; j < f; ++j) {
      gate_up[std::size_t(k * 2 * f + j)] = wg[std::size_t(k * f + j)];
      gate_up[std::size_t(k * 2 * f + f + j)] = wu[std::size_t(k * f + j)];
    }
  const double e3 = max_error(g, reference::gemm(in(x, t, d), in(gate_up, d, 2 * f), swiglu{}));
  const double e4 = max_error(yu, reference::gemm(in(hu, t, f), in(w2, f, d), chain(bias_col{bias2}, residual{in(x, t, d)})));
  const double worst = std::max({e1, e2, e3, e4});

  // --- Errors come back as status, naming the argument; nothing is written. ---
  const status bad = gemm(in(x, t, d), p2.get(), out(h, t, f));
  std::printf("fusedops %d.%d.%d, backend %s, %td tokens, hidden %td, FFN %td, %d thread(s)\n",
              version_major, version_minor, version_patch, backend::native::name, t, d, f, o.threads);
  std::printf("a wrong call reports: %s\n", bad.message());

  const double flops = 2.0 * 2.0 * double(t) * double(d) * double(f);
  const double ms_fused = time_ms(o.reps, gelu_ffn), ms_unfused = time_ms(o.reps, gelu_ffn_unfused);
  const double ms_swiglu = time_ms(o.reps, swiglu_ffn);
  std::printf("%-26s %9s %9s\n", "block", "ms", "GFLOP/s");
  std::printf("%-26s %9.3f %9.1f\n", "GELU FFN, fused", ms_fused, flops / ms_fused * 1e-6);
  std::printf("%-26s %9.3f %9.1f\n", "GELU FFN, unfused", ms_unfused, flops / ms_unfused * 1e-6);
  std::printf("%-26s %9.3f %9.1f\n", "SwiGLU FFN, fused", ms_swiglu, 1.5 * flops / ms_swiglu * 1e-6);
  std::printf("max error vs oracle: %.2e (limit 1e-5) -> %s\n", worst, worst <= 1e-5 ? "ok" : "FAILED");
  return worst <= 1e-5 && !bad.ok() ? 0 : 1;
}
