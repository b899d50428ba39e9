// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. What the attention operator is (ONNX Attention, opsets 23-24, fp32): its
// tag, its per-call parameters, and its argument checks, shared by every backend. The checks turn
// the views into an attention_problem that the implementations consume:
//   s_ij = mask( score_mod( alibi( softcap( scale · Q[b, h, i, :] · K[b, h/G, j, :] ) ) ) )
//   Y[b, h, i, :] = sum_j e^{s_ij} V[b, h/G, j, :] / (e^{sink_h} + sum_j e^{s_ij})
//                                                          G = Hq / Hkv (GQA; Hkv = 1: MQA)
// where mask adds the float mask, removes keys the boolean mask, the causal rule, the sliding
// window, the valid KV length or a short mask exclude (see masks.hpp); alibi, score_mod and the
// sink are optional (absent: the identity and e^{sink} = 0). Nothing here depends on an ISA. All
// checks run before any output is written.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"

namespace fusedops {

/// Rotary position embedding fused into fusedops::attention (beyond ONNX Attention: ONNX
/// RotaryEmbedding-23's rotation, applied as ORT's GroupQueryAttention does with do_rotary): Q and
/// the new K are rotated while the call reads them, so neither is rotated in a separate pass.
/// Positions, in the rows of the caches:
///   query i of batch b   position_ids[b, i], or i + offset (the causal offset: past length,
///                        valid length - Sq, or attention_params::causal_offset);
///   key j of what the call attends (past + new keys with a KV cache)
///                        position_ids[b, j - P] for the new keys (P = past length; needs as many
///                        new keys as queries), or j.
/// With a KV cache only the new keys are rotated, as they are written to present (past keys were
/// rotated when they were new); without one every key of k is. rotate_keys = false leaves K as
/// given (keys rotated already, e.g. an external cache with nonpad_kv_seqlen).
struct attention_rotary {
  /// [max_position, rotary_dim / 2] each, last dimension unit-stride (ONNX's cos_cache /
  /// sin_cache in the 2-D form). Empty: no rotation (the default).
  view<const float, 2> cos_cache{}, sin_cache{};
  bool interleaved = false;  ///< pairs (x[2i], x[2i+1]) instead of (x[i], x[i + rotary_dim/2])
  index_t rotary_dim = 0;    ///< rotated leading part of each head (even, <= Dqk); 0 = Dqk
  /// [B, Sq] positions of the queries (and of the new keys), each in [0, max_position). Empty:
  /// positions from the offset, as above.
  view<const std::int64_t, 2> position_ids{};
  bool rotate_keys = true;
};

/// Options of fusedops::attention. Every field has ONNX's default; optional tensors are absent
/// when empty.
struct attention_params {
  /// Sentinel of causal_offset: bottom-right alignment (offset = valid KV length - Sq).
  static constexpr index_t bottom_right = std::numeric_limits<index_t>::min();

  /// ONNX attribute `scale`: multiplies Q·Kᵀ. 0 (the default) means 1/sqrt(Dqk).
  float scale = 0.0f;
  /// ONNX attribute `softcap`: scores become softcap · tanh(score / softcap), after the scale and
  /// before any mask, as ONNX's reference (onnx/reference/ops/op_attention.py) and function body
  /// (onnx/defs/nn/defs.cc) do, so that a -inf mask stays -inf (Gemma-2); the operator text's
  /// diagram still draws the mask add first. 0 = off; must be >= 0 and finite.
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
  /// ONNX inputs `past_key` [B, Hkv, P, Dqk] and `past_value` [B, Hkv, P, Dv] (both or neither).
  /// With them the call attends over concat(past, k) / concat(past, v), which it writes to
  /// present_key / present_value (required then) before attending; the causal offset becomes
  /// P + Skv - Sq (bottom-right). past may be the first P positions of present itself (an
  /// engine's cache buffer: nothing is copied for them), and k / v may already sit at positions
  /// P.. of present (nothing is copied either); any other overlap is an error.
  view<const float, 4> past_key{}, past_value{};
  /// ONNX outputs `present_key` [B, Hkv, P + Skv, Dqk] and `present_value` [B, Hkv, P + Skv, Dv].
  /// Without past, present receives a copy of k / v (P = 0).
  view<float, 4> present_key{}, present_value{};
  /// Beyond ONNX: ALiBi (Press et al. 2022), one slope per query head [Hq], finite: the score of
  /// query position p = i + offset (the causal offset above) and key j gets -slope[h] · |p - j|
  /// added, after softcap and before score_mod and the masks; with the causal rule that is
  /// slope · (j - p), the usual ALiBi bias. Empty: no bias, and the tile loop compiled without it.
  view<const float, 1> alibi_slopes{};
  /// Beyond ONNX: attention sinks, one logit per query head [Hq], in the score domain (compared
  /// with the scaled, softcapped, biased scores), that joins every row's softmax denominator
  /// (gpt-oss style) without contributing a value: y = Σ_j e^{s_j} v_j / (e^{sink} + Σ_j e^{s_j}).
  /// A row with every key masked then gives a zero row as well. Any value but NaN and +inf;
  /// -inf = no effect for that head.
  view<const float, 1> sinks{};
  /// ONNX output `qk_matmul_output` [B, Hq, Sq, Skv_total] (Skv_total = past + Skv) for
  /// debugging, written when non-empty by a separate scalar pass (ops/attention/qk_output.hpp;
  /// the fused path never materialises scores). ONNX attribute `qk_matmul_output_mode`, with the
  /// stages of ONNX's reference and function body (softcap before the mask):
  ///   0: scale · QKᵀ;
  ///   1: after softcap, and after the beyond-ONNX ALiBi bias and score_mod (every key);
  ///   2: after the masks as well: the float mask added, every key the boolean mask, the causal
  ///      rule, the window, the valid length or a short mask removes is -inf (the softmax input);
  ///   3: the softmax probabilities, the sink in the denominator, 0 for removed keys (a fully
  ///      masked row is all 0).
  /// Must not overlap any input or output.
  view<float, 4> qk_output{};
  int qk_output_mode = 0;
  /// Beyond ONNX: RoPE on Q and K inside the call (attention_rotary). q and k (and present_key)
  /// then need unit stride along Dqk. CPU backends only.
  attention_rotary rotary{};
  threading threads = threading::serial();
  /// Scratch (attention_workspace_size floats). Empty: the call allocates what it needs, unless
  /// allow_allocation is false, in which case it fails with buffer_too_small.
  view<float, 1> workspace{};
  bool allow_allocation = true;
};

/// Options of fusedops::attention on device memory (backend::cuda): the subset of
/// attention_params the CUDA kernels implement, with device views. ALiBi, sinks, score_mod,
/// the KV cache (past/present) and qk_output are not available on the GPU yet.
struct device_attention_params {
  float scale = 0.0f;    ///< as attention_params::scale (0: 1/sqrt(Dqk))
  float softcap = 0.0f;  ///< as attention_params::softcap
  bool is_causal = false;
  index_t causal_offset = attention_params::bottom_right;  ///< as attention_params
  index_t window_left = -1, window_right = -1;              ///< as attention_params
  /// As attention_params::float_mask / bool_mask, in device memory ([B, Hq, Sq, M], M <= Skv,
  /// stride 0 on broadcast dimensions, as attention_mask_view builds them for host views).
  device_view<const float, 4> float_mask{};
  device_view<const bool, 4> bool_mask{};
  /// As attention_params::nonpad_kv_seqlen, in device memory. Its values cannot be checked on
  /// the host without a synchronisation: the kernels clamp each to [0, Skv].
  device_view<const std::int64_t, 1> nonpad_kv_seqlen{};
  /// Split-KV: the number of key ranges each query block is split into (partial results in the
  /// workspace, then a combine kernel). 0: automatic (splits only when there are too few query
  /// blocks to fill the GPU, e.g. decode); 1: never split.
  index_t kv_splits = 0;
  /// Scratch in device memory, attention_workspace_size<backend::cuda>(...) floats (0 when the
  /// call does not split). Never allocated by the call: too small is errc::buffer_too_small.
  device_view<float, 1> workspace{};
};

namespace ops::attention_detail {

/// How the CUDA flash kernel (arch/cuda/attention/flash_kernel.cuh) covers a call: blocks of
/// block_rows query rows (128 for prefill, FlashAttention-2's shape; 64 when a (batch, head
/// block)'s rows fit in 64, e.g. decode); `pack` query heads of one KV head share a block when a
/// whole group's rows fit in a 64-row block (GQA decode: the KV tiles are then read once for the
/// group); `splits` key ranges per block (split-KV) when there are too few query blocks to fill
/// the GPU, their partial (O, m, l) in the workspace. Host arithmetic only: the size query and
/// the launcher agree.
struct device_plan {
  static constexpr index_t small_block_rows = 64, large_block_rows = 128, block_keys = 64;
  index_t pack = 1, block_rows = small_block_rows, row_blocks = 0, head_blocks = 0, splits = 1;
  std::size_t workspace_floats = 0;

  static device_plan make(index_t batch, index_t hq, index_t hkv, index_t sq, index_t skv,
                          index_t dv, index_t requested_splits) noexcept {
    device_plan pl;
    const index_t group = hkv > 0 ? hq / hkv : 1;
    pl.pack = group > 1 && group * sq <= small_block_rows ? group : 1;
    pl.block_rows = pl.pack * sq <= small_block_rows ? small_block_rows : large_block_rows;
    pl.row_blocks = (pl.pack * sq + pl.block_rows - 1) / pl.block_rows;
    pl.head_blocks = hq / pl.pack;
    const index_t blocks = pl.row_blocks * pl.head_blocks * batch;
    const index_t tiles = (skv + block_keys - 1) / block_keys;
    // Automatic: about one block on each of ~132 SMs (H100), each split at least two key tiles
    // long; at most 64 splits (the combine pass reads them all). Measured on decode (H100, B8
    // Hq32 Hkv8 Skv32768: 2-3 splits 0.38 ms, 9 splits 0.40, 32 splits 0.39, none 0.63): one
    // block per SM already streams K and V at ~2.8 TB/s, and each extra split adds a pipeline
    // fill and combine-pass work.
    constexpr index_t target_blocks = 132, max_splits = 64;
    if (requested_splits > 0)
      pl.splits = std::min<index_t>({requested_splits, std::max<index_t>(tiles, 1), 65535});
    else if (blocks > 0 && blocks < target_blocks && tiles >= 4)
      pl.splits = std::min<index_t>(
          {(target_blocks + blocks - 1) / blocks, tiles / 2, max_splits});
    if (pl.splits > 1)
      pl.workspace_floats =
          static_cast<std::size_t>(pl.splits) * static_cast<std::size_t>(batch * hq * sq) *
          static_cast<std::size_t>(dv + 2);
    return pl;
  }
};

}  // namespace ops::attention_detail

/// The default score functor of fusedops::attention: the identity. The tile loop tests for this
/// type at compile time, so a call without a functor does no per-score work for it.
struct no_score_mod {
  float operator()(float score, index_t, index_t, index_t, index_t) const noexcept { return score; }
};

namespace ops {

/// attention_rotary, validated (ops/attention/rotary.hpp): the caches as pointers and strides.
struct rotary_problem {
  const float* cos = nullptr;  ///< null: no rotation
  const float* sin = nullptr;
  index_t cos_row = 0, sin_row = 0;  ///< row strides of the caches
  index_t rot = 0;                   ///< rotated elements per head (even)
  bool interleaved = false;
  const std::int64_t* ids = nullptr;  ///< [B, Sq] at (ids_b, ids_s), or null
  index_t ids_b = 0, ids_s = 0;
  bool keys_in_loop = false;  ///< rotate K as each block is read (no KV cache)
  bool keys_on_append = false;  ///< rotate the new keys as they are written to present
  index_t past = 0;             ///< keys before the new ones (KV cache)

  /// Q is rotated (as it is packed) whenever there is a rotation at all.
  bool queries() const noexcept { return cos != nullptr; }
};

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
  const float* alibi = nullptr;  ///< [Hq] slopes at stride alibi_stride, or null
  index_t alibi_stride = 0;
  const float* sinks = nullptr;  ///< [Hq] sink logits at stride sinks_stride, or null
  index_t sinks_stride = 0;
  rotary_problem rope;  ///< fused RoPE (rope.cos null: none)
};

/// Operator tag of fusedops::attention.
struct attention_op {
  static constexpr const char* name = "attention";

  template <class T, class S>
  static status input(const char* arg, const view<const T, 4, S>& x) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, arg, x));
    for (int d = 0; d < 4; ++d)
      if (x.stride(d) < 0)
        return status::error(errc::bad_stride, "%s: argument '%s' (shape %s) has a negative stride",
                             name, arg, x.shape_string().c_str());
    return {};
  }

  template <class T>
  static status mask(const char* arg, const view<const T, 4>& m,
                     const attention_problem& p) noexcept {
    return mask(arg, m, p.batch, p.hq, p.sq, p.skv);
  }

  /// A float / bool mask in memory space S against [batch, hq, sq, <= skv].
  template <class T, class S>
  static status mask(const char* arg, const view<const T, 4, S>& m, index_t batch, index_t hq,
                     index_t sq, index_t skv) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(input(arg, m));
    if (m.shape(0) != batch || m.shape(1) != hq || m.shape(2) != sq || m.shape(3) > skv)
      return status::error(errc::shape_mismatch,
                           "%s: argument '%s' has shape %s, expected [%td, %td, %td, <= %td] "
                           "([B, Hq, Sq, Skv] with stride 0 on broadcast dimensions; see "
                           "attention_mask_view)",
                           name, arg, m.shape_string().c_str(), batch, hq, sq, skv);
    return {};
  }

  template <class O, class T, int R, class S>
  static status disjoint(const view<O, 4, S>& out, const char* in_name,
                         const view<const T, R, S>& in, const char* out_name = "out") noexcept {
    std::uintptr_t olo, ohi, ilo, ihi;
    checks::byte_range(out, olo, ohi);
    checks::byte_range(in, ilo, ihi);
    if (ohi <= ilo || ihi <= olo) return {};
    return status::error(errc::invalid_argument,
                         "%s: output '%s' (shape %s) overlaps '%s' (shape %s); attention cannot "
                         "run in place",
                         name, out_name, out.shape_string().c_str(), in_name,
                         in.shape_string().c_str());
  }

  /// A per-query-head vector [Hq] (alibi_slopes, sinks): shape, and each value accepted by `ok`.
  template <class Ok>
  static status per_head(const char* arg, const view<const float, 1>& x, index_t hq,
                         const char* expect, Ok ok) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, arg, x));
    if (x.shape(0) != hq)
      return status::error(errc::shape_mismatch,
                           "%s: argument '%s' has shape %s, expected [%td] (one value per query "
                           "head of 'q')",
                           name, arg, x.shape_string().c_str(), hq);
    for (index_t h = 0; h < hq; ++h)
      if (!ok(x(h)))
        return status::error(errc::invalid_argument, "%s: %s[%td] is %g, expected %s", name, arg,
                             h, double(x(h)), expect);
    return {};
  }

  /// qk_output / qk_output_mode: shape [B, Hq, Sq, Skv_total], mode 0..3, no overlap. `k` and
  /// `v` are what the kernel attends (present when a KV cache is given: Skv_total keys).
  static status qk_output(const view<const float, 4>& q, const view<const float, 4>& k,
                          const view<const float, 4>& v, const view<float, 4>& out,
                          const attention_params& a) noexcept {
    const view<float, 4>& x = a.qk_output;
    if (x.data() == nullptr && x.empty()) return {};
    FUSEDOPS_RETURN_IF_ERROR(checks::output(name, "qk_output", x));
    const dims<4> expected{q.shape(0), q.shape(1), q.shape(2), k.shape(2)};
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<4>(
        name, "qk_output", x.shape(), expected, "[B, Hq, Sq] of 'q' and the past + new keys"));
    if (a.qk_output_mode < 0 || a.qk_output_mode > 3)
      return status::error(errc::invalid_argument,
                           "%s: 'qk_output_mode' is %d, expected 0 (scale·QKᵀ), 1 (after "
                           "softcap and score modifiers), 2 (after the masks) or 3 (softmax)",
                           name, a.qk_output_mode);
    const char* qn = "qk_output";
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "q", q, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "k", k, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "v", v, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "out", view<const float, 4>(out), qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "float_mask", a.float_mask, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "bool_mask", a.bool_mask, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "nonpad_kv_seqlen", a.nonpad_kv_seqlen, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "alibi_slopes", a.alibi_slopes, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "sinks", a.sinks, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "past_key", a.past_key, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "past_value", a.past_value, qn));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "present_key", view<const float, 4>(a.present_key), qn));
    FUSEDOPS_RETURN_IF_ERROR(
        disjoint(x, "present_value", view<const float, 4>(a.present_value), qn));
    if (a.workspace.shape(0) > 0)
      FUSEDOPS_RETURN_IF_ERROR(disjoint(x, "workspace", view<const float, 1>(a.workspace), qn));
    return {};
  }

  /// The checks every memory space shares, in this order: q, k, v, out (tensors, strides,
  /// shapes), then softcap, scale and the window sizes.
  template <class T, class O, class S>
  static status common(const view<const T, 4, S>& q, const view<const T, 4, S>& k,
                       const view<const T, 4, S>& v, const view<O, 4, S>& out, float scale,
                       float softcap, index_t window_left, index_t window_right) noexcept {
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
    if (!(softcap >= 0.0f) || !std::isfinite(softcap))
      return status::error(errc::invalid_argument,
                           "%s: 'softcap' is %g, expected a finite value >= 0 (0 = off)", name,
                           double(softcap));
    if (!std::isfinite(scale))
      return status::error(errc::invalid_argument, "%s: 'scale' is %g, expected a finite value",
                           name, double(scale));
    if (window_left < -1 || window_right < -1)
      return status::error(errc::invalid_argument,
                           "%s: window sizes are %td (left) and %td (right), expected >= 0 or -1 "
                           "(unbounded)",
                           name, window_left, window_right);
    return {};
  }

  /// All argument checks of the device overload (backend::cuda): the same checks and messages
  /// as validate, except the values of nonpad_kv_seqlen, which live on the device (clamped by
  /// the kernels).
  template <class T, class O>
  static status validate_device(const device_view<const T, 4>& q, const device_view<const T, 4>& k,
                                const device_view<const T, 4>& v, const device_view<O, 4>& out,
                                const device_attention_params& a) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(
        common(q, k, v, out, a.scale, a.softcap, a.window_left, a.window_right));
    const index_t b = q.shape(0), hq = q.shape(1), sq = q.shape(2), skv = k.shape(2);
    if (a.float_mask.data() != nullptr || !a.float_mask.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(mask("float_mask", a.float_mask, b, hq, sq, skv));
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "float_mask", a.float_mask));
    }
    if (a.bool_mask.data() != nullptr || !a.bool_mask.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(mask("bool_mask", a.bool_mask, b, hq, sq, skv));
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "bool_mask", a.bool_mask));
    }
    if (a.nonpad_kv_seqlen.data() != nullptr || !a.nonpad_kv_seqlen.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(checks::tensor(name, "nonpad_kv_seqlen", a.nonpad_kv_seqlen));
      if (a.nonpad_kv_seqlen.shape(0) != b)
        return status::error(errc::shape_mismatch,
                             "%s: argument 'nonpad_kv_seqlen' has shape %s, expected [%td] (the "
                             "batch of 'q')",
                             name, a.nonpad_kv_seqlen.shape_string().c_str(), b);
    }
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "q", q));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "k", k));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "v", v));
    if (a.kv_splits < 0)
      return status::error(errc::invalid_argument, "%s: 'kv_splits' is %td, expected >= 0", name,
                           a.kv_splits);
    if (a.workspace.data() == nullptr && !a.workspace.empty())
      return status::error(errc::null_pointer, "%s: 'workspace' has %td floats but a null pointer",
                           name, a.workspace.shape(0));
    if (a.workspace.stride(0) != 1 && a.workspace.shape(0) > 1)
      return status::error(errc::bad_stride, "%s: 'workspace' must be contiguous (stride 1)", name);
    if (a.workspace.shape(0) > 0)
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "workspace", device_view<const float, 1>(a.workspace)));
    return {};
  }

  /// All argument checks; on success `pr` describes the call.
  static status validate(const view<const float, 4>& q, const view<const float, 4>& k,
                         const view<const float, 4>& v, const view<float, 4>& out,
                         const attention_params& a, attention_problem& pr) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(common(q, k, v, out, a.scale, a.softcap, a.window_left,
                                    a.window_right));
    const index_t b = q.shape(0), hq = q.shape(1), sq = q.shape(2), dqk = q.shape(3);
    const index_t hkv = k.shape(1), skv = k.shape(2), dv = v.shape(3);
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
    if (a.alibi_slopes.data() != nullptr || !a.alibi_slopes.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(per_head("alibi_slopes", a.alibi_slopes, hq, "a finite slope",
                                        [](float x) { return std::isfinite(x); }));
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "alibi_slopes", a.alibi_slopes));
      pr.alibi = a.alibi_slopes.data(), pr.alibi_stride = a.alibi_slopes.stride(0);
    }
    if (a.sinks.data() != nullptr || !a.sinks.empty()) {
      FUSEDOPS_RETURN_IF_ERROR(per_head(
          "sinks", a.sinks, hq, "a finite logit or -inf (no sink)",
          [](float x) { return !std::isnan(x) && x != std::numeric_limits<float>::infinity(); }));
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "sinks", a.sinks));
      pr.sinks = a.sinks.data(), pr.sinks_stride = a.sinks.stride(0);
    }
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "q", q));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "k", k));
    FUSEDOPS_RETURN_IF_ERROR(disjoint(out, "v", v));
    FUSEDOPS_RETURN_IF_ERROR(qk_output(q, k, v, out, a));
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
