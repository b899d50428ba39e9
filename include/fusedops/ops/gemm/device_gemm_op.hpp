// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. The CUDA GEMM's parameters and argument checks. Host code without CUDA
// headers: the element types are template parameters (float, __half, __nv_bfloat16 in a .cu TU),
// and the checks are gemm_op's, so messages read the same on every backend.
#pragma once

#include <type_traits>

#include "fusedops/fused/epilogue.hpp"
#include "fusedops/ops/gemm/gemm_op.hpp"

namespace fusedops {

/// Parameters of a GEMM on device memory (backend::cuda): C = epilogue(alpha·A·B + beta·C_in).
/// The host gemm_params' threads and workspace have no meaning on a GPU: the kernels need no
/// scratch, and the stream is an argument of the call.
template <class TC = float>
struct device_gemm_params {
  float alpha = 1.0f;
  /// beta == 0 never reads C_in.
  float beta = 0.0f;
  /// [M, N], any strides, 0 broadcasts (fusedops::broadcast_c works on device views too).
  /// Empty: the output itself (C = alpha·AB + beta·C).
  device_view<const TC, 2> c_in{};
  /// fp32 A and B only: let the tensor cores multiply them in TF32 (inputs keep 10 of their 23
  /// mantissa bits, the products accumulate in fp32: ~1e-3 relative error, like cuBLAS's
  /// CUBLAS_COMPUTE_32F_FAST_TF32). Used on Hopper (an sm_90a build) for a [N, K] B with 16-byte
  /// aligned rows; elsewhere the call stays on the exact fp32 kernel.
  bool allow_tf32 = false;
};

namespace ops {

struct device_gemm_op {
  /// Checks a, b, c, the parameters and the epilogue; ok or an error naming the argument.
  template <class T, class TC, class E>
  static status validate(const device_view<const T, 2>& a, const device_view<const T, 2>& b,
                         const device_view<TC, 2>& c, const device_gemm_params<TC>& p,
                         const E& ep) noexcept {
    static_assert(!epilogue::is_gated_v<E>,
                  "fusedops: gated epilogues (swiglu, geglu) are not implemented on backend::cuda "
                  "yet: run the gate/up GEMM with epilogue::none and combine separately");
    constexpr const char* name = gemm_op::name;
    FUSEDOPS_RETURN_IF_ERROR(gemm_op::input_matrix("a", a, false));
    FUSEDOPS_RETURN_IF_ERROR(gemm_op::input_matrix("b", b, false));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(name, "c", c));
    if (a.shape(1) != b.shape(0))
      return status::error(errc::shape_mismatch,
                           "%s: argument 'a' has shape %s but 'b' has shape %s: the inner "
                           "dimensions (K) must agree",
                           name, a.shape_string().c_str(), b.shape_string().c_str());
    const dims<2> expected{a.shape(0), b.shape(1)};
    FUSEDOPS_RETURN_IF_ERROR(
        checks::shape_equals<2>(name, "c", c.shape(), expected, "[rows of 'a', columns of 'b']"));
    FUSEDOPS_RETURN_IF_ERROR(gemm_op::disjoint("c", c, "a", a));
    FUSEDOPS_RETURN_IF_ERROR(gemm_op::disjoint("c", c, "b", b));
    if (p.c_in.data() != nullptr || !p.c_in.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(gemm_op::input_matrix("c_in", p.c_in, true));
      FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<2>(
          name, "c_in", p.c_in.shape(), c.shape(),
          "the output's shape; broadcast smaller C with stride 0 (fusedops::broadcast_c)"));
      FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(name, "c", c, "c_in", p.c_in));
    }
    return epilogue::validate(ep, name, c);
  }
};

}  // namespace ops
}  // namespace fusedops
