// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/bias_activation. The width-generic CPU implementation, written once in the vector
// vocabulary (arch/simd.hpp) and instantiated for every CPU backend. Rows are independent and
// split across threads; each row is one pass: load x and bias, add, activate, store y.
#pragma once

#include <algorithm>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/bias_activation/bias_activation_op.hpp"

namespace fusedops::ops {

template <class B>
struct bias_activation_generic {
  template <class Act>
  static void run(const view<const float, 2>& x, const view<const float, 1>& bias,
                  const view<float, 2>& y, const Act& act, const threading& threads) {
    using V = simd::vec_t<float, B>;
    constexpr int lanes = simd::lanes<V>;
    const index_t cols = x.shape(1);
    const bool unit_stride = x.stride(1) == 1 && y.stride(1) == 1 && bias.stride(0) == 1;
    // About 16 K elements per task: below that, waking a thread costs more than it saves.
    const index_t grain = std::max<index_t>(1, index_t{16384} / std::max<index_t>(cols, 1));

    parallel_for(threads, x.shape(0), grain, [&](index_t row_begin, index_t row_end) {
      for (index_t r = row_begin; r < row_end; ++r) {
        const float* xr = x.data() + r * x.stride(0);
        float* yr = y.data() + r * y.stride(0);
        if (!unit_stride) {
          for (index_t j = 0; j < cols; ++j)
            yr[j * y.stride(1)] = act(xr[j * x.stride(1)] + bias.data()[j * bias.stride(0)]);
          continue;
        }
        const float* b = bias.data();
        index_t j = 0;
        for (; j + lanes <= cols; j += lanes)
          simd::store(yr + j, act(simd::load<V>(xr + j) + simd::load<V>(b + j)));
        if (j < cols) {
          const int n = static_cast<int>(cols - j);
          simd::store_partial(yr + j, act(simd::load_partial<V>(xr + j, n) +
                                          simd::load_partial<V>(b + j, n)), n);
        }
      }
    });
  }
};

}  // namespace fusedops::ops
