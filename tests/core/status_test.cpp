// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Unit tests of fusedops::status: error codes, message formatting and truncation, propagation.
#include <cstring>
#include <string>
#include <type_traits>

#include <doctest/doctest.h>

#include "fusedops/core/status.hpp"

namespace {

using fusedops::errc;
using fusedops::status;

// Every error code with its expected stable name.
struct code_name {
  errc code;
  const char* name;
};
constexpr code_name all_codes[] = {
    {errc::ok, "ok"},
    {errc::invalid_argument, "invalid_argument"},
    {errc::null_pointer, "null_pointer"},
    {errc::shape_mismatch, "shape_mismatch"},
    {errc::bad_stride, "bad_stride"},
    {errc::bad_alignment, "bad_alignment"},
    {errc::buffer_too_small, "buffer_too_small"},
    {errc::out_of_memory, "out_of_memory"},
    {errc::unsupported, "unsupported"},
    {errc::device_error, "device_error"},
};

// Helpers for the propagation test: count how far a chain of steps got.
status step(int& counter, bool fail, const char* name) {
  ++counter;
  if (fail) return status::error(errc::invalid_argument, "step '%s' failed", name);
  return {};
}

status three_steps(int& counter, bool fail1, bool fail2, bool fail3) {
  FUSEDOPS_RETURN_IF_ERROR(step(counter, fail1, "one"));
  FUSEDOPS_RETURN_IF_ERROR(step(counter, fail2, "two"));
  FUSEDOPS_RETURN_IF_ERROR(step(counter, fail3, "three"));
  return status::error(errc::unsupported, "reached the end after %d steps", counter);
}

}  // namespace

TEST_CASE("status: a default status is ok with an empty message") {
  const status s;
  CHECK(s.ok());
  CHECK(static_cast<bool>(s));
  CHECK(s.code() == errc::ok);
  REQUIRE(s.message() != nullptr);
  CHECK(std::string(s.message()).empty());

  // A copy of an ok status is ok with an empty message too (the buffer is not read).
  const status c = s;
  CHECK(c.ok());
  CHECK(std::string(c.message()).empty());
  status assigned = status::error(errc::invalid_argument, "bad");
  assigned = s;
  CHECK(assigned.ok());
  CHECK(std::string(assigned.message()).empty());
}

TEST_CASE("status: value semantics") {
  // The header promises a trivially copyable, allocation-free type.
  static_assert(std::is_trivially_copyable_v<status>, "status is trivially copyable");
  static_assert(!std::is_convertible_v<status, bool>, "operator bool is explicit");
  static_assert(std::is_nothrow_copy_constructible_v<status>, "copying never throws");

  const status original = status::error(errc::bad_stride, "stride %d is bad", 7);
  status copy = original;
  CHECK(copy.code() == errc::bad_stride);
  CHECK(std::string(copy.message()) == "stride 7 is bad");
  // The copy owns its own buffer.
  CHECK(copy.message() != original.message());

  copy = status{};
  CHECK(copy.ok());
  CHECK(std::string(copy.message()).empty());
  CHECK(std::string(original.message()) == "stride 7 is bad");
}

TEST_CASE("status: error() stores the code and the formatted message") {
  const status s =
      status::error(errc::shape_mismatch, "%s: argument '%s' has shape %s, expected %s",
                    "bias_activation", "bias", "[7]", "[5]");
  CHECK_FALSE(s.ok());
  CHECK_FALSE(static_cast<bool>(s));
  CHECK(s.code() == errc::shape_mismatch);
  const std::string msg = s.message();
  CHECK(msg == "bias_activation: argument 'bias' has shape [7], expected [5]");
  CHECK(msg.find("bias_activation") != std::string::npos);
  CHECK(msg.find("'bias'") != std::string::npos);
  CHECK(msg.find("[7]") != std::string::npos);

  SUBCASE("numeric conversions are formatted") {
    const status n = status::error(errc::buffer_too_small, "need %zu bytes, got %td (%d%%)",
                                   std::size_t{4096}, std::ptrdiff_t{-3}, 50);
    CHECK(n.code() == errc::buffer_too_small);
    CHECK(std::string(n.message()) == "need 4096 bytes, got -3 (50%)");
  }
  SUBCASE("an error with an empty message is still an error") {
    const status e = status::error(errc::unsupported, "%s", "");
    CHECK_FALSE(e.ok());
    CHECK(e.code() == errc::unsupported);
    CHECK(std::string(e.message()).empty());
  }
}

TEST_CASE("status: a very long message is truncated inside the buffer") {
  const std::string long_text(5000, 'x');

  // Canaries on both sides of the status catch a write past its buffer.
  struct guarded {
    char before[32];
    status s;
    char after[32];
  } g;
  std::memset(g.before, 0x5A, sizeof g.before);
  std::memset(g.after, 0xA5, sizeof g.after);

  g.s = status::error(errc::invalid_argument, "op: %s: end", long_text.c_str());

  CHECK(g.s.code() == errc::invalid_argument);
  const std::string msg = g.s.message();
  CHECK(msg.size() == static_cast<std::size_t>(status::max_message - 1));
  CHECK(msg.compare(0, 4, "op: ") == 0);
  CHECK(msg.find_first_not_of('x', 4) == std::string::npos);  // the tail " end" was cut off
  bool canaries_intact = true;
  for (char c : g.before) canaries_intact = canaries_intact && c == static_cast<char>(0x5A);
  for (char c : g.after) canaries_intact = canaries_intact && c == static_cast<char>(0xA5);
  CHECK(canaries_intact);

  // A message of exactly max_message - 1 characters fits without truncation.
  const std::string exact(static_cast<std::size_t>(status::max_message - 1), 'y');
  const status fits = status::error(errc::invalid_argument, "%s", exact.c_str());
  CHECK(std::string(fits.message()) == exact);
  // One more character is dropped.
  const status one_more = status::error(errc::invalid_argument, "%sz", exact.c_str());
  CHECK(std::string(one_more.message()) == exact);
}

TEST_CASE("status: to_string names every error code") {
  for (const code_name& c : all_codes) {
    CAPTURE(static_cast<int>(c.code));
    CHECK(std::string(fusedops::to_string(c.code)) == c.name);
  }
  // Names are distinct.
  for (const code_name& a : all_codes)
    for (const code_name& b : all_codes)
      if (a.code != b.code)
        CHECK(std::string(fusedops::to_string(a.code)) != fusedops::to_string(b.code));
  // ok is zero, so value-initialised codes mean "no error".
  CHECK(static_cast<int>(errc::ok) == 0);
  CHECK(errc{} == errc::ok);
  // A value outside the enumeration does not crash.
  CHECK(std::string(fusedops::to_string(static_cast<errc>(999))) == "unknown");
  // to_string is usable at compile time.
  static_assert(fusedops::to_string(errc::bad_alignment)[0] == 'b', "constexpr to_string");
}

TEST_CASE("status: FUSEDOPS_RETURN_IF_ERROR returns the first failure and stops there") {
  int counter = 0;

  SUBCASE("all steps succeed: the function continues past every macro") {
    const status s = three_steps(counter, false, false, false);
    CHECK(counter == 3);
    CHECK(s.code() == errc::unsupported);
    CHECK(std::string(s.message()) == "reached the end after 3 steps");
  }
  SUBCASE("the first step fails") {
    const status s = three_steps(counter, true, false, false);
    CHECK(counter == 1);
    CHECK(s.code() == errc::invalid_argument);
    CHECK(std::string(s.message()) == "step 'one' failed");
  }
  SUBCASE("the second step fails: the third never runs") {
    const status s = three_steps(counter, false, true, true);
    CHECK(counter == 2);
    CHECK(s.code() == errc::invalid_argument);
    CHECK(std::string(s.message()) == "step 'two' failed");
  }
  SUBCASE("the last step fails") {
    const status s = three_steps(counter, false, false, true);
    CHECK(counter == 3);
    CHECK(std::string(s.message()) == "step 'three' failed");
  }
}

TEST_CASE(
    "status: FUSEDOPS_RETURN_IF_ERROR evaluates its argument once and works as one statement") {
  int evaluations = 0;
  auto f = [&](bool fail) -> status {
    // Used as the sole statement of an if without braces: the do/while(0) form must allow it.
    if (fail)
      FUSEDOPS_RETURN_IF_ERROR(step(evaluations, true, "only"));
    else
      FUSEDOPS_RETURN_IF_ERROR(step(evaluations, false, "only"));
    return {};
  };
  CHECK(f(false).ok());
  CHECK(evaluations == 1);
  const status s = f(true);
  CHECK(evaluations == 2);
  CHECK(s.code() == errc::invalid_argument);
}

#if FUSEDOPS_HAS_EXCEPTIONS
TEST_CASE("status: throw_if_error throws fusedops::error carrying the message and the code") {
  CHECK_NOTHROW(fusedops::throw_if_error(status{}));

  const status s = status::error(errc::shape_mismatch,
                                 "bias_activation: argument '%s' has shape %s", "bias", "[7]");
  CHECK_THROWS_AS(fusedops::throw_if_error(s), fusedops::error);
  CHECK_THROWS_AS(fusedops::throw_if_error(s), std::runtime_error);
  CHECK_THROWS_WITH(fusedops::throw_if_error(s),
                    "bias_activation: argument 'bias' has shape [7] [shape_mismatch]");

  bool caught = false;
  try {
    fusedops::throw_if_error(status::error(errc::out_of_memory, "cannot allocate %d bytes", 64));
  } catch (const fusedops::error& e) {
    caught = true;
    CHECK(e.code() == errc::out_of_memory);
    const std::string what = e.what();
    CHECK(what.find("cannot allocate 64 bytes") == 0);
    CHECK(what.find("out_of_memory") != std::string::npos);
  }
  CHECK(caught);

  // Every failing code throws, and the code survives.
  for (const code_name& c : all_codes) {
    if (c.code == errc::ok) continue;
    CAPTURE(std::string(c.name));
    errc thrown = errc::ok;
    try {
      fusedops::throw_if_error(status::error(c.code, "x"));
    } catch (const fusedops::error& e) {
      thrown = e.code();
    }
    CHECK(thrown == c.code);
  }
}
#endif

TEST_CASE("status: abort_if_error returns normally on ok") {
  int after = 0;
  fusedops::abort_if_error(status{});
  ++after;
  CHECK(after == 1);
}
