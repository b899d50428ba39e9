// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/rope. What RotaryEmbedding (ONNX opset 23) is: its tag, parameters and argument
// checks, shared by every backend. The checks reduce the 3-D [batch, seq, heads·head_size] and
// 4-D [batch, heads, seq, head_size] layouts, and the three ways of finding a token's cos/sin
// row (position ids, an offset, or per-token caches), to one rank-free rope_problem.
#pragma once

#include <cstdint>
#include <type_traits>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"

namespace fusedops {

/// Options of rotary_embedding (ONNX RotaryEmbedding-23 attributes and the optional position_ids).
struct rotary_embedding_params {
  bool interleaved = false;          ///< pairs (x[2i], x[2i+1]) instead of (x[i], x[i + rot/2])
  index_t num_heads = 0;             ///< required for 3-D input; for 4-D, 0 or x.shape(1)
  index_t rotary_embedding_dim = 0;  ///< rotated leading part of each head (even); 0 = head_size
  /// [batch, seq] rows of 2-D caches, each in [0, max_position). Empty: positions are
  /// position_offset + s (2-D caches) or the caches are per token (3-D [batch, seq, rot/2]).
  view<const std::int64_t, 2> position_ids{};
  index_t position_offset = 0;  ///< 2-D caches without position_ids only; >= 0
  threading threads = threading::serial();
};

/// Options of rotary_embedding on backend::cuda: rotary_embedding_params with device views (and no
/// threading policy: the stream is an argument of the call). Device position_ids cannot be read by
/// the host checks without a synchronisation: their values are not range-checked there; a token
/// whose id lies outside the cache rows gets NaN in its rotated elements (nothing out of bounds is
/// read).
struct device_rotary_embedding_params {
  bool interleaved = false;
  index_t num_heads = 0;
  index_t rotary_embedding_dim = 0;
  device_view<const std::int64_t, 2> position_ids{};
  index_t position_offset = 0;
};

namespace ops {

/// Rank-free RoPE call: tokens (b, s) × heads h × head_size d (unit stride).
struct rope_problem {
  index_t batch = 0, seq = 0, heads = 0, head_size = 0, rot = 0;
  bool interleaved = false;
  const float* x = nullptr;
  index_t x_b = 0, x_s = 0, x_h = 0;
  float* y = nullptr;
  index_t y_b = 0, y_s = 0, y_h = 0;
  const float* cos = nullptr;
  const float* sin = nullptr;
  // cos row of token (b, s): cos + pos(b, s) · c_row + b · c_b + s · c_s (sin: s_row, s_b, s_s)
  index_t c_row = 0, c_b = 0, c_s = 0, s_row = 0, s_b = 0, s_s = 0;
  const std::int64_t* ids = nullptr;  ///< null: pos = offset + s (2-D) or 0 (3-D caches)
  index_t id_b = 0, id_s = 0, offset = 0;
  bool per_token = false;  ///< 3-D caches
};

/// Operator tag: RotaryEmbedding.
struct rotary_embedding_op {
  static constexpr const char* name = "rotary_embedding";

  /// All checks (same messages in both memory spaces). Space: host_memory with
  /// rotary_embedding_params, or device_memory with device_rotary_embedding_params, whose
  /// position_ids values are not read (see there). `out`, a default-constructed problem, is
  /// filled in place; after an error its contents mean nothing.
  template <int XR, int CR, class Space = host_memory, class Params = rotary_embedding_params>
  static status validate(const view<const float, XR, Space>& x,
                         const view<const float, CR, Space>& cos_cache,
                         const view<const float, CR, Space>& sin_cache,
                         const view<float, XR, Space>& y, const Params& p,
                         rope_problem& out) noexcept {
    static_assert(XR == 3 || XR == 4,
                  "rotary_embedding: x is [B, S, H·D] (3-D) or [B, H, S, D] (4-D)");
    static_assert(CR == 2 || CR == 3,
                  "rotary_embedding: caches are [max_position, rot/2] or [B, S, rot/2]");
    const char* op = name;
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "x", x));
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "cos_cache", cos_cache));
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "sin_cache", sin_cache));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(op, "y", y));
    FUSEDOPS_RETURN_IF_ERROR(
        checks::shape_equals<XR>(op, "y", y.shape(), x.shape(), "the shape of 'x'"));
    rope_problem& r = out;  // filled in place: a copy of the finished struct cost ~10 ns
    if constexpr (XR == 3) {
      if (p.num_heads <= 0)
        return status::error(errc::invalid_argument,
                             "%s: argument 'num_heads' is %td; 3-D 'x' %s needs num_heads > 0", op,
                             p.num_heads, x.shape_string().c_str());
      if (x.shape(2) % p.num_heads != 0)
        return status::error(
            errc::shape_mismatch,
            "%s: the last dimension of 'x' %s is not a multiple of 'num_heads' %td", op,
            x.shape_string().c_str(), p.num_heads);
      r.batch = x.shape(0), r.seq = x.shape(1), r.heads = p.num_heads;
      r.head_size = x.shape(2) / p.num_heads;
    } else {
      if (p.num_heads != 0 && p.num_heads != x.shape(1))
        return status::error(errc::shape_mismatch,
                             "%s: argument 'num_heads' is %td but 4-D 'x' %s [B, H, S, D] has %td "
                             "heads",
                             op, p.num_heads, x.shape_string().c_str(), x.shape(1));
      r.batch = x.shape(0), r.heads = x.shape(1), r.seq = x.shape(2), r.head_size = x.shape(3);
    }
    if (x.stride(XR - 1) != 1 && x.shape(XR - 1) > 1)
      return status::error(errc::bad_stride,
                           "%s: the last dimension of 'x' %s must have unit stride, got strides %s",
                           op, x.shape_string().c_str(), to_text<XR>(x.strides()).c_str());
    if (y.stride(XR - 1) != 1 && y.shape(XR - 1) > 1)
      return status::error(errc::bad_stride,
                           "%s: the last dimension of 'y' %s must have unit stride, got strides %s",
                           op, y.shape_string().c_str(), to_text<XR>(y.strides()).c_str());
    r.rot = p.rotary_embedding_dim == 0 ? r.head_size : p.rotary_embedding_dim;
    if (r.rot <= 0 || r.rot % 2 != 0 || r.rot > r.head_size)
      return status::error(errc::invalid_argument,
                           "%s: argument 'rotary_embedding_dim' is %td (head_size %td of 'x' %s); "
                           "the rotated part must be even and within (0, head_size]",
                           op, p.rotary_embedding_dim, r.head_size, x.shape_string().c_str());
    const index_t half = r.rot / 2;
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<CR>(
        op, "sin_cache", sin_cache.shape(), cos_cache.shape(), "the shape of 'cos_cache'"));
    if (cos_cache.shape(CR - 1) != half)
      return status::error(errc::shape_mismatch,
                           "%s: argument 'cos_cache' has shape %s; its last dimension must be "
                           "rotary_embedding_dim / 2 = %td",
                           op, cos_cache.shape_string().c_str(), half);
    const view<const float, CR, Space>* caches[2] = {&cos_cache, &sin_cache};
    const char* cache_names[2] = {"cos_cache", "sin_cache"};
    for (int i = 0; i < 2; ++i)
      if (half > 1 && caches[i]->stride(CR - 1) != 1)
        return status::error(errc::bad_stride,
                             "%s: the last dimension of '%s' %s must have unit stride", op,
                             cache_names[i], caches[i]->shape_string().c_str());
    if constexpr (CR == 3) {
      const dims<3> want{r.batch, r.seq, half};
      FUSEDOPS_RETURN_IF_ERROR(
          checks::shape_equals<3>(op, "cos_cache", cos_cache.shape(), want,
                                  "per-token caches are [batch, seq, rotary_embedding_dim / 2]"));
      if (!p.position_ids.empty() || p.position_offset != 0)
        return status::error(errc::invalid_argument,
                             "%s: per-token (3-D) caches %s take no 'position_ids' and no "
                             "'position_offset'",
                             op, cos_cache.shape_string().c_str());
      r.per_token = true;
      r.c_b = cos_cache.stride(0), r.c_s = cos_cache.stride(1);
      r.s_b = sin_cache.stride(0), r.s_s = sin_cache.stride(1);
    } else {
      const index_t max_pos = cos_cache.shape(0);
      r.c_row = cos_cache.stride(0), r.s_row = sin_cache.stride(0);
      if (!p.position_ids.empty() || (r.batch * r.seq > 0 && p.position_ids.data() != nullptr)) {
        FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "position_ids", p.position_ids));
        const dims<2> want{r.batch, r.seq};
        FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<2>(op, "position_ids", p.position_ids.shape(),
                                                         want, "[batch, seq] of 'x'"));
        if (p.position_offset != 0)
          return status::error(errc::invalid_argument,
                               "%s: give 'position_ids' or 'position_offset' (%td), not both", op,
                               p.position_offset);
        if constexpr (std::is_same_v<Space, host_memory>) {  // device ids: see the params
          FUSEDOPS_RETURN_IF_ERROR(checks::ids_in_range(op, "position_ids", p.position_ids,
                                                        max_pos, "cos_cache",
                                                        cos_cache));
        }
        r.ids = p.position_ids.data();
        r.id_b = p.position_ids.stride(0), r.id_s = p.position_ids.stride(1);
      } else {
        if (p.position_offset < 0 || (r.seq > 0 && p.position_offset + r.seq > max_pos))
          return status::error(errc::invalid_argument,
                               "%s: argument 'position_offset' is %td; positions [%td, %td) must "
                               "lie within the cache rows [0, %td) of 'cos_cache' %s",
                               op, p.position_offset, p.position_offset, p.position_offset + r.seq,
                               max_pos, cos_cache.shape_string().c_str());
        r.offset = p.position_offset;
      }
    }
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(op, "y", y, "x", x));
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(op, "y", y, "cos_cache", cos_cache));
    FUSEDOPS_RETURN_IF_ERROR(checks::in_place_or_disjoint(op, "y", y, "sin_cache", sin_cache));
    if (!p.position_ids.empty()) {
      std::uintptr_t ylo, yhi, ilo, ihi;
      checks::byte_range(y, ylo, yhi);
      checks::byte_range(p.position_ids, ilo, ihi);
      if (!y.empty() && ylo < ihi && ilo < yhi)
        return status::error(errc::invalid_argument, "%s: output 'y' %s overlaps 'position_ids'",
                             op, y.shape_string().c_str());
    }

    if constexpr (XR == 3) {
      r.x_b = x.stride(0), r.x_s = x.stride(1), r.x_h = r.head_size;
      r.y_b = y.stride(0), r.y_s = y.stride(1), r.y_h = r.head_size;
    } else {
      r.x_b = x.stride(0), r.x_h = x.stride(1), r.x_s = x.stride(2);
      r.y_b = y.stride(0), r.y_h = y.stride(1), r.y_s = y.stride(2);
    }
    r.interleaved = p.interleaved;
    r.x = x.data(), r.y = y.data(), r.cos = cos_cache.data(), r.sin = sin_cache.data();
    return {};
  }
};

}  // namespace ops
}  // namespace fusedops
