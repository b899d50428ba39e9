// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Streaming (non-temporal) stores in Softmax / LogSoftmax (store_policy, ops/softmax/
// softmax_generic.hpp) on every backend: store_policy::streaming must write bit for bit what
// store_policy::cached writes, which softmax_test.cpp checks against the double oracle. A streamed
// softmax line keeps its exponentials in a stack buffer instead of in y, and only lines of at most
// 4096 elements whose output starts on a vector boundary stream: the cases cover aligned and
// misaligned outputs, padded row strides (lines alternating between the two), line lengths around
// the vector width and on both sides of 4096, in place, rows with NaN, +inf, -inf and all -inf,
// and 1 and 2 threads.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/softmax.hpp"
#include "support/backends.hpp"
#include "support/bits.hpp"
#include "support/random.hpp"

namespace {

using namespace fusedops;

struct stream_case {
  index_t rows = 1, n = 1;
  index_t row_pad = 0;  // floats between lines (row stride n + row_pad)
  index_t shift = 0;    // floats added to the output's start: 0 = a 64-byte aligned first line
  bool log = false, in_place = false, specials = false;
  int threads = 1;
  std::string str() const {
    std::ostringstream o;
    o << "rows=" << rows << " n=" << n << " row_pad=" << row_pad << " shift=" << shift
      << " log=" << log << " in_place=" << in_place << " specials=" << specials
      << " threads=" << threads;
    return o.str();
  }
};

/// Runs the case under `policy`; returns the output lines as the view sees them.
template <class Bk>
std::vector<float> run(const stream_case& c, store_policy policy) {
  const index_t ld = c.n + c.row_pad, len = c.rows * ld;
  std::vector<float> src = test::random_floats(std::size_t(len), 11, -20.f, 20.f);
  if (c.specials) {  // a few lines get special values
    constexpr float inf = std::numeric_limits<float>::infinity();
    const float kinds[] = {std::numeric_limits<float>::quiet_NaN(), inf, -inf};
    for (index_t r = 0; r < c.rows; r += 3) src[std::size_t(r * ld + (r * 7) % c.n)] = kinds[r % 3];
    if (c.rows > 1)
      for (index_t j = 0; j < c.n; ++j) src[std::size_t(ld + j)] = -inf;  // line 1: all -inf
  }
  // x and y start c.shift floats after a 64-byte boundary (the buffers' own alignment differs
  // between runs, so x is copied there rather than generated there).
  std::vector<float> xbuf(std::size_t(len + 64)), ybuf(std::size_t(len + 64), -1.f);
  auto aligned = [&](std::vector<float>& v) {
    float* p = v.data();
    while (reinterpret_cast<std::uintptr_t>(p) % 64 != 0) ++p;
    return p + c.shift;
  };
  float* x = aligned(xbuf);
  std::copy(src.begin(), src.end(), x);
  float* y = c.in_place ? x : aligned(ybuf);
  const view<const float, 2> xv(x, {c.rows, c.n}, {ld, 1});
  const view<float, 2> yv(y, {c.rows, c.n}, {ld, 1});
  const threading t = c.threads > 1 ? threading::openmp(c.threads) : threading::serial();
  const status s =
      c.log ? log_softmax<Bk>(xv, yv, -1, t, policy) : softmax<Bk>(xv, yv, -1, t, policy);
  REQUIRE_MESSAGE(s.ok(), c.str() << ": " << s.message());
  std::vector<float> out;
  for (index_t r = 0; r < c.rows; ++r) out.insert(out.end(), y + r * ld, y + r * ld + c.n);
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("softmax: streaming stores write what cached stores write", Bk,
                          softmax_stream_id) {
  std::mt19937 gen(91);
  constexpr index_t lengths[] = {1, 3, 15, 16, 17, 63, 64, 65, 768, 1000, 4095, 4096, 4097};
  int bad_cases = 0;
  for (int k = 0; k < 80; ++k) {
    stream_case c;
    c.n = lengths[gen() % 13];
    c.rows = 1 + index_t(gen() % (c.n > 1000 ? 5 : 23));
    c.row_pad = gen() % 3 == 0 ? index_t(gen() % 20) : 0;
    c.shift = gen() % 3 == 0 ? index_t(1 + gen() % 15) : 0;
    c.log = k % 2 == 1;
    c.in_place = gen() % 4 == 0;
    c.specials = gen() % 3 == 0;
    c.threads = 1 + int(gen() % 2);
    const int bad = test::differing_floats(run<Bk>(c, store_policy::streaming),
                                           run<Bk>(c, store_policy::cached));
    if (bad != 0 && bad_cases++ < 5) MESSAGE(c.str() << ": " << bad << " floats differ");
  }
  CHECK(bad_cases == 0);
}
TEST_CASE_TEMPLATE_APPLY(softmax_stream_id, fusedops::test::compiled_backends_tuple);
