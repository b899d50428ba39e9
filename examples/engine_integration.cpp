// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// How an inference engine that has its own tensors, thread pool and error handling embeds
// fusedops. The "engine" here is small but real:
//
//   engine::tensor       its own tensor type (shape and strides in elements, rows padded to 64
//                        bytes), wrapped as fusedops views without copies; Eigen matrices are
//                        wrapped the same way through fusedops/interop/eigen.hpp;
//   engine::thread_pool  std::threads the engine starts and joins, lent to fusedops per call
//                        through fusedops::parallel_executor (fusedops owns no threads);
//   load phase           weights packed once (packed_weights); one scratch arena sized from the
//                        operators' *_workspace_size, handed in with allow_allocation = false;
//   run phase            LayerNorm -> QKV GEMM (+bias) -> causal attention -> output GEMM
//                        (+bias +residual) -> FFN GEMM on an Eigen weight (+GELU) into an Eigen
//                        matrix; the epilogues are fused, and each call picks its threads: the
//                        engine's pool, OpenMP, or the calling thread;
//   errors               every call returns fusedops::status, no exceptions; two deliberately bad
//                        calls show their messages and that their outputs stayed untouched;
//   multi-target         the end of main() says how a binary for several CPUs is built
//                        (examples/multi_target/ implements it).
//
// Each result is checked against the double-precision oracles of fusedops/reference/; the exit
// status is 1 on a mismatch. Run with --help for the options.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include <fusedops/fusedops.hpp>
#include <fusedops/interop/eigen.hpp>
#include <fusedops/reference/attention.hpp>
#include <fusedops/reference/gemm.hpp>
#include <fusedops/reference/norm.hpp>
#include <fusedops/runtime/cpu_features.hpp>

// ------------------------------------------------------------------------------------------------
// The engine's own types. Nothing here knows about fusedops except the adapter functions.
// ------------------------------------------------------------------------------------------------
namespace engine {

/// An owning tensor of rank 1-4: float storage, extents, strides in elements. The last dimension
/// is contiguous; each row is padded to a multiple of 16 floats (64 bytes), so a [7, 33] tensor
/// has strides {48, 1}.
struct tensor {
  std::vector<float> storage;
  int rank = 0;
  long shape[4] = {1, 1, 1, 1};
  long strides[4] = {1, 1, 1, 1};

  static tensor make(std::initializer_list<long> extents) {
    tensor t;
    t.rank = static_cast<int>(extents.size());
    std::copy(extents.begin(), extents.end(), t.shape);
    long step = 1;
    for (int d = t.rank - 1; d >= 0; --d) {
      t.strides[d] = step;
      step *= d == t.rank - 1 ? (t.shape[d] + 15) / 16 * 16 : t.shape[d];
    }
    t.storage.assign(static_cast<std::size_t>(step), 0.0f);
    return t;
  }
  float& at(long i, long j) {
    return storage[static_cast<std::size_t>(i * strides[0] + j * strides[1])];
  }
};

/// The engine's thread pool: `threads - 1` workers plus the thread that calls run(). It
/// implements fusedops::parallel_executor, the only thing fusedops sees of it.
class thread_pool final : public fusedops::parallel_executor {
 public:
  explicit thread_pool(int threads) : threads_(std::max(1, threads)) {
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { work(); });
  }
  ~thread_pool() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  int max_concurrency() const noexcept override { return threads_; }

  /// Runs task(0), ..., task(n - 1) on the workers and the calling thread; returns when all
  /// have finished. One job at a time (calls from several engine threads queue up).
  void run(fusedops::index_t n, fusedops::task_ref task) noexcept override {
    std::lock_guard<std::mutex> one_job(job_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task, n_ = n, busy_ = static_cast<int>(workers_.size());
      next_.store(0);
      ++generation_;
    }
    wake_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });  // every worker has left this job
    ++jobs_;
  }

  /// Parallel regions fusedops has run on this pool so far.
  long jobs() const { return jobs_; }

 private:
  void drain() {
    for (fusedops::index_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) (*task_)(i);
  }
  void work() {
    unsigned long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      drain();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        --busy_;
      }
      done_.notify_one();
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex job_mutex_, mutex_;
  std::condition_variable wake_, done_;
  const fusedops::task_ref* task_ = nullptr;
  fusedops::index_t n_ = 0;
  std::atomic<fusedops::index_t> next_{0};
  int busy_ = 0;
  unsigned long generation_ = 0;
  bool stop_ = false;
  long jobs_ = 0;
};

// --- Adapters: an engine tensor seen as a fusedops view (pointer, extents, strides; no copy). ---

template <int R>
fusedops::dims<R> to_dims(const long* v) {
  fusedops::dims<R> d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = v[i];
  return d;
}

template <int R>
void require_rank(const tensor& t) {
  if (t.rank != R) {  // a bug in the engine, not an operator error
    std::fprintf(stderr, "engine: a rank-%d tensor used as rank %d\n", t.rank, R);
    std::abort();
  }
}

/// Input view (read-only).
template <int R>
fusedops::view<const float, R> in(const tensor& t) {
  require_rank<R>(t);
  return {t.storage.data(), to_dims<R>(t.shape), to_dims<R>(t.strides)};
}

/// Output view.
template <int R>
fusedops::view<float, R> out(tensor& t) {
  require_rank<R>(t);
  return {t.storage.data(), to_dims<R>(t.shape), to_dims<R>(t.strides)};
}

}  // namespace engine

// ------------------------------------------------------------------------------------------------
// The example program.
// ------------------------------------------------------------------------------------------------
namespace {

using namespace fusedops;
using row_major_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct options {
  long tokens = 64, hidden = 256, heads = 4, ffn = 1024;
  int threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
};

// Pass rule: max |got - ref| / (1 + |ref|) <= 1e-5. fp32 dot products of length K (256 here) with
// O(1) operands differ from the double oracle by ~sqrt(K) · 2^-24 ≈ 1e-6 (K · 2^-24 ≈ 1.5e-5 at
// worst, not approached with random signs); attention adds the exp and the normalisation, a few
// ulp. Measured: below 1e-6 at the default sizes.
constexpr double tolerance = 1e-5;

void randomize(engine::tensor& t, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (float& v : t.storage) v = dist(rng);  // padding too: it must never be read as data
}

// max |got - ref| / (1 + |ref|); got any strides, ref row-major [rows, cols].
double max_error(view<const float, 2> got, const std::vector<double>& ref) {
  double e = 0;
  for (index_t i = 0; i < got.shape(0); ++i)
    for (index_t j = 0; j < got.shape(1); ++j) {
      const double r = ref[std::size_t(i * got.shape(1) + j)];
      const double d = std::abs(double(got(i, j)) - r) / (1.0 + std::abs(r));
      if (!(d <= e)) e = d;  // NaN counts as a failure
    }
  return e;
}

bool report(const char* what, const char* threads, double err) {
  const bool ok = err <= tolerance;
  std::printf("  %-44s %-15s max err %.1e  %s\n", what, threads, err, ok ? "ok" : "MISMATCH");
  return ok;
}

// 0: run, 1: usage error, 2: --help printed.
int parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    auto value = [&](long& dst) {
      if (i + 1 >= argc) return false;
      dst = std::strtol(argv[++i], nullptr, 10);
      return dst > 0 && dst <= (1L << 16);
    };
    long v = 0;
    if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
      std::printf(
          "Usage: %s [--tokens N] [--hidden N] [--heads N] [--ffn N] [--threads N] [--small]\n"
          "An engine with its own tensors and thread pool runs one transformer layer on fusedops\n"
          "(defaults: 64 tokens, hidden 256, 4 heads, FFN 1024; --small: 7 tokens, hidden 48, 3\n"
          "heads, FFN 50). --threads N: the engine pool's size and every call's thread count\n"
          "(default: the hardware threads). Every result is checked against the double-precision\n"
          "oracle (max |got - ref| / (1 + |ref|) <= %.0e); exit status 1 on a mismatch.\n"
          "Built for backend %s (fusedops::default_backend, from this file's compiler flags).\n",
          argv[0], tolerance, default_backend::name);
      return 2;
    } else if (!std::strcmp(a, "--small")) {
      o.tokens = 7, o.hidden = 48, o.heads = 3, o.ffn = 50;
    } else if (!std::strcmp(a, "--tokens") && value(v)) {
      o.tokens = v;
    } else if (!std::strcmp(a, "--hidden") && value(v)) {
      o.hidden = v;
    } else if (!std::strcmp(a, "--heads") && value(v)) {
      o.heads = v;
    } else if (!std::strcmp(a, "--ffn") && value(v)) {
      o.ffn = v;
    } else if (!std::strcmp(a, "--threads") && value(v)) {
      o.threads = int(v);
    } else {
      std::fprintf(stderr, "%s: bad option or value '%s' (try --help)\n", argv[0], a);
      return 1;
    }
  }
  if (o.hidden % o.heads != 0) {
    std::fprintf(stderr, "%s: --hidden %ld must be a multiple of --heads %ld\n", argv[0], o.hidden,
                 o.heads);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const int r = parse(argc, argv, o); r != 0) return r == 2 ? 0 : 1;
  const long t = o.tokens, h = o.hidden, f = o.ffn, heads = o.heads;
  std::mt19937 rng(7);

  // The engine starts its pool; fusedops will borrow it per call, never start threads of its own
  // (except where a call asks for threading::openmp).
  engine::thread_pool pool(o.threads);
  const threading on_pool = threading::external(pool, o.threads);
  const threading on_openmp = threading::openmp(o.threads);
  const threading on_caller = threading::serial();
  std::printf("engine_integration: fusedops %d.%d.%d, backend %s; engine pool of %d thread(s)\n",
              version_major, version_minor, version_patch, default_backend::name,
              pool.max_concurrency());

  // ===== Load: the engine's weights, packed once. =====
  // Engine tensors for LayerNorm, the QKV and output projections; the FFN weight arrives as an
  // Eigen matrix (column-major, Eigen's default), as if from an Eigen-based loader.
  engine::tensor gamma = engine::tensor::make({h}), beta = engine::tensor::make({h});
  engine::tensor wqkv = engine::tensor::make({h, 3 * h}), bqkv = engine::tensor::make({3 * h});
  engine::tensor wo = engine::tensor::make({h, h}), bo = engine::tensor::make({h});
  randomize(gamma, rng, 0.5f);
  for (float& g : gamma.storage) g += 1.0f;  // LayerNorm scales around 1
  randomize(beta, rng, 0.1f);
  randomize(bqkv, rng, 0.1f);
  randomize(bo, rng, 0.1f);
  const float w_scale = std::sqrt(3.0f / float(h));  // variance 1/h: activations stay O(1)
  randomize(wqkv, rng, w_scale);
  randomize(wo, rng, w_scale);
  Eigen::MatrixXf w1(h, f);
  std::uniform_real_distribution<float> w1_dist(-w_scale, w_scale);
  for (Eigen::Index j = 0; j < w1.cols(); ++j)
    for (Eigen::Index i = 0; i < w1.rows(); ++i) w1(i, j) = w1_dist(rng);

  packed_weights<> p_qkv, p_o, p_1;  // the engine keeps these; the originals could be freed now
  status s = p_qkv.pack(engine::in<2>(wqkv), on_pool);
  if (s.ok()) s = p_o.pack(engine::in<2>(wo), on_pool);
  if (s.ok())
    s = p_1.pack(from_eigen(std::as_const(w1)), on_pool);  // strides {1, h}: packed all the same
  if (!s.ok()) {
    std::printf("load failed: %s\n", s.message());
    return 1;
  }

  // Activations (engine tensors, padded rows) and the Eigen output of the FFN.
  engine::tensor x = engine::tensor::make({t, h}), normed = engine::tensor::make({t, h});
  engine::tensor qkv = engine::tensor::make({t, 3 * h}), attn = engine::tensor::make({t, h});
  engine::tensor x1 = engine::tensor::make({t, h});
  row_major_matrix y(t, f);
  randomize(x, rng, 1.0f);

  // The attention views: Q, K, V are column blocks of the [t, 3h] QKV output, seen as
  // [batch 1, heads, t, h / heads] (split_heads: strides only, no copy).
  const auto qkv3 = engine::in<2>(qkv).unsqueeze(0);  // [1, t, 3h]
  const auto q = split_heads(qkv3.slice(2, 0, h), heads);
  const auto k = split_heads(qkv3.slice(2, h, 2 * h), heads);
  const auto v = split_heads(qkv3.slice(2, 2 * h, 3 * h), heads);
  const auto attn4 = split_heads(engine::out<2>(attn).unsqueeze(0), heads);

  // Per-call parameters, each with its threading policy. Scratch comes from one engine arena,
  // sized here for the largest call; with allow_allocation = false no call ever allocates.
  gemm_params gemm_pool, gemm_caller;
  gemm_pool.threads = on_pool;
  gemm_caller.threads = on_caller;
  attention_params ap;
  ap.is_causal = true;
  ap.threads = on_openmp;
  const std::size_t arena_floats = std::max(
      {gemm_workspace_size(engine::in<2>(normed), p_qkv.get(), engine::out<2>(qkv), gemm_pool),
       gemm_workspace_size(engine::in<2>(attn), p_o.get(), engine::out<2>(x1), gemm_caller),
       gemm_workspace_size(engine::in<2>(x1), p_1.get(), from_eigen(y), gemm_pool),
       attention_workspace_size(q, k, v, attn4, ap)});
  std::vector<float> arena(arena_floats + 1);
  const view<float, 1> scratch = make_view(arena.data(), {index_t(arena.size())});
  for (gemm_params* g : {&gemm_pool, &gemm_caller}) {
    g->workspace = scratch;
    g->allow_allocation = false;
  }
  ap.workspace = scratch;
  ap.allow_allocation = false;
  std::printf("load: 3 weights packed (%.2f MB), scratch arena of %zu floats\n",
              double(p_qkv.get().size() + p_o.get().size() + p_1.get().size()) * 4e-6,
              arena.size());

  // ===== Run: one transformer layer, each call with its own threads. =====
  using namespace fusedops::epilogue;
  layer_norm_params lp;
  lp.bias = engine::in<1>(beta);
  lp.threads = on_pool;
  s = layer_norm(engine::in<2>(x), engine::in<1>(gamma), engine::out<2>(normed), lp);
  // qkv = normed · Wqkv + bqkv (bias in the GEMM's store)
  if (s.ok())
    s = gemm(engine::in<2>(normed), p_qkv.get(), engine::out<2>(qkv), bias_col{engine::in<1>(bqkv)},
             gemm_pool);
  if (s.ok()) s = attention(q, k, v, attn4, ap);
  // x1 = attn · Wo + bo + x: small, so on the calling thread
  if (s.ok())
    s = gemm(engine::in<2>(attn), p_o.get(), engine::out<2>(x1),
             chain(bias_col{engine::in<1>(bo)}, residual{engine::in<2>(x)}), gemm_caller);
  // y = gelu(x1 · W1), W1 an Eigen matrix packed at load, y written straight into Eigen storage
  if (s.ok())
    s = gemm(engine::in<2>(x1), p_1.get(), from_eigen(y), activation<act::gelu_erf>{}, gemm_pool);
  if (!s.ok()) {  // the engine's own error path: log and fail the request, no exception involved
    std::printf("run failed [%s]: %s\n", to_string(s.code()), s.message());
    return 1;
  }
  // And back: engine code written against Eigen reads a fusedops output in place.
  const Eigen::RowVectorXf pooled = to_eigen_map(engine::in<2>(x1)).colwise().mean();

  // ===== Check every step against the double-precision oracles (from the same fp32 inputs). =====
  std::printf("run (each step checked against the double-precision oracle):\n");
  const reference::norm_result ln_ref = reference::layer_norm(
      engine::in<2>(x), -1, engine::in<1>(gamma), engine::in<1>(beta), lp.epsilon);
  bool ok = report("layer_norm", "engine pool", max_error(engine::in<2>(normed), ln_ref.y));
  const std::vector<double> qkv_ref =
      reference::gemm(engine::in<2>(normed), engine::in<2>(wqkv), bias_col{engine::in<1>(bqkv)});
  ok &=
      report("gemm + bias (QKV projection)", "engine pool", max_error(engine::in<2>(qkv), qkv_ref));
  {
    // The oracle's output is [1, heads, t, d]; compare through the same head split.
    const std::vector<double> ref = reference::attention(q, k, v, ap).y;
    double e = 0;
    for (index_t hd = 0; hd < heads; ++hd)
      for (index_t i = 0; i < t; ++i)
        for (index_t d = 0; d < h / heads; ++d) {
          const double r = ref[std::size_t((hd * t + i) * (h / heads) + d)];
          const double err = std::abs(double(attn4(0, hd, i, d)) - r) / (1.0 + std::abs(r));
          if (!(err <= e)) e = err;
        }
    ok &= report("attention (causal, split_heads views)", "OpenMP", e);
  }
  const std::vector<double> x1_ref =
      reference::gemm(engine::in<2>(attn), engine::in<2>(wo),
                      chain(bias_col{engine::in<1>(bo)}, residual{engine::in<2>(x)}));
  ok &= report("gemm + bias + residual (output projection)", "calling thread",
               max_error(engine::in<2>(x1), x1_ref));
  const std::vector<double> y_ref = reference::gemm(
      engine::in<2>(x1), from_eigen(std::as_const(w1)), activation<act::gelu_erf>{});
  ok &= report("gemm + GELU (Eigen weight, Eigen output)", "engine pool",
               max_error(from_eigen(std::as_const(y)), y_ref));
  std::printf("  the engine pool ran %ld parallel regions for fusedops\n", pool.jobs());
  std::printf("  Eigen, reading x1 in place: column means [0..2] = %.4f %.4f %.4f\n",
              double(pooled(0)), double(pooled(1)), double(pooled(2)));

  // ===== Errors without exceptions: the status names the operator, argument and shapes, and the
  // output is exactly as it was. =====
  std::printf("deliberately bad calls:\n");
  const std::vector<float> before = attn.storage;
  const status bad_shape =
      gemm(engine::in<2>(normed), p_qkv.get(), engine::out<2>(attn));  // [t, 3h] into [t, h]
  attention_params no_scratch = ap;
  no_scratch.workspace = make_view(arena.data(), {1});  // too small, and allocation not allowed
  const status bad_scratch = attention(q, k, v, attn4, no_scratch);
  for (const status* e : {&bad_shape, &bad_scratch}) {
    std::printf("  [%s] %s\n", to_string(e->code()), e->message());
    ok &= !e->ok();
  }
  const bool untouched = attn.storage == before;
  std::printf("  output untouched by both: %s\n", untouched ? "yes" : "NO");
  ok &= untouched;

  // ===== One binary for several CPUs. =====
  // This file is compiled once, with this machine's flags (the example targets get -march=native),
  // so every call above ran fusedops::default_backend. fusedops has no run-time dispatch: an engine
  // shipping one binary for several CPUs compiles the code that calls fusedops once per target, one
  // translation unit per ISA with its own flags, each calling op<fusedops::backend::X>(...), and
  // picks one at start-up with fusedops::runtime::cpu_supports<X>(). The ODR holds because all
  // ISA-dependent code is a template on the backend tag. examples/multi_target/ is the complete
  // recipe (kernels_{generic,avx2,avx512}.cpp, a main.cpp built without ISA flags, and the link
  // order its README explains: lowest ISA first).
  std::printf(
      "multi-target: this TU was built for %s; runtime::cpu_supports here: avx512 %s, "
      "avx2 %s,\n  generic yes (one TU per target: examples/multi_target/)\n",
      default_backend::name, runtime::cpu_supports<backend::avx512>() ? "yes" : "no",
      runtime::cpu_supports<backend::avx2>() ? "yes" : "no");

  std::printf("%s\n", ok ? "all checks ok" : "CHECK FAILED");
  return ok ? 0 : 1;
}
