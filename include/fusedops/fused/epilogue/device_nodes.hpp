// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: fused/epilogue. The device twins of the nodes that read memory (bias_col, bias_row,
// residual), for GEMMs on backend::cuda. They take device_view's, keep a raw pointer and strides
// (what device code can use), and validate against a device output with the same checks and
// messages as the host nodes. The nodes that read nothing (none, scale, activation) and chain()
// are shared with the host unchanged. No CUDA header is needed to name them.
#pragma once

#include <type_traits>

#include "fusedops/fused/epilogue/nodes.hpp"

namespace fusedops::epilogue::device {

namespace detail {
template <class S>
inline constexpr bool is_device_v = std::is_same_v<S, device_memory>;
}  // namespace detail

/// x + bias[col] with bias in device memory.
class bias_col {
 public:
  bias_col() = default;
  bias_col(device_view<const float, 1> bias) noexcept  // NOLINT: converting, as {bias} reads
      : data_(bias.data()), stride_(bias.stride(0)), size_(bias.shape(0)) {}

  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    static_assert(std::is_floating_point_v<V>,
                  "epilogue::device nodes run in CUDA kernels, one scalar at a time (a CPU backend "
                  "needs the host nodes)");
    return x + static_cast<V>(data_[at.col * stride_]);
  }

  template <class TO, class S>
  status validate(const char* op, const view<TO, 2, S>& out) const noexcept {
    static_assert(detail::is_device_v<S>,
                  "epilogue::device::bias_col reads device memory: use it with backend::cuda on "
                  "device_view's (the host node is epilogue::bias_col)");
    return epilogue::detail::check_col_vector(
        op, "bias_col.bias", device_view<const float, 1>(data_, {size_}, {stride_}), out);
  }

 private:
  const float* data_ = nullptr;
  index_t stride_ = 0;
  index_t size_ = 0;
};

/// x + bias[row] with bias in device memory.
class bias_row {
 public:
  bias_row() = default;
  bias_row(device_view<const float, 1> bias) noexcept  // NOLINT: converting
      : data_(bias.data()), stride_(bias.stride(0)), size_(bias.shape(0)) {}

  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    static_assert(std::is_floating_point_v<V>,
                  "epilogue::device nodes run in CUDA kernels, one scalar at a time (a CPU backend "
                  "needs the host nodes)");
    return x + static_cast<V>(data_[at.row * stride_]);
  }

  template <class TO, class S>
  status validate(const char* op, const view<TO, 2, S>& out) const noexcept {
    static_assert(detail::is_device_v<S>,
                  "epilogue::device::bias_row reads device memory: use it with backend::cuda on "
                  "device_view's (the host node is epilogue::bias_row)");
    return epilogue::detail::check_row_vector(
        op, "bias_row.bias", device_view<const float, 1>(data_, {size_}, {stride_}), out);
  }

 private:
  const float* data_ = nullptr;
  index_t stride_ = 0;
  index_t size_ = 0;
};

/// x + r[row, col] with r in device memory (any strides, 0 broadcasts; must not overlap the
/// output).
class residual {
 public:
  residual() = default;
  residual(device_view<const float, 2> r) noexcept  // NOLINT: converting
      : data_(r.data()),
        row_stride_(r.stride(0)),
        col_stride_(r.stride(1)),
        rows_(r.shape(0)),
        cols_(r.shape(1)) {}

  template <class V>
  FUSEDOPS_HOST_DEVICE FUSEDOPS_INLINE V operator()(V x, const coord& at) const noexcept {
    static_assert(std::is_floating_point_v<V>,
                  "epilogue::device nodes run in CUDA kernels, one scalar at a time (a CPU backend "
                  "needs the host nodes)");
    return x + static_cast<V>(data_[at.row * row_stride_ + at.col * col_stride_]);
  }

  template <class TO, class S>
  status validate(const char* op, const view<TO, 2, S>& out) const noexcept {
    static_assert(detail::is_device_v<S>,
                  "epilogue::device::residual reads device memory: use it with backend::cuda on "
                  "device_view's (the host node is epilogue::residual)");
    return epilogue::detail::check_residual(
        op, "residual.r",
        device_view<const float, 2>(data_, {rows_, cols_}, {row_stride_, col_stride_}), out);
  }

 private:
  const float* data_ = nullptr;
  index_t row_stride_ = 0;
  index_t col_stride_ = 0;
  index_t rows_ = 0;
  index_t cols_ = 0;
};

}  // namespace fusedops::epilogue::device
