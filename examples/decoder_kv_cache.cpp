// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// A Llama-style decoder on fusedops operators, the way an inference engine runs one: prefill of a
// prompt, then token-by-token decode against a KV cache. Each layer (pre-norm) is
//
//   h   = rms_norm(x)                                  rms_norm
//   qkv = h · Wqkv                                     one prepacked GEMM, [H -> (Hq + 2 Hkv) D]
//   a   = attention(rope(q), concat(cache_k, rope(k)), one attention call: RoPE fused in (q as the
//                   concat(cache_v, v))                tile loop reads it, the new k as it is
//                                                      written to the cache), the new K/V appended
//                                                      to the layer's cache buffer (ONNX past /
//                                                      present views of it), GQA, is_causal
//                                                      (bottom-right: query i of the Sq new tokens
//                                                      sits at position past + i)
//   x2  = a · Wo + x                                   GEMM, residual fused into the store
//   g   = silu(rms_norm(x2) · Wg) · (rms_norm(x2) · Wu) one GEMM over gate and up packed together
//   x   = g · Wdown + x2                               GEMM, residual fused into the store
//
// and a final rms_norm gives the hidden states. The "tokens" are random embedding vectors (fixed
// seed). The program prints prefill and decode tokens/s, compares decode with the bound the
// machine's read bandwidth sets (every weight and the K/V cache are read once per decoded token),
// and checks that decoding step by step gives the hidden states of one full causal prefill of the
// same tokens (exit 1 if not). Caches, activations and scratch are allocated once, before the
// first token; no operator allocates. Run with --help for the options.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <fusedops/fusedops.hpp>

namespace {

using namespace fusedops;
using clock_type = std::chrono::steady_clock;

int default_threads() {
#if FUSEDOPS_HAS_OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return 1;
#endif
}

struct options {
  index_t layers = 4, hidden = 1024, heads = 16, kv_heads = 4, ffn = 2816;
  index_t prompt = 64, tokens = 32;
  int threads = default_threads(), reps = 3;
  double budget_s = 10;  // no further runs start once the timed ones have taken this long
  std::size_t bandwidth_mib = 256;  // several times a 32 MiB L3
};

// Agreement required between step-by-step decode and one full prefill, as max |a - b| / (1 + |b|)
// over the final hidden states of the decoded positions. Both are fp32 evaluations of the same
// function that may differ only in summation order (a decode step splits long caches across
// threads; prefill splits query blocks). Such differences are ~sqrt(K) · 2^-24 ≈ 3e-6 relative per
// dot product of length K = 2816, and the final RMSNorm brings the hidden states to unit scale.
// Measured: 0 (bit-identical) at the default sizes, 2-3e-6 with caches of 600-700 positions on 2
// threads. 1e-3 leaves a wide margin, while a real bug is far above it: a rotary position off by
// one in a single decode step of one layer moved the hidden states by 0.39.
constexpr double tolerance = 1e-3;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// Prints "what i/n" to stderr at most once a second, so long runs show progress and short ones
// stay quiet.
struct progress {
  clock_type::time_point last = clock_type::now();
  void tick(const char* what, index_t i, index_t n) {
    if (ms_since(last) < 1000.0) return;
    std::fprintf(stderr, "  ... %s %td/%td\n", what, i, n);
    last = clock_type::now();
  }
};

std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

view<const float, 2> cmat(const float* p, index_t rows, index_t cols) {
  return make_view(p, {rows, cols});
}
view<float, 2> mat(float* p, index_t rows, index_t cols) { return make_view(p, {rows, cols}); }

// Read bandwidth of this machine: best of `passes` sums over a buffer several times larger than
// the last-level cache, split over `threads` with the same threading policy the operators use.
double read_bandwidth_gbs(std::size_t mib, int threads, int passes) {
  const threading th = threading::openmp(threads);
  const index_t chunks = th.concurrency();
  const index_t n = index_t(mib << 20) / index_t(sizeof(float)) / (64 * chunks) * (64 * chunks);
  const std::vector<float> buffer(static_cast<std::size_t>(n), 1.0f);
  std::vector<float> partial(static_cast<std::size_t>(chunks));
  double best = 1e30, checksum = 0;
  for (int pass = 0; pass < passes; ++pass) {
    const auto t0 = clock_type::now();
    parallel_for(th, chunks, 1, [&](index_t c0, index_t c1) {
      for (index_t c = c0; c < c1; ++c) {
        const float* p = buffer.data() + c * (n / chunks);
        float acc[64] = {};  // 64 independent sums: the loop vectorises, the adds never stall
        for (index_t i = 0; i < n / chunks; i += 64)
          for (int j = 0; j < 64; ++j) acc[j] += p[i + j];
        float s = 0;
        for (float a : acc) s += a;
        partial[static_cast<std::size_t>(c)] = s;
      }
    });
    best = std::min(best, ms_since(t0));
    for (float s : partial) checksum += double(s);
  }
  if (checksum != double(n) * passes) std::printf("warning: bandwidth checksum %g\n", checksum);
  return double(n) * sizeof(float) / (best * 1e-3) * 1e-9;
}

// --- The model and its per-sequence state. ---------------------------------------------------

struct layer {
  packed_weights<> qkv, wo, gate_up, down;  // packed once at load
  std::vector<float> norm1, norm2;
};

class decoder {
 public:
  explicit decoder(const options& o)
      : o_(o),
        d_(o.hidden / o.heads),
        qw_(o.heads * d_),
        kw_(o.kv_heads * d_),
        w_(qw_ + 2 * kw_),
        max_len_(o.prompt + o.tokens),
        layers_(std::size_t(o.layers)) {}

  // Model load: random weights (variance 1/fan-in, so activations stay O(1)), packed once; the
  // RoPE tables; then every buffer a sequence of max_len tokens needs, and the operators'
  // scratch for the largest call (allocate-once: the forward pass never allocates).
  status load(std::mt19937& rng) {
    const index_t h = o_.hidden, f = o_.ffn;
    const threading th = threading::openmp(o_.threads);
    auto packed = [&](packed_weights<>& dst, index_t k, index_t n) {
      const std::vector<float> w =
          random_vector(std::size_t(k * n), rng, std::sqrt(3.0f / float(k)));
      return dst.pack(cmat(w.data(), k, n), th);
    };
    for (layer& l : layers_) {
      FUSEDOPS_RETURN_IF_ERROR(packed(l.qkv, h, w_));
      FUSEDOPS_RETURN_IF_ERROR(packed(l.wo, qw_, h));
      const float a = std::sqrt(3.0f / float(h));
      const std::vector<float> wg = random_vector(std::size_t(h * f), rng, a);
      const std::vector<float> wu = random_vector(std::size_t(h * f), rng, a);
      FUSEDOPS_RETURN_IF_ERROR(
          l.gate_up.pack_gated(cmat(wg.data(), h, f), cmat(wu.data(), h, f), th));
      FUSEDOPS_RETURN_IF_ERROR(packed(l.down, f, h));
      l.norm1 = random_vector(std::size_t(h), rng, 0.2f);
      l.norm2 = random_vector(std::size_t(h), rng, 0.2f);
      for (float& g : l.norm1) g += 1.0f;
      for (float& g : l.norm2) g += 1.0f;
      weight_bytes_ += (l.qkv.get().size() + l.wo.get().size() + l.gate_up.get().size() +
                        l.down.get().size() + 2 * std::size_t(h)) *
                       sizeof(float);
    }
    final_norm_.assign(std::size_t(h), 1.0f);
    weight_bytes_ += std::size_t(h) * sizeof(float);

    // RoPE tables [max_len, D/2]: angle pos / 10000^(2i/D), rotate-half (Llama) convention.
    const index_t half = d_ / 2;
    cos_.resize(std::size_t(max_len_ * half));
    sin_.resize(cos_.size());
    for (index_t p = 0; p < max_len_; ++p)
      for (index_t i = 0; i < half; ++i) {
        const double angle = double(p) * std::pow(10000.0, -2.0 * double(i) / double(d_));
        cos_[std::size_t(p * half + i)] = float(std::cos(angle));
        sin_[std::size_t(p * half + i)] = float(std::sin(angle));
      }

    const std::size_t rows = std::size_t(max_len_);
    for (std::vector<float>* b : {&x_, &x2_, &normed_, &out_})
      b->assign(rows * std::size_t(h), 0.f);
    qkv_.assign(rows * std::size_t(w_), 0.f);
    attn_.assign(rows * std::size_t(qw_), 0.f);
    ffn_.assign(rows * std::size_t(f), 0.f);
    const std::size_t cache = std::size_t(o_.kv_heads * max_len_ * d_);
    k_cache_.assign(std::size_t(o_.layers), std::vector<float>(cache, 0.f));
    v_cache_.assign(std::size_t(o_.layers), std::vector<float>(cache, 0.f));

    // Scratch: the largest need over every call shape this run makes (prefill of the prompt,
    // decode of one token at each length, the full prefill of the check).
    gemm_.threads = attn_params_.threads = th;
    gemm_.allow_allocation = attn_params_.allow_allocation = false;
    attn_params_.is_causal = true;
    std::size_t gemm_need = 0, attn_need = 0;
    const layer& l0 = layers_[0];
    for (index_t s : {index_t(1), o_.prompt, max_len_}) {
      gemm_need = std::max({gemm_need,
                            gemm_workspace_size(cmat(normed_.data(), s, h), l0.qkv.get(),
                                                mat(qkv_.data(), s, w_), gemm_),
                            gemm_workspace_size(cmat(attn_.data(), s, qw_), l0.wo.get(),
                                                mat(x2_.data(), s, h), gemm_),
                            gemm_workspace_size(cmat(normed_.data(), s, h), l0.gate_up.get(),
                                                mat(ffn_.data(), s, f), gemm_),
                            gemm_workspace_size(cmat(ffn_.data(), s, f), l0.down.get(),
                                                mat(x_.data(), s, h), gemm_)});
    }
    auto attn_size = [&](index_t s, index_t len) {
      const views v = head_views(0, s, len - s);
      return attention_workspace_size(v.q, v.new_k, v.new_v, v.out, attention_call(v));
    };
    attn_need = std::max(attn_size(o_.prompt, o_.prompt), attn_size(max_len_, max_len_));
    for (index_t len = o_.prompt + 1; len <= max_len_; ++len)
      attn_need = std::max(attn_need, attn_size(1, len));
    gemm_ws_.assign(gemm_need + 1, 0.f);
    attn_ws_.assign(attn_need + 1, 0.f);
    gemm_.workspace = make_view(gemm_ws_.data(), {index_t(gemm_ws_.size())});
    attn_params_.workspace = make_view(attn_ws_.data(), {index_t(attn_ws_.size())});
    return {};
  }

  // Runs tokens [past, past + s) (embeddings: s rows of `emb`, [s, hidden]) through every layer,
  // appending their keys and values to the cache; out() then holds their final hidden states.
  status forward(const float* emb, index_t s, index_t past) {
    const index_t h = o_.hidden, f = o_.ffn, len = past + s;
    if (len > max_len_)
      return status::error(errc::invalid_argument, "decoder: %td tokens exceed the cache (%td)",
                           len, max_len_);
    std::copy(emb, emb + s * h, x_.begin());
    rms_norm_params np;
    np.threads = gemm_.threads;
    const auto x = mat(x_.data(), s, h), x2 = mat(x2_.data(), s, h),
               normed = mat(normed_.data(), s, h);
    using namespace fusedops::epilogue;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const layer& l = layers_[i];
      const views v = head_views(i, s, past);
      FUSEDOPS_RETURN_IF_ERROR(rms_norm(x, make_view(l.norm1.data(), {h}), normed, np));
      FUSEDOPS_RETURN_IF_ERROR(gemm(normed, l.qkv.get(), mat(qkv_.data(), s, w_), none{}, gemm_));
      FUSEDOPS_RETURN_IF_ERROR(attention(v.q, v.new_k, v.new_v, v.out, attention_call(v)));
      FUSEDOPS_RETURN_IF_ERROR(
          gemm(cmat(attn_.data(), s, qw_), l.wo.get(), x2, residual{x}, gemm_));
      FUSEDOPS_RETURN_IF_ERROR(rms_norm(x2, make_view(l.norm2.data(), {h}), normed, np));
      FUSEDOPS_RETURN_IF_ERROR(
          gemm(normed, l.gate_up.get(), mat(ffn_.data(), s, f), swiglu{}, gemm_));
      FUSEDOPS_RETURN_IF_ERROR(gemm(cmat(ffn_.data(), s, f), l.down.get(), x, residual{x2}, gemm_));
    }
    return rms_norm(x, make_view(final_norm_.data(), {h}), mat(out_.data(), s, h), np);
  }

  const float* out() const { return out_.data(); }
  std::size_t weight_bytes() const { return weight_bytes_; }
  // Bytes of K and V one decode step reads from the cache of `len` positions (all layers).
  std::size_t kv_bytes(index_t len) const {
    return std::size_t(2 * o_.layers * o_.kv_heads * len * d_) * sizeof(float);
  }

 private:
  struct views {
    view<const float, 4> q;                    // [1, Hq, s, D] in qkv_
    view<const float, 4> new_k, new_v;         // [1, Hkv, s, D] in qkv_
    view<float, 4> past_k, past_v;             // [1, Hkv, past, D]: the cache so far
    view<float, 4> present_k, present_v;       // [1, Hkv, past + s, D]: the cache after the call
    view<float, 4> out;                        // [1, Hq, s, D] in attn_
  };

  // The attention call of one layer: ONNX past/present as views of the layer's cache buffer (the
  // call writes the new positions only: past is present's prefix), RoPE of q and the new keys fused
  // in (position of query i and new key i: past + i, the causal offset).
  attention_params attention_call(const views& v) const {
    attention_params ap = attn_params_;
    ap.past_key = v.past_k, ap.past_value = v.past_v;
    ap.present_key = v.present_k, ap.present_value = v.present_v;
    ap.rotary.cos_cache = cmat(cos_.data(), max_len_, d_ / 2);
    ap.rotary.sin_cache = cmat(sin_.data(), max_len_, d_ / 2);
    return ap;
  }

  // The [B, H, S, D] views of layer i's projections and cache for s new tokens after `past`: the
  // [s, (Hq + 2 Hkv)·D] GEMM output split into heads (no copy), and slices of the
  // [1, Hkv, max_len, D] caches.
  views head_views(std::size_t i, index_t s, index_t past) {
    const auto qkv = make_view(qkv_.data(), {1, s, w_});
    const auto k_cache = make_view(k_cache_[i].data(), {1, o_.kv_heads, max_len_, d_});
    const auto v_cache = make_view(v_cache_[i].data(), {1, o_.kv_heads, max_len_, d_});
    views v;
    v.q = split_heads(qkv.slice(2, 0, qw_), o_.heads);
    v.new_k = split_heads(qkv.slice(2, qw_, qw_ + kw_), o_.kv_heads);
    v.new_v = split_heads(qkv.slice(2, qw_ + kw_, w_), o_.kv_heads);
    v.past_k = k_cache.slice(2, 0, past);
    v.past_v = v_cache.slice(2, 0, past);
    v.present_k = k_cache.slice(2, 0, past + s);
    v.present_v = v_cache.slice(2, 0, past + s);
    v.out = split_heads(make_view(attn_.data(), {1, s, qw_}), o_.heads);
    return v;
  }

  options o_;
  index_t d_, qw_, kw_, w_, max_len_;
  std::vector<layer> layers_;
  std::vector<float> final_norm_, cos_, sin_;
  std::vector<float> x_, x2_, normed_, qkv_, attn_, ffn_, out_;
  std::vector<std::vector<float>> k_cache_, v_cache_;
  std::vector<float> gemm_ws_, attn_ws_;
  gemm_params gemm_;
  attention_params attn_params_;
  std::size_t weight_bytes_ = 0;
};

// --- Command line. ---------------------------------------------------------------------------

void print_help(const char* program) {
  std::printf(
      "Usage: %s [options]\n"
      "A Llama-style decoder (RMSNorm, RoPE, GQA attention with a KV cache, SwiGLU FFN) on\n"
      "fusedops: prefill of a prompt, then token-by-token decode. Prints prefill and decode\n"
      "tokens/s (median of the runs), the decode bound set by the measured read bandwidth\n"
      "(weights + K/V cache read once per token; target: decode >= 80%% of it), and checks that\n"
      "step-by-step decode gives the hidden states of one full causal prefill (max |a-b|/(1+|b|)\n"
      "<= %.0e). Exit status 1 on a failed check or a usage error, never on speed.\n"
      "\n"
      "Options (defaults: ~180 MB of fp32 weights, larger than the L3 cache):\n"
      "  --layers N     decoder layers (default 4)\n"
      "  --hidden N     model width (default 1024)\n"
      "  --heads N      query heads (default 16; head size = hidden / heads, even)\n"
      "  --kv-heads N   key/value heads, dividing --heads (default 4: GQA, 4 query heads each)\n"
      "  --ffn N        SwiGLU intermediate size (default 2816)\n"
      "  --prompt N     prompt tokens, processed by one prefill (default 64)\n"
      "  --tokens N     tokens decoded one at a time after the prompt (default 32)\n"
      "  --threads N    threads per operator call, OpenMP (default %d: omp_get_max_threads()%s)\n"
      "  --reps N       runs of prefill + decode timed, median reported (default 3; no new run\n"
      "                 starts after 10 s of them, so a busy machine still finishes in time)\n"
      "  --small        tiny odd sizes for CI (2 layers, hidden 120, prompt 7, 5 tokens)\n"
      "  --help         this text\n"
      "\n"
      "This build: fusedops %d.%d.%d, backend %s (fusedops::default_backend, from the compiler\n"
      "flags), OpenMP %s. On a shared machine, OMP_WAIT_POLICY=passive avoids spinning workers.\n",
      program, tolerance, default_threads(),
      FUSEDOPS_HAS_OPENMP ? "" : "; this build has no OpenMP, so 1", version_major, version_minor,
      version_patch, default_backend::name, FUSEDOPS_HAS_OPENMP ? "on" : "off");
}

// 0: run, 1: usage error, 2: --help printed.
int parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    auto value = [&](index_t& dst) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v <= 0 || v > (1L << 20)) return false;
      dst = v;
      return true;
    };
    index_t v = 0;
    if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
      print_help(argv[0]);
      return 2;
    } else if (!std::strcmp(a, "--small")) {
      o.layers = 2, o.hidden = 120, o.heads = 6, o.kv_heads = 2, o.ffn = 97;
      o.prompt = 7, o.tokens = 5, o.reps = 1, o.bandwidth_mib = 64;
    } else if (!std::strcmp(a, "--layers") && value(o.layers)) {
    } else if (!std::strcmp(a, "--hidden") && value(o.hidden)) {
    } else if (!std::strcmp(a, "--heads") && value(o.heads)) {
    } else if (!std::strcmp(a, "--kv-heads") && value(o.kv_heads)) {
    } else if (!std::strcmp(a, "--ffn") && value(o.ffn)) {
    } else if (!std::strcmp(a, "--prompt") && value(o.prompt)) {
    } else if (!std::strcmp(a, "--tokens") && value(o.tokens)) {
    } else if (!std::strcmp(a, "--threads") && value(v)) {
      o.threads = int(v);
    } else if (!std::strcmp(a, "--reps") && value(v)) {
      o.reps = int(v);
    } else {
      std::fprintf(stderr, "%s: bad option or value '%s' (try --help)\n", argv[0], a);
      return 1;
    }
  }
  if (o.hidden % o.heads != 0 || (o.hidden / o.heads) % 2 != 0 || o.heads % o.kv_heads != 0) {
    std::fprintf(stderr,
                 "%s: --hidden %td must be --heads %td times an even head size, and --heads a "
                 "multiple of --kv-heads %td\n",
                 argv[0], o.hidden, o.heads, o.kv_heads);
    return 1;
  }
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];  // the lower middle of an even count
}

}  // namespace

int main(int argc, char** argv) {
  const auto start = clock_type::now();
  options o;
  if (const int r = parse(argc, argv, o); r != 0) return r == 2 ? 0 : 1;
#if FUSEDOPS_HAS_OPENMP
  const char* omp = "OpenMP";
#else
  const char* omp = "no OpenMP: 1";
  o.threads = 1;
#endif
  const index_t h = o.hidden, total = o.prompt + o.tokens;

  std::mt19937 rng(2026);
  decoder dec(o);
  status s = dec.load(rng);
  if (!s.ok()) {
    std::printf("load failed: %s\n", s.message());
    return 1;
  }
  const std::vector<float> emb = random_vector(std::size_t(total * h), rng, 1.0f);  // the tokens

  std::printf(
      "decoder_kv_cache: %td layers, hidden %td, %td query / %td KV heads of %td, SwiGLU FFN %td\n",
      o.layers, h, o.heads, o.kv_heads, h / o.heads, o.ffn);
  std::printf("fusedops %d.%d.%d, backend %s, %d thread(s) (%s), %.1f MB of packed fp32 weights\n",
              version_major, version_minor, version_patch, default_backend::name, o.threads, omp,
              double(dec.weight_bytes()) * 1e-6);
  double load[1] = {-1};
#if defined(__unix__) || defined(__APPLE__)
  if (getloadavg(load, 1) != 1) load[0] = -1;
#endif
  std::printf(
      "prompt %td tokens, then %td decoded one at a time; load average %.2f (other processes\n"
      "on this machine slow the timings down)\n",
      o.prompt, o.tokens, load[0]);
  const double bandwidth = read_bandwidth_gbs(o.bandwidth_mib, o.threads, 5);

  // --- Prefill of the prompt, then decode one token at a time (timed, o.reps times). ---
  std::vector<float> decoded(std::size_t(o.tokens * h));  // final hidden states of decode steps
  std::vector<double> prefill_ms, decode_ms;
  progress bar;
  const auto timed = clock_type::now();
  for (int rep = 0; rep < o.reps && s.ok() && ms_since(timed) < o.budget_s * 1e3; ++rep) {
    auto t0 = clock_type::now();
    s = dec.forward(emb.data(), o.prompt, 0);
    prefill_ms.push_back(ms_since(t0));
    t0 = clock_type::now();
    for (index_t t = 0; t < o.tokens && s.ok(); ++t) {
      s = dec.forward(emb.data() + (o.prompt + t) * h, 1, o.prompt + t);
      std::copy(dec.out(), dec.out() + h, decoded.begin() + t * h);
      bar.tick("decode step", t + 1, o.tokens);
    }
    decode_ms.push_back(ms_since(t0));
    bar.tick("run", rep + 1, o.reps);
  }
  // --- The check: one causal prefill of prompt + decoded tokens from an empty cache. ---
  if (s.ok()) s = dec.forward(emb.data(), total, 0);
  if (!s.ok()) {
    std::printf("error: %s\n", s.message());
    return 1;
  }
  double worst = 0;
  for (index_t t = 0; t < o.tokens; ++t)
    for (index_t j = 0; j < h; ++j) {
      const double a = decoded[std::size_t(t * h + j)], b = dec.out()[(o.prompt + t) * h + j];
      const double e = std::abs(a - b) / (1.0 + std::abs(b));
      if (!(e <= worst)) worst = e;  // a NaN fails the check
    }
  const bool ok = worst <= tolerance;

  const double pre = median(prefill_ms), dcd = median(decode_ms);
  std::printf("\nmedian of %zu run(s)              tokens         ms   ms/token     tokens/s\n",
              prefill_ms.size());
  std::printf("prefill (all tokens per call)  %8td %10.1f %10.3f %12.1f\n", o.prompt, pre,
              pre / double(o.prompt), double(o.prompt) / pre * 1e3);
  std::printf("decode (one token per step)    %8td %10.1f %10.3f %12.1f\n", o.tokens, dcd,
              dcd / double(o.tokens), double(o.tokens) / dcd * 1e3);

  // Decode bound: each step reads every weight once plus K and V of all cached positions.
  double bytes = 0;
  for (index_t t = 0; t < o.tokens; ++t)
    bytes += double(dec.weight_bytes() + dec.kv_bytes(o.prompt + t + 1));
  const double bound = double(o.tokens) / (bytes / (bandwidth * 1e9));  // tokens/s
  const double ratio = double(o.tokens) / dcd * 1e3 / bound;
  char label[64];
  std::snprintf(label, sizeof label, "read bandwidth (%zu MiB summed, %d thread(s), best of 5)",
                o.bandwidth_mib, o.threads);
  std::printf("\ndecode vs the memory-bandwidth bound:\n");
  std::printf("  %-56s %8.1f GB/s\n", label, bandwidth);
  std::printf("  %-56s %8.1f MB\n", "bytes read per decode token (weights + K/V, mean)",
              bytes / double(o.tokens) * 1e-6);
  std::printf("  %-56s %8.1f tokens/s\n", "bound", bound);
  std::printf("  %-56s %8.0f %%  (target >= 80 %%: %s)\n", "decode / bound", ratio * 100.0,
              ratio >= 0.8 ? "met" : "not met");
  if (dec.weight_bytes() < (std::size_t(64) << 20))
    std::printf(
        "  (%.1f MB of weights may stay in the caches: the bound assumes they stream from\n"
        "   memory, so it means little at these sizes)\n",
        double(dec.weight_bytes()) * 1e-6);
  if (ratio < 0.8 && o.threads > 1)
    std::printf(
        "  (with %d threads each operator call is an OpenMP parallel region; libgomp's workers\n"
        "   spin while they wait, and where other processes hold the cores every region then\n"
        "   waits for a time slice.%s)\n",
        o.threads,
        std::getenv("OMP_WAIT_POLICY") ? "" : " Try OMP_WAIT_POLICY=passive, or --threads 1");
  std::printf(
      "\ncheck: %td decode steps vs one causal prefill of %td tokens: max |a-b|/(1+|b|) = %.2e "
      "(limit %.0e) -> %s\n",
      o.tokens, total, worst, tolerance, ok ? "ok" : "FAILED");
  std::printf("wall time %.1f s\n", ms_since(start) * 1e-3);
  return ok ? 0 : 1;
}
