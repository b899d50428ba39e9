// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/attention. ONNX Attention's KV cache (inputs past_key / past_value, outputs
// present_key / present_value): the call attends over present = concat(past, new) along the
// sequence and writes present in the same call. Two steps, so that nothing is written unless
// every argument is valid:
//   kv_cache::resolve  checks the cache arguments and names the K/V the kernel attends (present
//                      when a cache is given, else k / v themselves);
//   kv_cache::append   after all checks: copies past and the new rows into present.
// An engine that keeps one cache buffer passes past = its first P positions and present = its
// first P + Skv positions of the same buffer, and may already have written the new K/V at
// positions P.. (RoPE straight into the cache): those exact aliases are recognised and not
// copied, so a decode step costs no O(cache) copy. Any other overlap is an error.
#pragma once

#include <algorithm>
#include <cstring>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/attention/attention_op.hpp"
#include "fusedops/ops/attention/rotary.hpp"

namespace fusedops::ops::kv_cache {

/// What the kernel attends and what append() has to do.
struct resolved {
  view<const float, 4> k, v;  ///< the K/V the kernel reads (present when a cache is given)
  bool writes_present = false;
  index_t past_len = 0;
  bool copy_past = false;  ///< past is not already the prefix of present
  bool copy_new = false;   ///< k / v are not already at positions past_len.. of present
};

namespace detail {

inline bool given(const void* data, bool empty) noexcept { return data != nullptr || !empty; }

/// `x` is exactly positions [begin, begin + x.shape(2)) of `whole` (same memory, same strides).
inline bool is_slice_of(const view<const float, 4>& x, const view<float, 4>& whole,
                        index_t begin) noexcept {
  if (x.shape(2) == 0) return true;
  const view<float, 4> s = whole.slice(2, begin, begin + x.shape(2));
  return static_cast<const void*>(s.data()) == static_cast<const void*>(x.data()) &&
         s.shape() == x.shape() && s.strides() == x.strides();
}

/// attention_op::disjoint with the sharing the cache does allow added to its message: for present
/// against past and the new K/V, whose exact aliases the caller has already accepted.
template <class T, int R>
status disjoint_cache(const char* out_name, const view<float, 4>& out, const char* in_name,
                      const view<T, R>& in) noexcept {
  if (attention_op::disjoint(out, in_name, view<const T, R>(in), out_name).ok()) return {};
  return status::error(errc::invalid_argument,
                       "attention: output '%s' (shape %s) overlaps '%s' (shape %s); only past as "
                       "the leading positions of present, or the new K/V as the positions after "
                       "past, may share its memory",
                       out_name, out.shape_string().c_str(), in_name, in.shape_string().c_str());
}

/// Checks one side (key or value) of the cache; `d` is its head size.
inline status check_side(const char* past_name, const view<const float, 4>& past,
                         const char* present_name, const view<float, 4>& present,
                         const char* new_name, const view<const float, 4>& x, bool has_past,
                         index_t past_len) noexcept {
  constexpr const char* op = attention_op::name;
  const index_t b = x.shape(0), h = x.shape(1), s = x.shape(2), d = x.shape(3);
  if (has_past) {
    FUSEDOPS_RETURN_IF_ERROR(attention_op::input(past_name, past));
    const dims<4> want{b, h, past_len, d};
    FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<4>(
        op, past_name, past.shape(), want, "[B, Hkv] and head size of the new K/V, P of past_key"));
  }
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, present_name, present));
  FUSEDOPS_RETURN_IF_ERROR(checks::output(op, present_name, present));
  const dims<4> want{b, h, past_len + s, d};
  FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<4>(
      op, present_name, present.shape(), want, "[B, Hkv, P + Skv, D]: past then the new K/V"));
  if (has_past && !is_slice_of(past, present, 0))
    FUSEDOPS_RETURN_IF_ERROR(disjoint_cache(present_name, present, past_name, past));
  if (!is_slice_of(x, present, past_len))
    FUSEDOPS_RETURN_IF_ERROR(disjoint_cache(present_name, present, new_name, x));
  return {};
}

}  // namespace detail

/// Checks the cache arguments of `a` against the new k / v; on success `r` names what to attend.
/// Without past and present, r is k / v unchanged.
inline status resolve(const view<const float, 4>& q, const view<const float, 4>& k,
                      const view<const float, 4>& v, const attention_params& a,
                      resolved& r) noexcept {
  constexpr const char* op = attention_op::name;
  r = resolved{};
  r.k = k, r.v = v;
  const bool pk = detail::given(a.past_key.data(), a.past_key.empty());
  const bool pv = detail::given(a.past_value.data(), a.past_value.empty());
  const bool qk = detail::given(a.present_key.data(), a.present_key.empty());
  const bool qv = detail::given(a.present_value.data(), a.present_value.empty());
  if (pk != pv)
    return status::error(errc::invalid_argument,
                         "%s: 'past_key' (shape %s) and 'past_value' (shape %s) come together: "
                         "pass both or neither",
                         op, a.past_key.shape_string().c_str(), a.past_value.shape_string().c_str());
  if (qk != qv)
    return status::error(errc::invalid_argument,
                         "%s: 'present_key' (shape %s) and 'present_value' (shape %s) come "
                         "together: pass both or neither",
                         op, a.present_key.shape_string().c_str(),
                         a.present_value.shape_string().c_str());
  if (pk && !qk)
    return status::error(errc::invalid_argument,
                         "%s: 'past_key' (shape %s) is given but 'present_key' / 'present_value' "
                         "are not: the call attends over concat(past, new) and needs them to hold "
                         "it",
                         op, a.past_key.shape_string().c_str());
  if (!qk) return {};
  FUSEDOPS_RETURN_IF_ERROR(attention_op::input("k", k));
  FUSEDOPS_RETURN_IF_ERROR(attention_op::input("v", v));
  if (v.shape(0) != k.shape(0) || v.shape(1) != k.shape(1) || v.shape(2) != k.shape(2))
    return status::error(errc::shape_mismatch,
                         "%s: argument 'v' has shape %s, expected [%td, %td, %td, Dv] (batch, "
                         "heads and keys of 'k' %s)",
                         op, v.shape_string().c_str(), k.shape(0), k.shape(1), k.shape(2),
                         k.shape_string().c_str());
  const index_t past_len = pk ? a.past_key.shape(2) : 0;
  FUSEDOPS_RETURN_IF_ERROR(detail::check_side("past_key", a.past_key, "present_key",
                                              a.present_key, "k", k, pk, past_len));
  FUSEDOPS_RETURN_IF_ERROR(detail::check_side("past_value", a.past_value, "present_value",
                                              a.present_value, "v", v, pk, past_len));
  // The two presents, and each present against every other input it may not share.
  FUSEDOPS_RETURN_IF_ERROR(attention_op::disjoint(a.present_key, "present_value",
                                               view<const float, 4>(a.present_value),
                                               "present_key"));
  for (int side = 0; side < 2; ++side) {
    const char* name = side == 0 ? "present_key" : "present_value";
    const view<float, 4>& pres = side == 0 ? a.present_key : a.present_value;
    FUSEDOPS_RETURN_IF_ERROR(attention_op::disjoint(pres, "q", q, name));
    FUSEDOPS_RETURN_IF_ERROR(
        attention_op::disjoint(pres, side == 0 ? "v" : "k", side == 0 ? v : k, name));
    if (pk)
      FUSEDOPS_RETURN_IF_ERROR(attention_op::disjoint(pres, side == 0 ? "past_value" : "past_key",
                                                   side == 0 ? a.past_value : a.past_key, name));
    if (a.float_mask.data() != nullptr)
      FUSEDOPS_RETURN_IF_ERROR(attention_op::disjoint(pres, "float_mask", a.float_mask, name));
    if (a.bool_mask.data() != nullptr)
      FUSEDOPS_RETURN_IF_ERROR(attention_op::disjoint(pres, "bool_mask", a.bool_mask, name));
  }
  // attention_op::validate sees present in place of k / v: the new K/V's own overlap checks.
  if (!a.qk_output.empty()) {
    FUSEDOPS_RETURN_IF_ERROR(attention_op::disjoint(a.qk_output, "k", k, "qk_output"));
    FUSEDOPS_RETURN_IF_ERROR(attention_op::disjoint(a.qk_output, "v", v, "qk_output"));
  }
  r.k = a.present_key, r.v = a.present_value;
  r.writes_present = true;
  r.past_len = past_len;
  r.copy_past = pk && past_len > 0 &&
                !(detail::is_slice_of(a.past_key, a.present_key, 0) &&
                  detail::is_slice_of(a.past_value, a.present_value, 0));
  r.copy_new = !(detail::is_slice_of(k, a.present_key, past_len) &&
                 detail::is_slice_of(v, a.present_value, past_len));
  return {};
}

namespace detail {

/// dst[b, h, first + s, :] = src[b, h, s, :] for every (b, h, s); skipped when already there.
inline void copy_rows(const view<const float, 4>& src, const view<float, 4>& dst, index_t first,
                      index_t b, index_t h) noexcept {
  const index_t rows = src.shape(2), d = src.shape(3);
  const view<float, 4> target = dst.slice(2, first, first + rows);
  if (static_cast<const void*>(target.data()) == static_cast<const void*>(src.data()) &&
      target.strides() == src.strides())
    return;
  for (index_t s = 0; s < rows; ++s) {
    const float* from = &src(b, h, s, 0);
    float* to = &dst(b, h, first + s, 0);
    if (src.stride(3) == 1 && dst.stride(3) == 1) {
      std::memcpy(to, from, static_cast<std::size_t>(d) * sizeof(float));
    } else {
      for (index_t e = 0; e < d; ++e) to[e * dst.stride(3)] = from[e * src.stride(3)];
    }
  }
}

/// present[b, h, first + s, :] = RoPE(k[b, h, s, :]) at the new key's position (fused RoPE);
/// in place when k already sits there. Unit strides along D (checked by check_rotary).
template <class B>
void rotate_rows(const view<const float, 4>& k, const view<float, 4>& present, index_t first,
                 index_t b, index_t h, const rotary_problem& rope) noexcept {
  for (index_t s = 0; s < k.shape(2); ++s)
    attention_detail::rotate_row<B>(rope, &k(b, h, s, 0), &present(b, h, first + s, 0), k.shape(3),
                                    attention_detail::key_position(rope, b, first + s));
}

}  // namespace detail

/// Writes present = concat(past, new) (the parts not already in place), the new keys rotated when
/// rope.keys_on_append (fused RoPE). Call only after every check of the call passed. Parallel
/// over (batch, KV head).
template <class B>
void append(const view<const float, 4>& k, const view<const float, 4>& v,
            const attention_params& a, const resolved& r, const rotary_problem& rope,
            const threading& t) noexcept {
  const bool rotate = rope.keys_on_append;
  if (!r.writes_present || (!r.copy_past && !r.copy_new && !rotate)) return;
  const index_t heads = k.shape(1), pairs = k.shape(0) * heads;
  const index_t row_floats = (r.past_len + k.shape(2)) * (k.shape(3) + v.shape(3));
  parallel_for(t, pairs, std::max<index_t>(1, 16384 / std::max<index_t>(1, row_floats)),
               [&](index_t p0, index_t p1) {
                 for (index_t pair = p0; pair < p1; ++pair) {
                   const index_t b = pair / heads, h = pair % heads;
                   if (r.copy_past) {
                     detail::copy_rows(a.past_key, a.present_key, 0, b, h);
                     detail::copy_rows(a.past_value, a.present_value, 0, b, h);
                   }
                   if (rotate)
                     detail::rotate_rows<B>(k, a.present_key, r.past_len, b, h, rope);
                   else if (r.copy_new)
                     detail::copy_rows(k, a.present_key, r.past_len, b, h);
                   if (r.copy_new) detail::copy_rows(v, a.present_value, r.past_len, b, h);
                 }
               });
}

}  // namespace fusedops::ops::kv_cache
