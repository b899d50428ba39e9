// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. Whether a memory-bound operator writes its outputs through the caches or around
// them (non-temporal "streaming" stores). A cached store first reads the line it writes
// (read-for-ownership): an output costs a read and a write of memory when it does not stay in
// the cache. A streaming store writes whole lines without reading them, so an operator over
// tensors larger than the cache moves a third less data (a LayerNorm: read x, write y, instead
// of read x, read y, write y), but the output then starts outside the cache, which costs the
// next operator when the tensor would have fit.
#pragma once

#include <cstddef>

#include "fusedops/core/cache_sizes.hpp"

namespace fusedops {

/// How an operator's outputs are stored (norms' y and residual sum).
enum class store_policy {
  automatic,  ///< streaming when the call touches more bytes than the last-level cache holds
  cached,     ///< always through the caches (the next operator finds the output there)
  streaming,  ///< always non-temporal where the CPU has such stores (x86); plain stores elsewhere
};

/// Whether a call touching `bytes` bytes of tensors should use streaming stores under `policy`.
inline bool streams(store_policy policy, std::size_t bytes) noexcept {
  if (policy == store_policy::automatic)
    return bytes > static_cast<std::size_t>(cache_sizes::detected().l3);
  return policy == store_policy::streaming;
}

}  // namespace fusedops
