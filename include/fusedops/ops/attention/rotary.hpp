// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. RoPE fused into attention (attention_params::rotary): the argument
// checks, the position rules, and the row rotation the tile loop and the KV-cache append call.
// The rotation is the RotaryEmbedding kernel's own (ops/rope/rope_generic.hpp), so a fused call
// rotates every element exactly as rotary_embedding followed by attention would:
//   Q     rotated row by row as the tile loop packs it (once per row and unit);
//   K     with a KV cache: the new keys, as append() writes them to present (in place when the
//         caller already put them there); without one: each row of a key block as the tile
//         loop transposes it for the score tile (once per block and unit; the decode dot-product
//         path, which reads K in place, is not taken then).
// Nothing ISA-specific here beyond the backend parameter handed to the RoPE kernel.
#pragma once

#include <cstdint>
#include <cstring>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/rope/rope_generic.hpp"

namespace fusedops::ops::attention_detail {

/// Position of query i of batch b (offset: the causal offset of that batch entry).
inline index_t query_position(const rotary_problem& r, index_t b, index_t i,
                              index_t offset) noexcept {
  return r.ids != nullptr ? index_t(r.ids[b * r.ids_b + i * r.ids_s]) : i + offset;
}

/// Position of key j of what the call attends (the new keys start at r.past).
inline index_t key_position(const rotary_problem& r, index_t b, index_t j) noexcept {
  return r.ids != nullptr ? index_t(r.ids[b * r.ids_b + (j - r.past) * r.ids_s]) : j;
}

/// y[0, d) = x[0, d) with its first r.rot elements rotated to position `pos` (unit strides; y may
/// be x). Same arithmetic as rotary_embedding on backend B.
template <class B>
FUSEDOPS_INLINE void rotate_row(const rotary_problem& r, const float* x, float* y, index_t d,
                                index_t pos) noexcept {
  using rope = rotary_embedding_generic<B>;
  const float* c = r.cos + pos * r.cos_row;
  const float* s = r.sin + pos * r.sin_row;
  if (r.interleaved)
    rope::interleaved(x, y, c, s, r.rot / 2);
  else
    rope::rotate_half(x, y, c, s, r.rot / 2);
  if (r.rot < d && y != x)
    std::memcpy(y + r.rot, x + r.rot, static_cast<std::size_t>(d - r.rot) * sizeof(float));
}

/// Element e of row x (unit stride) rotated to `pos`, in double (the qk_output pass).
inline double rotated_element(const rotary_problem& r, const float* x, index_t e,
                              index_t pos) noexcept {
  if (e >= r.rot) return double(x[e]);
  const index_t half = r.rot / 2;
  const index_t i = r.interleaved ? e / 2 : e % half;
  const bool first = r.interleaved ? e % 2 == 0 : e < half;
  const index_t partner = r.interleaved ? (first ? e + 1 : e - 1) : (first ? e + half : e - half);
  const double c = double(r.cos[pos * r.cos_row + i]), s = double(r.sin[pos * r.sin_row + i]);
  return first ? double(x[e]) * c - double(x[partner]) * s
               : double(x[e]) * c + double(x[partner]) * s;
}

namespace rotary_checks {

inline constexpr const char* op = attention_op::name;

template <class T, int R>
status disjoint(const char* out_name, const view<float, 4>& out, const char* in_name,
                const view<const T, R>& in) noexcept {
  if (out.data() == nullptr || in.data() == nullptr) return {};
  return attention_op::disjoint(out, in_name, in, out_name);
}

template <int R>
status unit_stride(const char* arg, const view<const float, R>& x) noexcept {
  if (x.stride(R - 1) == 1 || x.shape(R - 1) <= 1) return {};
  return status::error(errc::bad_stride,
                       "%s: with rotary set, the last dimension of '%s' %s must have unit stride "
                       "(strides %s)",
                       op, arg, x.shape_string().c_str(), to_text<R>(x.strides()).c_str());
}

}  // namespace rotary_checks

/// Checks attention_params::rotary against the call and fills pr.rope (after
/// attention_op::validate filled pr). `k_new`: the k argument (the new keys); `past`: the past
/// length when a KV cache is given (writes_present), else 0.
inline status check_rotary(const view<const float, 4>& k_new, bool writes_present, index_t past,
                           const attention_params& a, attention_problem& pr) noexcept {
  using namespace rotary_checks;
  const attention_rotary& r = a.rotary;
  pr.rope = rotary_problem{};
  const bool on = r.cos_cache.data() != nullptr || !r.cos_cache.empty() ||
                  r.sin_cache.data() != nullptr || !r.sin_cache.empty();
  if (!on) {
    if (r.position_ids.data() != nullptr || r.rotary_dim != 0)
      return status::error(errc::invalid_argument,
                           "%s: 'rotary.position_ids' / 'rotary.rotary_dim' are set but "
                           "'rotary.cos_cache' and 'rotary.sin_cache' are empty",
                           op);
    return {};
  }
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "rotary.cos_cache", r.cos_cache));
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "rotary.sin_cache", r.sin_cache));
  FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<2>(op, "rotary.sin_cache", r.sin_cache.shape(),
                                                   r.cos_cache.shape(),
                                                   "the shape of 'rotary.cos_cache'"));
  const index_t dqk = pr.dqk, max_pos = r.cos_cache.shape(0);
  const index_t rot = r.rotary_dim == 0 ? dqk : r.rotary_dim;
  if (rot <= 0 || rot % 2 != 0 || rot > dqk)
    return status::error(errc::invalid_argument,
                         "%s: 'rotary.rotary_dim' is %td (head size Dqk %td of 'q' %s); the "
                         "rotated part must be even and within (0, Dqk]",
                         op, r.rotary_dim, dqk, pr.q.shape_string().c_str());
  if (r.cos_cache.shape(1) != rot / 2)
    return status::error(errc::shape_mismatch,
                         "%s: 'rotary.cos_cache' has shape %s; expected [max_position, %td] "
                         "(rotary_dim / 2)",
                         op, r.cos_cache.shape_string().c_str(), rot / 2);
  FUSEDOPS_RETURN_IF_ERROR(unit_stride("rotary.cos_cache", r.cos_cache));
  FUSEDOPS_RETURN_IF_ERROR(unit_stride("rotary.sin_cache", r.sin_cache));
  FUSEDOPS_RETURN_IF_ERROR(unit_stride("q", pr.q));
  if (r.rotate_keys) {
    FUSEDOPS_RETURN_IF_ERROR(unit_stride("k", k_new));
    if (writes_present)
      FUSEDOPS_RETURN_IF_ERROR(unit_stride("present_key", view<const float, 4>(a.present_key)));
  }

  // Positions: every one the call will use must be a row of the caches.
  const index_t new_keys = k_new.shape(2);
  if (r.position_ids.data() != nullptr || !r.position_ids.empty()) {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "rotary.position_ids", r.position_ids));
    const dims<2> want{pr.batch, pr.sq};
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<2>(
        op, "rotary.position_ids", r.position_ids.shape(), want, "[B, Sq] of 'q'"));
    if (r.rotate_keys && new_keys != pr.sq)
      return status::error(errc::shape_mismatch,
                           "%s: 'rotary.position_ids' %s give the positions of the queries and the "
                           "new keys, but 'k' %s has %td new keys for %td queries (set "
                           "rotary.rotate_keys = false for keys rotated already)",
                           op, r.position_ids.shape_string().c_str(), k_new.shape_string().c_str(),
                           new_keys, pr.sq);
    FUSEDOPS_RETURN_IF_ERROR(checks::ids_in_range(op, "rotary.position_ids", r.position_ids,
                                                  max_pos, "rotary.cos_cache",
                                                  r.cos_cache));
    pr.rope.ids = r.position_ids.data();
    pr.rope.ids_b = r.position_ids.stride(0), pr.rope.ids_s = r.position_ids.stride(1);
  } else {
    for (index_t b = 0; b < pr.batch && pr.sq > 0; ++b) {
      const index_t valid =
          pr.kv_lens != nullptr ? index_t(pr.kv_lens[b * pr.kv_lens_stride]) : pr.skv;
      const index_t offset =
          pr.causal_offset == attention_params::bottom_right ? valid - pr.sq : pr.causal_offset;
      if (offset < 0 || offset + pr.sq > max_pos)
        return status::error(errc::invalid_argument,
                             "%s: the queries of batch %td sit at positions [%td, %td) (the causal "
                             "offset), outside the rows [0, %td) of 'rotary.cos_cache' %s",
                             op, b, offset, offset + pr.sq, max_pos,
                             r.cos_cache.shape_string().c_str());
    }
    if (r.rotate_keys && pr.skv > max_pos)
      return status::error(errc::invalid_argument,
                           "%s: keys sit at positions [0, %td) (past + new), beyond the rows "
                           "[0, %td) of 'rotary.cos_cache' %s",
                           op, pr.skv, max_pos, r.cos_cache.shape_string().c_str());
  }

  // The caches and ids are inputs: no output may overlap them.
  const view<const float, 2>* caches[2] = {&r.cos_cache, &r.sin_cache};
  const char* cache_names[2] = {"rotary.cos_cache", "rotary.sin_cache"};
  const view<float, 4>* outs[4] = {&pr.out, &a.present_key, &a.present_value, &a.qk_output};
  const char* out_names[4] = {"out", "present_key", "present_value", "qk_output"};
  for (int o = 0; o < 4; ++o) {
    for (int c = 0; c < 2; ++c)
      FUSEDOPS_RETURN_IF_ERROR(disjoint(out_names[o], *outs[o], cache_names[c], *caches[c]));
    FUSEDOPS_RETURN_IF_ERROR(
        disjoint(out_names[o], *outs[o], "rotary.position_ids", r.position_ids));
  }

  rotary_problem& rp = pr.rope;
  rp.cos = r.cos_cache.data(), rp.sin = r.sin_cache.data();
  rp.cos_row = r.cos_cache.stride(0), rp.sin_row = r.sin_cache.stride(0);
  rp.rot = rot, rp.interleaved = r.interleaved;
  rp.keys_on_append = r.rotate_keys && writes_present;
  rp.keys_in_loop = r.rotate_keys && !writes_present;
  rp.past = writes_present ? past : 0;
  return {};
}

}  // namespace fusedops::ops::attention_detail
