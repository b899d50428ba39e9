// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The machine's ceilings, measured by the benchmark process itself so every "fraction of peak"
// compares numbers taken on the same machine, in the same run, at the same thread count:
//
//   fma_peak_gflops(t)    register-only FMA loop on the widest vectors this TU's flags enable
//                         (AVX-512 zmm, AVX2 ymm, NEON q, or scalar), t threads (OpenMP), best of
//                         several trials. fp32 GFLOP/s, 2 flops per lane per FMA.
//   stream_read_gbps(t)   STREAM-like read-only pass (a vector sum) over a buffer well beyond the
//                         last-level cache (8 × L3 within [256 MiB, 1 GiB]), split in contiguous
//                         parts between t threads, each part read as 1, 2, 4 or 8 sequential
//                         streams side by side (some cores need several prefetch streams in
//                         flight to reach their bandwidth); the best of them, best of 3 passes.
//                         GB/s, decimal.
//   alternate_with_reads(t, bytes, op)
//                         op() (one call of a memory-bound operator that reads `bytes`) timed in
//                         turn with a read of as many bytes of the read buffer (the next part
//                         each time, so always cold), t threads: both GB/s taken in the same
//                         seconds. On a shared machine the read bandwidth moves by tens of
//                         percent between moments; the ratio of the pair is what the operator
//                         reaches of the bandwidth it had, where stream_read_gbps is the best
//                         moment of the process.
//   load_probe            CPU time other processes used during a measurement (shared machines).
//   wait_for_quiet()      with FUSEDOPS_BENCH_QUIET_WAIT=<s>, waits up to s seconds for the other
//                         processes to go quiet before a measurement.
//
// Both ceilings are measured once per process per thread count and cached (the first call pays
// ~0.2 s; with FUSEDOPS_BENCH_QUIET_WAIT set, more while other processes keep the machine busy:
// the measurement is repeated, up to 8 times, until one ran quiet; the read buffer is allocated
// only when a read measurement first runs). The peak/read rows raise the cached values if they
// measure more (note_*). fma_burst / stream_read_pass are the single timed units, for benchmark
// rows of their own. Bench-only code: the ISA branches use fusedops' FUSEDOPS_HAS_* macros
// (config/detect.hpp), like the library, so the "ISA macros only in detect.hpp" rule would hold
// here too.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>

#include <fusedops/config/detect.hpp>
#include <fusedops/config/macros.hpp>
#include <fusedops/core/aligned_buffer.hpp>
#include <fusedops/core/cache_sizes.hpp>

#if FUSEDOPS_HAS_AVX512 || FUSEDOPS_HAS_AVX2
#include <immintrin.h>
#elif FUSEDOPS_HAS_NEON
#include <arm_neon.h>
#endif
#if FUSEDOPS_HAS_OPENMP
#include <omp.h>
#endif
#if defined(__linux__)
#include <time.h>
#include <unistd.h>
#endif

namespace fusedops_bench {

/// Which vectors the FMA loop uses, for reports.
inline const char* fma_isa() noexcept {
#if FUSEDOPS_HAS_AVX512
  return "avx512 (zmm)";
#elif FUSEDOPS_HAS_AVX2
  return "avx2 (ymm)";
#elif FUSEDOPS_HAS_NEON
  return "neon (q)";
#else
  return "scalar";
#endif
}

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point t0) noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs body(thread_index) on `threads` threads at once (an OpenMP region; 1 thread without it).
template <class Body>
void on_threads(int threads, Body&& body) {
#if FUSEDOPS_HAS_OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num());
    return;
  }
#endif
  static_cast<void>(threads);
  body(0);
}

inline volatile float g_sink = 0.0f;  // keeps results alive

#if FUSEDOPS_HAS_AVX512
// Horizontal sum through memory (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized inside its
// own header).
inline float hsum(__m512 v) noexcept {
  alignas(64) float out[16];
  _mm512_store_ps(out, v);
  float s = 0;
  for (float x : out) s += x;
  return s;
}
#endif

// `iters` rounds of independent FMA chains held in registers: acc = acc · x + y. x < 1 keeps the
// values bounded (fixed point y / (1 - x) = 1): no overflow, no denormals. Enough chains to cover
// latency × throughput on current cores (4-cycle FMA × 2 pipes = 8 in flight; 12-16 here).
// Returns the flops done.
inline double fma_kernel(long iters) noexcept {
  const float xs = g_sink * 0.0f + 0.9999f, ys = g_sink * 0.0f + 0.0001f;
#if FUSEDOPS_HAS_AVX512
  constexpr int chains = 16, lanes = 16;
  const __m512 x = _mm512_set1_ps(xs), y = _mm512_set1_ps(ys);
  __m512 a0 = _mm512_set1_ps(0.1f), a1 = _mm512_set1_ps(0.2f), a2 = _mm512_set1_ps(0.3f),
         a3 = _mm512_set1_ps(0.4f), a4 = _mm512_set1_ps(0.5f), a5 = _mm512_set1_ps(0.6f),
         a6 = _mm512_set1_ps(0.7f), a7 = _mm512_set1_ps(0.8f), a8 = _mm512_set1_ps(0.9f),
         a9 = _mm512_set1_ps(1.1f), a10 = _mm512_set1_ps(1.2f), a11 = _mm512_set1_ps(1.3f),
         a12 = _mm512_set1_ps(1.4f), a13 = _mm512_set1_ps(1.5f), a14 = _mm512_set1_ps(1.6f),
         a15 = _mm512_set1_ps(1.7f);
  for (long i = 0; i < iters; ++i) {
    a0 = _mm512_fmadd_ps(a0, x, y), a1 = _mm512_fmadd_ps(a1, x, y);
    a2 = _mm512_fmadd_ps(a2, x, y), a3 = _mm512_fmadd_ps(a3, x, y);
    a4 = _mm512_fmadd_ps(a4, x, y), a5 = _mm512_fmadd_ps(a5, x, y);
    a6 = _mm512_fmadd_ps(a6, x, y), a7 = _mm512_fmadd_ps(a7, x, y);
    a8 = _mm512_fmadd_ps(a8, x, y), a9 = _mm512_fmadd_ps(a9, x, y);
    a10 = _mm512_fmadd_ps(a10, x, y), a11 = _mm512_fmadd_ps(a11, x, y);
    a12 = _mm512_fmadd_ps(a12, x, y), a13 = _mm512_fmadd_ps(a13, x, y);
    a14 = _mm512_fmadd_ps(a14, x, y), a15 = _mm512_fmadd_ps(a15, x, y);
  }
  const __m512 s =
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                  _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7))),
                    _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                  _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
  g_sink = hsum(s);
#elif FUSEDOPS_HAS_AVX2
  constexpr int chains = 12, lanes = 8;  // 16 ymm registers: 12 chains + x + y
  const __m256 x = _mm256_set1_ps(xs), y = _mm256_set1_ps(ys);
  __m256 a0 = _mm256_set1_ps(0.1f), a1 = _mm256_set1_ps(0.2f), a2 = _mm256_set1_ps(0.3f),
         a3 = _mm256_set1_ps(0.4f), a4 = _mm256_set1_ps(0.5f), a5 = _mm256_set1_ps(0.6f),
         a6 = _mm256_set1_ps(0.7f), a7 = _mm256_set1_ps(0.8f), a8 = _mm256_set1_ps(0.9f),
         a9 = _mm256_set1_ps(1.1f), a10 = _mm256_set1_ps(1.2f), a11 = _mm256_set1_ps(1.3f);
  for (long i = 0; i < iters; ++i) {
    a0 = _mm256_fmadd_ps(a0, x, y), a1 = _mm256_fmadd_ps(a1, x, y);
    a2 = _mm256_fmadd_ps(a2, x, y), a3 = _mm256_fmadd_ps(a3, x, y);
    a4 = _mm256_fmadd_ps(a4, x, y), a5 = _mm256_fmadd_ps(a5, x, y);
    a6 = _mm256_fmadd_ps(a6, x, y), a7 = _mm256_fmadd_ps(a7, x, y);
    a8 = _mm256_fmadd_ps(a8, x, y), a9 = _mm256_fmadd_ps(a9, x, y);
    a10 = _mm256_fmadd_ps(a10, x, y), a11 = _mm256_fmadd_ps(a11, x, y);
  }
  const __m256 s =
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                  _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7))),
                    _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  g_sink = out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
#elif FUSEDOPS_HAS_NEON
  constexpr int chains = 16, lanes = 4;
  const float32x4_t x = vdupq_n_f32(xs), y = vdupq_n_f32(ys);
  float32x4_t a[chains];
  for (int c = 0; c < chains; ++c) a[c] = vdupq_n_f32(0.1f * float(c + 1));
  for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < chains; ++c) a[c] = vfmaq_f32(y, a[c], x);
  }
  float32x4_t s = a[0];
  for (int c = 1; c < chains; ++c) s = vaddq_f32(s, a[c]);
  g_sink = vaddvq_f32(s);
#else
  constexpr int chains = 16, lanes = 1;
  float a[chains];
  for (int c = 0; c < chains; ++c) a[c] = 0.1f * float(c + 1);
  for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < chains; ++c) a[c] = a[c] * xs + ys;
  }
  float s = 0;
  for (int c = 0; c < chains; ++c) s += a[c];
  g_sink = s;
#endif
  return 2.0 * chains * lanes * double(iters);
}

}  // namespace detail

/// CPU time the rest of the machine used while a measurement ran: system-wide busy time
/// (/proc/stat: user, nice, system, irq, softirq, steal) minus this process's CPU time, per
/// wall second. 0.0 = a quiet machine; 1.0 = another job kept one CPU busy throughout. Linux
/// only (elsewhere always 0). Resolution: one scheduler tick (10 ms) per CPU over the interval.
class load_probe {
 public:
  load_probe() noexcept { start(); }
  void start() noexcept { t0_ = sample(); }
  double foreign_cpus() const noexcept {
    const snapshot t1 = sample();
    const double wall = std::chrono::duration<double>(t1.wall - t0_.wall).count();
    if (wall <= 0 || t1.busy_s < 0 || t0_.busy_s < 0) return 0.0;
    return std::max(0.0, ((t1.busy_s - t0_.busy_s) - (t1.own_s - t0_.own_s)) / wall);
  }

 private:
  struct snapshot {
    double busy_s = -1, own_s = 0;
    std::chrono::steady_clock::time_point wall;
  };
  static snapshot sample() noexcept {
    snapshot s;
    s.wall = std::chrono::steady_clock::now();
#if defined(__linux__)
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    s.own_s = double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
    if (std::FILE* f = std::fopen("/proc/stat", "r")) {
      unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                         steal = 0;
      if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
                      &iowait, &irq, &softirq, &steal) == 8)
        s.busy_s = double(user + nice + sys + irq + softirq + steal) / double(sysconf(_SC_CLK_TCK));
      std::fclose(f);
    }
#endif
    return s;
  }
  snapshot t0_;
};

/// On a shared machine: with FUSEDOPS_BENCH_QUIET_WAIT=<seconds> in the environment, waits (at
/// most that long) for a 0.25 s window in which other processes used under 0.15 CPU, before a
/// measurement starts. Unset or 0: returns at once.
inline double quiet_wait_budget() {
  static const double budget = [] {
    const char* v = std::getenv("FUSEDOPS_BENCH_QUIET_WAIT");
    return v != nullptr ? std::max(0.0, std::atof(v)) : 0.0;
  }();
  return budget;
}

inline void wait_for_quiet() {
  const double budget = quiet_wait_budget();
  if (budget <= 0) return;
  const auto t0 = std::chrono::steady_clock::now();
  while (detail::seconds_since(t0) < budget) {
    load_probe probe;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (probe.foreign_cpus() < 0.15) return;
  }
}

/// One timed unit of the FMA peak: `iters` rounds on each of `threads` threads at once.
/// Returns the flops done (all threads).
inline double fma_burst(int threads, long iters) {
  double flops[64] = {};
  threads = std::clamp(threads, 1, 64);
  detail::on_threads(threads, [&](int t) { flops[t] = detail::fma_kernel(iters); });
  double total = 0;
  for (int t = 0; t < threads; ++t) total += flops[t];
  return total;
}

/// Rounds per fma_burst that take about `seconds` on one core (calibrated once).
inline long fma_iters_for(double seconds) {
  static const double rounds_per_second = [] {
    detail::fma_kernel(1 << 16);  // warm up (clock ramp, page-in)
    long iters = 1 << 16;
    for (;;) {
      const auto t0 = std::chrono::steady_clock::now();
      detail::fma_kernel(iters);
      const double s = detail::seconds_since(t0);
      if (s > 0.01) return double(iters) / s;
      iters *= 4;
    }
  }();
  return std::max(1L, static_cast<long>(rounds_per_second * seconds));
}

namespace detail {
// A ceiling measured on a shared machine: measure() once; with FUSEDOPS_BENCH_QUIET_WAIT set,
// again (up to 8 times, 1 s apart) while other processes used more than 0.2 CPU during it. The
// best value counts.
template <class Measure>
auto measure_quietly(Measure&& measure) {
  wait_for_quiet();
  auto best = measure();
  if (quiet_wait_budget() <= 0) return best;  // not asked to mind the neighbours
  for (int retry = 0; retry < 8; ++retry) {
    load_probe probe;
    const auto again = measure();
    if (again > best) best = again;
    if (probe.foreign_cpus() < 0.2) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return best;
}

inline std::map<int, double>& fma_cache() {
  static std::map<int, double> cache;
  return cache;
}
}  // namespace detail

/// The measured fp32 FMA peak in GFLOP/s at `threads` threads: best of 7 bursts of ~30 ms,
/// repeated while other processes were busy (measure_quietly), and raised by note_fma_peak.
inline double fma_peak_gflops(int threads) {
  auto& cache = detail::fma_cache();
  auto it = cache.find(threads);
  if (it != cache.end()) return it->second;
  const long iters = fma_iters_for(0.03);
  const double peak = detail::measure_quietly([&] {
    fma_burst(threads, iters / 4);  // wake the thread pool
    double best = 0;
    for (int trial = 0; trial < 7; ++trial) {
      const auto t0 = std::chrono::steady_clock::now();
      const double flops = fma_burst(threads, iters);
      best = std::max(best, flops / detail::seconds_since(t0) * 1e-9);
    }
    return best;
  });
  cache[threads] = std::max(cache[threads], peak);
  return cache[threads];
}

/// A peak row that measured more than the cached peak raises it (later rows compare with it).
inline void note_fma_peak(int threads, double gflops) {
  fma_peak_gflops(threads);
  auto& p = detail::fma_cache()[threads];
  p = std::max(p, gflops);
}

/// Last-level (L3) cache size in bytes, as one core sees it: the library's own detection
/// (fusedops::cache_sizes: sysfs first, since glibc's sysconf can report a whole multi-die
/// package under a hypervisor, e.g. 384 MiB for a 32 MiB L3; then sysconf; else 32 MiB).
inline std::size_t l3_bytes() noexcept {
  return static_cast<std::size_t>(fusedops::cache_sizes::detected().l3);
}

/// Bytes of the read-bandwidth buffer: 8 × L3 within [256 MiB, 1 GiB].
inline std::size_t stream_bytes() noexcept {
  return std::clamp<std::size_t>(8 * l3_bytes(), std::size_t(256) << 20, std::size_t(1) << 30);
}

namespace detail {

// The read buffer, allocated and filled (non-zero data, each half by the thread that reads it)
// on first use.
inline const float* stream_buffer(std::size_t& floats) {
  static fusedops::aligned_buffer<float> buf;
  floats = stream_bytes() / sizeof(float) / 1024 * 1024;
  if (buf.empty()) {
    if (!buf.allocate(floats).ok()) {
      std::fprintf(stderr, "machine_peak: cannot allocate the %zu MiB read buffer\n",
                   floats * sizeof(float) >> 20);
      std::exit(1);
    }
    float* p = buf.data();
    const std::size_t n = floats;
    const int parts = FUSEDOPS_HAS_OPENMP ? 2 : 1;
    on_threads(parts, [&](int t) {
      std::uint64_t s = 0x9E3779B97F4A7C15ull * std::uint64_t(t + 1);
      const std::size_t i0 = n * std::size_t(t) / std::size_t(parts);
      const std::size_t i1 = n * std::size_t(t + 1) / std::size_t(parts);
      for (std::size_t i = i0; i < i1; ++i) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = 1.0f + float(s >> 40) * 0x1p-24f;  // [1, 2): never zero
      }
    });
  }
  return buf.data();
}

// One vector of 16 floats (64 bytes: a cache line) of the widest type, and how to add it up.
#if FUSEDOPS_HAS_AVX512
struct line_acc {
  __m512 v = _mm512_setzero_ps();
  FUSEDOPS_INLINE void add(const float* p) noexcept { v = _mm512_add_ps(v, _mm512_load_ps(p)); }
  float sum() const noexcept { return hsum(v); }
};
#elif FUSEDOPS_HAS_AVX2
struct line_acc {
  __m256 v0 = _mm256_setzero_ps(), v1 = _mm256_setzero_ps();
  FUSEDOPS_INLINE void add(const float* p) noexcept {
    v0 = _mm256_add_ps(v0, _mm256_load_ps(p)), v1 = _mm256_add_ps(v1, _mm256_load_ps(p + 8));
  }
  float sum() const noexcept {
    alignas(32) float out[8];
    _mm256_store_ps(out, _mm256_add_ps(v0, v1));
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
  }
};
#elif FUSEDOPS_HAS_NEON
struct line_acc {
  float32x4_t v0 = vdupq_n_f32(0.0f), v1 = v0, v2 = v0, v3 = v0;
  FUSEDOPS_INLINE void add(const float* p) noexcept {
    v0 = vaddq_f32(v0, vld1q_f32(p)), v1 = vaddq_f32(v1, vld1q_f32(p + 4));
    v2 = vaddq_f32(v2, vld1q_f32(p + 8)), v3 = vaddq_f32(v3, vld1q_f32(p + 12));
  }
  float sum() const noexcept { return vaddvq_f32(vaddq_f32(vaddq_f32(v0, v1), vaddq_f32(v2, v3))); }
};
#else
struct line_acc {
  float v[16] = {};
  FUSEDOPS_INLINE void add(const float* p) noexcept {
    for (int i = 0; i < 16; ++i) v[i] += p[i];
  }
  float sum() const noexcept {
    float s = 0;
    for (float x : v) s += x;
    return s;
  }
};
#endif

// Sum of p[0, n) (n a multiple of 1024 floats) read as S sequential streams at once (the range
// cut in S parts, walked side by side): some cores reach their read bandwidth only with several
// prefetch streams in flight, as a GEMV over 4 rows of W has.
template <int S>
float read_sum(const float* p, std::size_t n) noexcept {
  constexpr int per_stream = 8 / S > 0 ? 8 / S : 1;  // lines per stream per round (8 in all)
  const std::size_t part = n / S;
  line_acc acc[S][per_stream];
  for (std::size_t i = 0; i < part; i += 16 * per_stream) {
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s)
#pragma GCC unroll 8
      for (int l = 0; l < per_stream; ++l) acc[s][l].add(p + std::size_t(s) * part + i + 16 * l);
  }
  float total = 0;
  for (int s = 0; s < S; ++s)
    for (int l = 0; l < per_stream; ++l) total += acc[s][l].sum();
  return total;
}

inline float read_sum_streams(int streams, const float* p, std::size_t n) noexcept {
  switch (streams) {
    case 2:
      return read_sum<2>(p, n);
    case 4:
      return read_sum<4>(p, n);
    case 8:
      return read_sum<8>(p, n);
    default:
      return read_sum<1>(p, n);
  }
}

}  // namespace detail

/// Reads the `bytes` (rounded up to whole 32 KiB blocks) of the read buffer that follow `cursor`
/// (a block index, advanced; wraps to the start), split in contiguous parts between `threads`
/// threads, each read as `streams` streams. Returns the bytes read.
inline double stream_read_next(int threads, int streams, double bytes, std::size_t& cursor) {
  std::size_t n = 0;
  const float* p = detail::stream_buffer(n);
  threads = std::clamp(threads, 1, 64);
  const std::size_t total = n / 8192;
  const std::size_t blocks =
      std::clamp<std::size_t>((std::size_t(bytes) + 32767) / 32768, 1, total);
  if (cursor + blocks > total) cursor = 0;
  const float* base = p + cursor * 8192;
  float sums[64] = {};
  detail::on_threads(threads, [&](int t) {
    const std::size_t b0 = blocks * std::size_t(t) / std::size_t(threads);
    const std::size_t b1 = blocks * std::size_t(t + 1) / std::size_t(threads);
    if (b1 > b0) sums[t] = detail::read_sum_streams(streams, base + b0 * 8192, (b1 - b0) * 8192);
  });
  float s = 0;
  for (int t = 0; t < threads; ++t) s += sums[t];
  detail::g_sink = s;
  cursor += blocks;
  return double(blocks) * 8192 * sizeof(float);
}

/// One timed unit of the read bandwidth: a full pass over the buffer, split in contiguous parts
/// between `threads` threads, each read as `streams` sequential streams. Returns the bytes read.
inline double stream_read_pass(int threads, int streams = 1) {
  std::size_t n = 0, cursor = 0;
  detail::stream_buffer(n);
  return stream_read_next(threads, streams, double(n) * sizeof(float), cursor);
}

/// The measured read bandwidth: GB/s at `threads` threads, and the streams per thread that gave
/// it. Best of 3 passes for each of 1, 2, 4, 8 streams, after a warm-up.
struct read_bandwidth {
  double gbps = 0;
  int streams = 1;
};

inline bool operator>(const read_bandwidth& a, const read_bandwidth& b) noexcept {
  return a.gbps > b.gbps;
}

namespace detail {
inline std::map<int, read_bandwidth>& read_cache() {
  static std::map<int, read_bandwidth> cache;
  return cache;
}
}  // namespace detail

inline read_bandwidth stream_read_best(int threads) {
  auto& cache = detail::read_cache();
  auto it = cache.find(threads);
  if (it != cache.end()) return it->second;
  stream_read_pass(threads);  // allocation and page faults on first use, then a warm-up
  const read_bandwidth best = detail::measure_quietly([&] {
    read_bandwidth b;
    for (int round = 0; round < 3; ++round) {
      for (int streams : {1, 2, 4, 8}) {
        const auto t0 = std::chrono::steady_clock::now();
        const double bytes = stream_read_pass(threads, streams);
        const double gbps = bytes / detail::seconds_since(t0) * 1e-9;
        if (gbps > b.gbps) b = {gbps, streams};
      }
    }
    return b;
  });
  cache[threads] = best;
  return best;
}

inline double stream_read_gbps(int threads) { return stream_read_best(threads).gbps; }

namespace detail {
// Where alternate_with_reads goes on reading: it carries on across rows, so no row re-reads a part
// another row has just read.
inline std::size_t& read_cursor() {
  static std::size_t cursor = 0;
  return cursor;
}
}  // namespace detail

/// GB/s of an operator and of the read it alternated with (alternate_with_reads).
struct paired_rates {
  double op_gbps = 0, read_gbps = 0;
  double ratio() const noexcept { return read_gbps > 0 ? op_gbps / read_gbps : 0.0; }
};

/// Alternates op() (one call that reads `bytes`) with stream_read_next of as many bytes, at
/// `threads` threads with the best stream count per thread, for >= `min_pairs` pairs and about
/// `seconds` in all; the GB/s of each side over the whole run.
template <class Op>
paired_rates alternate_with_reads(int threads, double bytes, Op&& op, double seconds = 0.25,
                                  int min_pairs = 4) {
  const int streams = stream_read_best(threads).streams;
  std::size_t& cursor = detail::read_cursor();
  double op_s = 0, read_s = 0, read_bytes = 0;
  int pairs = 0;
  for (; pairs < min_pairs || op_s + read_s < seconds; ++pairs) {
    auto t0 = std::chrono::steady_clock::now();
    op();
    op_s += detail::seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    read_bytes += stream_read_next(threads, streams, bytes, cursor);
    read_s += detail::seconds_since(t0);
  }
  return {bytes * pairs / std::max(op_s, 1e-12) * 1e-9,
          read_bytes / std::max(read_s, 1e-12) * 1e-9};
}

/// A read row that measured more than the cached bandwidth raises it.
inline void note_read_bandwidth(int threads, double gbps) {
  const int streams = stream_read_best(threads).streams;
  auto& b = detail::read_cache()[threads];
  if (gbps > b.gbps) b = {gbps, streams};
}

}  // namespace fusedops_bench
