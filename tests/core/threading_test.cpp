// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Unit tests of fusedops::threading and parallel_for (serial, OpenMP, external policies).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/shape.hpp"
#include "fusedops/core/status.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"

namespace {

using fusedops::index_t;
using fusedops::parallel_executor;
using fusedops::parallel_for;
using fusedops::task_ref;
using fusedops::threading;

// An engine's pool in miniature: every run() starts `workers` std::threads that pull task indices
// from a shared counter, and joins them. It reports `offered` as its max_concurrency() (which may
// differ from `workers`, to test the capping). Safe to call from several threads at once.
class thread_executor final : public parallel_executor {
 public:
  thread_executor(int workers, int offered) : workers_(workers), offered_(offered) {}

  int max_concurrency() const noexcept override { return offered_; }

  void run(index_t n_tasks, task_ref task) noexcept override {
    runs_.fetch_add(1);
    last_n_tasks_.store(n_tasks);
    std::atomic<index_t> next{0};
    auto worker = [&] {
      for (index_t i = next.fetch_add(1); i < n_tasks; i = next.fetch_add(1)) task(i);
    };
    const index_t k = std::min<index_t>(workers_, n_tasks);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(k));
    for (index_t w = 0; w < k; ++w) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
  }

  int runs() const { return runs_.load(); }
  index_t last_n_tasks() const { return last_n_tasks_.load(); }

 private:
  int workers_;
  int offered_;
  std::atomic<int> runs_{0};
  std::atomic<index_t> last_n_tasks_{-1};
};

using chunk = std::pair<index_t, index_t>;

// What one parallel_for did: the chunks it ran (sorted), how often each index was visited and on
// how many distinct threads.
struct loop_record {
  std::vector<chunk> chunks;
  std::vector<int> hits;
  std::size_t distinct_threads = 0;
  bool ran_on_caller = false;
};

loop_record record_loop(const threading& t, index_t n, index_t grain) {
  const std::size_t size = static_cast<std::size_t>(std::max<index_t>(n, 0));
  std::unique_ptr<std::atomic<int>[]> hits(new std::atomic<int>[size == 0 ? 1 : size]);
  for (std::size_t i = 0; i < size; ++i) hits[i].store(0);
  std::mutex m;
  loop_record r;
  std::set<std::thread::id> ids;
  const std::thread::id caller = std::this_thread::get_id();

  parallel_for(t, n, grain, [&](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
    std::lock_guard<std::mutex> lock(m);
    r.chunks.emplace_back(begin, end);
    ids.insert(std::this_thread::get_id());
    if (std::this_thread::get_id() == caller) r.ran_on_caller = true;
  });

  std::sort(r.chunks.begin(), r.chunks.end());
  r.hits.resize(size);
  for (std::size_t i = 0; i < size; ++i) r.hits[i] = hits[i].load();
  r.distinct_threads = ids.size();
  return r;
}

// Checks the contract of parallel_for on one run: every index exactly once, the chunks are a
// partition of [0, n) into non-empty contiguous ranges, at most concurrency() of them, and, when
// the loop is split, none smaller than the grain.
void check_loop(const threading& t, index_t n, index_t grain) {
  CAPTURE(n);
  CAPTURE(grain);
  CAPTURE(t.concurrency());
  const loop_record r = record_loop(t, n, grain);

  bool each_once = true;
  for (int h : r.hits) each_once = each_once && h == 1;
  CHECK(each_once);

  if (n <= 0) {
    CHECK(r.chunks.empty());
    return;
  }
  REQUIRE_FALSE(r.chunks.empty());
  CHECK(r.chunks.front().first == 0);
  CHECK(r.chunks.back().second == n);
  bool partition = true, non_empty = true, at_least_grain = true;
  for (std::size_t c = 0; c < r.chunks.size(); ++c) {
    non_empty = non_empty && r.chunks[c].first < r.chunks[c].second;
    if (c > 0) partition = partition && r.chunks[c - 1].second == r.chunks[c].first;
    at_least_grain =
        at_least_grain && r.chunks[c].second - r.chunks[c].first >= std::max<index_t>(grain, 1);
  }
  CHECK(partition);
  CHECK(non_empty);
  CHECK(r.chunks.size() <= static_cast<std::size_t>(t.concurrency()));
  if (r.chunks.size() > 1) CHECK(at_least_grain);
  // A loop no longer than the grain stays in one piece.
  if (n <= grain) CHECK(r.chunks.size() == 1);
  CHECK(r.distinct_threads <= r.chunks.size());
}

const index_t sizes[] = {0, 1, 2, 3, 17, 1000};
const index_t grains[] = {0, 1, 2, 7, 16, 64, 999, 1000, 5000};

}  // namespace

TEST_CASE("threading: policies and concurrency()") {
  static_assert(std::is_trivially_copyable_v<threading>, "threading is passed by value");

  const threading def;
  CHECK(def.policy() == threading::kind::serial);
  CHECK(def.concurrency() == 1);
  CHECK(def.executor() == nullptr);

  CHECK(threading::serial().policy() == threading::kind::serial);
  CHECK(threading::serial().concurrency() == 1);

  CHECK(threading::openmp(1).policy() == threading::kind::openmp);
  CHECK(threading::openmp(1).concurrency() == 1);
#if FUSEDOPS_HAS_OPENMP
  CHECK(threading::openmp(2).concurrency() == 2);
  CHECK(threading::openmp(7).concurrency() == 7);
  CHECK(threading::openmp(0).concurrency() == std::max(1, omp_get_max_threads()));
  CHECK(threading::openmp(-4).concurrency() == std::max(1, omp_get_max_threads()));
  CHECK(threading::openmp().concurrency() == std::max(1, omp_get_max_threads()));
#else
  CHECK(threading::openmp(2).concurrency() == 1);
  CHECK(threading::openmp(7).concurrency() == 1);
  CHECK(threading::openmp(0).concurrency() == 1);
  CHECK(threading::openmp().concurrency() == 1);
#endif

  thread_executor eight(2, 8);
  const threading ext = threading::external(eight);
  CHECK(ext.policy() == threading::kind::external);
  CHECK(ext.executor() == &eight);
  CHECK(ext.concurrency() == 8);  // all it offers
  CHECK(threading::external(eight, 0).concurrency() == 8);
  CHECK(threading::external(eight, 3).concurrency() == 3);  // capped by the request
  CHECK(threading::external(eight, 8).concurrency() == 8);
  CHECK(threading::external(eight, 20).concurrency() == 8);  // capped by the executor
  CHECK(threading::external(eight, -1).concurrency() == 8);  // negative means "all"

  thread_executor none(2, 0);
  thread_executor negative(2, -3);
  CHECK(threading::external(none).concurrency() == 1);  // never below 1
  CHECK(threading::external(none, 4).concurrency() == 1);
  CHECK(threading::external(negative, 4).concurrency() == 1);
}

TEST_CASE("threading: task_ref calls the referenced callable") {
  std::vector<index_t> seen;
  auto f = [&](index_t i) { seen.push_back(i * 10); };
  const task_ref ref(f);
  ref(1);
  ref(4);
  CHECK(seen == std::vector<index_t>{10, 40});
  static_assert(sizeof(task_ref) == 2 * sizeof(void*), "two pointers, no allocation");
}

TEST_CASE("parallel_for: serial covers every index exactly once in one chunk on the caller") {
  for (index_t n : sizes)
    for (index_t g : grains) {
      check_loop(threading::serial(), n, g);
      const loop_record r = record_loop(threading::serial(), n, g);
      if (n > 0) {
        CHECK(r.chunks == std::vector<chunk>{{0, n}});
        CHECK(r.ran_on_caller);
      }
    }
}

TEST_CASE("parallel_for: openmp(1) and openmp(2) cover every index exactly once") {
  for (index_t n : sizes)
    for (index_t g : grains) {
      check_loop(threading::openmp(1), n, g);
      check_loop(threading::openmp(2), n, g);
      check_loop(threading::openmp(), n, g);
    }
  // openmp(1) never splits.
  CHECK(record_loop(threading::openmp(1), 1000, 1).chunks == std::vector<chunk>{{0, 1000}});

#if FUSEDOPS_HAS_OPENMP
  // Two balanced chunks; on two threads when OpenMP is free to give them.
  const loop_record r = record_loop(threading::openmp(2), 1000, 1);
  CHECK(r.chunks == std::vector<chunk>{{0, 500}, {500, 1000}});
  if (!omp_get_dynamic() && omp_get_thread_limit() >= 2) CHECK(r.distinct_threads == 2);
  // More requested threads than the loop has grains: the grain wins.
  CHECK(record_loop(threading::openmp(8), 100, 40).chunks.size() == 2);
#else
  CHECK(record_loop(threading::openmp(2), 1000, 1).chunks == std::vector<chunk>{{0, 1000}});
#endif
}

TEST_CASE("parallel_for: an external executor runs the chunks as tasks") {
  thread_executor two(2, 2);
  for (index_t n : sizes)
    for (index_t g : grains) check_loop(threading::external(two), n, g);

  thread_executor four_of_eight(4, 8);
  for (index_t n : sizes)
    for (index_t g : grains) {
      check_loop(threading::external(four_of_eight), n, g);
      check_loop(threading::external(four_of_eight, 3), n, g);
    }

  SUBCASE("a split loop goes through run() once, with one task per chunk, off the caller") {
    thread_executor ex(2, 2);
    const loop_record r = record_loop(threading::external(ex), 1000, 1);
    CHECK(ex.runs() == 1);
    CHECK(ex.last_n_tasks() == 2);
    CHECK(r.chunks == std::vector<chunk>{{0, 500}, {500, 1000}});
    CHECK_FALSE(r.ran_on_caller);
    CHECK(r.distinct_threads >= 1);

    thread_executor wide(3, 8);
    const loop_record w = record_loop(threading::external(wide, 5), 1000, 10);
    CHECK(wide.runs() == 1);
    CHECK(wide.last_n_tasks() == 5);
    CHECK(w.chunks.size() == 5);
  }
  SUBCASE("a loop that fits in one grain stays on the caller and never reaches the executor") {
    thread_executor ex(2, 2);
    const loop_record r = record_loop(threading::external(ex), 17, 64);
    CHECK(ex.runs() == 0);
    CHECK(r.ran_on_caller);
    CHECK(r.chunks == std::vector<chunk>{{0, 17}});
    // Nor does an empty loop.
    (void)record_loop(threading::external(ex), 0, 1);
    CHECK(ex.runs() == 0);
  }
  SUBCASE("an executor offering no concurrency runs everything serially") {
    thread_executor none(2, 0);
    const loop_record r = record_loop(threading::external(none), 1000, 1);
    CHECK(none.runs() == 0);
    CHECK(r.chunks == std::vector<chunk>{{0, 1000}});
  }
}

TEST_CASE("parallel_for: chunk boundaries are reproducible") {
  thread_executor ex2(2, 2);
  thread_executor ex3(3, 3);
  const threading policies[] = {threading::serial(),      threading::openmp(1),
                                threading::openmp(2),     threading::external(ex2),
                                threading::external(ex3), threading::external(ex3, 2)};
  for (const threading& t : policies)
    for (index_t n : sizes)
      for (index_t g : grains) {
        CAPTURE(n);
        CAPTURE(g);
        CAPTURE(t.concurrency());
        const auto first = record_loop(t, n, g).chunks;
        const auto second = record_loop(t, n, g).chunks;
        CHECK(first == second);
      }

  // They depend only on n, the grain and concurrency(), not on the policy kind.
  const threading omp2 = threading::openmp(2);
  thread_executor same(2, omp2.concurrency());
  for (index_t n : sizes)
    for (index_t g : grains) {
      CAPTURE(n);
      CAPTURE(g);
      CHECK(record_loop(omp2, n, g).chunks == record_loop(threading::external(same), n, g).chunks);
      CHECK(record_loop(threading::external(ex3, 2), n, g).chunks ==
            record_loop(threading::external(ex2), n, g).chunks);
    }

  // Known boundaries for three chunks.
  CHECK(record_loop(threading::external(ex3), 17, 1).chunks ==
        std::vector<chunk>{{0, 5}, {5, 11}, {11, 17}});
  CHECK(record_loop(threading::external(ex3), 3, 1).chunks ==
        std::vector<chunk>{{0, 1}, {1, 2}, {2, 3}});
}

TEST_CASE("parallel_for: the grain keeps chunks at least min_grain long") {
  // With 2 workers and n just above the grain, splitting would make chunks shorter than the grain.
  thread_executor ex(2, 2);
  const loop_record r = record_loop(threading::external(ex), 17, 10);
  CHECK(r.chunks == std::vector<chunk>{{0, 17}});
  CHECK(ex.runs() == 0);
  // Twice the grain is enough to split.
  const loop_record s = record_loop(threading::external(ex), 20, 10);
  CHECK(s.chunks == std::vector<chunk>{{0, 10}, {10, 20}});
  const loop_record u = record_loop(threading::external(ex), 1000, 300);
  CHECK(u.chunks == std::vector<chunk>{{0, 500}, {500, 1000}});
}

TEST_CASE("parallel_for: several application threads can call the library at once") {
  constexpr int n_threads = 5;
  constexpr int rounds = 25;
  constexpr index_t n = 1000;
  thread_executor shared_pool(2, 2);  // one engine pool used by two callers (ids 3 and 4) at once
  std::vector<int> failures(n_threads, 0);
  std::vector<std::string> messages(n_threads);

  auto client = [&](int id) {
    thread_executor own(2, 2);
    const threading policy = id == 0   ? threading::serial()
                             : id == 1 ? threading::openmp(2)
                             : id == 2 ? threading::external(own)
                                       : threading::external(shared_pool);
    std::vector<float> in(static_cast<std::size_t>(n)), out(static_cast<std::size_t>(n));
    for (int round = 0; round < rounds; ++round) {
      for (index_t i = 0; i < n; ++i)
        in[static_cast<std::size_t>(i)] = static_cast<float>(i + round + 1000 * id);
      parallel_for(policy, n, 16, [&](index_t begin, index_t end) {
        for (index_t i = begin; i < end; ++i)
          out[static_cast<std::size_t>(i)] = 2.0f * in[static_cast<std::size_t>(i)];
      });
      for (index_t i = 0; i < n; ++i)
        if (out[static_cast<std::size_t>(i)] != 2.0f * static_cast<float>(i + round + 1000 * id))
          ++failures[static_cast<std::size_t>(id)];
      // Checks and status messages are per-call values: no shared state between threads.
      const auto bad = fusedops::make_view(out.data(), {10, 100}, {0, 1});
      const fusedops::status s = fusedops::checks::output("op", id % 2 ? "odd" : "even", bad);
      const std::string msg = s.message();
      if (s.ok() || msg.find(id % 2 ? "'odd'" : "'even'") == std::string::npos)
        ++failures[static_cast<std::size_t>(id)];
      messages[static_cast<std::size_t>(id)] = msg;
    }
  };

  std::vector<std::thread> threads;
  for (int id = 0; id < n_threads; ++id) threads.emplace_back(client, id);
  for (std::thread& t : threads) t.join();

  for (int id = 0; id < n_threads; ++id) {
    CAPTURE(id);
    CHECK(failures[static_cast<std::size_t>(id)] == 0);
    CHECK(messages[static_cast<std::size_t>(id)].find(id % 2 ? "'odd'" : "'even'") !=
          std::string::npos);
  }
  CHECK(shared_pool.runs() == 2 * rounds);
}
