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

#include <cstdio>
#endif

namespace fusedops {

/// Data cache sizes in bytes, as one core sees them.
struct cache_sizes {
  index_t l1d = 32 * 1024;
  index_t l2 = 1024 * 1024;
  index_t l3 = 32 * 1024 * 1024;  ///< last level: the part this core shares with its neighbours

  /// This CPU's caches where the OS reports them, otherwise the defaults above (32 KiB / 1 MiB /
  /// 32 MiB: Skylake-SP and later server cores, Neoverse N1/V1). Linux: sysfs first
  /// (/sys/devices/system/cpu/cpu0/cache: the caches cpu0 uses), then sysconf. sysfs comes first
  /// because glibc's sysconf(_SC_LEVEL3_CACHE_SIZE) can report the whole package's L3: 384 MiB
  /// on this project's EPYC VM, whose cores share 32 MiB (as sysfs and lscpu say), which would
  /// keep every tensor under 384 MiB out of the streaming-store rule. Read once; immutable (a
  /// function-local static: thread-safe initialisation, never written again).
  static const cache_sizes& detected() noexcept {
    static const cache_sizes sizes = [] {
      cache_sizes s;
#if defined(__linux__) && defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
      const long os_l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), os_l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
      if (plausible(os_l1, 8 * 1024, 1024 * 1024)) s.l1d = os_l1;
      if (plausible(os_l2, 128 * 1024, 64 * 1024 * 1024)) s.l2 = os_l2;
#endif
#if defined(__linux__) && defined(_SC_LEVEL3_CACHE_SIZE)
      const long os_l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
      if (plausible(os_l3, 1024 * 1024, 1LL << 32)) s.l3 = os_l3;
#endif
#if defined(__linux__)
      read_sysfs(s);
#endif
      return s;
    }();
    return sizes;
  }

  /// "48K", "32768K", "1M", "512" (sysfs's spelling) -> bytes; -1 if it does not start with a
  /// digit or does not fit.
  static long long parse_size(const char* text) noexcept {
    if (*text < '0' || *text > '9') return -1;
    long long value = 0;
    for (; *text >= '0' && *text <= '9'; ++text) {
      if (value > (1LL << 30)) return -1;
      value = value * 10 + (*text - '0');
    }
    if (*text == 'K') return value << 10;
    if (*text == 'M') return value << 20;
    if (*text == 'G') return value << 30;
    return value;
  }

 private:
  static bool plausible(long long bytes, long long lo, long long hi) noexcept {
    return bytes >= lo && bytes <= hi;
  }

#if defined(__linux__)
  /// Overrides s with the data and unified caches sysfs lists for cpu0 (levels 1-3), where the
  /// files exist and hold plausible sizes.
  static void read_sysfs(cache_sizes& s) noexcept {
    for (int index = 0; index < 8; ++index) {
      const long long level = read_number(index, "level");
      char type[16] = {};
      if (level < 1 || level > 3 || !read_text(index, "type", type, sizeof type) ||
          type[0] == 'I')  // Instruction caches do not count
        continue;
      char size[32] = {};
      if (!read_text(index, "size", size, sizeof size)) continue;
      const long long bytes = parse_size(size);
      if (level == 1 && plausible(bytes, 8 * 1024, 1024 * 1024)) s.l1d = index_t(bytes);
      if (level == 2 && plausible(bytes, 128 * 1024, 64 * 1024 * 1024)) s.l2 = index_t(bytes);
      if (level == 3 && plausible(bytes, 1024 * 1024, 1LL << 32)) s.l3 = index_t(bytes);
    }
  }

  /// The first line of /sys/devices/system/cpu/cpu0/cache/index<index>/<file> (newline kept).
  static bool read_text(int index, const char* file, char* out, int size) noexcept {
    char path[96];
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", index, file);
    std::FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    const bool ok = std::fgets(out, size, f) != nullptr;
    std::fclose(f);
    return ok;
  }

  static long long read_number(int index, const char* file) noexcept {
    char text[32] = {};
    return read_text(index, file, text, sizeof text) ? parse_size(text) : -1;
  }

#endif
};

}  // namespace fusedops
