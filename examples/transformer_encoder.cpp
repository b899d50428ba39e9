// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The project's main demo: a BERT-base-shaped encoder (post-LN; hidden 768, 12 heads, FFN 3072,
// 12 layers, sequence 128) with random weights from a fixed seed, run three ways on the same
// weights and input, in the same process:
//
//   fused     what fusedops is for. Per layer: 4 prepacked GEMMs whose bias / GELU / residual run
//             in the epilogue, one flash-style attention reading Q, K, V in place from the QKV
//             GEMM's output, 2 LayerNorms. Weights packed and scratch sized once, at "load";
//             no call allocates.
//   unfused   the same fusedops GEMMs (same packed weights) with no epilogue, then separate
//             passes: bias_activation, a residual add, layer_norm; attention as batched QKᵀ
//             GEMMs into a materialised [S, S] score buffer per head, softmax, batched P·V.
//   baseline  the network as a user writes it without fusedops: OpenBLAS sgemm (Eigen when the
//             build has no OpenBLAS) plus plain loops for bias, GELU, residual, softmax and
//             LayerNorm. The same code in double with a naive GEMM is the oracle layer 0 is checked
//             against.
//
// It prints a table of timings (median of interleaved repetitions), tokens/s, GFLOP/s and the
// fused speed-up over each path, then checks that the three outputs agree within a tolerance
// derived from fp32 rounding (exit 1 if not; timings never fail the run). Run with --help.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fusedops/fusedops.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif
// examples/CMakeLists.txt defines FUSEDOPS_EXAMPLE_HAVE_OPENBLAS=1 when OpenBLAS is found.
#ifndef FUSEDOPS_EXAMPLE_HAVE_OPENBLAS
#define FUSEDOPS_EXAMPLE_HAVE_OPENBLAS 0
#endif
#if FUSEDOPS_EXAMPLE_HAVE_OPENBLAS
#include <cblas.h>
#else
#include <Eigen/Core>
#endif

namespace {

using namespace fusedops;
using matrix = std::vector<float>;

#if FUSEDOPS_EXAMPLE_HAVE_OPENBLAS
constexpr const char* baseline_name = "OpenBLAS + loops";
#else
constexpr const char* baseline_name = "Eigen + loops";
#endif

// What the baseline links, for the report.
std::string baseline_build() {
#if FUSEDOPS_EXAMPLE_HAVE_OPENBLAS
  return openblas_get_config();
#else
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
         std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION);
#endif
}

struct options {
  index_t batch = 1, seq = 128, hidden = 768, heads = 12, ffn = 3072, layers = 12;
  int threads = 2, reps = 7;
  bool pad = false, check = true;
};

// ------------------------------------------------------------------------------------------------
// Model: raw fp32 weights (the baseline reads them; fusedops packs them once).

struct layer_weights {
  matrix wqkv, bqkv;  // [hidden, 3·hidden]: Q, K, V projections side by side, one GEMM
  matrix wo, bo;      // [hidden, hidden]
  matrix ln1_g, ln1_b;
  matrix w1, b1;  // [hidden, ffn]
  matrix w2, b2;  // [ffn, hidden]
  matrix ln2_g, ln2_b;
};

struct packed_layer {
  packed_weights<> qkv, o, ffn1, ffn2;
};

// splitmix64: tiny and fast (85 M weights at the default size), and a fixed seed gives the same
// network with every standard library (std::uniform_real_distribution's output is not portable).
struct rng {
  std::uint64_t s;
  float uniform(float scale) {  // in [-scale, scale)
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return scale * (float(z >> 40) * 0x1p-23f - 1.0f);
  }
  matrix fill(index_t n, float scale, float offset = 0.0f) {
    matrix m(static_cast<std::size_t>(n));
    for (float& v : m) v = offset + uniform(scale);
    return m;
  }
};

// Weights uniform in ±1/sqrt(fan_in) (PyTorch's Linear default): each projection keeps the
// activations O(1), and the LayerNorms re-normalise every layer, so 12 layers neither blow up nor
// vanish. Biases and LN betas ±0.1, LN gammas 1 ± 0.1.
layer_weights random_layer(rng& r, index_t h, index_t f) {
  const float sh = 1.0f / std::sqrt(float(h)), sf = 1.0f / std::sqrt(float(f));
  layer_weights w;
  w.wqkv = r.fill(h * 3 * h, sh), w.bqkv = r.fill(3 * h, 0.1f);
  w.wo = r.fill(h * h, sh), w.bo = r.fill(h, 0.1f);
  w.ln1_g = r.fill(h, 0.1f, 1.0f), w.ln1_b = r.fill(h, 0.1f);
  w.w1 = r.fill(h * f, sh), w.b1 = r.fill(f, 0.1f);
  w.w2 = r.fill(f * h, sf), w.b2 = r.fill(h, 0.1f);
  w.ln2_g = r.fill(h, 0.1f, 1.0f), w.ln2_b = r.fill(h, 0.1f);
  return w;
}

view<const float, 2> cv(const matrix& m, index_t rows, index_t cols) {
  return make_view(m.data(), {rows, cols});
}
view<float, 2> mv(matrix& m, index_t rows, index_t cols) {
  return make_view(m.data(), {rows, cols});
}
view<const float, 1> vec(const matrix& m) { return make_view(m.data(), {index_t(m.size())}); }

// Everything the fusedops paths share: shapes, weights, per-call parameters and scratch, all
// set up once. The per-call params point at one workspace (the calls run one after another).
struct encoder {
  options o;
  std::vector<layer_weights> w;
  std::vector<packed_layer> p;
  std::vector<std::int64_t> kv_len;  // valid keys per sequence (padding mask)
  gemm_params gp;
  attention_params ap;
  threading threads;
  aligned_buffer<float> workspace;
  matrix input;  // [T, H] embeddings (random, fixed seed)
  // Scratch: qkv [T, 3H]; ctx, tmp, x1 [T, H]; h [T, F]; scores [heads, S, S] (unfused only).
  matrix qkv, ctx, tmp, x1, h, scores;

  index_t tokens() const { return o.batch * o.seq; }
  index_t head_dim() const { return o.hidden / o.heads; }
};

// [T, 3H] QKV output as the [B, heads, S, head_dim] views attention takes: Q, K, V are column
// slices of it, split_heads only changes strides (no copy).
view<float, 4> heads_of(matrix& qkv, const options& o, index_t which) {
  const auto all = make_view(qkv.data(), {o.batch, o.seq, 3 * o.hidden});
  return split_heads(all.slice(2, which * o.hidden, (which + 1) * o.hidden), o.heads);
}
view<float, 4> heads_of_ctx(encoder& e) {
  return split_heads(make_view(e.ctx.data(), {e.o.batch, e.o.seq, e.o.hidden}), e.o.heads);
}

// ------------------------------------------------------------------------------------------------
// Path 1: fused. Per layer 4 GEMMs + 1 attention + 2 LayerNorms, 7 passes over activations.
//
// LayerNorm placement: out = LN(ctx·Wo + bo + x). The residual rides in the GEMM epilogue (one
// read of x while the tile is in registers), then a plain layer_norm reads the sum and writes the
// normalised rows: 4 activation streams. add_layer_norm after a bias-only GEMM would read ctx·Wo
// and x and write both the sum and y: 5 streams, because it must also store the sum, which
// post-LN never reads again (the next residual is the LN output). So residual-in-GEMM wins here;
// add_layer_norm is the right tool for pre-LN blocks, where the sum is the residual stream.
status fused_forward(encoder& e, index_t layers, const matrix& input, matrix& x) {
  using namespace fusedops::epilogue;
  const index_t t = e.tokens(), hd = e.o.hidden, f = e.o.ffn;
  std::copy(input.begin(), input.end(), x.begin());
  layer_norm_params lp;
  lp.threads = e.threads;
  for (index_t l = 0; l < layers; ++l) {
    const layer_weights& w = e.w[std::size_t(l)];
    const packed_layer& p = e.p[std::size_t(l)];
    FUSEDOPS_RETURN_IF_ERROR(
        gemm(cv(x, t, hd), p.qkv.get(), mv(e.qkv, t, 3 * hd), bias_col{vec(w.bqkv)}, e.gp));
    FUSEDOPS_RETURN_IF_ERROR(attention(heads_of(e.qkv, e.o, 0), heads_of(e.qkv, e.o, 1),
                                       heads_of(e.qkv, e.o, 2), heads_of_ctx(e), e.ap));
    FUSEDOPS_RETURN_IF_ERROR(gemm(cv(e.ctx, t, hd), p.o.get(), mv(e.tmp, t, hd),
                                  chain(bias_col{vec(w.bo)}, residual{cv(x, t, hd)}), e.gp));
    lp.bias = vec(w.ln1_b);
    FUSEDOPS_RETURN_IF_ERROR(layer_norm(mv(e.tmp, t, hd), vec(w.ln1_g), mv(e.x1, t, hd), lp));
    FUSEDOPS_RETURN_IF_ERROR(gemm(cv(e.x1, t, hd), p.ffn1.get(), mv(e.h, t, f),
                                  chain(bias_col{vec(w.b1)}, activation<act::gelu_erf>{}), e.gp));
    FUSEDOPS_RETURN_IF_ERROR(gemm(cv(e.h, t, f), p.ffn2.get(), mv(e.tmp, t, hd),
                                  chain(bias_col{vec(w.b2)}, residual{cv(e.x1, t, hd)}), e.gp));
    lp.bias = vec(w.ln2_b);
    FUSEDOPS_RETURN_IF_ERROR(layer_norm(mv(e.tmp, t, hd), vec(w.ln2_g), mv(x, t, hd), lp));
  }
  return {};
}

// ------------------------------------------------------------------------------------------------
// Path 2: unfused, fusedops pieces as separate passes (same GEMM kernels and packed weights, so
// the difference to path 1 is the fusion alone).

// y += r, the residual add an engine without fused epilogues runs as its own pass.
void add_in_place(matrix& y, const matrix& r, threading threads) {
  parallel_for(threads, index_t(y.size()), 1 << 14, [&](index_t b, index_t end) {
    for (index_t i = b; i < end; ++i) y[std::size_t(i)] += r[std::size_t(i)];
  });
}

// softmax(Q·Kᵀ · scale) · V per sequence, heads batched, through an [heads, S, S] score buffer.
// Padded keys (j >= kv_len[b]) are left out by slicing, so nothing masked is ever computed.
status unfused_attention(encoder& e) {
  const index_t s = e.o.seq, hd = e.o.hidden, nh = e.o.heads, dh = e.head_dim();
  gemm_params scaled = e.gp;
  scaled.alpha = 1.0f / std::sqrt(float(dh));
  for (index_t b = 0; b < e.o.batch; ++b) {
    const index_t len = index_t(e.kv_len[std::size_t(b)]);
    const float* q = e.qkv.data() + b * s * 3 * hd;
    const auto qv = make_view(q, {nh, s, dh}, {dh, 3 * hd, 1});
    const auto kt = make_view(q + hd, {nh, dh, len}, {dh, 1, 3 * hd});  // Kᵀ, no copy
    const auto vv = make_view(q + 2 * hd, {nh, len, dh}, {dh, 3 * hd, 1});
    const auto sc = make_view(e.scores.data(), {nh, s, len}, {s * s, s, 1});
    const auto out = make_view(e.ctx.data() + b * s * hd, {nh, s, dh}, {dh, hd, 1});
    FUSEDOPS_RETURN_IF_ERROR(gemm_batched(qv, kt, sc, epilogue::none{}, scaled));
    FUSEDOPS_RETURN_IF_ERROR(softmax(sc, sc, -1, e.threads));
    FUSEDOPS_RETURN_IF_ERROR(gemm_batched(sc, vv, out, epilogue::none{}, e.gp));
  }
  return {};
}

status unfused_forward(encoder& e, index_t layers, const matrix& input, matrix& x) {
  using epilogue::none;
  const index_t t = e.tokens(), hd = e.o.hidden, f = e.o.ffn;
  std::copy(input.begin(), input.end(), x.begin());
  layer_norm_params lp;
  lp.threads = e.threads;
  for (index_t l = 0; l < layers; ++l) {
    const layer_weights& w = e.w[std::size_t(l)];
    const packed_layer& p = e.p[std::size_t(l)];
    FUSEDOPS_RETURN_IF_ERROR(gemm(cv(x, t, hd), p.qkv.get(), mv(e.qkv, t, 3 * hd), none{}, e.gp));
    FUSEDOPS_RETURN_IF_ERROR(bias_activation(mv(e.qkv, t, 3 * hd), vec(w.bqkv),
                                             mv(e.qkv, t, 3 * hd), act::identity{}, e.threads));
    FUSEDOPS_RETURN_IF_ERROR(unfused_attention(e));
    FUSEDOPS_RETURN_IF_ERROR(gemm(cv(e.ctx, t, hd), p.o.get(), mv(e.tmp, t, hd), none{}, e.gp));
    FUSEDOPS_RETURN_IF_ERROR(
        bias_activation(mv(e.tmp, t, hd), vec(w.bo), mv(e.tmp, t, hd), act::identity{}, e.threads));
    add_in_place(e.tmp, x, e.threads);
    lp.bias = vec(w.ln1_b);
    FUSEDOPS_RETURN_IF_ERROR(layer_norm(mv(e.tmp, t, hd), vec(w.ln1_g), mv(e.x1, t, hd), lp));
    FUSEDOPS_RETURN_IF_ERROR(gemm(cv(e.x1, t, hd), p.ffn1.get(), mv(e.h, t, f), none{}, e.gp));
    FUSEDOPS_RETURN_IF_ERROR(
        bias_activation(mv(e.h, t, f), vec(w.b1), mv(e.h, t, f), act::gelu_erf{}, e.threads));
    FUSEDOPS_RETURN_IF_ERROR(gemm(cv(e.h, t, f), p.ffn2.get(), mv(e.tmp, t, hd), none{}, e.gp));
    FUSEDOPS_RETURN_IF_ERROR(
        bias_activation(mv(e.tmp, t, hd), vec(w.b2), mv(e.tmp, t, hd), act::identity{}, e.threads));
    add_in_place(e.tmp, e.x1, e.threads);
    lp.bias = vec(w.ln2_b);
    FUSEDOPS_RETURN_IF_ERROR(layer_norm(mv(e.tmp, t, hd), vec(w.ln2_g), mv(x, t, hd), lp));
  }
  return {};
}

// ------------------------------------------------------------------------------------------------
// Path 3: without fusedops. A BLAS-style GEMM `mm` plus the loops a user writes, templated on the
// element type: T = float with sgemm is the baseline, T = double with a naive GEMM the oracle.
// The loops are single-threaded on purpose: OpenBLAS runs its own pthreads pool, and an OpenMP
// `parallel for` beside it makes the two pools fight for the cores (measured here: the baseline
// 3-9x slower). Serial loops are the faster, and the simpler, choice for this baseline.

template <class T>
struct plain_scratch {
  std::vector<T> qkv, ctx, tmp, x1, h, scores;
  explicit plain_scratch(const options& o)
      : qkv(std::size_t(o.batch * o.seq * 3 * o.hidden)),
        ctx(std::size_t(o.batch * o.seq * o.hidden)),
        tmp(ctx.size()),
        x1(ctx.size()),
        h(std::size_t(o.batch * o.seq * o.ffn)),
        scores(std::size_t(o.seq * o.seq)) {}
};

// y[i, :] = LN(x[i, :]) · g + b, the textbook two-pass form.
template <class T>
void plain_layer_norm(const std::vector<T>& x, std::vector<T>& y, const matrix& g, const matrix& b,
                      index_t rows, index_t n) {
  for (index_t i = 0; i < rows; ++i) {
    const T* r = &x[std::size_t(i * n)];
    T mean = 0, var = 0;
    for (index_t j = 0; j < n; ++j) mean += r[j];
    mean /= T(n);
    for (index_t j = 0; j < n; ++j) var += (r[j] - mean) * (r[j] - mean);
    const T inv = T(1) / std::sqrt(var / T(n) + T(1e-5f));
    for (index_t j = 0; j < n; ++j)
      y[std::size_t(i * n + j)] = (r[j] - mean) * inv * g[std::size_t(j)] + b[std::size_t(j)];
  }
}

// y[i, j] = (y[i, j] + bias[j]) + r[i, j], the order of the fused epilogue.
template <class T>
void plain_bias_residual(std::vector<T>& y, const matrix& bias, const std::vector<T>& r,
                         index_t rows, index_t n) {
  for (index_t i = 0; i < rows; ++i) {
    for (index_t j = 0; j < n; ++j) {
      T& v = y[std::size_t(i * n + j)];
      v = v + bias[std::size_t(j)] + r[std::size_t(i * n + j)];
    }
  }
}

// mm(trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc): C[m, n] = alpha · A · (B or Bᵀ), row-major.
template <class T, class Mm>
void plain_layer(const layer_weights& w, const options& o, const std::int64_t* kv_len,
                 std::vector<T>& x, plain_scratch<T>& s, Mm&& mm) {
  const index_t t = o.batch * o.seq, hd = o.hidden, f = o.ffn, sq = o.seq, dh = o.hidden / o.heads;
  mm(false, t, 3 * hd, hd, T(1), x.data(), hd, w.wqkv.data(), 3 * hd, s.qkv.data(), 3 * hd);
  for (index_t i = 0; i < t; ++i)
    for (index_t j = 0; j < 3 * hd; ++j)
      s.qkv[std::size_t(i * 3 * hd + j)] += w.bqkv[std::size_t(j)];
  const T scale = T(1) / std::sqrt(T(dh));
  for (index_t b = 0; b < o.batch; ++b) {
    const index_t len = index_t(kv_len[std::size_t(b)]);
    for (index_t head = 0; head < o.heads; ++head) {
      const T* q = s.qkv.data() + b * sq * 3 * hd + head * dh;
      mm(true, sq, len, dh, scale, q, 3 * hd, q + hd, 3 * hd, s.scores.data(), sq);
      for (index_t i = 0; i < sq; ++i) {  // softmax of each row of scores
        T* r = &s.scores[std::size_t(i * sq)];
        T mx = r[0], sum = 0;
        for (index_t j = 1; j < len; ++j) mx = std::max(mx, r[j]);
        for (index_t j = 0; j < len; ++j) {
          r[j] = std::exp(r[j] - mx);
          sum += r[j];
        }
        for (index_t j = 0; j < len; ++j) r[j] /= sum;
      }
      mm(false, sq, dh, len, T(1), s.scores.data(), sq, q + 2 * hd, 3 * hd,
         s.ctx.data() + b * sq * hd + head * dh, hd);
    }
  }
  mm(false, t, hd, hd, T(1), s.ctx.data(), hd, w.wo.data(), hd, s.tmp.data(), hd);
  plain_bias_residual(s.tmp, w.bo, x, t, hd);
  plain_layer_norm(s.tmp, s.x1, w.ln1_g, w.ln1_b, t, hd);
  mm(false, t, f, hd, T(1), s.x1.data(), hd, w.w1.data(), f, s.h.data(), f);
  for (index_t i = 0; i < t; ++i) {
    for (index_t j = 0; j < f; ++j) {  // exact GELU of the biased FFN activations
      T& v = s.h[std::size_t(i * f + j)];
      const T z = v + w.b1[std::size_t(j)];
      v = T(0.5) * z * (T(1) + std::erf(z * T(0.70710678118654752440)));
    }
  }
  mm(false, t, hd, f, T(1), s.h.data(), f, w.w2.data(), hd, s.tmp.data(), hd);
  plain_bias_residual(s.tmp, w.b2, s.x1, t, hd);
  plain_layer_norm(s.tmp, x, w.ln2_g, w.ln2_b, t, hd);
}

// The baseline's GEMM: what a user links for matrix products.
void sgemm(bool trans_b, index_t m, index_t n, index_t k, float alpha, const float* a, index_t lda,
           const float* b, index_t ldb, float* c, index_t ldc) {
#if FUSEDOPS_EXAMPLE_HAVE_OPENBLAS
  cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(m), int(n),
              int(k), alpha, a, int(lda), b, int(ldb), 0.0f, c, int(ldc));
#else
  using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using in_map = Eigen::Map<const row_major, 0, Eigen::OuterStride<> >;
  Eigen::Map<row_major, 0, Eigen::OuterStride<> > cm(c, m, n, Eigen::OuterStride<>(ldc));
  const in_map am(a, m, k, Eigen::OuterStride<>(lda));
  if (trans_b) {
    cm.noalias() = alpha * am * in_map(b, n, k, Eigen::OuterStride<>(ldb)).transpose();
  } else {
    cm.noalias() = alpha * am * in_map(b, k, n, Eigen::OuterStride<>(ldb));
  }
#endif
}

void baseline_forward(const encoder& e, index_t layers, const matrix& input, matrix& x,
                      plain_scratch<float>& s) {
  std::copy(input.begin(), input.end(), x.begin());
  for (index_t l = 0; l < layers; ++l)
    plain_layer(e.w[std::size_t(l)], e.o, e.kv_len.data(), x, s, sgemm);
}

// The oracle's GEMM: double accumulation, no blocking, loops ordered for unit-stride access.
template <class TB>
void naive_gemm(bool trans_b, index_t m, index_t n, index_t k, double alpha, const double* a,
                index_t lda, const TB* b, index_t ldb, double* c, index_t ldc) {
  for (index_t i = 0; i < m; ++i) {
    double* ci = c + i * ldc;
    const double* ai = a + i * lda;
    if (trans_b) {  // C[i, j] = A[i, :] · B[j, :]
      for (index_t j = 0; j < n; ++j) {
        double acc = 0;
        for (index_t p = 0; p < k; ++p) acc += ai[p] * double(b[j * ldb + p]);
        ci[j] = alpha * acc;
      }
    } else {  // C[i, :] = Σ_p A[i, p] · B[p, :]
      std::fill(ci, ci + n, 0.0);
      for (index_t p = 0; p < k; ++p)
        for (index_t j = 0; j < n; ++j) ci[j] += ai[p] * double(b[p * ldb + j]);
      for (index_t j = 0; j < n; ++j) ci[j] *= alpha;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Checks and timing.

// max |a - b| / (1 + |b|): relative for large values, absolute near 0 (LN outputs are O(1)).
template <class T>
double max_rel_diff(const matrix& a, const std::vector<T>& b) {
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    e = std::max(e, std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i]))));
  return e;  // NaN compares false above, so check it separately
}
template <class T>
bool all_finite(const std::vector<T>& v) {
  return std::all_of(v.begin(), v.end(), [](T x) { return std::isfinite(x); });
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Tolerance of max |a - b| / (1 + |b|) between two fp32 evaluations of `layers` layers (or one
// and the double oracle), derived rather than tuned:
//  * an n-term fp32 dot product of random-sign terms (our weights) rounds with an rms error of
//    ~0.4·sqrt(n)·u relative to its result (u = 2^-24; the partial sums grow like sqrt(k)); two
//    evaluations in different orders differ by ~0.6·sqrt(n)·u. Blocked and FMA accumulation only
//    lower this.
//  * within a layer, independent errors add in quadrature: n summed over the products the two
//    paths compute differently. Attention always (Q·Kᵀ over head_dim; the softmax sum and P·V
//    over seq); the projections (3 × hidden, ffn) only against another GEMM (baseline, oracle):
//    fused and unfused share kernels, packed weights and addition order. +16 for the few-ulp
//    exp, erf, divisions and LayerNorm's rsqrt.
//  * each LayerNorm returns the activations to unit scale and the residual carries earlier errors
//    with gain ~1, so over L layers they add like a random walk: × sqrt(L) (measured, fused vs
//    unfused at the default size: 7.5e-7 after 1 layer, 1.5e-6 after 4, 2.5e-6 after 12).
//  * the largest of ~1e5 outputs of a Gaussian-like error is ~4.5 σ.
// So 8 · u · sqrt(L · Σn) = 0.6 × 4.5 ≈ 2.7 σ-units with a further 3× margin: 3e-5 (fused vs
// unfused) and 1.2e-4 (baseline) at the default size. A real bug (a wrong head split, a missing
// bias, a mask off by one) moves outputs by 1e-2 or more.
double tolerance(const options& o, index_t layers, bool same_gemms) {
  const double u = 0x1p-24, dh = double(o.hidden / o.heads);
  const double attention_n = dh + 2.0 * double(o.seq) + 16.0;
  const double gemm_n = 3.0 * double(o.hidden) + double(o.ffn);
  return 8.0 * u * std::sqrt(double(layers) * (same_gemms ? attention_n : attention_n + gemm_n));
}

// The 1-minute load average (other processes competing for the CPUs), or -1 where unknown.
double load_average() {
  double l = -1;
  if (std::FILE* fp = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(fp, "%lf", &l) != 1) l = -1;
    std::fclose(fp);
  }
  return l;
}

// What the command line asks for: run, or stop with an exit code (0 after --help).
enum class parsed { run, stop_ok, stop_error };

parsed parse(int argc, char** argv, options& o) {
#if defined(_OPENMP)
  o.threads = std::max(1, omp_get_max_threads());
#else
  o.threads = 1;
#endif
  const int default_threads = o.threads;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    long v = 0;
    auto value = [&] {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      v = std::strtol(argv[++i], &end, 10);
      return *end == '\0' && v > 0 && v <= (1 << 20);
    };
    if (!std::strcmp(a, "--small")) {
      o.batch = 2, o.seq = 17, o.hidden = 64, o.heads = 4, o.ffn = 128, o.layers = 2, o.reps = 1;
      o.pad = true;
    } else if (!std::strcmp(a, "--pad")) {
      o.pad = true;
    } else if (!std::strcmp(a, "--no-check")) {
      o.check = false;
    } else if (!std::strcmp(a, "--batch") && value()) {
      o.batch = v;
    } else if (!std::strcmp(a, "--seq") && value()) {
      o.seq = v;
    } else if (!std::strcmp(a, "--layers") && value()) {
      o.layers = v;
    } else if (!std::strcmp(a, "--hidden") && value()) {
      o.hidden = v;
    } else if (!std::strcmp(a, "--heads") && value()) {
      o.heads = v;
    } else if (!std::strcmp(a, "--ffn") && value()) {
      o.ffn = v;
    } else if (!std::strcmp(a, "--threads") && value()) {
      o.threads = int(v);
    } else if (!std::strcmp(a, "--reps") && value()) {
      o.reps = int(v);
    } else {
      const bool help = !std::strcmp(a, "--help") || !std::strcmp(a, "-h");
      if (!help) std::fprintf(stderr, "%s: unknown option or bad value: %s\n", argv[0], a);
      std::fprintf(
          help ? stdout : stderr,
          "Usage: %s [options]\n"
          "A BERT-base-shaped encoder (post-LN, random weights from a fixed seed) run three\n"
          "ways: fused with fusedops, the same fusedops operators as separate passes, and\n"
          "%s. Prints ms per forward, tokens/s, GFLOP/s and the fused speed-up, and\n"
          "checks that the outputs agree within fp32 tolerance, and layer 0 against a double-\n"
          "precision oracle (exit 1 if not; timings never fail the run).\n"
          "  --batch N    sequences (default 1)         --seq N     tokens per sequence (128)\n"
          "  --layers N   encoder layers (12)           --hidden N  model width (768)\n"
          "  --heads N    attention heads (12)          --ffn N     FFN width (3072)\n"
          "  --threads N  threads of every path (default: OpenMP's maximum, here %d)\n"
          "  --reps N     timed repetitions per path; the median is reported (7)\n"
          "  --pad        padding mask: sequence b keeps seq - b*seq/(2*batch) keys\n"
          "  --no-check   skip the comparison of layer 0 with the double-precision oracle\n"
          "               (naive double loops, ~1 s at the default size)\n"
          "  --small      CI size: batch 2, seq 17, hidden 64, 4 heads, FFN 128, 2 layers,\n"
          "               with --pad, 1 repetition\n"
          "On a busy shared machine OMP_WAIT_POLICY=passive keeps waiting OpenMP threads from\n"
          "spinning on the cores other processes need.\n"
          "Build: fusedops %d.%d.%d, backend %s (the best this build's flags enable),\n"
          "OpenMP %s, baseline %s (%s; its GEMMs use --threads, its loops 1 thread).\n",
          argv[0], baseline_name, default_threads, version_major, version_minor, version_patch,
          default_backend::name,
#if defined(_OPENMP)
          "on",
#else
          "off (every path runs 1 thread)",
#endif
          baseline_name, baseline_build().c_str());
      return help ? parsed::stop_ok : parsed::stop_error;
    }
  }
  if (o.hidden % o.heads != 0) {
    std::fprintf(stderr, "%s: --hidden (%td) must be a multiple of --heads (%td)\n", argv[0],
                 o.hidden, o.heads);
    return parsed::stop_error;
  }
  return parsed::run;
}

// Model load: random weights packed once for fusedops, then scratch and per-call parameters
// sized once, so that no timed call allocates (allow_allocation = false makes that a checked
// promise: a call that would need more scratch fails instead).
status load(encoder& e) {
  const options& o = e.o;
  const index_t t = o.batch * o.seq, hd = o.hidden, f = o.ffn, dh = hd / o.heads, s = o.seq;
  std::fprintf(stderr, "loading %td layers of random weights (%.0f MB) and packing them ", o.layers,
               double(o.layers) * double(4 * hd * hd + 2 * hd * f) * 4e-6);
  const double t0 = now_ms();
  rng r{20261122};
  e.input = r.fill(t * hd, 1.0f);
  e.w.reserve(std::size_t(o.layers)), e.p.reserve(std::size_t(o.layers));
  for (index_t l = 0; l < o.layers; ++l) {
    const layer_weights& w = e.w.emplace_back(random_layer(r, hd, f));
    packed_layer& p = e.p.emplace_back();
    FUSEDOPS_RETURN_IF_ERROR(p.qkv.pack(cv(w.wqkv, hd, 3 * hd), e.threads));
    FUSEDOPS_RETURN_IF_ERROR(p.o.pack(cv(w.wo, hd, hd), e.threads));
    FUSEDOPS_RETURN_IF_ERROR(p.ffn1.pack(cv(w.w1, hd, f), e.threads));
    FUSEDOPS_RETURN_IF_ERROR(p.ffn2.pack(cv(w.w2, f, hd), e.threads));
    std::fputc('.', stderr);
  }
  std::fprintf(stderr, " %.1f s\n", (now_ms() - t0) * 1e-3);

  e.qkv.resize(std::size_t(t * 3 * hd)), e.ctx.resize(std::size_t(t * hd));
  e.tmp.resize(e.ctx.size()), e.x1.resize(e.ctx.size()), e.h.resize(std::size_t(t * f));
  e.scores.resize(std::size_t(o.heads * s * s));
  e.gp.threads = e.ap.threads = e.threads;
  e.gp.allow_allocation = e.ap.allow_allocation = false;
  if (o.pad) e.ap.nonpad_kv_seqlen = make_view(e.kv_len.data(), {o.batch});

  const packed_layer& p = e.p[0];  // every layer has the same shapes
  std::size_t need =
      std::max({gemm_workspace_size(cv(e.input, t, hd), p.qkv.get(), mv(e.qkv, t, 3 * hd), e.gp),
                gemm_workspace_size(cv(e.ctx, t, hd), p.o.get(), mv(e.tmp, t, hd), e.gp),
                gemm_workspace_size(cv(e.x1, t, hd), p.ffn1.get(), mv(e.h, t, f), e.gp),
                gemm_workspace_size(cv(e.h, t, f), p.ffn2.get(), mv(e.tmp, t, hd), e.gp),
                attention_workspace_size(heads_of(e.qkv, o, 0), heads_of(e.qkv, o, 1),
                                         heads_of(e.qkv, o, 2), heads_of_ctx(e), e.ap)});
  // The unfused attention's batched GEMMs (all heads of one sequence, one product per head).
  const index_t nh = o.heads;
  const auto q3 = make_view(static_cast<const float*>(e.qkv.data()), {nh, s, dh}, {dh, 3 * hd, 1});
  const auto kt3 = make_view(static_cast<const float*>(e.qkv.data()), {nh, dh, s}, {dh, 1, 3 * hd});
  const auto sc3 = make_view(e.scores.data(), {nh, s, s}, {s * s, s, 1});
  const auto ctx3 = make_view(e.ctx.data(), {nh, s, dh}, {dh, hd, 1});
  need = std::max({need, gemm_batched_workspace_size(q3, kt3, sc3, e.gp),
                   gemm_batched_workspace_size(view<const float, 3>(sc3), q3, ctx3, e.gp)});
  FUSEDOPS_RETURN_IF_ERROR(e.workspace.allocate(need));
  e.gp.workspace = e.ap.workspace = make_view(e.workspace.data(), {index_t(need)});
  return {};
}

// Layer 0 of the fused path against the double-precision oracle (the baseline's code in double,
// with a naive GEMM), both from the same fp32 input.
status oracle_diff(encoder& e, double& diff) {
  std::fprintf(stderr, "layer 0 against the double oracle\n");
  matrix x(e.input.size());
  FUSEDOPS_RETURN_IF_ERROR(fused_forward(e, 1, e.input, x));
  std::vector<double> ref(e.input.begin(), e.input.end());
  plain_scratch<double> ds(e.o);
  plain_layer(e.w[0], e.o, e.kv_len.data(), ref, ds, [](auto... args) { naive_gemm(args...); });
  diff = all_finite(x) ? max_rel_diff(x, ref) : HUGE_VAL;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  encoder e;
  switch (parse(argc, argv, e.o)) {
    case parsed::run:
      break;
    case parsed::stop_ok:
      return 0;
    case parsed::stop_error:
      return 1;
  }
  const options& o = e.o;
#if FUSEDOPS_EXAMPLE_HAVE_OPENBLAS
  openblas_set_num_threads(o.threads);
#else
  Eigen::setNbThreads(o.threads);
#endif
  e.threads = threading::openmp(o.threads);
  // Valid keys per sequence: all of them, or with --pad fewer for each later sequence.
  for (index_t b = 0; b < o.batch; ++b)
    e.kv_len.push_back(o.pad ? o.seq - b * o.seq / (2 * o.batch) : o.seq);
  const index_t t = o.batch * o.seq, hd = o.hidden, f = o.ffn, dh = hd / o.heads;
  double pairs = 0;  // attended (query, key) pairs per head, over the batch
  for (std::int64_t len : e.kv_len) pairs += double(o.seq) * double(len);
  const double gflop =
      double(o.layers) * 1e-9 *
      (2.0 * double(t * hd) * double(4 * hd + 2 * f) + 4.0 * double(o.heads * dh) * pairs);
  std::printf(
      "fusedops %d.%d.%d transformer_encoder: BERT-style post-LN encoder, fp32, backend %s, "
      "%d thread(s)\n",
      version_major, version_minor, version_patch, default_backend::name, o.threads);
  std::printf(
      "batch %td x seq %td = %td tokens, hidden %td, %td heads x %td, FFN %td, %td layers%s; "
      "%.3g GFLOP per forward\n",
      o.batch, o.seq, t, hd, o.heads, dh, f, o.layers, o.pad ? ", padded" : "", gflop);
  std::printf("baseline: %s (GEMMs on %d thread(s), loops on 1)\n\n", baseline_build().c_str(),
              o.threads);
  std::fflush(stdout);  // the configuration before the progress dots on stderr
  status s = load(e);
  if (!s.ok()) {
    std::fprintf(stderr, "\nerror: %s\n", s.message());
    return 1;
  }
  matrix x[3];  // final hidden states of the three paths
  for (matrix& xp : x) xp.resize(e.input.size());
  plain_scratch<float> base_scratch(o);
  auto forward = [&](int path) -> status {
    if (path == 0) return fused_forward(e, o.layers, e.input, x[0]);
    if (path == 1) return unfused_forward(e, o.layers, e.input, x[1]);
    baseline_forward(e, o.layers, e.input, x[2], base_scratch);
    return {};
  };

  // One checked run of each path (the warm-up), then the paths interleaved rep by rep so that a
  // noisy neighbour hits all of them alike.
  std::fprintf(stderr, "first run of each path ");
  for (int path = 0; path < 3 && s.ok(); ++path, std::fputc('.', stderr)) s = forward(path);
  std::fputc('\n', stderr);
  double d_oracle = 0;
  if (s.ok() && o.check) s = oracle_diff(e, d_oracle);
  const double load_before = load_average();
  std::vector<double> ms[3];
  std::fprintf(stderr, "timing 3 paths x %d reps ", o.reps);
  for (int rep = 0; rep < o.reps && s.ok(); ++rep) {
    for (int i = 0; i < 3 && s.ok(); ++i, std::fputc('.', stderr)) {
      // Rotating the order makes each path follow each other one equally often: the thread pool
      // a path leaves spinning (libgomp's, OpenBLAS's) slows whatever runs next.
      const int path = (rep + i) % 3;
      const double t0 = now_ms();
      s = forward(path);
      ms[path].push_back(now_ms() - t0);
    }
  }
  std::fputc('\n', stderr);
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message());
    return 1;
  }

  // --- Report. ---
  const char* names[3] = {"fused (fusedops)", "unfused (separate passes)", baseline_name};
  double med[3];
  for (int path = 0; path < 3; ++path) med[path] = median(ms[path]);
  std::printf("%-26s %11s %9s %10s %9s %15s\n", "path", "ms/forward", "(fastest)", "tokens/s",
              "GFLOP/s", "fused speed-up");
  for (int path = 0; path < 3; ++path)
    std::printf("%-26s %11.2f %9.2f %10.0f %9.1f %14.2fx\n", names[path], med[path],
                *std::min_element(ms[path].begin(), ms[path].end()), double(t) / med[path] * 1e3,
                gflop / med[path] * 1e3, med[path] / med[0]);
  const int cpus = std::max(1, int(std::thread::hardware_concurrency()));
  std::printf("(median of %d interleaved runs; load average %.1f before, %.1f after, %d CPUs)\n",
              o.reps, load_before, load_average(), cpus);
  if (load_before >= 1.0)  // an idle machine reads ~0; our own setup adds little to a 1-min average
    std::printf(
        "note: other processes were using the CPUs; threaded timings suffer most (waiting\n"
        "OpenMP threads spin): compare --threads 1, or set OMP_WAIT_POLICY=passive\n");
  std::printf("\n");

  const bool finite = all_finite(x[0]) && all_finite(x[1]) && all_finite(x[2]);
  const double d_unfused = max_rel_diff(x[0], x[1]), d_base = max_rel_diff(x[0], x[2]);
  const double tol_same = tolerance(o, o.layers, true), tol_base = tolerance(o, o.layers, false);
  const double tol_oracle = tolerance(o, 1, false);
  const bool ok_unfused = finite && d_unfused <= tol_same, ok_base = finite && d_base <= tol_base;
  const bool ok_oracle = !o.check || d_oracle <= tol_oracle;
  std::printf("max |a-b|/(1+|b|) of the outputs, fused vs unfused:  %.2e (tolerance %.1e) %s\n",
              d_unfused, tol_same, ok_unfused ? "ok" : "FAILED");
  std::printf("max |a-b|/(1+|b|) of the outputs, fused vs baseline: %.2e (tolerance %.1e) %s\n",
              d_base, tol_base, ok_base ? "ok" : "FAILED");
  if (o.check)
    std::printf("layer 0, fused vs double-precision oracle:           %.2e (tolerance %.1e) %s\n",
                d_oracle, tol_oracle, ok_oracle ? "ok" : "FAILED");
  std::printf("targets: fused >= 1.3x unfused: %.2fx %s; fused >= 1.5x %s: %.2fx %s\n",
              med[1] / med[0], med[1] / med[0] >= 1.3 ? "met" : "not met", baseline_name,
              med[2] / med[0], med[2] / med[0] >= 1.5 ? "met" : "not met");
  return ok_unfused && ok_base && ok_oracle ? 0 : 1;
}
