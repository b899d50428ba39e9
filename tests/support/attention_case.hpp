// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// What the random attention tests share: a case's shape and masking, how to draw them, and how
// to print them. Each test file extends attention_case with its own fields (layouts, score
// policies, ...).
#pragma once

#include <algorithm>
#include <cstddef>
#include <sstream>
#include <string>

#include "fusedops/attention.hpp"

namespace fusedops::test {

enum class mask_kind { none, float_mask, bool_mask, both };

struct attention_case {
  index_t b = 1, hq = 1, hkv = 1, sq = 1, skv = 1, dqk = 8, dv = 8;
  mask_kind mask = mask_kind::none;
  bool causal = false;
  index_t offset = attention_params::bottom_right;
  index_t left = -1, right = -1;  // window (-1: unbounded)
  float softcap = 0.0f;
  bool nonpad = false;  // per-batch valid key lengths
  int threads = 1;

  /// A random shape: batch 1-2, 1 to max_hkv KV heads as MHA, GQA (2 or 4 query heads each) or
  /// MQA (1 KV head), Sq and Skv from `seqs` (a third of the time Skv >= Sq, the usual past + new
  /// shape), Dqk from `dims`, Dv mostly = Dqk.
  template <class Gen, std::size_t NS, std::size_t ND>
  void draw_shape(Gen& gen, const index_t (&seqs)[NS], const index_t (&dims)[ND], int max_hkv) {
    b = 1 + index_t(gen() % 2);
    hkv = 1 + index_t(gen() % unsigned(max_hkv));
    constexpr index_t ratios[] = {1, 2, 4, 0};  // 0: MQA
    const index_t ratio = ratios[gen() % 4];
    if (ratio == 0)
      hq = 1 + index_t(gen() % 4), hkv = 1;
    else
      hq = hkv * ratio;
    sq = seqs[gen() % NS], skv = seqs[gen() % NS];
    if (gen() % 3 == 0) skv = std::max(skv, sq);
    dqk = dims[gen() % ND];
    dv = gen() % 4 == 0 ? dims[gen() % ND] : dqk;
  }

  /// Random masking: a mask kind, causal (a quarter of the time with an explicit offset), left
  /// and right windows, softcap, valid key lengths, 1 or 2 threads.
  template <class Gen>
  void draw_masking(Gen& gen) {
    mask = static_cast<mask_kind>(gen() % 4);
    causal = gen() % 2 == 0;
    if (gen() % 4 == 0) offset = index_t(gen() % 5);
    if (gen() % 3 == 0) left = index_t(gen() % 40);
    if (gen() % 4 == 0) right = index_t(gen() % 20);
    if (gen() % 4 == 0) softcap = 5.0f;
    nonpad = gen() % 4 == 0;
    threads = 1 + int(gen() % 2);
  }

  std::string str() const {
    std::ostringstream o;
    o << "B=" << b << " Hq=" << hq << " Hkv=" << hkv << " Sq=" << sq << " Skv=" << skv
      << " Dqk=" << dqk << " Dv=" << dv << " mask=" << int(mask) << " causal=" << causal
      << " offset=" << (offset == attention_params::bottom_right ? -999 : offset)
      << " window=" << left << "," << right << " softcap=" << softcap << " nonpad=" << nonpad
      << " threads=" << threads;
    return o.str();
  }
};

}  // namespace fusedops::test
