// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Shared bench helper for memory-bound operators (norms, RoPE, softmax, activations): every row
// reports GB/s of the bytes it reads + writes and "of_copy", that figure divided by a same-size
// copy timed in the same loop, alternating with the operator, on the operator's own arrays.
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
// Why alternate: on a shared machine the bandwidth a copy reaches moves by tens of percent from
// one second to the next (the last-level cache and the memory bus are shared with other tenants),
// so a copy timed in a row of its own, seconds apart, is not the roofline of the row it is
// compared with. Here each timed chunk of operator calls is followed by a chunk of copies of the
// same shape, from the operator's input array to its output array (hot: the same arrays, so the
// same cache footprint; cold: the next sets of the rotation, as cold as the operator's).
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
//   run_bandwidth(state, sets, traffic, body)
//                                 the timing loop: chunks of body() calls (then sets.next() each),
//                                 each chunk followed by as many copies (traffic::copy_src ->
//                                 copy_dst, rows × cols floats). Only the body's chunks are the
//                                 row's time (manual time). Sets the counters "bytes" (rate,
//                                 decimal: "G/s" = GB/s, as the other benches), "copy_GBps" (the
//                                 alternated copies' GB/s), "of_copy" (the ratio of the two) and
//                                 "load" (CPUs other processes used during the loop: see
//                                 machine_peak.hpp). With FUSEDOPS_BENCH_QUIET_WAIT=<s> it first
//                                 waits (at most s seconds) for the other processes to go quiet.
//   register_bandwidth(name, fn)  RegisterBenchmark(...)->UseManualTime() (run_bandwidth times
//                                 the body's chunks in wall time: OpenMP workers are not the
//                                 timing thread).
//   register_copy(op, rows, cols, threads, st)
//                                 the row "<op>/copy/<rows>x<cols>/threads:<t>/<hot|cold>": the
//                                 copy alone, in arrays of its own (for reference; of_copy = 1).
//
// Row names: <op>/<impl>/<rows>x<cols>/threads:<t>/<hot|cold>, so --benchmark_filter='1x4096'
// picks the small single-row shape (CI's smoke run), '/cold' the DRAM rows, and so on.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
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
inline std::vector<std::size_t> copy_layout(long rows, long cols) {
  const std::size_t n = std::size_t(rows) * std::size_t(cols);
  return {n, n};
}

inline void fill_ones(std::size_t, float* const* a, std::size_t n) {
  std::fill(a[0], a[0] + n, 1.0f);
}
}  // namespace detail

/// What one call of a benchmark moves: `bytes` read + written, and the copy it alternates with:
/// rows × cols floats (row stride cols) from array copy_src of the row's sets to array copy_dst
/// (distinct arrays holding at least rows × cols floats; copy_src < 0: no copy, for the copy rows
/// themselves).
struct traffic {
  long rows = 0, cols = 0;
  int threads = 1;
  cache_state state = cache_state::hot;
  double bytes = 0;
  int copy_src = 0, copy_dst = 1;
};

/// Calls per timed chunk: enough that a chunk moves >= 4 MiB, so the two clock reads around it
/// weigh nothing even for a 32 KiB single row.
inline long calls_per_chunk(double bytes) noexcept {
  return std::clamp(long(std::ceil(double(4 << 20) / std::max(bytes, 1.0))), 1L, 4096L);
}

/// The timing loop of a memory-bound row (see the file comment): chunks of body() calls, each
/// followed by as many copies; the body's chunks are the row's manual time. Returns the row's
/// GB/s (0 when its calls took under 5 ms in all: Google Benchmark's iteration-count probes are not
/// measurements) and sets the counters "bytes" (rate), "copy_GBps", "of_copy" and "load".
template <class Body>
double run_bandwidth(benchmark::State& state, rotating_sets& sets, const traffic& t, Body&& body) {
  const bool with_copy = t.copy_src >= 0;
  if (with_copy && (t.copy_src == t.copy_dst || std::size_t(t.copy_src) >= sets.arrays() ||
                    std::size_t(t.copy_dst) >= sets.arrays())) {
    state.SkipWithError("memory_bound: the alternated copy needs two distinct arrays of the set");
    return 0.0;
  }
  const double copy_bytes = 2.0 * double(t.rows) * double(t.cols) * sizeof(float);
  const long chunk = calls_per_chunk(t.bytes);
  wait_for_quiet();  // only with FUSEDOPS_BENCH_QUIET_WAIT=<s> set (machine_peak.hpp)
  load_probe probe;
  double op_seconds = 0, copy_seconds = 0, copies = 0;
  while (state.KeepRunningBatch(chunk)) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < chunk; ++i) {
      body();
      benchmark::ClobberMemory();
      sets.next();
    }
    const double op = detail::seconds_since(t0);
    state.SetIterationTime(op);
    op_seconds += op;
    if (!with_copy) continue;
    const auto t1 = std::chrono::steady_clock::now();
    for (long i = 0; i < chunk; ++i) {
      copy_rows(sets.get(std::size_t(t.copy_src)), sets.get(std::size_t(t.copy_dst)), t.rows,
                t.cols, t.threads);
      benchmark::ClobberMemory();
      sets.next();
    }
    copy_seconds += detail::seconds_since(t1);
    copies += double(chunk);
  }
  const double gbps = t.bytes * double(state.iterations()) / std::max(op_seconds, 1e-12) * 1e-9;
  const double copy = with_copy ? copy_bytes * copies / std::max(copy_seconds, 1e-12) * 1e-9 : gbps;
  state.counters["bytes"] = benchmark::Counter(
      t.bytes, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
  state.counters["of_copy"] = gbps / copy;
  state.counters["copy_GBps"] = copy;
  state.counters["load"] = probe.foreign_cpus();
  return op_seconds >= 0.005 ? gbps : 0.0;  // 0: too short a loop to count as a measurement
}

/// Registers a row whose body runs run_bandwidth (manual time: its chunks of calls, in wall time).
template <class Fn>
benchmark::internal::Benchmark* register_bandwidth(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))->UseManualTime();
}

/// "<op>/<impl>/<rows>x<cols>/threads:<t>/<hot|cold>"
inline std::string row_name(const std::string& op, const std::string& impl, long rows, long cols,
                            int threads, cache_state st) {
  return op + "/" + impl + "/" + std::to_string(rows) + "x" + std::to_string(cols) +
         "/threads:" + std::to_string(threads) + "/" + name_of(st);
}

/// The copy row of a shape: "<op>/copy/<rows>x<cols>/threads:<t>/<hot|cold>", the copy alone in
/// arrays of its own.
inline void register_copy(const std::string& op, long rows, long cols, int threads,
                          cache_state st) {
  register_bandwidth(row_name(op, "copy", rows, cols, threads, st), [=](benchmark::State& state) {
    const std::size_t n = std::size_t(rows) * std::size_t(cols);
    rotating_sets& sets =
        shared_sets("copy", detail::copy_layout(rows, cols), st,
                    [n](std::size_t s, float* const* a) { detail::fill_ones(s, a, n); });
    traffic t{rows, cols, threads, st, 2.0 * double(n) * sizeof(float)};
    t.copy_src = -1;
    run_bandwidth(state, sets, t, [&] { copy_rows(sets.get(0), sets.get(1), rows, cols, threads); });
  });
}

}  // namespace fusedops_bench
