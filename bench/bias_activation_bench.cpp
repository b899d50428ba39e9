// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// bias + GELU(tanh) side by side in one binary, same flags for everyone:
//   bias_gelu/fusedops/<backend>/...   fusedops::bias_activation on each compiled backend
//   bias_gelu/two_pass/native/...      the straightforward loop: add bias, then std::tanh GELU
//   bias_gelu/eigen/native/...         one Eigen array expression, x.rowwise() + b inside
//   bias_gelu/eigen_per_row/native/... the same expression per row (which Eigen vectorises)
//   bias_gelu/memcpy/native/...        a copy of the same size: the memory roofline
// Every implementation reports the counter "bytes" = the same logical traffic (x and bias read,
// y written) per second, decimal units: the "G/s" shown is GB/s, so implementations compare
// directly, and fusedops / memcpy of the same shape and threads is the fraction of the roofline.
// Before registering anything, every implementation is checked against a double reference.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include <fusedops/fusedops.hpp>

namespace {

constexpr float k_sqrt_2_over_pi = 0.79788456080286535588f;
constexpr float k_cubic = 0.044715f;

// One problem: x [rows, cols], bias [cols], y [rows, cols], 64-byte aligned.
struct problem {
  long rows = 0, cols = 0;
  fusedops::aligned_buffer<float> x, bias, y;

  double bytes() const {
    return (2.0 * double(rows) * double(cols) + double(cols)) * sizeof(float);
  }
  fusedops::view<const float, 2> xv() const {
    return fusedops::make_view<const float>(x.data(), {rows, cols});
  }
  fusedops::view<const float, 1> bv() const {
    return fusedops::make_view<const float>(bias.data(), {cols});
  }
  fusedops::view<float, 2> yv() { return y.as_view({rows, cols}); }
};

// The benchmarks' way of handling a fusedops error: print it and exit 1.
void check(const fusedops::status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "fusedops error: %s\n", s.message());
  std::exit(1);
}

std::unique_ptr<problem> make_problem(long rows, long cols, unsigned seed) {
  auto p = std::make_unique<problem>();
  p->rows = rows, p->cols = cols;
  const auto n = static_cast<std::size_t>(rows * cols);
  check(p->x.allocate(n));
  check(p->bias.allocate(static_cast<std::size_t>(cols)));
  check(p->y.allocate(n));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-3.f, 3.f);
  for (float& v : p->x) v = dist(gen);
  for (float& v : p->bias) v = dist(gen) / 3;
  return p;
}

// --- the peers -----------------------------------------------------------------------------------

// What one writes without a fusion library: one pass for the bias, one for the activation.
void two_pass(const problem& p, float* y) {
  const float* x = p.x.data();
  const float* b = p.bias.data();
  for (long r = 0; r < p.rows; ++r)
    for (long j = 0; j < p.cols; ++j) y[r * p.cols + j] = x[r * p.cols + j] + b[j];
  const long n = p.rows * p.cols;
  for (long i = 0; i < n; ++i) {
    const float v = y[i];
    y[i] = 0.5f * v * (1.f + std::tanh(k_sqrt_2_over_pi * (v + k_cubic * v * v * v)));
  }
}

// Eigen: one lazily evaluated array expression, so also a single pass over memory.
void eigen_expr(const problem& p, float* y) {
  using rows_t = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using row_t = Eigen::Array<float, 1, Eigen::Dynamic>;
  const Eigen::Map<const rows_t> X(p.x.data(), p.rows, p.cols);
  const Eigen::Map<const row_t> b(p.bias.data(), p.cols);
  Eigen::Map<rows_t> Y(y, p.rows, p.cols);
  const auto z = X.rowwise() + b;
  Y = 0.5f * z * (1.f + (k_sqrt_2_over_pi * (z + k_cubic * z.cube())).tanh());
}

// The same expression one row at a time. Eigen 3.4's rowwise broadcast (a Replicate) has no packet
// access, so the whole expression above runs scalar; per row, every operand is a plain array and
// Eigen vectorises it, tanh included.
void eigen_per_row(const problem& p, float* y) {
  using row_t = Eigen::Array<float, 1, Eigen::Dynamic>;
  const Eigen::Map<const row_t> b(p.bias.data(), p.cols);
  for (long r = 0; r < p.rows; ++r) {
    const Eigen::Map<const row_t> x(p.x.data() + r * p.cols, p.cols);
    Eigen::Map<row_t> out(y + r * p.cols, p.cols);
    const auto z = x + b;
    out = 0.5f * z * (1.f + (k_sqrt_2_over_pi * (z + k_cubic * z.cube())).tanh());
  }
}

// The roofline: the same bytes moved without arithmetic, one memcpy per row like the kernels'
// row loop (a single large memcpy switches glibc to non-temporal stores, which would measure a
// different memory path than the kernels' ordinary stores). Rows are split in halves for 2 threads.
void copy(const problem& p, float* y, int threads) {
  auto copy_rows = [&](long begin, long end) {
    for (long r = begin; r < end; ++r)
      std::memcpy(y + r * p.cols, p.x.data() + r * p.cols, std::size_t(p.cols) * sizeof(float));
  };
#if FUSEDOPS_HAS_OPENMP
  if (threads > 1 && p.rows >= threads) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) copy_rows(p.rows * t / threads, p.rows * (t + 1) / threads);
    return;
  }
#endif
  (void)threads;
  copy_rows(0, p.rows);
}

fusedops::threading policy(int threads) {
  return threads == 1 ? fusedops::threading::serial() : fusedops::threading::openmp(threads);
}

// --- correctness, once, before timing ------------------------------------------------------------

double max_error(const problem& p, const float* y) {
  double worst = 0;
  const long n = p.rows * p.cols;
  for (long i = 0; i < n; ++i) {
    const double v = double(p.x[std::size_t(i)]) + double(p.bias[std::size_t(i % p.cols)]);
    const double want =
        0.5 * v * (1 + std::tanh(0.79788456080286535588 * (v + 0.044715 * v * v * v)));
    const double e = std::fabs(double(y[i]) - want) / (1 + std::fabs(want));
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

// Every implementation on an odd shape (tails included). fusedops must meet its 1e-6 contract;
// the peers only need to be plainly right (Eigen's fast tanh is less accurate).
bool self_check() {
  auto p = make_problem(37, 1000, 7);
  bool ok = true;
  auto report = [&](const std::string& name, double err, double limit) {
    std::printf("self-check %-24s max err %.2e%s\n", name.c_str(), err,
                err <= limit ? "" : "  FAILED");
    ok = ok && err <= limit;
  };
  fusedops::for_each_type(fusedops::compiled_backends{}, [&](auto tag) {
    using B = decltype(tag);
    std::fill(p->y.begin(), p->y.end(), 0.f);
    check(fusedops::bias_activation<B>(p->xv(), p->bv(), p->yv(), fusedops::act::gelu_tanh{},
                                       policy(2)));
    report(std::string("fusedops/") + B::name, max_error(*p, p->y.data()), 1e-6);
  });
  two_pass(*p, p->y.data());
  report("two_pass", max_error(*p, p->y.data()), 1e-6);
  eigen_expr(*p, p->y.data());
  report("eigen", max_error(*p, p->y.data()), 1e-5);
  eigen_per_row(*p, p->y.data());
  report("eigen_per_row", max_error(*p, p->y.data()), 1e-5);
  return ok;
}

// --- registration --------------------------------------------------------------------------------

void set_bytes(benchmark::State& state, const problem& p) {
  state.counters["bytes"] = benchmark::Counter(
      p.bytes(), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
}

std::string name_of(const char* impl, const char* backend, const problem& p, int threads) {
  return std::string("bias_gelu/") + impl + "/" + backend + "/" + std::to_string(p.rows) + "x" +
         std::to_string(p.cols) + "/threads:" + std::to_string(threads);
}

template <class F>
void add(const std::string& name, problem& p, F run) {
  benchmark::RegisterBenchmark(name.c_str(), [&p, run](benchmark::State& state) {
    for (auto _ : state) {
      run();
      benchmark::DoNotOptimize(p.y.data());
      benchmark::ClobberMemory();
    }
    set_bytes(state, p);
  })->UseRealTime();  // OpenMP workers are not the timing thread: wall time is what counts
}

void register_all(problem& p) {
  std::vector<int> thread_counts = {1};
  if (FUSEDOPS_HAS_OPENMP) thread_counts.push_back(2);

  for (int threads : thread_counts) {
    fusedops::for_each_type(fusedops::compiled_backends{}, [&](auto tag) {
      using B = decltype(tag);
      add(name_of("fusedops", B::name, p, threads), p, [&p, threads] {
        check(fusedops::bias_activation<B>(p.xv(), p.bv(), p.yv(), fusedops::act::gelu_tanh{},
                                           policy(threads)));
      });
    });
    add(name_of("memcpy", "native", p, threads), p,
        [&p, threads] { copy(p, p.y.data(), threads); });
  }
  add(name_of("two_pass", "native", p, 1), p, [&p] { two_pass(p, p.y.data()); });
  add(name_of("eigen", "native", p, 1), p, [&p] { eigen_expr(p, p.y.data()); });
  add(name_of("eigen_per_row", "native", p, 1), p, [&p] { eigen_per_row(p, p.y.data()); });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!self_check()) {
    std::fprintf(stderr, "self-check failed: not timing wrong code\n");
    return 1;
  }

  std::vector<std::unique_ptr<problem>> problems;
  unsigned seed = 1;
  for (auto [rows, cols] : {std::pair<long, long>{4096, 768}, {512, 4096}, {1, 4096}}) {
    problems.push_back(make_problem(rows, cols, seed++));
    register_all(*problems.back());
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
