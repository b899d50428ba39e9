// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// fp32 GEMM side by side with its peers, one binary, same flags (-O3 -march=native) for all:
// fusedops, Eigen (always), OpenBLAS and oneDNN (when CMake found them:
// FUSEDOPS_BENCH_HAVE_OPENBLAS / FUSEDOPS_BENCH_HAVE_ONEDNN).
//
// clang-format off
// The full comparison (median of 3; one table on the console, ~10 minutes on 2 cores):
//   gemm_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2
// The same as JSON too (the console table is still printed), one line:
//   gemm_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 --benchmark_out=gemm_bench.json --benchmark_out_format=json
// Parts of it: --benchmark_filter='/1024x1024x1024/' (one shape), '^gemm_packed/' (one op),
// '/threads:1/' (one thread count), '^(peak|stream|gemv_cold)' (the memory-bound M = 1 story).
// Names end in /real_time (UseRealTime), so anchor filters on '/', not '$'.
// clang-format on
//
// Rows are <op>/<implementation>/<M>x<K>x<N>/threads:<T>, registered from one shape table:
//   peak/fma/threads:T        register-only FMA loop, widest vectors (support/machine_peak.hpp)
//   stream/read/threads:T     read-only pass over 8 × L3 within [256 MiB, 1 GiB]
//   gemm/...                  C = A·B, A [M,K] and B [K,N] row-major, B not prepacked:
//                             fusedops, openblas (cblas_sgemm), onednn (matmul, default
//                             implementation), onednn_jit (the matmul implementation "gemm:jit",
//                             picked with primitive_desc::next_impl()), eigen
//   gemv/openblas/...         M = 1 only: cblas_sgemv, OpenBLAS's GEMV path (its sgemm with M = 1
//                             does not take it)
//   gemm_packed/...           B prepacked outside the timed loop: fusedops (packed_weights),
//                             onednn_packed (weights format_tag::any + one reorder)
//   gemm_bias_gelu_residual/  C = gelu_tanh(A·B + bias) + R: fusedops (fused epilogue), unfused
//                             (fusedops GEMM, then bias_activation in place, then a residual pass,
//                             threaded like the GEMM), openblas_unfused (cblas_sgemm, then the same
//                             passes on the calling thread: an OpenMP pass would fight OpenBLAS's
//                             spinning workers), onednn / onednn_jit (bias + eltwise_gelu_tanh +
//                             binary_add post-ops)
//   gemm_packed_bias_gelu_residual/  the same with prepacked B: fusedops, onednn_packed
//   gemv_cold/..., gemv_cold_packed/...  M = 1 with the weights streamed from memory: every call
//                             uses the next of enough copies of B (12 × L3 within [384 MiB, 1 GiB])
//                             that none is still cached: fusedops (plain and packed), openblas
//                             (cblas_sgemv), onednn_jit. The copies are allocated when such a row
//                             first runs.
// Counters: GFLOPS = 2·M·N·K per call, per second; peak_frac = GFLOPS / the FMA peak measured by
// this process at the same thread count; for M = 1 also GBps = bytes of B read per second and,
// for cold rows, read_frac = GBps / the read bandwidth measured at the same thread count (the best
// moment of the process), and read_frac_paired = the same row's calls timed in turn with reads
// of as many bytes (read_GBps_paired: theirs), both in the same seconds (machine_peak.hpp:
// alternate_with_reads; not for multi-thread OpenBLAS, whose spinning workers would slow the read);
// foreign_cpu = CPUs' worth of time other processes used during the timed loop (a shared machine:
// rows with foreign_cpu above ~0.1 at 2 threads or ~0.3 at 1 thread were disturbed). Every
// counter is computed from the wall time of the timed loop (UseRealTime). On a shared machine,
// FUSEDOPS_BENCH_QUIET_WAIT=10 makes each row (once, before its first repetition) and each
// ceiling measurement wait up to 10 s for the other processes to go quiet.
// Threads: fusedops through threading::openmp(T); openblas_set_num_threads(T),
// omp_set_num_threads(T) (oneDNN), Eigen::setNbThreads(T) before each row. After a multi-thread
// OpenBLAS row the next non-OpenBLAS row waits 0.3 s (untimed) so OpenBLAS's spinning workers
// (~0.1 s after each call) do not steal a core from it.
// Data: fresh uniform random numbers in [-1, 1) per shape (never zeros). Correctness: every
// implementation is checked against a double reference on small odd shapes before anything is
// registered, and each row checks sampled outputs (two whole rows + 256 random elements) of its
// first call on the real shape; a wrong row is reported as an error, not timed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include <fusedops/fusedops.hpp>

#include "support/machine_peak.hpp"

#ifndef FUSEDOPS_BENCH_HAVE_OPENBLAS
#define FUSEDOPS_BENCH_HAVE_OPENBLAS 0
#endif
#ifndef FUSEDOPS_BENCH_HAVE_ONEDNN
#define FUSEDOPS_BENCH_HAVE_ONEDNN 0
#endif

#if FUSEDOPS_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if FUSEDOPS_BENCH_HAVE_ONEDNN
#include <dnnl.hpp>
#endif
#if FUSEDOPS_HAS_OPENMP
#include <omp.h>
#endif

namespace {

using fusedops::index_t;
using backend = fusedops::default_backend;

// --- the shape table -----------------------------------------------------------------------------

struct shape {
  long m, k, n;
  std::string str() const {
    return std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
  }
  double flops() const { return 2.0 * double(m) * double(k) * double(n); }
  double b_bytes() const { return double(k) * double(n) * sizeof(float); }
};

// (M, K, N): decode GEMVs, a small batch, BERT-base FFN/attention projections, square GEMMs.
const shape k_shapes[] = {{1, 4096, 4096},    {1, 768, 3072},    {16, 768, 768},
                          {128, 768, 3072},   {128, 3072, 768},  {512, 1024, 1024},
                          {1024, 1024, 1024}, {2048, 2048, 2048}};

// Odd shapes (tails everywhere) for the startup self-check.
const shape k_check_shapes[] = {{1, 67, 83}, {5, 131, 47}, {37, 129, 75}};

std::vector<int> thread_counts() {
  std::vector<int> t = {1};
  if (FUSEDOPS_HAS_OPENMP) t.push_back(2);
  return t;
}

// --- helpers -------------------------------------------------------------------------------------

void check(const fusedops::status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "fusedops error: %s\n", s.message());
  std::exit(1);
}

fusedops::threading policy(int threads) {
  return FUSEDOPS_HAS_OPENMP ? fusedops::threading::openmp(threads) : fusedops::threading::serial();
}

// Uniform [-1, 1) from a 64-bit LCG (fast enough for the 64 MiB matrices).
void fill_random(fusedops::aligned_buffer<float>& buf, std::uint64_t seed) {
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (float& v : buf) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = float(s >> 40) * 0x1p-23f - 1.0f;
  }
}

void allocate(fusedops::aligned_buffer<float>& buf, double count) {
  check(buf.allocate(static_cast<std::size_t>(count)));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// --- operands: one set per shape, created on first use and kept ----------------------------------

struct operands {
  shape s{};
  fusedops::aligned_buffer<float> a, b, bias, res, c;

  fusedops::view<const float, 2> av() const {
    return fusedops::make_view<const float>(a.data(), {s.m, s.k});
  }
  fusedops::view<const float, 2> bv(const float* b_data = nullptr) const {
    return fusedops::make_view<const float>(b_data ? b_data : b.data(), {s.k, s.n});
  }
  fusedops::view<const float, 1> biasv() const {
    return fusedops::make_view<const float>(bias.data(), {s.n});
  }
  fusedops::view<const float, 2> resv() const {
    return fusedops::make_view<const float>(res.data(), {s.m, s.n});
  }
  fusedops::view<float, 2> cv() { return c.as_view({s.m, s.n}); }

  // fusedops' prepacked B (packed on first use; the layout does not depend on the threads).
  const fusedops::packed_b<backend>& packed() {
    if (!packed_ready_) {
      check(packed_.pack(bv(), policy(2)));
      packed_ready_ = true;
    }
    return packed_.get();
  }

 private:
  fusedops::packed_weights<backend> packed_;
  bool packed_ready_ = false;
};

operands& data_for(const shape& s) {
  static std::map<std::tuple<long, long, long>, std::unique_ptr<operands>> all;
  auto& slot = all[{s.m, s.k, s.n}];
  if (!slot) {
    slot = std::make_unique<operands>();
    operands& o = *slot;
    o.s = s;
    const auto seed = static_cast<std::uint64_t>(s.m * 1000003 + s.k * 1009 + s.n);
    allocate(o.a, double(s.m) * double(s.k));
    allocate(o.b, double(s.k) * double(s.n));
    allocate(o.bias, double(s.n));
    allocate(o.res, double(s.m) * double(s.n));
    allocate(o.c, double(s.m) * double(s.n));
    fill_random(o.a, seed * 5 + 1);
    fill_random(o.b, seed * 5 + 2);
    fill_random(o.bias, seed * 5 + 3);
    fill_random(o.res, seed * 5 + 4);
    fill_random(o.c, seed * 5 + 5);  // beta = 0: never read, but its pages are real
  }
  return *slot;
}

// --- cold pools: enough copies of B that none survives in the cache ------------------------------

// 12 × L3 within [384 MiB, 1 GiB].
std::size_t cold_bytes() {
  return std::clamp<std::size_t>(12 * fusedops_bench::l3_bytes(), std::size_t(384) << 20,
                                 std::size_t(1) << 30);
}

struct cold_pool {
  fusedops::aligned_buffer<float> storage;
  std::vector<const float*> copies;                 // B [K, N] row-major each
  std::vector<fusedops::packed_b<backend>> packed;  // or fusedops-packed copies
};

// Row-major copies of B (shared by fusedops, OpenBLAS and oneDNN cold rows).
cold_pool& plain_pool(operands& o) {
  static std::map<std::tuple<long, long, long>, std::unique_ptr<cold_pool>> pools;
  auto& slot = pools[{o.s.m, o.s.k, o.s.n}];
  if (!slot) {
    slot = std::make_unique<cold_pool>();
    const std::size_t floats = std::size_t(o.s.k) * std::size_t(o.s.n);
    const std::size_t stride = (floats + 15) / 16 * 16;
    const std::size_t n = std::max<std::size_t>(2, (cold_bytes() + floats * 4 - 1) / (floats * 4));
    allocate(slot->storage, double(stride) * double(n));
    for (std::size_t i = 0; i < n; ++i) {
      float* dst = slot->storage.data() + i * stride;
      std::memcpy(dst, o.b.data(), floats * sizeof(float));
      slot->copies.push_back(dst);
    }
  }
  return *slot;
}

// fusedops-packed copies of B.
cold_pool& packed_pool(operands& o) {
  static std::map<std::tuple<long, long, long>, std::unique_ptr<cold_pool>> pools;
  auto& slot = pools[{o.s.m, o.s.k, o.s.n}];
  if (!slot) {
    slot = std::make_unique<cold_pool>();
    const std::size_t floats = fusedops::packed_b_size<backend>(o.s.k, o.s.n);
    const std::size_t stride = (floats + 15) / 16 * 16;
    const std::size_t n = std::max<std::size_t>(2, (cold_bytes() + floats * 4 - 1) / (floats * 4));
    allocate(slot->storage, double(stride) * double(n));
    for (std::size_t i = 0; i < n; ++i) {
      fusedops::packed_b<backend> p;
      auto dst = fusedops::make_view(slot->storage.data() + i * stride, {index_t(floats)});
      check(fusedops::pack_b<backend>(o.bv(), dst, p, policy(2)));
      slot->packed.push_back(p);
    }
  }
  return *slot;
}

// --- who else is spinning: keep one thread pool's idle spinning out of the next row --------------

enum class pool { omp, openblas };
bool g_openblas_spinning = false;  // a multi-thread OpenBLAS call ran last
bool g_omp_spinning = false;       // a multi-thread OpenMP region ran last

void settle(pool p) {
  using namespace std::chrono_literals;
  if (p != pool::openblas && g_openblas_spinning) std::this_thread::sleep_for(300ms);
  if (p == pool::openblas && g_omp_spinning) std::this_thread::sleep_for(20ms);
  g_openblas_spinning = g_omp_spinning = false;
}

void ran(pool p, int threads) {
  if (threads > 1) (p == pool::openblas ? g_openblas_spinning : g_omp_spinning) = true;
}

void set_peer_threads(int threads) {
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(threads);
#endif
#if FUSEDOPS_HAS_OPENMP
  omp_set_num_threads(threads);
#endif
  Eigen::setNbThreads(threads);
}

// --- the implementations -------------------------------------------------------------------------

// One callable per (row, operands, threads): each call computes the row's product into o.c.
struct runner {
  std::function<void()> call;
  std::string label;
  std::shared_ptr<void> keep;  // whatever the closure points into
};

struct impl {
  std::string op, name;
  bool fused = false;  // o.c = gelu_tanh(A·B + bias) + R
  bool cold = false;
  pool threads_pool = pool::omp;
  std::function<bool(const shape&)> applies;
  // Builds the runner; false (with why) if this implementation cannot run the shape.
  std::function<bool(operands&, int, runner&, std::string&)> make;
  // Cheap registration-time probe (oneDNN: does it offer the implementation?); may be empty.
  std::function<bool(const shape&, std::string&)> available;
};

bool any_shape(const shape&) { return true; }
bool m_is_1(const shape& s) { return s.m == 1; }

// The unfused epilogue: bias + GELU(tanh) in place (fusedops::bias_activation), then + R.
void unfused_epilogue(operands& o, const fusedops::threading& t) {
  check(fusedops::bias_activation(fusedops::view<const float, 2>(o.cv()), o.biasv(), o.cv(),
                                  fusedops::act::gelu_tanh{}, t));
  float* c = o.c.data();
  const float* r = o.res.data();
  const index_t count = index_t(o.s.m) * index_t(o.s.n);
  fusedops::parallel_for(t, count, 1 << 14, [&](index_t i0, index_t i1) {
    for (index_t i = i0; i < i1; ++i) c[i] += r[i];
  });
}

auto fused_epilogue(const operands& o) {
  using namespace fusedops::epilogue;
  return chain(bias_col{o.biasv()}, activation<fusedops::act::gelu_tanh>{}, residual{o.resv()});
}

// fusedops, B as given; the workspace is allocated once, outside the timed loop, in huge pages
// (aligned_buffer pages::huge, what the README advises for a GEMM workspace).
runner fusedops_plain(operands& o, int threads, bool fused, bool unfused, cold_pool* cold) {
  runner r;
  fusedops::gemm_params p;
  p.threads = policy(threads);
  const std::size_t need = fusedops::gemm_workspace_size<backend>(o.av(), o.bv(), o.cv(), p);
  auto ws = std::make_shared<fusedops::aligned_buffer<float>>();
  check(ws->allocate(need, fusedops::pages::huge));
  p.workspace = fusedops::view<float, 1>(ws->data(), fusedops::dims<1>{index_t(need)});
  p.allow_allocation = false;
  r.keep = ws;
  r.label = backend::name;
  if (cold) {
    auto next = std::make_shared<std::size_t>(0);
    r.call = [&o, p, cold, next] {
      const float* b = cold->copies[*next];
      *next = (*next + 1) % cold->copies.size();
      check(fusedops::gemm<backend>(o.av(), o.bv(b), o.cv(), fusedops::epilogue::none{}, p));
    };
  } else if (fused) {
    const auto ep = fused_epilogue(o);
    r.call = [&o, p, ep] { check(fusedops::gemm<backend>(o.av(), o.bv(), o.cv(), ep, p)); };
  } else if (unfused) {
    r.call = [&o, p] {
      check(fusedops::gemm<backend>(o.av(), o.bv(), o.cv(), fusedops::epilogue::none{}, p));
      unfused_epilogue(o, p.threads);
    };
  } else {
    r.call = [&o, p] {
      check(fusedops::gemm<backend>(o.av(), o.bv(), o.cv(), fusedops::epilogue::none{}, p));
    };
  }
  return r;
}

// fusedops with prepacked B (packed_weights, or the packed cold copies).
runner fusedops_packed(operands& o, int threads, bool fused, cold_pool* cold) {
  runner r;
  fusedops::gemm_params p;
  p.threads = policy(threads);
  const auto& pb = cold ? cold->packed.front() : o.packed();
  const std::size_t need = fusedops::gemm_workspace_size<backend>(o.av(), pb, o.cv(), p);
  auto ws = std::make_shared<fusedops::aligned_buffer<float>>();
  check(ws->allocate(need, fusedops::pages::huge));
  p.workspace = fusedops::view<float, 1>(ws->data(), fusedops::dims<1>{index_t(need)});
  p.allow_allocation = false;
  r.keep = ws;
  r.label = backend::name;
  if (cold) {
    auto next = std::make_shared<std::size_t>(0);
    r.call = [&o, p, cold, next] {
      const auto& b = cold->packed[*next];
      *next = (*next + 1) % cold->packed.size();
      check(fusedops::gemm<backend>(o.av(), b, o.cv(), fusedops::epilogue::none{}, p));
    };
  } else if (fused) {
    const auto ep = fused_epilogue(o);
    r.call = [&o, &pb, p, ep] { check(fusedops::gemm<backend>(o.av(), pb, o.cv(), ep, p)); };
  } else {
    r.call = [&o, &pb, p] {
      check(fusedops::gemm<backend>(o.av(), pb, o.cv(), fusedops::epilogue::none{}, p));
    };
  }
  return r;
}

runner eigen_gemm(operands& o) {
  runner r;
  r.label = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
            std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION);
  using rm = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  if (o.s.m == 1) {  // a row vector times a matrix: Eigen's GEMV path
    r.call = [&o] {
      const Eigen::Map<const Eigen::RowVectorXf> x(o.a.data(), o.s.k);
      const Eigen::Map<const rm> w(o.b.data(), o.s.k, o.s.n);
      Eigen::Map<Eigen::RowVectorXf> y(o.c.data(), o.s.n);
      y.noalias() = x * w;
    };
  } else {
    r.call = [&o] {
      const Eigen::Map<const rm> a(o.a.data(), o.s.m, o.s.k);
      const Eigen::Map<const rm> b(o.b.data(), o.s.k, o.s.n);
      Eigen::Map<rm> c(o.c.data(), o.s.m, o.s.n);
      c.noalias() = a * b;
    };
  }
  return r;
}

#if FUSEDOPS_BENCH_HAVE_OPENBLAS
std::string openblas_label() { return std::string("OpenBLAS ") + openblas_get_corename(); }

void openblas_sgemm(operands& o) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(o.s.m), blasint(o.s.n),
              blasint(o.s.k), 1.0f, o.a.data(), blasint(o.s.k), o.b.data(), blasint(o.s.n), 0.0f,
              o.c.data(), blasint(o.s.n));
}

// y = x · W for W [K, N] row-major: W^T · x in BLAS terms.
void openblas_sgemv(operands& o, const float* b) {
  cblas_sgemv(CblasRowMajor, CblasTrans, blasint(o.s.k), blasint(o.s.n), 1.0f, b, blasint(o.s.n),
              o.a.data(), 1, 0.0f, o.c.data(), 1);
}
#endif

#if FUSEDOPS_BENCH_HAVE_ONEDNN
namespace onednn {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}
dnnl::memory::desc md(long rows, long cols, tag t = tag::ab) {
  return dnnl::memory::desc({rows, cols}, dt::f32, t);
}

enum class variant { plain, jit, packed };

// The matmul primitive descriptor of a variant: plain = oneDNN's first choice with row-major
// weights; jit = walk next_impl() to "gemm:jit"; packed = weights format_tag::any.
bool make_pd(const shape& s, variant v, bool fused, dnnl::matmul::primitive_desc& out,
             std::string& why) {
  try {
    const auto a = md(s.m, s.k), c = md(s.m, s.n), bias = md(1, s.n);
    const auto w = md(s.k, s.n, v == variant::packed ? tag::any : tag::ab);
    dnnl::primitive_attr attr;
    if (fused) {
      dnnl::post_ops po;
      po.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f);
      po.append_binary(dnnl::algorithm::binary_add, c);
      attr.set_post_ops(po);
    }
    const auto d = fused ? dnnl::matmul::desc(a, w, bias, c) : dnnl::matmul::desc(a, w, c);
    // Constructed in place, with attr and d alive: next_impl() walks the implementation list
    // only on the object the constructor made (a copy of it stops at its current implementation).
    dnnl::matmul::primitive_desc pd(d, attr, engine(), true);
    if (!pd) {
      why = "oneDNN has no matmul implementation for this";
      return false;
    }
    if (v == variant::jit) {
      while (std::string(pd.impl_info_str()).find("gemm:jit") == std::string::npos) {
        if (!pd.next_impl()) {
          why = "oneDNN offers no gemm:jit matmul for this";
          return false;
        }
      }
    }
    out = pd;
    return true;
  } catch (const dnnl::error& e) {
    why = std::string("oneDNN: ") + e.what();
    return false;
  }
}

struct state {
  dnnl::matmul prim;
  std::unordered_map<int, dnnl::memory> args;
  dnnl::memory packed_weights;
  std::vector<dnnl::memory> cold_weights;
  std::size_t next = 0;
};

bool make(operands& o, variant v, bool fused, cold_pool* cold, runner& r, std::string& why) {
  dnnl::matmul::primitive_desc pd;
  if (!make_pd(o.s, v, fused, pd, why)) return false;
  try {
    auto st = std::make_shared<state>();
    st->prim = dnnl::matmul(pd);
    auto& eng = engine();
    st->args[DNNL_ARG_SRC] = dnnl::memory(md(o.s.m, o.s.k), eng, o.a.data());
    st->args[DNNL_ARG_DST] = dnnl::memory(md(o.s.m, o.s.n), eng, o.c.data());
    dnnl::memory user_w(md(o.s.k, o.s.n), eng, o.b.data());
    r.label = pd.impl_info_str();
    if (v == variant::packed) {  // the reorder into oneDNN's blocked layout, once
      st->packed_weights = dnnl::memory(pd.weights_desc(), eng);
      dnnl::reorder(user_w, st->packed_weights).execute(stream(), user_w, st->packed_weights);
      stream().wait();
      st->args[DNNL_ARG_WEIGHTS] = st->packed_weights;
      r.label += pd.weights_desc() == md(o.s.k, o.s.n) ? ", weights ab" : ", blocked weights";
    } else {
      st->args[DNNL_ARG_WEIGHTS] = user_w;
    }
    if (fused) {
      st->args[DNNL_ARG_BIAS] = dnnl::memory(md(1, o.s.n), eng, o.bias.data());
      st->args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] =
          dnnl::memory(md(o.s.m, o.s.n), eng, o.res.data());
    }
    if (cold) {
      for (const float* b : cold->copies)
        st->cold_weights.emplace_back(md(o.s.k, o.s.n), eng, const_cast<float*>(b));
      r.call = [st] {
        st->args[DNNL_ARG_WEIGHTS] = st->cold_weights[st->next];
        st->next = (st->next + 1) % st->cold_weights.size();
        st->prim.execute(stream(), st->args);
        stream().wait();
      };
    } else {
      r.call = [st] {
        st->prim.execute(stream(), st->args);
        stream().wait();
      };
    }
    r.keep = st;
    return true;
  } catch (const dnnl::error& e) {
    why = std::string("oneDNN: ") + e.what();
    return false;
  }
}

std::function<bool(const shape&, std::string&)> probe(variant v, bool fused) {
  return [v, fused](const shape& s, std::string& why) {
    dnnl::matmul::primitive_desc pd;
    return make_pd(s, v, fused, pd, why);
  };
}

}  // namespace onednn
#endif

std::vector<impl> implementations() {
  std::vector<impl> all;
  auto add = [&](impl i) { all.push_back(std::move(i)); };
  auto ok = [](runner& out, runner in) {
    out = std::move(in);
    return true;
  };

  // gemm: B as given.
  add({"gemm",
       "fusedops",
       false,
       false,
       pool::omp,
       any_shape,
       [ok](operands& o, int t, runner& r, std::string&) {
         return ok(r, fusedops_plain(o, t, false, false, nullptr));
       },
       {}});
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
  add({"gemm",
       "openblas",
       false,
       false,
       pool::openblas,
       any_shape,
       [](operands& o, int, runner& r, std::string&) {
         r.label = openblas_label();
         r.call = [&o] { openblas_sgemm(o); };
         return true;
       },
       {}});
  add({"gemv",
       "openblas",
       false,
       false,
       pool::openblas,
       m_is_1,
       [](operands& o, int, runner& r, std::string&) {
         r.label = openblas_label() + " sgemv";
         r.call = [&o] { openblas_sgemv(o, o.b.data()); };
         return true;
       },
       {}});
#endif
#if FUSEDOPS_BENCH_HAVE_ONEDNN
  add({"gemm", "onednn", false, false, pool::omp, any_shape,
       [](operands& o, int, runner& r, std::string& why) {
         return onednn::make(o, onednn::variant::plain, false, nullptr, r, why);
       },
       onednn::probe(onednn::variant::plain, false)});
  add({"gemm", "onednn_jit", false, false, pool::omp, any_shape,
       [](operands& o, int, runner& r, std::string& why) {
         return onednn::make(o, onednn::variant::jit, false, nullptr, r, why);
       },
       onednn::probe(onednn::variant::jit, false)});
#endif
  add({"gemm",
       "eigen",
       false,
       false,
       pool::omp,
       any_shape,
       [ok](operands& o, int, runner& r, std::string&) { return ok(r, eigen_gemm(o)); },
       {}});

  // gemm_packed: B prepacked outside the timed loop.
  add({"gemm_packed",
       "fusedops",
       false,
       false,
       pool::omp,
       any_shape,
       [ok](operands& o, int t, runner& r, std::string&) {
         return ok(r, fusedops_packed(o, t, false, nullptr));
       },
       {}});
#if FUSEDOPS_BENCH_HAVE_ONEDNN
  add({"gemm_packed", "onednn_packed", false, false, pool::omp, any_shape,
       [](operands& o, int, runner& r, std::string& why) {
         return onednn::make(o, onednn::variant::packed, false, nullptr, r, why);
       },
       onednn::probe(onednn::variant::packed, false)});
#endif

  // gemm_bias_gelu_residual: C = gelu_tanh(A·B + bias) + R, B as given.
  add({"gemm_bias_gelu_residual",
       "fusedops",
       true,
       false,
       pool::omp,
       any_shape,
       [ok](operands& o, int t, runner& r, std::string&) {
         return ok(r, fusedops_plain(o, t, true, false, nullptr));
       },
       {}});
  add({"gemm_bias_gelu_residual",
       "unfused",
       true,
       false,
       pool::omp,
       any_shape,
       [ok](operands& o, int t, runner& r, std::string&) {
         return ok(r, fusedops_plain(o, t, false, true, nullptr));
       },
       {}});
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
  add({"gemm_bias_gelu_residual",
       "openblas_unfused",
       true,
       false,
       pool::openblas,
       any_shape,
       [](operands& o, int, runner& r, std::string&) {
         r.label = openblas_label() + " + passes on 1 thread";
         r.call = [&o] {
           openblas_sgemm(o);
           unfused_epilogue(o, fusedops::threading::serial());
         };
         return true;
       },
       {}});
#endif
#if FUSEDOPS_BENCH_HAVE_ONEDNN
  add({"gemm_bias_gelu_residual", "onednn", true, false, pool::omp, any_shape,
       [](operands& o, int, runner& r, std::string& why) {
         return onednn::make(o, onednn::variant::plain, true, nullptr, r, why);
       },
       onednn::probe(onednn::variant::plain, true)});
  add({"gemm_bias_gelu_residual", "onednn_jit", true, false, pool::omp, any_shape,
       [](operands& o, int, runner& r, std::string& why) {
         return onednn::make(o, onednn::variant::jit, true, nullptr, r, why);
       },
       onednn::probe(onednn::variant::jit, true)});
#endif

  // gemm_packed_bias_gelu_residual: the same with prepacked B.
  add({"gemm_packed_bias_gelu_residual",
       "fusedops",
       true,
       false,
       pool::omp,
       any_shape,
       [ok](operands& o, int t, runner& r, std::string&) {
         return ok(r, fusedops_packed(o, t, true, nullptr));
       },
       {}});
#if FUSEDOPS_BENCH_HAVE_ONEDNN
  add({"gemm_packed_bias_gelu_residual", "onednn_packed", true, false, pool::omp, any_shape,
       [](operands& o, int, runner& r, std::string& why) {
         return onednn::make(o, onednn::variant::packed, true, nullptr, r, why);
       },
       onednn::probe(onednn::variant::packed, true)});
#endif

  // Cold M = 1: weights streamed from memory.
  add({"gemv_cold",
       "fusedops",
       false,
       true,
       pool::omp,
       m_is_1,
       [ok](operands& o, int t, runner& r, std::string&) {
         return ok(r, fusedops_plain(o, t, false, false, &plain_pool(o)));
       },
       {}});
  add({"gemv_cold_packed",
       "fusedops",
       false,
       true,
       pool::omp,
       m_is_1,
       [ok](operands& o, int t, runner& r, std::string&) {
         return ok(r, fusedops_packed(o, t, false, &packed_pool(o)));
       },
       {}});
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
  add({"gemv_cold",
       "openblas",
       false,
       true,
       pool::openblas,
       m_is_1,
       [](operands& o, int, runner& r, std::string&) {
         r.label = openblas_label() + " sgemv";
         cold_pool* cold = &plain_pool(o);
         auto next = std::make_shared<std::size_t>(0);
         r.call = [&o, cold, next] {
           openblas_sgemv(o, cold->copies[*next]);
           *next = (*next + 1) % cold->copies.size();
         };
         return true;
       },
       {}});
#endif
#if FUSEDOPS_BENCH_HAVE_ONEDNN
  add({"gemv_cold", "onednn_jit", false, true, pool::omp, m_is_1,
       [](operands& o, int, runner& r, std::string& why) {
         return onednn::make(o, onednn::variant::jit, false, &plain_pool(o), r, why);
       },
       onednn::probe(onednn::variant::jit, false)});
#endif
  return all;
}

// --- correctness ---------------------------------------------------------------------------------

double gelu_tanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
}

// Largest error of o.c against a double reference, relative to sum |a||b| (+ |bias| + |r|): all
// elements (full) or rows 0 and M-1 plus 256 pseudo-random elements.
double max_error(const operands& o, bool fused, bool full) {
  const shape& s = o.s;
  std::vector<std::pair<long, long>> at;
  if (full) {
    for (long i = 0; i < s.m; ++i)
      for (long j = 0; j < s.n; ++j) at.emplace_back(i, j);
  } else {
    for (long j = 0; j < s.n; ++j) at.emplace_back(0, j), at.emplace_back(s.m - 1, j);
    std::uint64_t x = 12345;
    for (int q = 0; q < 256; ++q) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      at.emplace_back(long((x >> 33) % std::uint64_t(s.m)), long((x >> 11) % std::uint64_t(s.n)));
    }
  }
  double worst = 0;
  for (auto [i, j] : at) {
    double dot = 0, mag = 1e-30;
    for (long k = 0; k < s.k; ++k) {
      const double p =
          double(o.a[std::size_t(i * s.k + k)]) * double(o.b[std::size_t(k * s.n + j)]);
      dot += p, mag += std::fabs(p);
    }
    double want = dot;
    if (fused) {
      const double bias = o.bias[std::size_t(j)], r = o.res[std::size_t(i * s.n + j)];
      want = gelu_tanh(dot + bias) + r;
      mag += std::fabs(bias) + std::fabs(r);
    }
    const double e = std::fabs(double(o.c[std::size_t(i * s.n + j)]) - want) / mag;
    if (!(e <= worst)) worst = e;  // NaN counts as the worst
  }
  return worst;
}

// fp32 accumulation over K terms, plus a few ulp for GELU's tanh.
double error_limit(const shape& s) { return double(s.k + 16) * 0x1p-24 + 4e-6; }

bool self_check(const std::vector<impl>& impls) {
  bool all_ok = true;
  const int threads = thread_counts().back();
  set_peer_threads(threads);
  for (const impl& im : impls) {
    if (im.cold) continue;  // the cold rows run these same calls on copies of B
    double worst = 0;
    std::string failure;
    int shapes = 0;
    for (const shape& s : k_check_shapes) {
      if (!im.applies(s)) continue;
      operands& o = data_for(s);
      runner r;
      std::string why;
      if (im.available && !im.available(s, why)) continue;
      if (!im.make(o, threads, r, why)) {
        failure = why;
        break;
      }
      fill_random(o.c, 99);
      r.call();
      const double e = max_error(o, im.fused, true);
      worst = std::max(worst, e);
      if (!(e <= error_limit(s))) failure = "too large on " + s.str();
      ++shapes;
    }
    const std::string name = im.op + "/" + im.name;
    if (shapes == 0 && failure.empty()) {
      std::printf("self-check %-46s not available on the check shapes\n", name.c_str());
      continue;
    }
    std::printf("self-check %-46s max rel err %.2e%s%s\n", name.c_str(), worst,
                failure.empty() ? "" : "  FAILED: ", failure.c_str());
    all_ok = all_ok && failure.empty();
  }
  return all_ok;
}

// --- rows ----------------------------------------------------------------------------------------

struct row_cache {
  bool ready = false;
  runner r;
  std::string error;
};
const row_cache* g_last_row = nullptr;

void run_row(benchmark::State& state, const impl& im, const shape& s, int threads, row_cache& rc) {
  set_peer_threads(threads);
  settle(im.threads_pool);
  if (!rc.ready) {
    rc.ready = true;
    operands& o = data_for(s);
    std::string why;
    if (!im.make(o, threads, rc.r, why)) {
      rc.error = why;
    } else {
      fill_random(o.c, 77);
      rc.r.call();
      const double e = max_error(o, im.fused, false);
      if (!(e <= error_limit(s))) {
        char msg[160];
        std::snprintf(msg, sizeof msg, "wrong result: max rel err %.3g > %.3g", e, error_limit(s));
        rc.error = msg;
      }
    }
  }
  if (!rc.error.empty()) {
    state.SkipWithError(rc.error.c_str());
    return;
  }
  const double peak = fusedops_bench::fma_peak_gflops(threads);
  const double read_bw = im.cold ? fusedops_bench::stream_read_gbps(threads) : 0.0;
  if (g_last_row != &rc) {  // another row ran in between: wait for quiet (if asked), warm up
    fusedops_bench::wait_for_quiet();
    rc.r.call();
  }
  g_last_row = &rc;

  const fusedops_bench::load_probe load;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    rc.r.call();
    benchmark::ClobberMemory();
  }
  const double secs = seconds_since(t0);
  state.counters["foreign_cpu"] = load.foreign_cpus();
  ran(im.threads_pool, threads);

  const double calls = double(state.iterations());
  const double gflops = calls * s.flops() / secs * 1e-9;
  state.counters["GFLOPS"] = gflops;
  state.counters["peak_frac"] = gflops / peak;
  if (s.m == 1) {
    const double gbps = calls * s.b_bytes() / secs * 1e-9;
    state.counters["GBps"] = gbps;
    if (im.cold) state.counters["read_frac"] = gbps / read_bw;
  }
  // Cold rows, once more with each call followed by a read of as many bytes (the machine's
  // bandwidth at that moment). Not for multi-thread OpenBLAS: its workers spin ~0.1 s after each
  // call and would take a core from the read.
  if (im.cold && (threads == 1 || im.threads_pool == pool::omp)) {
    const auto pr = fusedops_bench::alternate_with_reads(threads, double(s.b_bytes()),
                                                         [&] { rc.r.call(); });
    state.counters["read_GBps_paired"] = pr.read_gbps;
    state.counters["read_frac_paired"] = pr.ratio();
  }
  state.SetLabel(rc.r.label);
}

void register_machine_rows() {
  for (int threads : thread_counts()) {
    const std::string t = "/threads:" + std::to_string(threads);
    auto waited = std::make_shared<bool>(false);  // wait for quiet once per row
    benchmark::RegisterBenchmark(("peak/fma" + t).c_str(), [threads,
                                                            waited](benchmark::State& state) {
      settle(pool::omp);
      const double peak = fusedops_bench::fma_peak_gflops(threads);
      const long iters = fusedops_bench::fma_iters_for(0.002);
      if (!*waited) fusedops_bench::wait_for_quiet(), *waited = true;
      double flops = 0;
      const fusedops_bench::load_probe load;
      const auto t0 = std::chrono::steady_clock::now();
      for (auto _ : state) flops += fusedops_bench::fma_burst(threads, iters);
      const double gflops = flops / seconds_since(t0) * 1e-9;
      state.counters["foreign_cpu"] = load.foreign_cpus();
      ran(pool::omp, threads);
      fusedops_bench::note_fma_peak(threads, gflops);
      state.counters["GFLOPS"] = gflops;
      state.counters["peak_frac"] = gflops / peak;
      state.SetLabel(fusedops_bench::fma_isa());
    })->UseRealTime();
  }
  for (int threads : thread_counts()) {
    const std::string t = "/threads:" + std::to_string(threads);
    auto waited = std::make_shared<bool>(false);
    benchmark::RegisterBenchmark(("stream/read" + t).c_str(), [threads,
                                                               waited](benchmark::State& state) {
      settle(pool::omp);
      const auto best = fusedops_bench::stream_read_best(threads);
      if (!*waited) fusedops_bench::wait_for_quiet(), *waited = true;
      double bytes = 0;
      const fusedops_bench::load_probe load;
      const auto t0 = std::chrono::steady_clock::now();
      for (auto _ : state) bytes += fusedops_bench::stream_read_pass(threads, best.streams);
      const double gbps = bytes / seconds_since(t0) * 1e-9;
      state.counters["foreign_cpu"] = load.foreign_cpus();
      ran(pool::omp, threads);
      fusedops_bench::note_read_bandwidth(threads, gbps);
      state.counters["GBps"] = gbps;
      state.counters["read_frac"] = gbps / best.gbps;
      state.SetLabel(std::to_string(fusedops_bench::stream_bytes() >> 20) + " MiB, " +
                     std::to_string(best.streams) + " stream(s)/thread");
    })->UseRealTime();
  }
}

void register_rows(const std::vector<impl>& impls) {
  // Hot rows shape by shape (every implementation of a shape and thread count side by side),
  // then the cold M = 1 rows.
  for (bool cold : {false, true}) {
    for (const shape& s : k_shapes) {
      for (int threads : thread_counts()) {
        for (const impl& im : impls) {
          if (im.cold != cold || !im.applies(s)) continue;
          std::string why;
          if (im.available && !im.available(s, why)) {
            std::fprintf(stderr, "not registered: %s/%s/%s: %s\n", im.op.c_str(), im.name.c_str(),
                         s.str().c_str(), why.c_str());
            continue;
          }
          const std::string name =
              im.op + "/" + im.name + "/" + s.str() + "/threads:" + std::to_string(threads);
          auto rc = std::make_shared<row_cache>();
          benchmark::RegisterBenchmark(name.c_str(), [&im, s, threads, rc](benchmark::State& st) {
            run_row(st, im, s, threads, *rc);
          })->UseRealTime();  // OpenMP / OpenBLAS workers are not the timing thread
        }
      }
    }
  }
}

void add_context() {
  benchmark::AddCustomContext("fusedops_backend", backend::name);
  benchmark::AddCustomContext("fma_isa", fusedops_bench::fma_isa());
  benchmark::AddCustomContext("l3_bytes", std::to_string(fusedops_bench::l3_bytes()));
  benchmark::AddCustomContext("cold_pool_mib", std::to_string(cold_bytes() >> 20));
#if FUSEDOPS_BENCH_HAVE_OPENBLAS
  benchmark::AddCustomContext(
      "openblas", std::string(openblas_get_config()) + ", core " + openblas_get_corename());
#endif
#if FUSEDOPS_BENCH_HAVE_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  benchmark::AddCustomContext("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) +
                                            "." + std::to_string(v->patch) + " (" + v->hash + ")");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The implementations live as long as the process: the registered rows point into them.
  static const std::vector<impl> impls = implementations();
  if (!self_check(impls)) {
    std::fprintf(stderr, "self-check failed: not timing wrong code\n");
    return 1;
  }
  add_context();
  register_machine_rows();
  register_rows(impls);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
