// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The fusedops demo: runs the fused bias + activation operator on every backend this binary was
// compiled with (best first), checks each against the double-precision oracle, times it with 1
// and 2 threads and prints a table. Run with --help for the options.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fusedops/fusedops.hpp>
#include <fusedops/reference/bias_activation.hpp>

namespace {

struct options {
  long rows = 4096;
  long cols = 768;
  int repetitions = 9;
  unsigned seed = 0;  // 0: a fresh random seed
};

// Pass/fail rule for every output: |y - ref| <= 1e-6 * (1 + |ref|), i.e. 1e-6 relative plus
// 1e-6 absolute. The "max err" column prints max |y - ref| / (1 + |ref|) so it compares to 1e-6.
constexpr double tolerance = 1e-6;

void print_help(const char* program) {
  std::printf(
      "Usage: %s [options]\n"
      "Runs fusedops::bias_activation (y = act(x + bias), act = gelu_tanh, relu, silu) on every\n"
      "backend compiled into this binary, checks it against the double-precision reference and\n"
      "times it (median of the repetitions) with 1 and, when built with OpenMP, 2 threads.\n"
      "\n"
      "Options:\n"
      "  --rows N     rows of x (default 4096)\n"
      "  --cols N     columns of x and length of bias (default 768)\n"
      "  --reps N     timed repetitions per row of the table (default 9)\n"
      "  --seed N     seed of the random data (default: a fresh one, printed)\n"
      "  --small      quick run for CI: 256 x 200, 3 repetitions\n"
      "  --help       this text\n"
      "\n"
      "Columns: time is the median of the repetitions; GB/s counts x and bias read plus y "
      "written;\n"
      "max err is max |y - ref| / (1 + |ref|) (relative error, absolute near 0), must be <= %.0e;\n"
      "speed-up is the generic backend's time divided by this row's time.\n"
      "Exit status: 0 if every backend is within tolerance, 1 otherwise or on a usage error.\n",
      program, tolerance);
}

// Parses a positive integer option value; false (with a message) on anything else.
bool parse_positive(const char* option, const char* text, long max, long& out) {
  char* end = nullptr;
  errno = 0;
  const long v = text ? std::strtol(text, &end, 10) : 0;
  if (!text || *end != '\0' || errno != 0 || v <= 0 || v > max) {
    std::fprintf(stderr, "error: %s needs an integer in [1, %ld], got '%s'\n", option, max,
                 text ? text : "");
    return false;
  }
  out = v;
  return true;
}

bool parse_args(int argc, char** argv, options& opt, bool& help) {
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    long v = 0;
    if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      help = true;
    } else if (std::strcmp(arg, "--small") == 0) {
      opt.rows = 256, opt.cols = 200, opt.repetitions = 3;
    } else if (std::strcmp(arg, "--rows") == 0) {
      if (!parse_positive(arg, value, 1L << 20, v)) return false;
      opt.rows = v, ++i;
    } else if (std::strcmp(arg, "--cols") == 0) {
      if (!parse_positive(arg, value, 1L << 20, v)) return false;
      opt.cols = v, ++i;
    } else if (std::strcmp(arg, "--reps") == 0) {
      if (!parse_positive(arg, value, 1000, v)) return false;
      opt.repetitions = static_cast<int>(v), ++i;
    } else if (std::strcmp(arg, "--seed") == 0) {
      if (!parse_positive(arg, value, std::numeric_limits<unsigned>::max(), v)) return false;
      opt.seed = static_cast<unsigned>(v), ++i;
    } else {
      std::fprintf(stderr, "error: unknown option '%s' (try --help)\n", arg);
      return false;
    }
  }
  if (opt.rows * opt.cols > (1L << 28)) {
    std::fprintf(stderr, "error: %ld x %ld is too large for a demo\n", opt.rows, opt.cols);
    return false;
  }
  return true;
}

// One line of the final table.
struct result {
  const char* backend;
  const char* activation;
  int threads;
  double seconds;  // median
  double max_err;
};

double max_error(const fusedops::aligned_buffer<float>& y, const std::vector<double>& ref) {
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double e = std::fabs(static_cast<double>(y[i]) - ref[i]) / (1.0 + std::fabs(ref[i]));
    if (!(e <= worst)) worst = e;  // also catches NaN
  }
  return worst;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fusedops;

  options opt;
  bool help = false;
  if (!parse_args(argc, argv, opt, help)) return 1;
  if (help) {
    print_help(argv[0]);
    return 0;
  }
  if (opt.seed == 0) opt.seed = std::random_device{}() | 1u;

  // Inputs: x in [-3, 3] (where GELU and SiLU bend), bias in [-1, 1]. Fresh data every run.
  const std::size_t n = static_cast<std::size_t>(opt.rows * opt.cols);
  aligned_buffer<float> x_buf, bias_buf, y_buf;
  for (status s : {x_buf.allocate(n), bias_buf.allocate(static_cast<std::size_t>(opt.cols)),
                   y_buf.allocate(n)}) {
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.message());
      return 1;
    }
  }
  std::mt19937 gen(opt.seed);
  std::uniform_real_distribution<float> x_dist(-3.f, 3.f), bias_dist(-1.f, 1.f);
  for (float& v : x_buf) v = x_dist(gen);
  for (float& v : bias_buf) v = bias_dist(gen);

  const view<const float, 2> x = make_view<const float>(x_buf.data(), {opt.rows, opt.cols});
  const view<const float, 1> bias = make_view<const float>(bias_buf.data(), {opt.cols});
  const view<float, 2> y = y_buf.as_view({opt.rows, opt.cols});
  const double bytes =
      (2.0 * static_cast<double>(n) + static_cast<double>(opt.cols)) * sizeof(float);

  std::vector<int> thread_counts = {1};
  if (FUSEDOPS_HAS_OPENMP) thread_counts.push_back(2);

  std::printf(
      "fusedops %d.%d.%d demo: y = act(x + bias), x %ld x %ld fp32, seed %u, %d repetitions\n",
      version_major, version_minor, version_patch, opt.rows, opt.cols, opt.seed, opt.repetitions);
  std::printf("backends compiled in (best first):");
  for_each_type(compiled_backends{}, [](auto tag) { std::printf(" %s", decltype(tag)::name); });
  std::printf("%s\n\n", FUSEDOPS_HAS_OPENMP ? "" : "   (no OpenMP: 1 thread only)");

  std::vector<result> results;
  std::vector<float> first_values;  // first outputs of the best backend, gelu_tanh, 1 thread
  std::vector<double> first_refs;
  bool failed = false;

  auto run_activation = [&](auto act) {
    using Act = decltype(act);
    const std::vector<double> ref = reference::bias_activation(x, bias, act);
    if (first_refs.empty())
      first_refs.assign(ref.begin(), ref.begin() + std::min<long>(6, opt.cols));

    for_each_type(compiled_backends{}, [&](auto tag) {
      using B = decltype(tag);
      for (int threads : thread_counts) {
        const threading policy = threads == 1 ? threading::serial() : threading::openmp(threads);
        // Checked run (also the warm-up): y starts as NaN so a no-op would fail.
        std::fill(y_buf.begin(), y_buf.end(), std::numeric_limits<float>::quiet_NaN());
        const status s = bias_activation<B>(x, bias, y, act, policy);
        if (!s.ok()) {
          std::fprintf(stderr, "error: %s/%s: %s\n", B::name, Act::name, s.message());
          failed = true;
          return;
        }
        const double err = max_error(y_buf, ref);
        if (!(err <= tolerance)) failed = true;
        if (first_values.empty())
          first_values.assign(y_buf.begin(), y_buf.begin() + first_refs.size());

        std::vector<double> times;
        for (int r = 0; r < opt.repetitions; ++r) {
          const auto start = std::chrono::steady_clock::now();
          const status t = bias_activation<B>(x, bias, y, act, policy);
          times.push_back(seconds_since(start));
          if (!t.ok()) {
            std::fprintf(stderr, "error: %s/%s: %s\n", B::name, Act::name, t.message());
            failed = true;
            return;
          }
        }
        std::sort(times.begin(), times.end());
        results.push_back({B::name, Act::name, threads, times[times.size() / 2], err});
      }
    });
  };
  run_activation(act::gelu_tanh{});
  run_activation(act::relu{});
  run_activation(act::silu{});

  std::printf("%-8s %-10s %7s %11s %8s %10s %10s\n", "backend", "activation", "threads",
              "time (ms)", "GB/s", "max err", "speed-up");
  for (const result& r : results) {
    double generic_seconds = 0;
    for (const result& g : results)
      if (std::strcmp(g.backend, backend::generic::name) == 0 &&
          std::strcmp(g.activation, r.activation) == 0 && g.threads == r.threads)
        generic_seconds = g.seconds;
    std::printf("%-8s %-10s %7d %11.3f %8.2f %10.2e %9.2fx%s\n", r.backend, r.activation, r.threads,
                r.seconds * 1e3, bytes / r.seconds * 1e-9, r.max_err, generic_seconds / r.seconds,
                r.max_err <= tolerance ? "" : "  <-- above tolerance");
  }

  std::printf("\nfirst outputs (%s, gelu_tanh): ", front_t<compiled_backends>::name);
  for (std::size_t j = 0; j < first_values.size(); ++j)
    std::printf("%s%.6f", j ? ", " : "", static_cast<double>(first_values[j]));
  std::printf("\nreference (double):           ");
  for (std::size_t j = 0; j < first_refs.size(); ++j)
    std::printf("%s%.6f", j ? ", " : "", first_refs[j]);
  std::printf("\n\n%s\n", failed ? "FAILED: a backend exceeds the tolerance or reported an error"
                                 : "OK: every backend matches the reference within 1e-6");
  return failed ? 1 : 0;
}
