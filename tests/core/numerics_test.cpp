// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Unit tests of the numerics policy: NaN-propagating max/min and the scoped denormal_guard.
#include <algorithm>
#include <cfenv>
#include <cfloat>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "fusedops/core/numerics.hpp"

namespace {

using fusedops::denormal_guard;
using fusedops::max_nan;
using fusedops::min_nan;

constexpr float inf = std::numeric_limits<float>::infinity();
const float qnan = std::numeric_limits<float>::quiet_NaN();

// FLT_MIN * 0.5f, computed at run time (the operands go through volatile so the compiler cannot
// fold the product at compile time, where the floating-point mode does not apply).
float half_of_flt_min() {
  volatile float a = FLT_MIN;
  volatile float b = 0.5f;
  volatile float r = a * b;
  return r;
}

// A denormal operand times one: zero when denormal inputs are treated as zero (DAZ).
float denormal_times_one() {
  volatile float d = FLT_MIN / 4.0f;  // constant-folded in the default mode: a denormal
  volatile float one = 1.0f;
  volatile float r = d * one;
  return r;
}

}  // namespace

TEST_CASE("max_nan / min_nan on ordinary values") {
  CHECK(max_nan(1.0f, 2.0f) == 2.0f);
  CHECK(max_nan(2.0f, 1.0f) == 2.0f);
  CHECK(min_nan(1.0f, 2.0f) == 1.0f);
  CHECK(min_nan(2.0f, 1.0f) == 1.0f);
  CHECK(max_nan(-3.5f, -3.25f) == -3.25f);
  CHECK(min_nan(-3.5f, -3.25f) == -3.5f);
  CHECK(max_nan(5.0f, 5.0f) == 5.0f);
  CHECK(max_nan(1.0, 2.0) == 2.0);
  CHECK(min_nan(1.0, 2.0) == 1.0);
  CHECK(max_nan(3, -7) == 3);
  CHECK(min_nan(3, -7) == -7);
  static_assert(max_nan(1.0f, 4.0f) == 4.0f, "usable in constant expressions");
  static_assert(min_nan(1.0f, 4.0f) == 1.0f, "usable in constant expressions");
}

TEST_CASE("max_nan / min_nan propagate NaN from either operand") {
  const float values[] = {0.0f, -0.0f, 1.0f, -1.0f, inf, -inf, FLT_MIN, FLT_MAX, -FLT_MAX};
  for (float v : values) {
    CAPTURE(v);
    CHECK(std::isnan(max_nan(qnan, v)));
    CHECK(std::isnan(max_nan(v, qnan)));
    CHECK(std::isnan(min_nan(qnan, v)));
    CHECK(std::isnan(min_nan(v, qnan)));
  }
  CHECK(std::isnan(max_nan(qnan, qnan)));
  CHECK(std::isnan(min_nan(qnan, qnan)));
  CHECK(std::isnan(max_nan(1.0, std::numeric_limits<double>::quiet_NaN())));
  CHECK(std::isnan(min_nan(std::numeric_limits<double>::quiet_NaN(), 1.0)));
  // A negative NaN (as produced by 0 * inf on x86) propagates too.
  CHECK(std::isnan(max_nan(1.0f, -qnan)));
  CHECK(std::isnan(min_nan(-qnan, 1.0f)));

  // Why the helpers exist: std::max(v, NaN) loses the NaN (the comparison is false).
  volatile float one = 1.0f;
  CHECK_FALSE(std::isnan(std::max(static_cast<float>(one), qnan)));
  CHECK(std::isnan(max_nan(static_cast<float>(one), qnan)));
}

TEST_CASE("max_nan / min_nan with infinities and signed zeros") {
  CHECK(max_nan(inf, -inf) == inf);
  CHECK(max_nan(-inf, inf) == inf);
  CHECK(min_nan(inf, -inf) == -inf);
  CHECK(min_nan(-inf, inf) == -inf);
  CHECK(max_nan(-inf, 1.0f) == 1.0f);
  CHECK(max_nan(1.0f, inf) == inf);
  CHECK(min_nan(inf, 1.0f) == 1.0f);
  CHECK(min_nan(1.0f, -inf) == -inf);
  CHECK(max_nan(-inf, -FLT_MAX) == -FLT_MAX);
  CHECK(min_nan(inf, FLT_MAX) == FLT_MAX);
  CHECK(max_nan(inf, inf) == inf);
  CHECK(min_nan(-inf, -inf) == -inf);

  // Zeros of either sign compare equal; the result is a zero (its sign is not specified).
  CHECK(max_nan(0.0f, -0.0f) == 0.0f);
  CHECK(max_nan(-0.0f, 0.0f) == 0.0f);
  CHECK(min_nan(0.0f, -0.0f) == 0.0f);
  CHECK(min_nan(-0.0f, 0.0f) == 0.0f);
  // ReLU-style uses: max(x, 0).
  CHECK(max_nan(-0.0f, 0.0f) == 0.0f);
  CHECK(max_nan(-2.0f, 0.0f) == 0.0f);
  CHECK_FALSE(std::signbit(max_nan(-2.0f, 0.0f)));
  CHECK(max_nan(-FLT_MIN, 0.0f) == 0.0f);
  CHECK(max_nan(FLT_MIN, -0.0f) == FLT_MIN);
  CHECK(min_nan(-FLT_MIN, 0.0f) == -FLT_MIN);
}

TEST_CASE("denormal_guard: flushes while active and restores the previous mode") {
  // The default floating-point environment keeps denormals.
  REQUIRE_FALSE(denormal_guard::flushing());
  const float before = half_of_flt_min();
  CHECK(before == FLT_MIN * 0.5f);
  CHECK(before > 0.0f);
  CHECK(std::fpclassify(before) == FP_SUBNORMAL);

  {
    denormal_guard guard;
#if FUSEDOPS_ARCH_X86_64 || FUSEDOPS_ARCH_AARCH64
    CHECK(guard.active());
    CHECK(denormal_guard::flushing());
    CHECK(half_of_flt_min() == 0.0f);
#else
    CHECK_FALSE(guard.active());
    CHECK_FALSE(denormal_guard::flushing());
    CHECK(half_of_flt_min() == before);
#endif
#if FUSEDOPS_ARCH_X86_64
    // x86 also sets DAZ: a denormal input reads as zero.
    CHECK(denormal_times_one() == 0.0f);
#endif
    // Normal numbers are untouched.
    volatile float x = 3.0f;
    CHECK(x * 0.5f == 1.5f);
  }

  CHECK_FALSE(denormal_guard::flushing());
  const float after = half_of_flt_min();
  CHECK(after == before);
  CHECK(std::fpclassify(after) == FP_SUBNORMAL);
  CHECK(denormal_times_one() > 0.0f);
}

TEST_CASE("denormal_guard: nested guards restore correctly") {
  REQUIRE_FALSE(denormal_guard::flushing());
  {
    denormal_guard outer;
    const bool supported = outer.active();
    CHECK(denormal_guard::flushing() == supported);
    {
      denormal_guard inner;
      CHECK(inner.active() == supported);
      CHECK(denormal_guard::flushing() == supported);
      if (supported) CHECK(half_of_flt_min() == 0.0f);
    }
    // The inner guard restores the outer guard's mode, which still flushes.
    CHECK(denormal_guard::flushing() == supported);
    if (supported) CHECK(half_of_flt_min() == 0.0f);
    {
      denormal_guard again;
      CHECK(denormal_guard::flushing() == supported);
    }
    CHECK(denormal_guard::flushing() == supported);
  }
  CHECK_FALSE(denormal_guard::flushing());
  CHECK(half_of_flt_min() > 0.0f);
}

TEST_CASE("denormal_guard: leaves the rest of the floating-point mode alone") {
  REQUIRE(std::fegetround() == FE_TONEAREST);
  REQUIRE(std::fesetround(FE_UPWARD) == 0);
  {
    denormal_guard guard;
    CHECK(std::fegetround() == FE_UPWARD);  // setting FTZ/DAZ keeps the rounding mode
  }
  CHECK(std::fegetround() == FE_UPWARD);  // and restoring does not reset it
  CHECK_FALSE(denormal_guard::flushing());
  REQUIRE(std::fesetround(FE_TONEAREST) == 0);
  CHECK(std::fegetround() == FE_TONEAREST);
}

TEST_CASE("denormal_guard: only the calling thread's mode changes") {
  // The other thread exists before the guard: it keeps its own mode. (A thread created while a
  // guard is active inherits the creator's mode on Linux and keeps it after the guard ends.)
  std::mutex m;
  std::condition_variable cv;
  bool guard_set = false;
  bool other_thread_flushing = true;
  float other_thread_result = 0.0f;
  std::thread t([&] {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return guard_set; });
    other_thread_flushing = denormal_guard::flushing();
    other_thread_result = half_of_flt_min();
  });

  bool supported = false;
  {
    denormal_guard guard;
    supported = guard.active();
    {
      std::lock_guard<std::mutex> lock(m);
      guard_set = true;
    }
    cv.notify_one();
    t.join();
    CHECK(denormal_guard::flushing() == supported);
  }
  CHECK_FALSE(other_thread_flushing);
  CHECK(other_thread_result == FLT_MIN * 0.5f);
  CHECK_FALSE(denormal_guard::flushing());
}
