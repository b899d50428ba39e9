// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/softmax. The width-generic CPU implementation of Softmax / LogSoftmax, written once
// in the vector vocabulary (arch/simd.hpp) for every CPU backend.
//
// Algorithm, per line along the axis (three passes, one exp per element):
//   1. m = max(x)                          the only pass that reads x from memory
//   2. e = exp(x - m), s = sum(e)          softmax stores e into y; log_softmax keeps only s
//   3. softmax: y = e · (1/s)              log_softmax: y = (x - m) - log(s)
// Passes 2 and 3 re-read the line from L1/L2 (a 4096-float line is 16 KiB), so the memory traffic
// is one read of x and one write of y, as a copy's. The online one-pass max+sum (rescaling the
// sum whenever the max grows) would need a second exp per element in the writing pass, which costs
// more here than re-reading a cached line.
// Numerics: subtracting the max makes every exp argument <= 0 (no overflow for large inputs);
// -inf entries give exp(-inf) = 0. The max is the ISA's (simd::max_unchecked: one instruction,
// where a compare and a select made a two-instruction chain per accumulator): it need not
// propagate NaN, because a NaN x_i makes exp(x_i - m) NaN, hence s and the whole line NaN
// (ONNX's result). A +inf entry gives inf - inf = NaN: the line is NaN (onnxruntime and the
// ONNX reference agree). A line of all -inf gives m = -inf, exp(-inf - -inf) = NaN: the line is
// NaN, as the ONNX reference (np.exp(x - x.max()) / sum) and onnxruntime compute it.
// Streaming stores (store_policy, core/store_policy.hpp): on unit-stride lines of at most
// stream_line_max elements whose output starts on a vector boundary, pass 3 writes y with
// non-temporal stores, so y's lines are not read from memory first (a third less traffic when the
// tensors do not fit the cache). Softmax's pass 2 then keeps e in a buffer on the stack instead
// of in y; the arithmetic, hence every result bit, is the same as with cached stores.
// Layout: when the axis is the last dimension of extent > 1 a line is a row (unit stride: plain
// vector loads; otherwise load_segment). Otherwise the kernel vectorises across the innermost
// dimension of extent > 1 after the axis and walks the axis with its stride, so a column softmax
// reads whole vectors too.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "fusedops/arch/simd.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/activation/lines.hpp"

namespace fusedops::ops {

template <class B>
struct softmax_generic {
  using V = simd::vec_t<float, B>;
  static constexpr int L = simd::lanes<V>;
  static constexpr float neg_inf = -std::numeric_limits<float>::infinity();

  static FUSEDOPS_INLINE V vmax(const V& a, const V& b) noexcept {
    return simd::max_unchecked(a, b);
  }

  /// Sum of the first n lanes of v (n <= L).
  static float partial_sum(const V& v, int n) noexcept {
    alignas(64) float buf[L];
    simd::store(buf, v);
    float s = 0.f;
    for (int i = 0; i < n; ++i) s += buf[i];
    return s;
  }

  /// Longest line that streams (the stack buffer softmax keeps e in: 16 KiB, as the GEMV's).
  static constexpr index_t stream_line_max = 4096;

  /// One line along the axis with unit strides. `next` is the line the caller processes next
  /// (nullptr if none): its cache lines are prefetched during the compute passes, so that fetching
  /// it from memory overlaps this line's exponentials instead of following them. `e_buf`: where
  /// softmax keeps e for a streamed line (n <= stream_line_max floats, 64-byte aligned), or
  /// nullptr for cached stores; y must then start on a vector boundary.
  template <bool Log>
  static void row_contiguous(const float* x, float* y, index_t n, const float* next,
                             float* e_buf) noexcept {
    const bool stream = e_buf != nullptr;
    float* e_dst = stream && !Log ? e_buf : y;  // where pass 2 keeps e (softmax)
    // 1. max: four accumulators; the last partial vector re-reads overlapping elements (harmless
    //    for a max), or a scalar loop when the line is shorter than a vector.
    V m0(neg_inf), m1(neg_inf), m2(neg_inf), m3(neg_inf);
    index_t j = 0;
    for (; j + 4 * L <= n; j += 4 * L) {
      m0 = vmax(m0, simd::load<V>(x + j));
      m1 = vmax(m1, simd::load<V>(x + j + L));
      m2 = vmax(m2, simd::load<V>(x + j + 2 * L));
      m3 = vmax(m3, simd::load<V>(x + j + 3 * L));
    }
    for (; j + L <= n; j += L) m0 = vmax(m0, simd::load<V>(x + j));
    float m;
    if (n >= L) {
      if (j < n) m1 = vmax(m1, simd::load<V>(x + n - L));
      m = simd::reduce_max(vmax(vmax(m0, m1), vmax(m2, m3)));
    } else {
      m = neg_inf;
      for (index_t k = 0; k < n; ++k) m = x[k] > m ? x[k] : m;
    }
    const V vm(m);
    // 2. exponentials and their sum.
    V s0(0.f), s1(0.f);
    j = 0;
    for (; j + 2 * L <= n; j += 2 * L) {
      if (next != nullptr) FUSEDOPS_PREFETCH_READ(next + j);
      // LogSoftmax first writes y in pass 3, which has no exps to hide the line fetches behind:
      // request y's lines for writing here (softmax stores e into y in this pass anyway).
      // Alternated, 1 thread, of the copy: 1 x 4096 cold 0.52 -> 0.76, hot 4096 x 768 0.57 ->
      // 0.63-0.65, hot 512 x 4096 0.40 -> 0.45; cold 4096 x 768 1.15 -> 1.05, 512 x 4096
      // 0.68 -> 0.63-0.67. (For softmax the same requests measured no change.)
      if constexpr (Log)
        if (!stream) FUSEDOPS_PREFETCH_WRITE(y + j), FUSEDOPS_PREFETCH_WRITE(y + j + L);
      const V e0 = simd::exp(simd::load<V>(x + j) - vm);
      const V e1 = simd::exp(simd::load<V>(x + j + L) - vm);
      if constexpr (!Log) {
        simd::store(e_dst + j, e0);
        simd::store(e_dst + j + L, e1);
      }
      s0 += e0;
      s1 += e1;
    }
    for (; j + L <= n; j += L) {
      const V e = simd::exp(simd::load<V>(x + j) - vm);
      if constexpr (!Log) simd::store(e_dst + j, e);
      s0 += e;
    }
    float s = simd::reduce_add(s0 + s1);
    if (j < n) {
      const int rest = static_cast<int>(n - j);
      const V e = simd::exp(simd::load_partial<V>(x + j, rest) - vm);
      if constexpr (!Log) simd::store_partial(e_dst + j, e, rest);
      s += partial_sum(e, rest);
    }
    // 3. normalise.
    // (Whole vectors: streamed or cached; the last partial one: a plain masked store.)
    auto put = [&](index_t at, const V& v) {
      if (stream) simd::stream(y + at, v);
      else simd::store(y + at, v);
    };
    if constexpr (Log) {
      const V ls(static_cast<float>(std::log(static_cast<double>(s))));
      j = 0;
      for (; j + L <= n; j += L) put(j, (simd::load<V>(x + j) - vm) - ls);
      if (j < n) {
        const int rest = static_cast<int>(n - j);
        simd::store_partial(y + j, (simd::load_partial<V>(x + j, rest) - vm) - ls, rest);
      }
    } else {
      const V inv(1.f / s);
      j = 0;
      for (; j + L <= n; j += L) put(j, simd::load<V>(e_dst + j) * inv);
      if (j < n) {
        const int rest = static_cast<int>(n - j);
        simd::store_partial(y + j, simd::load_partial<V>(e_dst + j, rest) * inv, rest);
      }
    }
  }

  /// One line along the axis at any strides (sx may be 0).
  template <bool Log>
  static void row_strided(const float* x, index_t sx, float* y, index_t sy, index_t n) noexcept {
    V mv(neg_inf);
    float m = neg_inf;
    index_t j = 0;
    for (; j + L <= n; j += L) mv = vmax(mv, simd::load_segment<V>(x + j * sx, sx, L));
    if (j > 0) m = simd::reduce_max(mv);
    for (index_t k = j; k < n; ++k) m = x[k * sx] > m ? x[k * sx] : m;
    const V vm(m);
    float s = 0.f;
    for (j = 0; j < n; j += L) {
      const int cnt = static_cast<int>(std::min<index_t>(L, n - j));
      const V e = simd::exp(simd::load_segment<V>(x + j * sx, sx, cnt) - vm);
      if constexpr (!Log) simd::store_segment(y + j * sy, sy, e, cnt);
      s += cnt == L ? simd::reduce_add(e) : partial_sum(e, cnt);
    }
    if constexpr (Log) {
      const V ls(static_cast<float>(std::log(static_cast<double>(s))));
      for (j = 0; j < n; j += L) {
        const int cnt = static_cast<int>(std::min<index_t>(L, n - j));
        simd::store_segment(y + j * sy, sy, (simd::load_segment<V>(x + j * sx, sx, cnt) - vm) - ls,
                            cnt);
      }
    } else {
      const V inv(1.f / s);
      for (j = 0; j < n; j += L) {
        const int cnt = static_cast<int>(std::min<index_t>(L, n - j));
        simd::store_segment(y + j * sy, sy, simd::load_segment<V>(y + j * sy, sy, cnt) * inv, cnt);
      }
    }
  }

  /// `cnt` <= L neighbouring lines at once: lane i is the line starting at x + i·vx (y + i·vy);
  /// each line has n elements at stride ax (ay). All per-lane: max, sum and normalisation.
  template <bool Log>
  static void columns(const float* x, index_t vx, index_t ax, float* y, index_t vy, index_t ay,
                      int cnt, index_t n) noexcept {
    V m(neg_inf);
    for (index_t k = 0; k < n; ++k) m = vmax(m, simd::load_segment<V>(x + k * ax, vx, cnt));
    V s(0.f);
    for (index_t k = 0; k < n; ++k) {
      const V e = simd::exp(simd::load_segment<V>(x + k * ax, vx, cnt) - m);
      if constexpr (!Log) simd::store_segment(y + k * ay, vy, e, cnt);
      s += e;
    }
    if constexpr (Log) {
      alignas(64) float buf[L];
      simd::store(buf, s);
      for (int i = 0; i < L; ++i) buf[i] = static_cast<float>(std::log(static_cast<double>(buf[i])));
      const V ls = simd::load<V>(buf);
      for (index_t k = 0; k < n; ++k)
        simd::store_segment(y + k * ay, vy, (simd::load_segment<V>(x + k * ax, vx, cnt) - m) - ls,
                            cnt);
    } else {
      const V inv = simd::div(V(1.f), s);
      for (index_t k = 0; k < n; ++k)
        simd::store_segment(y + k * ay, vy, simd::load_segment<V>(y + k * ay, vy, cnt) * inv, cnt);
    }
  }

  /// `stream`: store_policy's verdict for this call (streams() of its bytes).
  template <bool Log, int R>
  static void run(const view<const float, R>& x, const view<float, R>& y, int axis,
                  const threading& threads, bool stream = false) {
    if (x.empty()) return;
    const index_t n = x.shape(axis);
    const dims<R>* strides[2] = {&x.strides(), &y.strides()};
    int vec_dim = -1;  // innermost dimension after the axis with extent > 1
    for (int d = R - 1; d > axis && vec_dim < 0; --d)
      if (x.shape(d) > 1) vec_dim = d;

    bool keep[R] = {};
    for (int d = 0; d < R; ++d) keep[d] = d != axis && d != vec_dim;
    const auto lines = line_space<R, 2>::make(x.shape(), strides, keep);
    const index_t ax = x.stride(axis), ay = y.stride(axis);

    if (vec_dim < 0) {  // the axis is (in effect) the last dimension: one line per row
      const index_t grain = std::max<index_t>(1, index_t{8192} / std::max<index_t>(n, 1));
      const bool stream_lines = stream && ax == 1 && ay == 1 && n <= stream_line_max;
      // Lines [l0, l1); e_buf: the streamed lines' exponentials (null: nothing streams).
      auto lines_in = [&](index_t l0, index_t l1, float* e_buf) {
        for (index_t l = l0; l < l1; ++l) {
          index_t off[2];
          lines.seek(l, off);
          if (ax == 1 && ay == 1) {
            const float* next = nullptr;
            if (l + 1 < l1) {
              index_t noff[2];
              lines.seek(l + 1, noff);
              next = x.data() + noff[0];
            }
            float* yl = y.data() + off[1];
            const bool s = e_buf != nullptr && simd::stream_aligned<V>(yl);
            row_contiguous<Log>(x.data() + off[0], yl, n, next, s ? e_buf : nullptr);
          } else {
            row_strided<Log>(x.data() + off[0], ax, y.data() + off[1], ay, n);
          }
        }
      };
      if (stream_lines) {
        // The 16 KiB buffer lives only in the frames of calls that stream (a worker thread's
        // stack may be small).
        parallel_for(threads, lines.lines, grain, [&](index_t l0, index_t l1) {
          alignas(64) float e_buf[stream_line_max];
          lines_in(l0, l1, e_buf);
          simd::stream_fence<V>();  // the share's stores visible on return
        });
      } else {
        parallel_for(threads, lines.lines, grain,
                     [&](index_t l0, index_t l1) { lines_in(l0, l1, nullptr); });
      }
      return;
    }
    // Vectorised across vec_dim: tasks are (line, block of L positions along vec_dim).
    const index_t width = x.shape(vec_dim), vx = x.stride(vec_dim), vy = y.stride(vec_dim);
    const index_t blocks = (width + L - 1) / L;
    const index_t grain = std::max<index_t>(1, index_t{8192} / std::max<index_t>(n * L, 1));
    parallel_for(threads, lines.lines * blocks, grain, [&](index_t t0, index_t t1) {
      for (index_t t = t0; t < t1; ++t) {
        const index_t l = t / blocks, c = (t % blocks) * L;
        index_t off[2];
        lines.seek(l, off);
        const int cnt = static_cast<int>(std::min<index_t>(L, width - c));
        columns<Log>(x.data() + off[0] + c * vx, vx, ax, y.data() + off[1] + c * vy, vy, ay, cnt,
                     n);
      }
    });
  }
};

}  // namespace fusedops::ops
