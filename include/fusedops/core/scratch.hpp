// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. Where an operator's per-call scratch comes from: the caller's workspace when it
// is large enough, else the calling thread's stack when the need is tiny, else a fresh
// allocation when the caller allows one, else a clear buffer_too_small error (nothing runs).
// One rule for every operator that takes `workspace` + `allow_allocation` (gemm, gemm_batched,
// attention), so their `*_workspace_size` functions and their errors agree.
#pragma once

#include <cstddef>

#include "fusedops/config/macros.hpp"
#include "fusedops/core/aligned_buffer.hpp"
#include "fusedops/core/status.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops {

/// Scratch of up to this many floats (8 KiB) comes from the calling thread's stack: calls whose
/// scratch is a few KiB (GEMMs with K and N of a few dozen) then need no workspace and never
/// allocate; an allocation would cost more than the work itself.
inline constexpr std::size_t stack_scratch_floats = 2048;

/// Floats of workspace a caller must pass for `need` floats of scratch to avoid any allocation
/// (0 when the stack serves).
constexpr std::size_t caller_workspace_floats(std::size_t need) noexcept {
  return need <= stack_scratch_floats ? 0 : need;
}

namespace core_detail {

/// Runs body(scratch) with stack_scratch_floats of this thread's stack, 64-byte aligned, in a
/// frame of its own: calls served otherwise (or needing none) never hold the 8 KiB.
template <class Body>
FUSEDOPS_NOINLINE void run_with_stack_scratch(Body& body) noexcept {
  alignas(64) float on_stack[stack_scratch_floats];
  body(static_cast<float*>(on_stack));
}

}  // namespace core_detail

/// Runs body(scratch) with `need` floats of scratch, from (in this order) `workspace`, the stack
/// (need <= stack_scratch_floats), or a fresh allocation when `allow_allocation`. Otherwise
/// returns buffer_too_small naming `op` and its `op`_workspace_size function, and body does not
/// run. Threads that body starts may use the scratch: the frame lives until body returns.
template <class Body>
status with_scratch(const char* op, view<float, 1> workspace, bool allow_allocation,
                    std::size_t need, Body&& body) noexcept {
  if (need <= static_cast<std::size_t>(workspace.shape(0))) {
    body(workspace.data());
    return {};
  }
  if (need <= stack_scratch_floats) {
    core_detail::run_with_stack_scratch(body);
    return {};
  }
  if (!allow_allocation)
    return status::error(errc::buffer_too_small,
                         "%s: 'workspace' holds %td floats; this call needs %zu "
                         "(%s_workspace_size), and allow_allocation is false",
                         op, workspace.shape(0), need, op);
  aligned_buffer<float> owned;
  FUSEDOPS_RETURN_IF_ERROR(owned.allocate(need, pages::huge));
  body(owned.data());
  return {};
}

}  // namespace fusedops
