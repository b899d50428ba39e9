// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/norm. What the normalization operators are: their tags, their parameters, and their
// argument checks, shared by every backend. The checks turn N-d strided views into a rank-free
// norm_problem (rows × hidden, row offsets per tensor) that the implementations consume:
//   layer_norm      y = (x - mean) / sqrt(var + epsilon) · scale (+ bias)      ONNX opset 17
//   rms_norm        y = x / sqrt(mean(x²) + epsilon) · scale                   ONNX opset 23
//   add_layer_norm  sum = x + residual (+ residual_bias); y = layer_norm(sum)  both written
//   add_rms_norm    sum = x + residual (+ residual_bias); y = rms_norm(sum)
// statistics over the trailing dimensions [axis, rank) of x (the "hidden" run, which must be
// contiguous with unit stride); the leading dimensions are rows with any strides.
#pragma once

#include <cmath>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/store_policy.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/norm/rows.hpp"

namespace fusedops {

/// Options of layer_norm / add_layer_norm. Optional tensors are absent when empty (the default).
struct layer_norm_params {
  int axis = -1;                         ///< first normalized dimension of x, in [-rank, rank)
  float epsilon = 1e-5f;                 ///< added to the variance; finite and >= 0
  view<const float, 1> bias{};           ///< B of ONNX: [hidden], unit stride; empty = none
  view<const float, 1> residual_bias{};  ///< add_layer_norm only: added to x + residual
  view<float, 1> mean{};                 ///< optional output [rows] (ONNX output 2, flattened)
  view<float, 1> inv_std_dev{};          ///< optional output [rows] (ONNX output 3, flattened)
  // (mean and inv_std_dev may have any stride but must not share a byte range with each other or
  // with any other argument: interleaving them in one buffer is rejected.)
  /// How y (and add_layer_norm's sum) are stored: automatic streams (non-temporal stores) when
  /// the call touches more bytes than the last-level cache holds (core/store_policy.hpp).
  store_policy stores = store_policy::automatic;
  threading threads = threading::serial();
};

/// Options of rms_norm / add_rms_norm.
struct rms_norm_params {
  int axis = -1;
  float epsilon = 1e-5f;
  view<const float, 1> residual_bias{};           ///< add_rms_norm only: added to x + residual
  store_policy stores = store_policy::automatic;  ///< as layer_norm_params::stores
  threading threads = threading::serial();
};

/// Options of layer_norm / add_layer_norm on backend::cuda: the same as layer_norm_params, with
/// device views (and no threading policy: the stream is an argument of the call). T: the element
/// type of x / y (float, or __half / __nv_bfloat16 with fp32 statistics); bias and residual_bias
/// have it too, the statistics outputs are fp32.
template <class T>
struct device_layer_norm_params_of {
  int axis = -1;
  float epsilon = 1e-5f;
  device_view<const T, 1> bias{};
  device_view<const T, 1> residual_bias{};
  device_view<float, 1> mean{};
  device_view<float, 1> inv_std_dev{};
};
using device_layer_norm_params = device_layer_norm_params_of<float>;

/// Options of rms_norm / add_rms_norm on backend::cuda (T: as above).
template <class T>
struct device_rms_norm_params_of {
  int axis = -1;
  float epsilon = 1e-5f;
  device_view<const T, 1> residual_bias{};
};
using device_rms_norm_params = device_rms_norm_params_of<float>;

namespace ops {

/// Rank-free description of one normalization call, filled by the checks (T: the element type
/// of the tensors; statistics are fp32).
template <class T>
struct basic_norm_problem {
  row_layout<4> rows;  ///< tensors: 0 x, 1 y, 2 residual, 3 sum
  index_t hidden = 0;
  const T* x = nullptr;
  T* y = nullptr;
  const T* residual = nullptr;  ///< null: no residual (plain norm)
  T* sum = nullptr;
  const T* scale = nullptr;
  const T* bias = nullptr;           ///< null: none
  const T* residual_bias = nullptr;  ///< null: none
  float* mean = nullptr;             ///< null: not requested
  index_t mean_stride = 0;
  float* inv_std = nullptr;
  index_t inv_std_stride = 0;
  float epsilon = 0;
  bool stream = false;  ///< streaming (non-temporal) stores for y and sum (CPU backends)
};
using norm_problem = basic_norm_problem<float>;

/// Whether a checked call streams its outputs under `policy`: the bytes it touches are x and y,
/// plus residual and sum for the fused forms.
inline bool norm_streams(const norm_problem& p, store_policy policy) noexcept {
  const std::size_t tensors = p.residual != nullptr ? 4 : 2;
  return streams(policy, static_cast<std::size_t>(p.rows.rows) *
                             static_cast<std::size_t>(p.hidden) * sizeof(float) * tensors);
}

/// The arguments of any of the four entry points, as views (residual/sum empty when not fused),
/// all in one memory space (host_memory for the CPU backends, device_memory for backend::cuda),
/// of element type T (float; backend::cuda also takes __half / __nv_bfloat16).
template <int R, class Space = host_memory, class T = float>
struct norm_args {
  view<const T, R, Space> x, residual;
  view<T, R, Space> sum, y;
  view<const T, 1, Space> scale, bias, residual_bias;
  view<float, 1, Space> mean, inv_std;
  int axis = -1;
  float epsilon = 0;
  bool fused = false;
};

namespace norm_checks {

/// Outputs and inputs that must not share a byte (stricter than in_place_or_disjoint).
template <class T, class U, int R, int Q, class S>
status disjoint(const char* op, const char* out_name, const view<T, R, S>& out, const char* in_name,
                const view<U, Q, S>& in) noexcept {
  if (out.empty() || in.empty()) return {};
  std::uintptr_t olo, ohi, ilo, ihi;
  checks::byte_range(out, olo, ohi);
  checks::byte_range(in, ilo, ihi);
  if (ohi <= ilo || ihi <= olo) return {};
  return status::error(errc::invalid_argument,
                       "%s: output '%s' (shape %s) overlaps '%s' (shape %s); they must use "
                       "disjoint memory",
                       op, out_name, out.shape_string().c_str(), in_name,
                       in.shape_string().c_str());
}

/// A per-hidden vector (scale, bias, residual_bias): shape [hidden], unit stride.
template <int R, class S, class T>
status hidden_vector(const char* op, const char* name, const view<const T, 1, S>& v, index_t hidden,
                     const view<const T, R, S>& x, int axis) noexcept {
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, name, v));
  if (v.shape(0) != hidden)
    return status::error(errc::shape_mismatch,
                         "%s: argument '%s' has shape %s, expected [%td] (the product of the "
                         "dimensions of 'x' %s from axis %d)",
                         op, name, v.shape_string().c_str(), hidden, x.shape_string().c_str(),
                         axis);
  if (hidden > 1 && v.stride(0) != 1)
    return status::error(errc::bad_stride,
                         "%s: argument '%s' (shape %s) must have unit stride, got stride %td", op,
                         name, v.shape_string().c_str(), v.stride(0));
  return {};
}

/// The normalized dimensions of a tensor must flatten to one unit-stride run.
template <class T, int R, class S>
status hidden_run(const char* op, const char* name, const view<T, R, S>& v, int axis) noexcept {
  if (hidden_is_contiguous<R>(v.shape(), v.strides(), axis)) return {};
  return status::error(errc::bad_stride,
                       "%s: the normalized dimensions [%d, %d) of '%s' (shape %s, strides %s) "
                       "must be contiguous with unit stride (the rows may have any stride)",
                       op, axis, R, name, v.shape_string().c_str(),
                       to_text<R>(v.strides()).c_str());
}

}  // namespace norm_checks

/// All checks of the four normalization entry points (`op` names the entry point); on success
/// fills `out`. Nothing is written before they pass. The same checks and messages in both memory
/// spaces (the norm_problem holds raw pointers of a's space).
template <int R, class Space, class T>
status validate_norm(const char* op, const norm_args<R, Space, T>& a, bool has_stats_outputs,
                     basic_norm_problem<T>& out) noexcept {
  static_assert(R >= 1, "normalization needs a tensor of rank >= 1");
  namespace nc = norm_checks;
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "x", a.x));
  FUSEDOPS_RETURN_IF_ERROR(checks::output(op, "y", a.y));
  if (a.fused) {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "residual", a.residual));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(op, "sum", a.sum));
  } else if (!a.residual_bias.empty()) {
    return status::error(errc::invalid_argument,
                         "%s: argument 'residual_bias' (shape %s) is only taken by the fused "
                         "residual forms (add_layer_norm / add_rms_norm)",
                         op, a.residual_bias.shape_string().c_str());
  }
  if (a.axis < -R || a.axis >= R)
    return status::error(errc::invalid_argument,
                         "%s: argument 'axis' is %d, out of range [%d, %d) for 'x' of shape %s", op,
                         a.axis, -R, R, a.x.shape_string().c_str());
  if (!(a.epsilon >= 0.0f) || std::isinf(a.epsilon))
    return status::error(errc::invalid_argument,
                         "%s: argument 'epsilon' is %g; expected a finite value >= 0", op,
                         double(a.epsilon));
  const int axis = a.axis < 0 ? a.axis + R : a.axis;
  FUSEDOPS_RETURN_IF_ERROR(
      checks::shape_equals<R>(op, "y", a.y.shape(), a.x.shape(), "the shape of 'x'"));
  if (a.fused) {
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<R>(op, "residual", a.residual.shape(),
                                                     a.x.shape(), "the shape of 'x'"));
    FUSEDOPS_RETURN_IF_ERROR(
        checks::shape_equals<R>(op, "sum", a.sum.shape(), a.x.shape(), "the shape of 'x'"));
  }
  index_t hidden = 1, rows = 1;
  for (int d = 0; d < R; ++d) (d < axis ? rows : hidden) *= a.x.shape(d);
  if (hidden == 0 && rows > 0)
    return status::error(errc::invalid_argument,
                         "%s: 'x' (shape %s) has no elements to normalize from axis %d", op,
                         a.x.shape_string().c_str(), a.axis);
  FUSEDOPS_RETURN_IF_ERROR(nc::hidden_vector(op, "scale", a.scale, hidden, a.x, a.axis));
  if (!a.bias.empty())
    FUSEDOPS_RETURN_IF_ERROR(nc::hidden_vector(op, "bias", a.bias, hidden, a.x, a.axis));
  if (!a.residual_bias.empty())
    FUSEDOPS_RETURN_IF_ERROR(
        nc::hidden_vector(op, "residual_bias", a.residual_bias, hidden, a.x, a.axis));
  FUSEDOPS_RETURN_IF_ERROR(nc::hidden_run(op, "x", a.x, axis));
  FUSEDOPS_RETURN_IF_ERROR(nc::hidden_run(op, "y", a.y, axis));
  if (a.fused) {
    FUSEDOPS_RETURN_IF_ERROR(nc::hidden_run(op, "residual", a.residual, axis));
    FUSEDOPS_RETURN_IF_ERROR(nc::hidden_run(op, "sum", a.sum, axis));
  }
  if (has_stats_outputs) {
    const char* names[2] = {"mean", "inv_std_dev"};
    const view<float, 1, Space>* stats[2] = {&a.mean, &a.inv_std};
    for (int i = 0; i < 2; ++i) {
      if (stats[i]->empty() && rows > 0) continue;  // not requested
      FUSEDOPS_RETURN_IF_ERROR(checks::output(op, names[i], *stats[i]));
      if (stats[i]->shape(0) != rows)
        return status::error(errc::shape_mismatch,
                             "%s: argument '%s' has shape %s, expected [%td] (the product of the "
                             "dimensions of 'x' %s before axis %d)",
                             op, names[i], stats[i]->shape_string().c_str(), rows,
                             a.x.shape_string().c_str(), a.axis);
    }
  }

  // Aliasing. y may be x itself (same view); with a residual, y and sum may each be x or the
  // residual itself (the rows are processed one at a time, each read before it is written), but
  // never each other. Everything else is disjoint from the outputs.
  FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(op, "y", a.y, "x", a.x));
  const char* in_names[3] = {"scale", "bias", "residual_bias"};
  const view<const T, 1, Space>* ins[3] = {&a.scale, &a.bias, &a.residual_bias};
  for (int i = 0; i < 3; ++i)
    FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, "y", a.y, in_names[i], *ins[i]));
  if (a.fused) {
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(op, "y", a.y, "residual", a.residual));
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(op, "sum", a.sum, "x", a.x));
    FUSEDOPS_RETURN_IF_ERROR(
        checks::in_place_or_disjoint(op, "sum", a.sum, "residual", a.residual));
    FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, "y", a.y, "sum", a.sum));
    for (int i = 0; i < 3; ++i)
      FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, "sum", a.sum, in_names[i], *ins[i]));
  }
  if (has_stats_outputs) {
    const char* names[2] = {"mean", "inv_std_dev"};
    const view<float, 1, Space>* stats[2] = {&a.mean, &a.inv_std};
    for (int i = 0; i < 2; ++i) {
      const view<float, 1, Space>& s = *stats[i];
      if (s.empty()) continue;
      FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, names[i], s, "x", a.x));
      FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, names[i], s, "y", a.y));
      FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, names[i], s, "residual", a.residual));
      FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, names[i], s, "sum", a.sum));
      for (int j = 0; j < 3; ++j)
        FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, names[i], s, in_names[j], *ins[j]));
    }
    FUSEDOPS_RETURN_IF_ERROR(nc::disjoint(op, "mean", a.mean, "inv_std_dev", a.inv_std));
  }

  const dims<R>* strides[4] = {&a.x.strides(), &a.y.strides(),
                               a.fused ? &a.residual.strides() : &a.x.strides(),
                               a.fused ? &a.sum.strides() : &a.y.strides()};
  // Filled in place, field by field: the row layout alone is 336 bytes, and building it or the
  // whole problem in a temporary and copying it showed up in single-row calls.
  out.rows.template assign<R>(a.x.shape(), strides, axis);
  out.hidden = hidden;
  out.x = a.x.data();
  out.y = a.y.data();
  out.residual = a.fused ? a.residual.data() : nullptr;
  out.sum = a.fused ? a.sum.data() : nullptr;
  out.scale = a.scale.data();
  out.bias = a.bias.empty() ? nullptr : a.bias.data();
  out.residual_bias = a.residual_bias.empty() ? nullptr : a.residual_bias.data();
  const bool mean = has_stats_outputs && !a.mean.empty();
  const bool inv_std = has_stats_outputs && !a.inv_std.empty();
  out.mean = mean ? a.mean.data() : nullptr;
  out.mean_stride = mean ? a.mean.stride(0) : 0;
  out.inv_std = inv_std ? a.inv_std.data() : nullptr;
  out.inv_std_stride = inv_std ? a.inv_std.stride(0) : 0;
  out.epsilon = a.epsilon;
  out.stream = false;
  return {};
}

/// Operator tag: LayerNormalization (and its fused residual form).
struct layer_norm_op {
  static constexpr const char* name = "layer_norm";
};

/// Operator tag: RMSNormalization (and its fused residual form).
struct rms_norm_op {
  static constexpr const char* name = "rms_norm";
};

}  // namespace ops
}  // namespace fusedops
