// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Unit tests of fusedops::aligned_buffer: aligned allocation, ownership transfer and failure paths.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <doctest/doctest.h>

#include "fusedops/core/aligned_buffer.hpp"
#include "fusedops/core/status.hpp"
#include "fusedops/core/tensor_view.hpp"

// AddressSanitizer aborts on an impossible allocation instead of returning null unless
// allocator_may_return_null=1, so the test that reaches the allocator with such a size is only
// compiled without it.
#if defined(__SANITIZE_ADDRESS__)
#define FUSEDOPS_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUSEDOPS_TEST_UNDER_ASAN 1
#endif
#endif
#ifndef FUSEDOPS_TEST_UNDER_ASAN
#define FUSEDOPS_TEST_UNDER_ASAN 0
#endif

namespace {

using fusedops::aligned_buffer;
using fusedops::errc;
using fusedops::pages;
using fusedops::status;

template <class T>
std::uintptr_t address(const T* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

// Fills the buffer with a pattern and checks it back: proves every element is writable (and,
// under AddressSanitizer, that the allocation really covers size() elements).
template <class T, std::size_t A>
bool fill_and_verify(aligned_buffer<T, A>& b) {
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<T>(i % 251);
  for (std::size_t i = 0; i < b.size(); ++i)
    if (b[i] != static_cast<T>(i % 251)) return false;
  return true;
}

// Keeps the compiler from seeing the constant size (GCC would warn about an allocation larger
// than PTRDIFF_MAX at compile time, which -Werror turns into a build failure).
std::size_t opaque(std::size_t n) {
  volatile std::size_t v = n;
  return v;
}

}  // namespace

TEST_CASE("aligned_buffer: a default buffer is empty") {
  const aligned_buffer<float> b;
  CHECK(b.empty());
  CHECK(b.size() == 0);
  CHECK(b.data() == nullptr);
  CHECK(b.begin() == b.end());
  static_assert(aligned_buffer<float>::alignment == 64, "default alignment is one cache line");
  static_assert(aligned_buffer<float>::alignment == fusedops::default_alignment,
                "default alignment");
  static_assert(aligned_buffer<double, 128>::alignment == 128, "custom alignment");
  static_assert(!std::is_copy_constructible_v<aligned_buffer<float>>, "move-only");
  static_assert(!std::is_copy_assignable_v<aligned_buffer<float>>, "move-only");
  static_assert(std::is_nothrow_move_constructible_v<aligned_buffer<float>>, "noexcept move");
  static_assert(std::is_nothrow_move_assignable_v<aligned_buffer<float>>, "noexcept move");
}

TEST_CASE("aligned_buffer: allocate gives size() writable elements at the requested alignment") {
  SUBCASE("default alignment (64)") {
    for (std::size_t n : {1u, 2u, 3u, 15u, 16u, 17u, 63u, 64u, 65u, 100u, 1000u, 4097u}) {
      CAPTURE(n);
      aligned_buffer<float> b;
      const status s = b.allocate(n);
      REQUIRE(s.ok());
      CHECK(b.size() == n);
      CHECK_FALSE(b.empty());
      REQUIRE(b.data() != nullptr);
      CHECK(address(b.data()) % 64 == 0);
      CHECK(b.end() - b.begin() == static_cast<std::ptrdiff_t>(n));
      CHECK(fill_and_verify(b));
    }
  }
  SUBCASE("128-byte alignment") {
    for (std::size_t n : {1u, 7u, 32u, 33u, 1001u}) {
      CAPTURE(n);
      aligned_buffer<float, 128> b;
      REQUIRE(b.allocate(n).ok());
      CHECK(b.size() == n);
      CHECK(address(b.data()) % 128 == 0);
      CHECK(fill_and_verify(b));
    }
  }
  SUBCASE("other element types") {
    aligned_buffer<double> d;
    REQUIRE(d.allocate(9).ok());
    CHECK(address(d.data()) % 64 == 0);
    CHECK(fill_and_verify(d));
    aligned_buffer<std::int8_t, 4096> bytes;
    REQUIRE(bytes.allocate(5).ok());
    CHECK(address(bytes.data()) % 4096 == 0);
    CHECK(fill_and_verify(bytes));
  }
  SUBCASE("const access") {
    aligned_buffer<int> b;
    REQUIRE(b.allocate(4).ok());
    for (std::size_t i = 0; i < 4; ++i) b[i] = static_cast<int>(10 * i);
    const aligned_buffer<int>& c = b;
    CHECK(c.data() == b.data());
    CHECK(c[3] == 30);
    int sum = 0;
    for (int v : c) sum += v;
    CHECK(sum == 60);
  }
}

TEST_CASE("aligned_buffer: zero size") {
  aligned_buffer<float> b;
  CHECK(b.allocate(0).ok());
  CHECK(b.empty());
  CHECK(b.data() == nullptr);

  // Allocating zero elements releases a previous allocation.
  REQUIRE(b.allocate(10).ok());
  REQUIRE_FALSE(b.empty());
  CHECK(b.allocate(0).ok());
  CHECK(b.empty());
  CHECK(b.size() == 0);
  CHECK(b.data() == nullptr);
}

TEST_CASE("aligned_buffer: move construction and assignment transfer ownership") {
  aligned_buffer<float> a;
  REQUIRE(a.allocate(100).ok());
  a[99] = 42.0f;
  float* const p = a.data();

  SUBCASE("move construction") {
    aligned_buffer<float> b(std::move(a));
    CHECK(b.data() == p);
    CHECK(b.size() == 100);
    CHECK(b[99] == 42.0f);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    CHECK(a.data() == nullptr);
    CHECK(a.size() == 0);
  }
  SUBCASE("move assignment into a buffer that owns memory") {
    aligned_buffer<float> b;
    REQUIRE(b.allocate(7).ok());
    b = std::move(a);
    CHECK(b.data() == p);
    CHECK(b.size() == 100);
    CHECK(b[99] == 42.0f);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(a.data() == nullptr);
    // The moved-from buffer is reusable.
    REQUIRE(a.allocate(3).ok());
    CHECK(a.size() == 3);
    CHECK(address(a.data()) % 64 == 0);
  }
  SUBCASE("move assignment from an empty buffer empties the target") {
    aligned_buffer<float> empty;
    a = std::move(empty);
    CHECK(a.empty());
    CHECK(a.data() == nullptr);
  }
  SUBCASE("self move assignment keeps the contents") {
    aligned_buffer<float>& alias = a;
    a = std::move(alias);
    CHECK(a.data() == p);
    CHECK(a.size() == 100);
    CHECK(a[99] == 42.0f);
  }
}

TEST_CASE("aligned_buffer: release") {
  aligned_buffer<float> b;
  REQUIRE(b.allocate(33).ok());
  b.release();
  CHECK(b.empty());
  CHECK(b.size() == 0);
  CHECK(b.data() == nullptr);
  b.release();  // releasing twice is harmless
  CHECK(b.empty());
}

TEST_CASE("aligned_buffer: pages::huge puts large buffers on a huge-page boundary") {
  // Workspaces and packed weights of 2 MiB or more: aligned (and advised, on Linux) as huge
  // pages; the elements are all there and writable, including a size just over a boundary.
  constexpr std::size_t huge = aligned_buffer<float>::huge_page_bytes;
  for (const std::size_t count : {huge / sizeof(float), huge / sizeof(float) + 17,
                                  3 * huge / sizeof(float) - 1}) {
    CAPTURE(count);
    aligned_buffer<float> b;
    REQUIRE(b.allocate(count, pages::huge).ok());
    CHECK(b.size() == count);
    CHECK(address(b.data()) % huge == 0);
    CHECK(fill_and_verify(b));
  }
  aligned_buffer<float> small;  // below the threshold: only the buffer's own alignment
  REQUIRE(small.allocate(huge / sizeof(float) - 64, pages::huge).ok());
  CHECK(address(small.data()) % 64 == 0);
  CHECK(fill_and_verify(small));
  aligned_buffer<float> plain;  // the default asks for nothing more than the alignment
  REQUIRE(plain.allocate(huge / sizeof(float) + 17).ok());
  CHECK(address(plain.data()) % 64 == 0);
  CHECK(fill_and_verify(plain));
  // The size limit holds with huge pages too.
  const std::size_t limit = (std::numeric_limits<std::size_t>::max() - 64) / sizeof(float);
  CHECK(plain.allocate(opaque(limit + 1), pages::huge).code() == errc::out_of_memory);
  CHECK(plain.empty());
}

TEST_CASE("aligned_buffer: reallocation replaces the contents") {
  aligned_buffer<float> b;
  REQUIRE(b.allocate(10).ok());
  CHECK(fill_and_verify(b));
  REQUIRE(b.allocate(1000).ok());
  CHECK(b.size() == 1000);
  CHECK(address(b.data()) % 64 == 0);
  CHECK(fill_and_verify(b));
  REQUIRE(b.allocate(3).ok());
  CHECK(b.size() == 3);
  CHECK(address(b.data()) % 64 == 0);
  CHECK(fill_and_verify(b));
}

TEST_CASE("aligned_buffer: an absurd size returns out_of_memory and leaves the buffer empty") {
  aligned_buffer<float> b;
  REQUIRE(b.allocate(16).ok());

  SUBCASE("a byte count that overflows size_t") {
    const status s = b.allocate(opaque(std::numeric_limits<std::size_t>::max()));
    CHECK(s.code() == errc::out_of_memory);
    CHECK(std::string(s.message()).find("aligned_buffer") != std::string::npos);
    CHECK(b.empty());
    CHECK(b.data() == nullptr);

    aligned_buffer<double> d;
    const status t = d.allocate(opaque(std::numeric_limits<std::size_t>::max() / 8));
    CHECK(t.code() == errc::out_of_memory);
    CHECK(d.empty());
    // The largest count that passes the overflow check, plus one.
    const std::size_t limit = (std::numeric_limits<std::size_t>::max() - 64) / sizeof(float);
    CHECK(b.allocate(opaque(limit + 1)).code() == errc::out_of_memory);
    CHECK(b.empty());
  }
#if !FUSEDOPS_TEST_UNDER_ASAN
  SUBCASE("a size that does not overflow but cannot be allocated") {
    const status s = b.allocate(opaque(std::size_t{1} << 60));  // 4 EiB of floats
    CHECK(s.code() == errc::out_of_memory);
    CHECK(std::string(s.message()).find("cannot allocate") != std::string::npos);
    CHECK(b.empty());
    CHECK(b.data() == nullptr);
    const std::size_t limit = (std::numeric_limits<std::size_t>::max() - 64) / sizeof(float);
    CHECK(b.allocate(opaque(limit)).code() == errc::out_of_memory);
    CHECK(b.empty());
  }
#endif
  // The buffer is usable again after a failure.
  REQUIRE(b.allocate(8).ok());
  CHECK(b.size() == 8);
  CHECK(fill_and_verify(b));
}

TEST_CASE("aligned_buffer: as_view") {
  aligned_buffer<float> b;
  REQUIRE(b.allocate(24).ok());
  for (std::size_t i = 0; i < 24; ++i) b[i] = static_cast<float>(i);

  const auto v = b.as_view({4, 6});
  static_assert(std::is_same_v<std::remove_const_t<decltype(v)>, fusedops::view<float, 2>>,
                "as_view type");
  CHECK(v.data() == b.data());
  CHECK(v.shape() == fusedops::dims<2>{4, 6});
  CHECK(v.is_contiguous());
  CHECK(v(3, 5) == 23.0f);
  v(1, 2) = -8.0f;
  CHECK(b[8] == -8.0f);

  const auto v3 = b.as_view({2, 3, 4});
  CHECK(v3(1, 2, 3) == 23.0f);
  // A view of a prefix.
  const auto prefix = b.as_view({5});
  CHECK(prefix.size() == 5);
  CHECK(prefix(4) == 4.0f);
  // The view converts to an input view.
  const fusedops::view<const float, 2> in = v;
  CHECK(in(1, 2) == -8.0f);
}
