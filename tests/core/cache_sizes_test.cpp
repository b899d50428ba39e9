// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// cache_sizes: sysfs's size spelling, and detected sizes that are ordered and plausible.
#include <doctest/doctest.h>

#include "fusedops/core/cache_sizes.hpp"

using fusedops::cache_sizes;

TEST_CASE("cache_sizes: parse_size reads sysfs's spelling") {
  CHECK(cache_sizes::parse_size("48K\n") == 48 * 1024);
  CHECK(cache_sizes::parse_size("32768K") == 32LL * 1024 * 1024);
  CHECK(cache_sizes::parse_size("1M") == 1024 * 1024);
  CHECK(cache_sizes::parse_size("2G") == 2LL * 1024 * 1024 * 1024);
  CHECK(cache_sizes::parse_size("3\n") == 3);  // the `level` file
  CHECK(cache_sizes::parse_size("") == -1);
  CHECK(cache_sizes::parse_size("K") == -1);
  CHECK(cache_sizes::parse_size("99999999999999999999K") == -1);  // does not fit
}

TEST_CASE("cache_sizes: detected sizes are plausible and ordered") {
  const cache_sizes& c = cache_sizes::detected();
  CHECK(c.l1d >= 8 * 1024);
  CHECK(c.l1d <= c.l2);
  CHECK(c.l2 <= c.l3);
  CHECK(c.l3 <= (fusedops::index_t{1} << 32));
  CHECK(&c == &cache_sizes::detected());  // read once
  MESSAGE("L1d " << c.l1d << ", L2 " << c.l2 << ", L3 " << c.l3 << " bytes");
}
