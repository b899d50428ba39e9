// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. What the attention operator is (ONNX Attention, opsets 23-24, fp32): its
// tag, its per-call parameters, and its argument checks, shared by every backend. The checks turn
// the views into an attention_problem that the implementations consume:
//   Y[b, h, i, :] = sum_j softmax_j( mask( softcap( scale · Q[b, h, i, :] · K[b, h/G, j, :] ) ) )
//                   · V[b, h/G, j, :]                     G = Hq / Hkv (GQA; Hkv = 1: MQA)
// where mask adds the float mask, removes keys the boolean mask, the causal rule, the sliding
// window, the valid KV length or a short mask exclude (see masks.hpp). Nothing here depends on
// an ISA. All checks run before any output is written.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"

namespace fusedops {

/// Options of fusedops::attention. Every field has ONNX's default; optional tensors are absent
/// when empty.
struct attention_params {
  /// Sentinel of causal_offset: bottom-right alignment (offset = valid KV length - Sq).
  static constexpr index_t bottom_right = std::numeric_limits<index_t>::min();

  /// ONNX attribute `scale`: multiplies Q·Kᵀ. 0 (the default) means 1/sqrt(Dqk).
  float scale = 0.0f;
  /// ONNX attribute `softcap`: scores become softcap · tanh(score / softcap), after the scale and
  /// before any mask (ONNX's reference order, Gemma-2). 0 = off; must be >= 0 and finite.
  float softcap = 0.0f;
  /// ONNX attribute `is_causal`: query i attends key j only if j <= i + offset.
  bool is_causal = false;
  /// The offset of the causal rule and the window: the absolute position of query i is
  /// i + offset. Default bottom_right: offset = L_b - Sq, with L_b = nonpad_kv_seqlen[b] when
  /// given, else Skv (K/V holding the past keys then the Sq new ones, ONNX's past_key case).
  /// Set 0 for ONNX's cache-less top-left form when Sq != Skv.
  index_t causal_offset = bottom_right;
  /// Sliding window (beyond ONNX; ORT's local_window_size): query at position p attends keys
  /// p - window_left .. p + window_right. -1 = unbounded on that side.
  index_t window_left = -1;
  index_t window_right = -1;
  /// ONNX input `attn_mask` (float form): added to the scores. A 4-D view [B, Hq, Sq, M] whose
  /// broadcast dimensions have stride 0 (attention_mask_view builds it from ONNX's 2/3/4-D
  /// mask); M <= Skv, keys j >= M are masked out (ONNX pads a short mask with -inf).
  view<const float, 4> float_mask{};
  /// ONNX input `attn_mask` (bool form, true = attend), same shape rules. May be combined with
  /// float_mask.
  view<const bool, 4> bool_mask{};
  /// ONNX input `nonpad_kv_seqlen` (opset 24): [B] valid keys per batch, each in [0, Skv]; keys
  /// j >= nonpad_kv_seqlen[b] are never read.
  view<const std::int64_t, 1> nonpad_kv_seqlen{};
  threading threads = threading::serial();
  /// Scratch (attention_workspace_size floats). Empty: the call allocates what it needs, unless
  /// allow_allocation is false, in which case it fails with buffer_too_small.
  view<float, 1> workspace{};
  bool allow_allocation = true;
};

namespace ops {

/// Everything a backend needs, validated: plain pointers and strides.
struct attention_problem {
  view<const float, 4> q, k, v;
  view<float, 4> out;
  const float* fmask = nullptr;  ///< null: none
  dims<4> fmask_strides{};
  index_t fmask_len = 0;
  const bool* bmask = nullptr;  ///< null: none
  dims<4> bmask_strides{};
  index_t bmask_len = 0;
  const std::int64_t* kv_lens = nullptr;  ///< null: every batch has skv keys
  index_t kv_lens_stride = 0;
  index_t batch = 0, hq = 0, hkv = 0, group = 1, sq = 0, skv = 0, dqk = 0, dv = 0;
  float scale = 1.0f, softcap = 0.0f;
  bool causal = false;
  index_t causal_offset = attention_params::bottom_right;
  index_t left = -1, right = -1;
};

/// Operator tag of fusedops::attention.
struct attention_op {
  static constexpr const char* name = "attention";

  template <class T>
  static status input(const char* arg, const view<const T, 4>& x) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, arg, x));
    for (int d = 0; d < 4; ++d)
      if (x.stride(d) < 0)
        return status::error(errc::bad_stride, "%s: argument '%s' (shape %s) has a negative stride",
                             name, arg, x.shape_string().c_str());
    return {};
  }

  template <class T>
  static status mask(const char* arg, const view<const T, 4>& m, const attention_problem& p) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(input(arg, m));
    if (m.shape(0) != p.batch || m.shape(1) != p.hq || m.shape(2) != p.sq || m.shape(3) > p.skv)
      return status::error(errc::shape_mismatch,
                           "%s: argument '%s' has shape %s, expected [%td, %td, %td, <= %td] "
                           "([B, Hq, Sq, Skv] with stride 0 on broadcast dimensions; see "
                           "attention_mask_view)",
                           name, arg, m.shape_string().c_str(), p.batch, p.hq, p.sq, p.skv);
    return {};
  }

  template <class T, int R>
  static status disjoint(const view<float, 4>& out, const char* in_name,
                         const view<const T, R>& in) noexcept {
    std::uintptr_t olo, ohi, ilo, ihi;
    checks::byte_range(out, olo, ohi);
    checks::byte_range(in, ilo, ihi);
    if (ohi <= ilo || ihi <= olo) return {};
    return status::error(errc::invalid_argument,
                         "%s: output 'out' (shape %s) overlaps input '%s' (shape %s); attention "
                         "cannot run in place",
                         name, out.shape_string().c_str(), in_name, in.shape_string().c_str());
  }

  /// All argument checks; on success `pr` describes the call.
  static status validate(const view<const float, 4>& q, const view<const float, 4>& k,
                         const view<const float, 4>& v, const view<float, 4>& out,
                         const attention_params& a, attention_problem& pr) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(input("q", q));
    FUSEDOPS_RETURN_IF_ERROR(input("k", k));
    FUSEDOPS_RETURN_IF_ERROR(input("v", v));
    FUSEDOPS_RETURN_IF_ERROR(checks::output(name, "out", out));
    const index_t b = q.shape(0), hq = q.shape(1), sq = q.shape(2), dqk = q.shape(3);
    const index_t hkv = k.shape(1), skv = k.shape(2), dv = v.shape(3);
    if (k.shape(0) != b || k.shape(3) != dqk)
      return status::error(errc::shape_mismatch,
                           "%s: argument 'k' has shape %s, expected [%td, Hkv, Skv, %td] (batch "
                           "and head size Dqk of 'q' %s)",
                           name, k.shape_string().c_str(), b, dqk, q.shape_string().c_str());
    if (v.shape(0) != b || v.shape(1) != hkv || v.shape(2) != skv)
      return status::error(errc::shape_mismatch,
                           "%s: argument 'v' has shape %s, expected [%td, %td, %td, Dv] (batch, "
                           "heads and keys of 'k' %s)",
                           name, v.shape_string().c_str(), b, hkv, skv, k.shape_string().c_str());
    if (hkv == 0 ? hq != 0 : hq % hkv != 0)
      return status::error(errc::shape_mismatch,
                           "%s: 'q' has %td heads and 'k' %td: the query heads must be a multiple "
                           "of the key/value heads (q %s, k %s)",
                           name, hq, hkv, q.shape_string().c_str(), k.shape_string().c_str());
    const dims<4> expected{b, hq, sq, dv};
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<4>(name, "out", out.shape(), expected,
                                                     "[B, Hq, Sq] of 'q' and Dv of 'v'"));
    if (!(a.softcap >= 0.0f) || !std::isfinite(a.softcap))
      return status::error(errc::invalid_argument,
                           "%s: 'softcap' is %g, expected a finite value >= 0 (0 = off)", name,
                           double(a.softcap));
    if (!std::isfinite(a.scale))
      return status::error(errc::invalid_argument, "%s: 'scale' is %g, expected a finite value",
                           name, double(a.scale));
    if (a.window_left < -1 || a.window_right < -1)
      return status::error(errc::invalid_argument,
                           "%s: window sizes are %td (left) and %td (right), expected >= 0 or -1 "
                           "(unbounded)",
                           name, a.window_left, a.window_right);
    pr = attention_problem{};
    pr.q = q, pr.k = k, pr.v = v, pr.out = out;
    pr.batch = b, pr.hq = hq, pr.hkv = hkv, pr.group = hkv == 0 ? 1 : hq / hkv;
    pr.sq = sq, pr.skv = skv, pr.dqk = dqk, pr.dv = dv;
    pr.scale = a.scale != 0.0f ? a.scale : (dqk > 0 ? float(1.0 / std::sqrt(double(dqk))) : 1.0f);
    pr.softcap = a.softcap, pr.causal = a.is_causal, pr.causal_offset = a.causal_offset;
    pr.left = a.window_left, pr.right = a.window_right;
    if (a.float_mask.data() != nullptr || !a.float_mask.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(mask("float_mask", a.float_mask, pr));
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "float_mask", a.float_mask));
      pr.fmask = a.float_mask.data(), pr.fmask_strides = a.float_mask.strides();
      pr.fmask_len = a.float_mask.shape(3);
    }
    if (a.bool_mask.data() != nullptr || !a.bool_mask.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(mask("bool_mask", a.bool_mask, pr));
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "bool_mask", a.bool_mask));
      pr.bmask = a.bool_mask.data(), pr.bmask_strides = a.bool_mask.strides();
      pr.bmask_len = a.bool_mask.shape(3);
    }
    if (a.nonpad_kv_seqlen.data() != nullptr || !a.nonpad_kv_seqlen.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, "nonpad_kv_seqlen", a.nonpad_kv_seqlen));
      if (a.nonpad_kv_seqlen.shape(0) != b)
        return status::error(errc::shape_mismatch,
                             "%s: argument 'nonpad_kv_seqlen' has shape %s, expected [%td] (the "
                             "batch of 'q')",
                             name, a.nonpad_kv_seqlen.shape_string().c_str(), b);
      for (index_t i = 0; i < b; ++i) {
        const std::int64_t len = a.nonpad_kv_seqlen(i);
        if (len < 0 || len > skv)
          return status::error(errc::invalid_argument,
                               "%s: nonpad_kv_seqlen[%td] is %lld, expected in [0, %td] (the keys "
                               "of 'k' %s)",
                               name, i, static_cast<long long>(len), skv, k.shape_string().c_str());
      }
      pr.kv_lens = a.nonpad_kv_seqlen.data(), pr.kv_lens_stride = a.nonpad_kv_seqlen.stride(0);
    }
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "q", q));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "k", k));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "v", v));
    if (a.workspace.data() == nullptr && !a.workspace.empty())
      return status::error(errc::null_pointer, "%s: 'workspace' has %td floats but a null pointer",
                           name, a.workspace.shape(0));
    if (a.workspace.stride(0) != 1 && a.workspace.shape(0) > 1)
      return status::error(errc::bad_stride, "%s: 'workspace' must be contiguous (stride 1)", name);
    return {};
  }
};

}  // namespace ops
}  // namespace fusedops
