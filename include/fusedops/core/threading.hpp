// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. Threading is a per-call policy the caller picks; the library owns no threads.
//   threading::serial()               the default: run on the calling thread
//   threading::openmp(n)              an OpenMP parallel region of n threads (n = 0: OpenMP's default)
//   threading::external(executor, n)  the embedding engine's own pool, through parallel_executor
// Engines such as ONNX Runtime or ncnn own their threads; handing them in avoids oversubscription
// and OpenMP spin-waiting. Without OpenMP (no -fopenmp) the openmp policy runs serially, and
// concurrency() reports 1, so the library builds and behaves the same with and without it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "fusedops/config/detect.hpp"
#include "fusedops/core/shape.hpp"

#if FUSEDOPS_HAS_OPENMP
#include <omp.h>
#endif

namespace fusedops {

/// Non-owning reference to a callable `void(index_t task)`. Two pointers; never allocates.
class task_ref {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, task_ref>>>
  task_ref(F& f) noexcept  // NOLINT(google-explicit-constructor): used like std::function_ref
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, index_t t) { (*static_cast<F*>(o))(t); }) {}
  void operator()(index_t task) const { call_(object_, task); }

 private:
  void* object_;
  void (*call_)(void*, index_t);
};

/// What an engine implements to lend its thread pool to fusedops.
class parallel_executor {
 public:
  virtual ~parallel_executor() = default;
  /// Threads that may run tasks at the same time (>= 1).
  virtual int max_concurrency() const noexcept = 0;
  /// Runs task(i) exactly once for every i in [0, n_tasks), in any order and possibly
  /// concurrently, and returns when all have finished. Tasks never throw.
  virtual void run(index_t n_tasks, task_ref task) noexcept = 0;
};

/// Per-call threading policy. Small and trivially copyable: pass by value.
class threading {
 public:
  enum class kind { serial, openmp, external };

  /// Run on the calling thread only.
  static constexpr threading serial() noexcept { return threading(kind::serial, 1, nullptr); }
  /// OpenMP parallel region with `threads` threads (0: omp_get_max_threads()).
  static constexpr threading openmp(int threads = 0) noexcept {
    return threading(kind::openmp, threads, nullptr);
  }
  /// The caller's executor, using at most `threads` of its threads (0: all it offers).
  static constexpr threading external(parallel_executor& executor, int threads = 0) noexcept {
    return threading(kind::external, threads, &executor);
  }

  constexpr threading() noexcept = default;
  constexpr kind policy() const noexcept { return kind_; }
  parallel_executor* executor() const noexcept { return executor_; }

  /// Number of threads a parallel loop under this policy will actually use (>= 1).
  int concurrency() const noexcept {
    switch (kind_) {
      case kind::serial: return 1;
      case kind::openmp:
#if FUSEDOPS_HAS_OPENMP
        return requested_ > 0 ? requested_ : std::max(1, omp_get_max_threads());
#else
        return 1;
#endif
      case kind::external: {
        const int offered = std::max(1, executor_->max_concurrency());
        return requested_ > 0 ? std::min(requested_, offered) : offered;
      }
    }
    return 1;
  }

 private:
  constexpr threading(kind k, int requested, parallel_executor* ex) noexcept
      : kind_(k), requested_(requested < 0 ? 0 : requested), executor_(ex) {}

  kind kind_ = kind::serial;
  int requested_ = 1;
  parallel_executor* executor_ = nullptr;
};

/// Splits [0, n) into contiguous chunks of at least `min_grain` items (the cost of one item is
/// what the caller knows; the grain keeps tiny loops serial) and runs body(begin, end) on each,
/// under policy `t`. Every index is covered exactly once. Chunk boundaries depend only on n,
/// min_grain and t.concurrency(), so results are reproducible for a given thread count.
template <class Body>
void parallel_for(const threading& t, index_t n, index_t min_grain, Body&& body) {
  if (n <= 0) return;
  const index_t grain = std::max<index_t>(1, min_grain);
  const index_t max_chunks = std::max<index_t>(1, n / grain);  // so every chunk has >= grain items
  const index_t chunks = std::min<index_t>(t.concurrency(), max_chunks);
  if (chunks <= 1) {
    body(index_t{0}, n);
    return;
  }
  auto run_chunk = [&](index_t c) {
    const index_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    if (begin < end) body(begin, end);
  };
  switch (t.policy()) {
    case threading::kind::openmp:
#if FUSEDOPS_HAS_OPENMP
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static, 1)
      for (index_t c = 0; c < chunks; ++c) run_chunk(c);
      return;
#endif
    case threading::kind::serial:
      for (index_t c = 0; c < chunks; ++c) run_chunk(c);
      return;
    case threading::kind::external:
      t.executor()->run(chunks, task_ref(run_chunk));
      return;
  }
}

}  // namespace fusedops
