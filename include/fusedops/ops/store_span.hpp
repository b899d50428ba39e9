// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops. The output loop of the element-wise operators: y[0, n) written a vector at a time
// from a generator, through the caches or as streaming (non-temporal) stores (store_policy.hpp).
// Streaming stores need addresses aligned to the vector size, so a streamed span first writes
// the elements up to the first aligned address with an ordinary partial store; the generator is
// called with (j, count) and must produce elements [j, j + count), so every element is computed
// exactly as in the cached loop whatever the alignment.
#pragma once

#include <algorithm>
#include <cstdint>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/shape.hpp"

namespace fusedops::ops {

/// y[j, j + count) = gen(j, count) for chunks covering [0, n); count == lanes except at the ends.
template <class V, class Gen>
FUSEDOPS_INLINE void store_span(float* y, index_t n, bool stream, Gen&& gen) noexcept {
  constexpr int L = simd::lanes<V>;
  index_t j = 0;
  if (stream) {
    const auto misaligned = static_cast<index_t>(reinterpret_cast<std::uintptr_t>(y) %
                                                 (L * sizeof(float)) / sizeof(float));
    if (reinterpret_cast<std::uintptr_t>(y) % sizeof(float) == 0) {
      if (misaligned != 0) {
        const int head = static_cast<int>(std::min<index_t>(n, L - misaligned));
        simd::store_partial(y, gen(index_t{0}, head), head);
        j = head;
      }
      for (; j + L <= n; j += L) simd::stream(y + j, gen(j, L));
    }
  }
  for (; j + L <= n; j += L) simd::store(y + j, gen(j, L));
  if (j < n) {
    const int rest = static_cast<int>(n - j);
    simd::store_partial(y + j, gen(j, rest), rest);
  }
}

}  // namespace fusedops::ops
