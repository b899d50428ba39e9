// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Fresh random test data. Seeds are fixed per call site (reproducible failures) but differ
// between shapes; values are never all zeros.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace fusedops::test {

/// n uniform floats in [lo, hi).
inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -1.f,
                                        float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

/// Sizes around a vector width L: 1, L-1, L, L+1, 2L+3, a prime, and a few larger ones.
inline std::vector<long> sizes_around(int lanes) {
  std::vector<long> s = {1, 2, 3, 7, 13, 31, 67, 257};
  for (long l : {long(lanes) - 1, long(lanes), long(lanes) + 1, 2L * lanes + 3})
    if (l >= 1) s.push_back(l);
  return s;
}

}  // namespace fusedops::test
