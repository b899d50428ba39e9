// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Bit-for-bit comparison of float results, for tests where two paths must write the same bits
// (streaming against cached stores): NaN payloads and the sign of zero count.
#pragma once

#include <cstring>
#include <vector>

namespace fusedops::test {

/// Whether a and b have the same bit pattern.
inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

/// Positions where a and b (of equal size) differ bit for bit.
inline int differing_floats(const std::vector<float>& a, const std::vector<float>& b) {
  int n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += !same_bits(a[i], b[i]);
  return n;
}

}  // namespace fusedops::test
