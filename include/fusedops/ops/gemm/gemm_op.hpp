// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. What the GEMM operator is: its tag, its per-call parameters and its argument
// checks, shared by every backend.
//   C = epilogue(alpha · A·B + beta · C_in),  A [M, K], B [K, N], C [M, N]
// op(A) / op(B) are views: pass a.transpose() for ONNX transA; any strides work.
#pragma once

#include <cstddef>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/fused/epilogue/gated.hpp"

namespace fusedops {

/// Per-call GEMM parameters. Every field has the plain-GEMM default.
struct gemm_params {
  float alpha = 1.0f;
  /// Weight of C_in. beta == 0 never reads C_in (so NaN there stays out of the result).
  float beta = 0.0f;
  /// Source of beta·C_in: [M, N] with any strides, 0 to broadcast (ONNX Gemm's C as a scalar,
  /// row or column; see broadcast_c). Empty: the output itself (BLAS's C = alpha·AB + beta·C).
  view<const float, 2> c_in{};
  threading threads = threading::serial();
  /// Scratch for packing (gemm_workspace_size floats). Empty: the call allocates what it needs,
  /// unless allow_allocation is false, in which case it fails with buffer_too_small.
  view<float, 1> workspace{};
  bool allow_allocation = true;
};

namespace ops {

/// Operator tag of the fp32 GEMM family (gemm, gemm_batched, packed weights).
struct gemm_op {
  static constexpr const char* name = "gemm";

  /// An input matrix's strides must not make distinct elements overlap (a leading dimension
  /// smaller than the row); unlike outputs, inputs may broadcast with stride 0 only when
  /// `allow_broadcast`. Any element type and memory space (the CUDA GEMM shares it).
  template <class T, class S>
  static status input_matrix(const char* arg, const view<const T, 2, S>& v,
                             bool allow_broadcast) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, arg, v));
    if (allow_broadcast && (v.stride(0) == 0 || v.stride(1) == 0)) return {};
    view<T, 2, S> as_output(const_cast<T*>(v.data()), v.shape(), v.strides());
    if (checks::output(name, arg, as_output).ok()) return {};
    return status::error(errc::bad_stride,
                         "%s: argument '%s' (shape %s, strides %s) has a leading dimension smaller "
                         "than its rows, so distinct elements overlap",
                         name, arg, v.shape_string().c_str(), to_text<2>(v.strides()).c_str());
  }

  /// Checks shared by the plain and packed forms once K and N are known. `b_for_overlap` is the
  /// memory of B (unpacked view, or the packed storage as a 1-D range).
  template <class E, class BView>
  static status common(const view<const float, 2>& a, index_t k, index_t n, const BView& b_memory,
                       const view<float, 2>& c, const gemm_params& p, const E& ep) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(input_matrix("a", a, false));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(name, "c", c));
    if (a.shape(1) != k)
      return status::error(errc::shape_mismatch,
                           "%s: argument 'a' has shape %s but 'b' has %td rows: the inner "
                           "dimensions (K) must agree",
                           name, a.shape_string().c_str(), k);
    const dims<2> expected{a.shape(0), n};
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<2>(name, "c", c.shape(), expected,
                                                     "[rows of 'a', output columns of 'b']"));
    FUSEDOPS_RETURN_IF_ERROR(disjoint("c", c, "a", a));
    FUSEDOPS_RETURN_IF_ERROR(disjoint("c", c, "b", b_memory));
    if (p.c_in.data() != nullptr || !p.c_in.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(input_matrix("c_in", p.c_in, true));
      FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<2>(
          name, "c_in", p.c_in.shape(), c.shape(),
          "the output's shape; broadcast smaller C with stride 0 (fusedops::broadcast_c)"));
      FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(name, "c", c, "c_in", p.c_in));
    }
    if (p.workspace.data() == nullptr && !p.workspace.empty())
      return status::error(errc::null_pointer, "%s: 'workspace' has %td floats but a null pointer",
                           name, p.workspace.shape(0));
    if (p.workspace.stride(0) != 1 && p.workspace.shape(0) > 1)
      return status::error(errc::bad_stride, "%s: 'workspace' must be contiguous (stride 1)", name);
    return epilogue::validate(ep, name, c);
  }

  template <class TO, int Q, class T, int R, class S>
  static status disjoint(const char* out_name, const view<TO, Q, S>& out, const char* in_name,
                         const view<T, R, S>& in) noexcept {
    std::uintptr_t olo, ohi, ilo, ihi;
    checks::byte_range(out, olo, ohi);
    checks::byte_range(in, ilo, ihi);
    if (ohi <= ilo || ihi <= olo) return {};
    return status::error(errc::invalid_argument,
                         "%s: output '%s' (shape %s) overlaps input '%s' (shape %s); GEMM cannot "
                         "run in place",
                         name, out_name, out.shape_string().c_str(), in_name,
                         in.shape_string().c_str());
  }
};

}  // namespace ops
}  // namespace fusedops
