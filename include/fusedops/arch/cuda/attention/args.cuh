// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda/attention. What every CUDA attention kernel receives (plain values: view's
// accessors are host-only) and the score rules they share, written once: which keys a query may
// attend (the device twin of ops/attention/masks.hpp's key_bounds, with the valid length read and
// clamped on the device) and the per-score order scale -> softcap -> float mask -> bool mask.
// Included only by nvcc.
#pragma once

#include "fusedops/arch/cuda/launch.cuh"  // first: stops a non-nvcc compiler with one #error

#if FUSEDOPS_HAS_CUDA

#include <cstdint>

#include "fusedops/arch/cuda/gemm/args.cuh"  // to_float / from_float
#include "fusedops/ops/attention/attention_op.hpp"

namespace fusedops::arch::cuda::attention {

using gemm::from_float;
using gemm::to_float;

/// One attention call; strides in elements, [0..3] = batch, head, row, column.
template <class T>
struct args {
  const T* q;
  const T* k;
  const T* v;
  T* out;
  index_t qs[4], ks[4], vs[4], os[4];
  index_t batch, hq, hkv, group, sq, skv, dqk, dv;
  float scale, softcap;
  bool causal;
  index_t causal_offset, left, right;
  const float* fmask;  // null: none
  index_t fms[4], fmask_len;
  const bool* bmask;  // null: none
  index_t bms[4], bmask_len;
  const std::int64_t* kv_lens;  // null: every batch has skv keys
  index_t kv_lens_stride;
  // flash kernel only: GQA packing and split-KV (see ops::attention_detail::device_plan)
  index_t pack, splits;
  float* ws;  // splits > 1: partial O [splits][B·Hq·Sq][Dv], then (m, l) [splits][B·Hq·Sq][2]
};

/// Keys [lo(i), hi(i)) are the ones query row i may attend in batch b (both nondecreasing in i).
struct key_range {
  index_t limit, offset, left, right;
  bool causal;

  template <class T>
  __device__ __forceinline__ static key_range make(const args<T>& g, index_t b) {
    key_range kr;
    index_t valid = g.skv;
    if (g.kv_lens != nullptr) {
      const std::int64_t len = g.kv_lens[b * g.kv_lens_stride];
      valid = len < 0 ? 0 : (len > g.skv ? g.skv : index_t(len));
    }
    kr.limit = valid;
    if (g.fmask != nullptr && g.fmask_len < kr.limit) kr.limit = g.fmask_len;
    if (g.bmask != nullptr && g.bmask_len < kr.limit) kr.limit = g.bmask_len;
    kr.offset = g.causal_offset == attention_params::bottom_right ? valid - g.sq : g.causal_offset;
    kr.left = g.left, kr.right = g.right, kr.causal = g.causal;
    return kr;
  }
  __device__ __forceinline__ index_t lo(index_t i) const {
    if (left < 0) return 0;
    const index_t x = i + offset - left;
    return x < 0 ? 0 : (x > limit ? limit : x);
  }
  __device__ __forceinline__ index_t hi(index_t i) const {
    index_t h = limit;
    if (causal && i + offset + 1 < h) h = i + offset + 1;
    if (right >= 0 && i + offset + right + 1 < h) h = i + offset + right + 1;
    return h < 0 ? 0 : h;
  }
};

__device__ __forceinline__ float neg_inf() { return -__int_as_float(0x7f800000); }

/// scale, then softcap (ONNX order; the masks follow).
template <class T>
__device__ __forceinline__ float scaled_score(const args<T>& g, float dot) {
  float x = dot * g.scale;
  if (g.softcap > 0.0f) x = g.softcap * tanhf(x / g.softcap);
  return x;
}

/// The element masks: float mask added, -inf where the bool mask is false. (b, h, i, j) must be
/// a key the structural rules admit (j < the masks' length).
template <class T>
__device__ __forceinline__ float element_masks(const args<T>& g, float x, index_t b, index_t h,
                                               index_t i, index_t j) {
  if (g.fmask != nullptr) x += g.fmask[b * g.fms[0] + h * g.fms[1] + i * g.fms[2] + j * g.fms[3]];
  if (g.bmask != nullptr && !g.bmask[b * g.bms[0] + h * g.bms[1] + i * g.bms[2] + j * g.bms[3]])
    x = neg_inf();
  return x;
}

}  // namespace fusedops::arch::cuda::attention

#endif  // FUSEDOPS_HAS_CUDA
