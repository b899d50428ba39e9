// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. The data cache sizes the operators' heuristics derive from: the GEMM's cache
// blocking (ops/gemm/blocking.hpp) and whether a memory-bound operator's output bypasses the
// caches (core/store_policy.hpp). Read from the OS once, immutable afterwards.
#pragma once

#include "fusedops/core/shape.hpp"

#if defined(__linux__)
#include <unistd.h>
#endif

namespace fusedops {

/// Data cache sizes in bytes.
struct cache_sizes {
  index_t l1d = 32 * 1024;
  index_t l2 = 1024 * 1024;
  index_t l3 = 32 * 1024 * 1024;  ///< last level (shared by the cores)

  /// This CPU's caches where the OS reports them (Linux sysconf), otherwise the defaults above
  /// (32 KiB / 1 MiB / 32 MiB: Skylake-SP and later server cores, Neoverse N1/V1). Read once;
  /// immutable (a function-local static: thread-safe initialisation, never written again).
  static const cache_sizes& detected() noexcept {
    static const cache_sizes sizes = [] {
      cache_sizes s;
#if defined(__linux__) && defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
      const long os_l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), os_l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
      if (os_l1 >= 8 * 1024 && os_l1 <= 1024 * 1024) s.l1d = os_l1;
      if (os_l2 >= 128 * 1024 && os_l2 <= 64 * 1024 * 1024) s.l2 = os_l2;
#endif
#if defined(__linux__) && defined(_SC_LEVEL3_CACHE_SIZE)
      const long os_l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
      if (os_l3 >= 1024 * 1024 && os_l3 <= index_t{1} << 32) s.l3 = os_l3;
#endif
      return s;
    }();
    return sizes;
  }
};

}  // namespace fusedops
