// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// with_scratch: which source serves a call (the caller's workspace, the stack, an allocation),
// and the error when none may.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fusedops/core/scratch.hpp"

using namespace fusedops;

namespace {

/// Writes every float of the scratch it gets (so ASan sees a short one) and records where it was.
struct recorder {
  std::size_t need;
  const float* seen = nullptr;
  int calls = 0;
  void operator()(float* s) {
    for (std::size_t i = 0; i < need; ++i) s[i] = float(i);
    seen = s, ++calls;
  }
};

bool inside(const float* p, const std::vector<float>& v) {
  return p >= v.data() && p < v.data() + v.size();
}

/// with_scratch("op", ws, allow, need) with a recorder as the body.
recorder run(std::vector<float>& ws, std::size_t need, bool allow, status* st = nullptr,
             const char* op = "op") {
  recorder r{need};
  const status s = with_scratch(op, make_view(ws.data(), {index_t(ws.size())}), allow, need,
                                [&](float* p) { r(p); });
  if (st != nullptr)
    *st = s;
  else
    CHECK(s.ok());
  return r;
}

}  // namespace

TEST_CASE("with_scratch: the caller's workspace when it is large enough") {
  std::vector<float> ws(3000);
  for (std::size_t need : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{3000}}) {
    const recorder r = run(ws, need, false);
    CHECK(r.calls == 1);
    CHECK(r.seen == ws.data());
  }
}

TEST_CASE("with_scratch: the stack for up to stack_scratch_floats, aligned, without allocation") {
  std::vector<float> ws(10);
  for (std::size_t need : {std::size_t{11}, stack_scratch_floats}) {
    const recorder r = run(ws, need, false);
    CHECK(r.calls == 1);
    CHECK_FALSE(inside(r.seen, ws));
    CHECK(reinterpret_cast<std::uintptr_t>(r.seen) % 64 == 0);
  }
  CHECK(caller_workspace_floats(stack_scratch_floats) == 0);
  CHECK(caller_workspace_floats(stack_scratch_floats + 1) == stack_scratch_floats + 1);
}

TEST_CASE("with_scratch: larger needs allocate when allowed, else fail naming the op") {
  const std::size_t need = stack_scratch_floats + 1;
  std::vector<float> ws(need - 1);
  const recorder r = run(ws, need, true);
  CHECK(r.calls == 1);
  CHECK_FALSE(inside(r.seen, ws));

  status s;
  const recorder refused = run(ws, need, false, &s, "frobnicate");
  CHECK(s.code() == errc::buffer_too_small);
  CHECK(refused.calls == 0);
  const std::string msg = s.message();
  CHECK(msg.find("frobnicate: 'workspace' holds 2048 floats; this call needs 2049") !=
        std::string::npos);
  CHECK(msg.find("frobnicate_workspace_size") != std::string::npos);
}
