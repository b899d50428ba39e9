// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Shared bench helper for memory-bound operators (norms, RoPE, softmax, activations): every row
// reports GB/s of the bytes it reads + writes and "of_copy", that figure divided by a same-size
// copy measured in the same binary, in the same cache state, at the same thread count.
//
//   cache_state::hot    the operands are used again and again: after the first call they sit in
//                       the cache, like a tensor the previous layer has just written (4096 × 768
//                       fp32 in + out is 25 MiB: L3-resident on a 35 MiB L3).
//   cache_state::cold   every call uses the next of several copies of the operands ("sets"),
//                       which together span cold_span_bytes() (>= 256 MiB, >= 2 × L3; sysconf can
//                       misreport the L3 under a hypervisor, so the floor is a fixed size), so no
//                       call finds its data in any cache. A set larger than the span is its own
//                       rotation (one set: 16384 × 4096 is 256 MiB per tensor).
//
// API (namespace fusedops_bench):
//   rotating_sets                 the operand arrays of one benchmark (fp32, 64-byte aligned,
//                                 consecutive arrays 2112 B apart modulo 4 KiB: no 4 KiB aliasing
//                                 between a kernel's loads and its pending stores),
//                                 one set (hot) or enough sets for cold; get(i) = array i of the
//                                 current set, next() moves on (cold only).
//   shared_sets(tag, floats, st, init)
//                                 one process-wide cached rotating_sets (rebuilt when tag, sizes
//                                 or state change): rows run one after another, so the many rows
//                                 of one shape share one allocation instead of 256 MiB each.
//   copy_rows(src, dst, rows, cols, threads)
//                                 the roofline: one memcpy per row (ordinary stores, like the
//                                 kernels' row loop; one big memcpy would switch glibc to
//                                 non-temporal stores), rows split in contiguous chunks between
//                                 `threads` OpenMP threads like fusedops::parallel_for splits them.
//   copy_gbps(rows, cols, threads, st)
//                                 the copy's GB/s (2 · rows · cols · 4 bytes per pass): the median
//                                 of what copy rows of this process recorded (register_copy), or,
//                                 when none ran (e.g. filtered out), measured on demand: median of
//                                 5 timings of >= 20 ms each.
//   run_bandwidth(state, sets, traffic, body)
//                                 the timing loop: body() per iteration, then sets.next(); sets the
//                                 counters "bytes" (rate, decimal: "G/s" = GB/s, as the other
//                                 benches), "of_copy", "copy_GBps" and "load" (CPUs other
//                                 processes used during the loop: see machine_peak.hpp). With
//                                 FUSEDOPS_BENCH_QUIET_WAIT=<s> it first waits (at most s
//                                 seconds) for the other processes to go quiet.
//   register_bandwidth(name, fn)  RegisterBenchmark(...)->UseRealTime() (OpenMP workers are not
//                                 the timing thread: wall time is what counts).
//   register_copy(op, rows, cols, threads, st)
//                                 the row "<op>/copy/<rows>x<cols>/threads:<t>/<hot|cold>".
//
// Row names: <op>/<impl>/<rows>x<cols>/threads:<t>/<hot|cold>, so --benchmark_filter='1x4096'
// picks the small single-row shape (CI's smoke run), '/cold' the DRAM rows, and so on.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <fusedops/config/detect.hpp>
#include <fusedops/core/aligned_buffer.hpp>

#include "machine_peak.hpp"

namespace fusedops_bench {

enum class cache_state { hot, cold };

inline const char* name_of(cache_state s) noexcept {
  return s == cache_state::hot ? "hot" : "cold";
}

/// Bytes the cold rotation spans: FUSEDOPS_BENCH_COLD_MIB if set, else max(256 MiB, 2 × L3)
/// capped at 1 GiB (a misreported L3 cannot make it absurd).
inline std::size_t cold_span_bytes() {
  static const std::size_t bytes = [] {
    if (const char* v = std::getenv("FUSEDOPS_BENCH_COLD_MIB")) {
      const long mib = std::atol(v);
      if (mib > 0) return std::size_t(mib) << 20;
    }
    const std::size_t floor = std::size_t(256) << 20, cap = std::size_t(1024) << 20;
    return std::min(cap, std::max(floor, 2 * l3_bytes()));
  }();
  return bytes;
}

/// The operand arrays of one benchmark, once (hot) or as a rotation of sets (cold).
class rotating_sets {
 public:
  /// floats[i] = element count of array i. Returns false when the memory is not available.
  bool init(const std::vector<std::size_t>& floats, cache_state st) {
    offsets_.clear();
    std::size_t off = 0;
    for (std::size_t i = 0; i < floats.size(); ++i) {
      offsets_.push_back(off);
      // whole 4 KiB pages, then half a page and a cache line more: arrays i and i + 1 start
      // 2112 bytes apart modulo 4 KiB. A streaming kernel's loads run a little ahead of its
      // stores; with arrays a few cache lines apart modulo 4 KiB, a load of x would share its low
      // 12 address bits with a pending store to y (4 KiB aliasing: the load waits), which no real
      // allocator placement systematically causes.
      off += (floats[i] + 1023) / 1024 * 1024 + 528;
    }
    set_floats_ = (off + 1023) / 1024 * 1024;
    const std::size_t set_bytes = set_floats_ * sizeof(float);
    sets_ = st == cache_state::hot
                ? 1
                : std::max<std::size_t>(1, (cold_span_bytes() + set_bytes - 1) / set_bytes);
    if (!arena_.allocate(sets_ * set_floats_).ok()) return false;
    std::memset(arena_.data(), 0, arena_.size() * sizeof(float));  // fault every page in now
    current_ = 0;
    return true;
  }

  std::size_t sets() const noexcept { return sets_; }
  std::size_t arrays() const noexcept { return offsets_.size(); }
  /// Array `i` of set `set` / of the current set.
  float* at(std::size_t set, std::size_t i) noexcept {
    return arena_.data() + set * set_floats_ + offsets_[i];
  }
  float* get(std::size_t i) noexcept { return at(current_, i); }
  /// The next set (a no-op with one set).
  void next() noexcept { current_ = current_ + 1 == sets_ ? 0 : current_ + 1; }

  /// init(set, arrays) once per set: arrays[i] = that set's array i (fill the inputs).
  template <class Init>
  void for_each_set(Init&& init) {
    std::vector<float*> ptrs(arrays());
    for (std::size_t s = 0; s < sets_; ++s) {
      for (std::size_t i = 0; i < arrays(); ++i) ptrs[i] = at(s, i);
      init(s, ptrs.data());
    }
  }

 private:
  fusedops::aligned_buffer<float> arena_;
  std::vector<std::size_t> offsets_;
  std::size_t set_floats_ = 0, sets_ = 0, current_ = 0;
};

/// A process-wide cached rotating_sets: returned as is while (tag, floats, st) stay the same,
/// otherwise freed and rebuilt, then init(set, arrays) fills each set. Exits on out-of-memory.
template <class Init>
rotating_sets& shared_sets(const std::string& tag, const std::vector<std::size_t>& floats,
                           cache_state st, Init&& init) {
  static rotating_sets sets;
  static std::string key;
  std::string k = tag + (st == cache_state::hot ? "/hot" : "/cold");
  for (std::size_t f : floats) k += "/" + std::to_string(f);
  if (k != key) {
    key.clear();
    sets = rotating_sets();
    if (!sets.init(floats, st)) {
      std::fprintf(stderr, "memory_bound: cannot allocate the operand sets of %s\n", k.c_str());
      std::exit(1);
    }
    sets.for_each_set(init);
    key = k;
  }
  return sets;
}

/// The same-size copy: rows × cols floats from src to dst (both with row stride cols).
inline void copy_rows(const float* src, float* dst, long rows, long cols, int threads) {
  auto run = [=](long r0, long r1) {
    for (long r = r0; r < r1; ++r)
      std::memcpy(dst + r * cols, src + r * cols, std::size_t(cols) * sizeof(float));
  };
#if FUSEDOPS_HAS_OPENMP
  const long chunks = std::min<long>(threads, rows);
  if (chunks > 1) {
#pragma omp parallel for num_threads(static_cast <int>(chunks)) schedule(static, 1)
    for (long c = 0; c < chunks; ++c) run(rows * c / chunks, rows * (c + 1) / chunks);
    return;
  }
#endif
  static_cast<void>(threads);
  run(0, rows);
}

namespace detail {
using copy_key = std::tuple<long, long, int, int>;  // rows, cols, threads, state

struct copy_record {
  double gbps, seconds;
};

inline std::map<copy_key, std::vector<copy_record>>& copy_records() {
  static std::map<copy_key, std::vector<copy_record>> records;
  return records;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline std::vector<std::size_t> copy_layout(long rows, long cols) {
  const std::size_t n = std::size_t(rows) * std::size_t(cols);
  return {n, n};
}

inline void fill_ones(std::size_t, float* const* a, std::size_t n) {
  std::fill(a[0], a[0] + n, 1.0f);
}

// Measured on demand: median of 5 timings, each of enough passes to last >= 20 ms.
inline double measure_copy(long rows, long cols, int threads, cache_state st) {
  const std::size_t n = std::size_t(rows) * std::size_t(cols);
  rotating_sets& sets = shared_sets("copy", copy_layout(rows, cols), st,
                                    [n](std::size_t s, float* const* a) { fill_ones(s, a, n); });
  auto pass = [&] {
    copy_rows(sets.get(0), sets.get(1), rows, cols, threads);
    sets.next();
  };
  pass();  // wake the thread pool, warm the hot set
  long passes = 1;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < passes; ++i) pass();
    if (seconds_since(t0) >= 0.02) break;
    passes *= 2;
  }
  std::vector<double> gbps;
  for (int trial = 0; trial < 5; ++trial) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < passes; ++i) pass();
    gbps.push_back(2.0 * double(n) * sizeof(float) * double(passes) / seconds_since(t0) * 1e-9);
  }
  return median(gbps);
}
}  // namespace detail

/// A copy row's measurement (GB/s, and how long its timing loop ran), for the of_copy of later
/// rows.
inline void record_copy(long rows, long cols, int threads, cache_state st, double gbps,
                        double seconds = 1.0) {
  detail::copy_records()[{rows, cols, threads, int(st)}].push_back({gbps, seconds});
}

/// GB/s of the same-size copy (see the file comment): the median over the recorded runs that
/// lasted at least half as long as the longest (Google Benchmark's shorter iteration-count probes
/// before each measured run are left out).
inline double copy_gbps(long rows, long cols, int threads, cache_state st) {
  auto& rec = detail::copy_records()[{rows, cols, threads, int(st)}];
  if (rec.empty()) rec.push_back({detail::measure_copy(rows, cols, threads, st), 1.0});
  double longest = 0;
  for (const auto& r : rec) longest = std::max(longest, r.seconds);
  std::vector<double> v;
  for (const auto& r : rec)
    if (r.seconds >= 0.5 * longest) v.push_back(r.gbps);
  return detail::median(v);
}

/// What one call of a benchmark moves: `bytes` read + written, and the copy it compares with
/// (rows × cols floats, threads, cache state).
struct traffic {
  long rows = 0, cols = 0;
  int threads = 1;
  cache_state state = cache_state::hot;
  double bytes = 0;
};

/// The timing loop of a memory-bound row: body() per iteration, then sets.next() (cold rotation;
/// part of the timed loop, it is a few instructions). Returns the GB/s measured (0 when the loop
/// ran under 5 ms: Google Benchmark's iteration-count probes are not measurements) and sets the
/// counters "bytes" (rate), "of_copy", "copy_GBps" and "load". `compare_with_copy = false` for
/// the copy rows themselves (of_copy = 1).
template <class Body>
double run_bandwidth(benchmark::State& state, rotating_sets& sets, const traffic& t, Body&& body,
                     bool compare_with_copy = true) {
  const double copy = compare_with_copy ? copy_gbps(t.rows, t.cols, t.threads, t.state) : 0.0;
  wait_for_quiet();  // only with FUSEDOPS_BENCH_QUIET_WAIT=<s> set (machine_peak.hpp)
  load_probe probe;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    body();
    benchmark::ClobberMemory();
    sets.next();
  }
  const double seconds = detail::seconds_since(t0);
  const double gbps = t.bytes * double(state.iterations()) / std::max(seconds, 1e-12) * 1e-9;
  state.counters["bytes"] = benchmark::Counter(
      t.bytes, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
  state.counters["of_copy"] = compare_with_copy ? gbps / copy : 1.0;
  state.counters["copy_GBps"] = compare_with_copy ? copy : gbps;
  state.counters["load"] = probe.foreign_cpus();
  return seconds >= 0.005 ? gbps : 0.0;  // 0: too short a loop to count as a measurement
}

/// Registers a row measured in wall time.
template <class Fn>
benchmark::internal::Benchmark* register_bandwidth(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))->UseRealTime();
}

/// "<op>/<impl>/<rows>x<cols>/threads:<t>/<hot|cold>"
inline std::string row_name(const std::string& op, const std::string& impl, long rows, long cols,
                            int threads, cache_state st) {
  return op + "/" + impl + "/" + std::to_string(rows) + "x" + std::to_string(cols) +
         "/threads:" + std::to_string(threads) + "/" + name_of(st);
}

/// The copy row of a shape: "<op>/copy/<rows>x<cols>/threads:<t>/<hot|cold>", recording its
/// GB/s for the of_copy of the rows of the same shape, threads and state.
inline void register_copy(const std::string& op, long rows, long cols, int threads,
                          cache_state st) {
  register_bandwidth(row_name(op, "copy", rows, cols, threads, st), [=](benchmark::State& state) {
    const std::size_t n = std::size_t(rows) * std::size_t(cols);
    rotating_sets& sets =
        shared_sets("copy", detail::copy_layout(rows, cols), st,
                    [n](std::size_t s, float* const* a) { detail::fill_ones(s, a, n); });
    const traffic t{rows, cols, threads, st, 2.0 * double(n) * sizeof(float)};
    const double gbps = run_bandwidth(
        state, sets, t, [&] { copy_rows(sets.get(0), sets.get(1), rows, cols, threads); }, false);
    if (gbps > 0)  // the loop's duration, from the bytes it moved
      record_copy(rows, cols, threads, st, gbps,
                  t.bytes * double(state.iterations()) / (gbps * 1e9));
  });
}

}  // namespace fusedops_bench
