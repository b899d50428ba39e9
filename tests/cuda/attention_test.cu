// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// attention on backend::cuda against the double-precision oracle (reference/attention.hpp): the
// FlashAttention-2 tensor-core kernel (bf16, fp16; D = 64, 128), the SIMT kernel (fp32, other head
// sizes, unaligned strides) and split-KV decode with its combine pass. Shapes with 1, odd, prime
// and non-multiple-of-tile extents (1, 7, 63, 65, 129, 257), Sq != Skv (bottom-right and explicit
// causal offsets), batch > 1, GQA and MQA, softcap, windows, valid lengths, float and bool masks
// (broadcast, short), strided [B, S, H, D] layouts and a padded output whose gaps must stay
// untouched; NaN propagation; bad arguments, which must come back as errors with out untouched.
// Random data, drawn afresh per case and rounded to the input type before the oracle sees it;
// every output element starts as a sentinel and is compared, so each must have been written.
//
// Tolerance, per element, against the oracle's y and Σ_j p_j |v_j| (abs_pv):
//   |got - y| <= (c_T + 2·keys·2^-24 + Dqk·2^-22·A) · abs_pv + 1e-6
// c_T: 16-bit inputs round P to T before P·V (relative 2^-8 bf16, 2^-11 fp16), the normaliser
// sums the unrounded P (another u) and the output is stored in T (a third u): c_T = 3u =
// 1.2e-2 (bf16), 1.5e-3 (fp16); fp32: 1e-5 (expf, the online rescales). 2·keys·2^-24: fp32
// accumulation of P·V and of the sum over the row's keys. A = max over weighted keys of
// scale·Σ|q k| (reference max_abs): the fp32 dot product's absolute error (tensor-core fp32
// accumulation may truncate: 2^-22 per term), which an exp turns into the same relative error.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cuda/device_support.cuh"
#include "fusedops/attention.hpp"
#include "fusedops/reference/attention.hpp"
#include "support/random.hpp"

namespace {

using fusedops::attention_params;
using fusedops::device_attention_params;
using fusedops::device_view;
using fusedops::dims;
using fusedops::errc;
using fusedops::index_t;
using fusedops::status;
using fusedops::view;
using fusedops::test::device_buffer;
using fusedops::test::stream_guard;
using cuda = fusedops::backend::cuda;
using fusedops::arch::cuda::gemm::from_float;
using fusedops::arch::cuda::gemm::to_float;

constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float sentinel = -12345.5f;

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, float>) return "fp32";
  if constexpr (std::is_same_v<T, __half>) return "fp16";
  return "bf16";
}
/// c_T of the tolerance (see the file comment).
template <class T>
double type_tolerance() {
  if constexpr (std::is_same_v<T, float>) return 1e-5;
  if constexpr (std::is_same_v<T, __half>) return 3 * 0x1p-11;
  return 3 * 0x1p-8;
}

/// One test case: shapes and options.
struct spec {
  index_t b = 1, hq = 1, hkv = 1, sq = 1, skv = 1, dqk = 64, dv = 64;
  bool causal = false;
  index_t offset = attention_params::bottom_right, left = -1, right = -1;
  float scale = 0.0f, softcap = 0.0f;
  std::vector<std::int64_t> lens;  ///< nonpad_kv_seqlen; empty: none
  int fmask = 0;                   ///< 0 none, 1 [1, 1, Sq, M] broadcast, 2 [B, Hq, Sq, M]
  int bmask = 0;                   ///< 0 none, 1 [B, Hq, Sq, M] random (some rows all false)
  index_t mask_len = -1;           ///< M (-1: Skv)
  bool bshd = false;               ///< q, k, v, out stored as [B, S, H, D]
  index_t in_pad = 0;              ///< extra elements after each row of q, k, v (misaligns)
  index_t out_pad = 0;             ///< extra elements after each output row (must stay)
  index_t splits = 0;              ///< kv_splits
  float q_amp = 1.0f;              ///< q values in [-q_amp, q_amp)
  int nan_in =
      0;  ///< 0 none; 1 q[0, 0, min(3, Sq-1), 1]; 2 k[0, 0, min(5, Skv-1), 2]; 3 v[.., 0, 3]
  std::uint32_t seed = 1;

  std::string str() const {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "B=%td Hq=%td Hkv=%td Sq=%td Skv=%td Dqk=%td Dv=%td causal=%d offset=%td "
                  "window=(%td,%td) scale=%g softcap=%g lens=%zu fmask=%d bmask=%d M=%td "
                  "bshd=%d in_pad=%td out_pad=%td splits=%td nan=%d",
                  b, hq, hkv, sq, skv, dqk, dv, int(causal),
                  offset == attention_params::bottom_right ? index_t(-999) : offset, left, right,
                  double(scale), double(softcap), lens.size(), fmask, bmask, mask_len, int(bshd),
                  in_pad, out_pad, splits, nan_in);
    return buf;
  }
};

/// A [B, H, S, D] tensor stored as the spec says, with a device copy in T and the host floats
/// (rounded to T: what the kernel sees).
template <class T>
struct tensor {
  dims<4> shape, strides;
  std::vector<float> host;
  std::vector<T> stored;

  tensor(index_t b, index_t h, index_t s, index_t d, bool bshd, index_t pad) {
    const index_t row = d + pad;
    shape = {b, h, s, d};
    strides = bshd ? dims<4>{s * h * row, row, h * row, 1} : dims<4>{h * s * row, s * row, row, 1};
    const std::size_t n = std::size_t(b * h * s * row);
    host.assign(n, 0.0f);
    stored.assign(n, from_float<T>(0.0f));
  }
  void randomize(std::uint32_t seed, float amp) {
    const auto r = fusedops::test::random_floats(host.size(), seed, -amp, amp);
    for (std::size_t i = 0; i < host.size(); ++i) set(i, r[i]);
  }
  void fill(float x) {
    for (std::size_t i = 0; i < host.size(); ++i) set(i, x);
  }
  void set(std::size_t i, float x) {
    stored[i] = from_float<T>(x);
    host[i] = to_float(stored[i]);
  }
  std::size_t offset(index_t b, index_t h, index_t s, index_t d) const {
    return std::size_t(b * strides[0] + h * strides[1] + s * strides[2] + d * strides[3]);
  }
  view<const float, 4> host_view() const { return {host.data(), shape, strides}; }
};

/// Device memory for a host array of bytes-as-bool (std::vector<bool> is bit-packed).
class bool_buffer {
 public:
  explicit bool_buffer(const std::unique_ptr<bool[]>& host, std::size_t n) : n_(n) {
    REQUIRE_CUDA(cudaMalloc(reinterpret_cast<void**>(&p_), n == 0 ? 1 : n));
    REQUIRE_CUDA(cudaMemcpy(p_, host.get(), n, cudaMemcpyHostToDevice));
  }
  bool_buffer(const bool_buffer&) = delete;
  bool_buffer& operator=(const bool_buffer&) = delete;
  ~bool_buffer() { cudaFree(p_); }
  bool* get() const { return p_; }

 private:
  bool* p_ = nullptr;
  std::size_t n_;
};

/// Everything one call needs, on host and device, and the comparison with the oracle.
template <class T>
struct problem {
  spec c;
  tensor<T> q, k, v, out;
  index_t m_len;
  std::vector<float> fmask;
  std::unique_ptr<bool[]> bmask;
  std::size_t bmask_n = 0;
  dims<4> fm_shape{}, fm_strides{}, bm_shape{}, bm_strides{};
  std::unique_ptr<device_buffer<T>> dq, dk, dv, dout;
  std::unique_ptr<device_buffer<float>> dfmask;
  std::unique_ptr<bool_buffer> dbmask;
  std::unique_ptr<device_buffer<std::int64_t>> dlens;

  explicit problem(const spec& s)
      : c(s),
        q(s.b, s.hq, s.sq, s.dqk, s.bshd, s.in_pad),
        k(s.b, s.hkv, s.skv, s.dqk, s.bshd, s.in_pad),
        v(s.b, s.hkv, s.skv, s.dv, s.bshd, s.in_pad),
        out(s.b, s.hq, s.sq, s.dv, s.bshd, s.out_pad),
        m_len(s.mask_len >= 0 ? s.mask_len : s.skv) {
    q.randomize(s.seed * 7 + 1, s.q_amp);
    k.randomize(s.seed * 7 + 2, 1.0f);
    v.randomize(s.seed * 7 + 3, 1.0f);
    out.fill(sentinel);
    if (s.nan_in == 1 && s.sq > 0) q.set(q.offset(0, 0, std::min<index_t>(3, s.sq - 1), 1), qnan);
    if (s.nan_in == 2 && s.skv > 0) k.set(k.offset(0, 0, std::min<index_t>(5, s.skv - 1), 2), qnan);
    if (s.nan_in == 3 && s.skv > 0) v.set(v.offset(0, 0, 0, 3), qnan);
    if (s.fmask != 0) {
      const index_t mb = s.fmask == 1 ? 1 : s.b, mh = s.fmask == 1 ? 1 : s.hq;
      fmask = fusedops::test::random_floats(std::size_t(mb * mh * s.sq * m_len), s.seed * 7 + 4,
                                            -2.0f, 2.0f);
      fm_shape = {s.b, s.hq, s.sq, m_len};
      fm_strides = {s.fmask == 1 ? 0 : s.hq * s.sq * m_len, s.fmask == 1 ? 0 : s.sq * m_len, m_len,
                    1};
    }
    if (s.bmask != 0) {
      bmask_n = std::size_t(s.b * s.hq * s.sq * m_len);
      bmask.reset(new bool[bmask_n == 0 ? 1 : bmask_n]);
      const auto r = fusedops::test::random_floats(bmask_n, s.seed * 7 + 5, 0.0f, 1.0f);
      for (std::size_t i = 0; i < bmask_n; ++i) bmask[i] = r[i] > 0.2f;
      // Query row 1 of every head sees no key at all: its output must be a zero row.
      if (s.sq > 1)
        for (index_t bh = 0; bh < s.b * s.hq; ++bh)
          for (index_t j = 0; j < m_len; ++j)
            bmask[std::size_t((bh * s.sq + 1) * m_len + j)] = false;
      bm_shape = {s.b, s.hq, s.sq, m_len};
      bm_strides = {s.hq * s.sq * m_len, s.sq * m_len, m_len, 1};
    }
    dq = std::make_unique<device_buffer<T>>(q.stored);
    dk = std::make_unique<device_buffer<T>>(k.stored);
    dv = std::make_unique<device_buffer<T>>(v.stored);
    dout = std::make_unique<device_buffer<T>>(out.stored);
    if (s.fmask != 0) dfmask = std::make_unique<device_buffer<float>>(fmask);
    if (s.bmask != 0) dbmask = std::make_unique<bool_buffer>(bmask, bmask_n);
    if (!s.lens.empty()) dlens = std::make_unique<device_buffer<std::int64_t>>(s.lens);
  }

  device_view<const T, 4> dev_q() const { return {dq->get(), q.shape, q.strides}; }
  device_view<const T, 4> dev_k() const { return {dk->get(), k.shape, k.strides}; }
  device_view<const T, 4> dev_v() const { return {dv->get(), v.shape, v.strides}; }
  device_view<T, 4> dev_out() const { return {dout->get(), out.shape, out.strides}; }

  device_attention_params dev_params() const {
    device_attention_params p;
    p.scale = c.scale, p.softcap = c.softcap, p.is_causal = c.causal, p.causal_offset = c.offset;
    p.window_left = c.left, p.window_right = c.right, p.kv_splits = c.splits;
    if (dfmask) p.float_mask = device_view<const float, 4>(dfmask->get(), fm_shape, fm_strides);
    if (dbmask) p.bool_mask = device_view<const bool, 4>(dbmask->get(), bm_shape, bm_strides);
    if (dlens)
      p.nonpad_kv_seqlen =
          device_view<const std::int64_t, 1>(dlens->get(), dims<1>{index_t(c.lens.size())});
    return p;
  }
  attention_params host_params() const {
    attention_params p;
    p.scale = c.scale, p.softcap = c.softcap, p.is_causal = c.causal, p.causal_offset = c.offset;
    p.window_left = c.left, p.window_right = c.right;
    if (!fmask.empty()) p.float_mask = view<const float, 4>(fmask.data(), fm_shape, fm_strides);
    if (bmask) p.bool_mask = view<const bool, 4>(bmask.get(), bm_shape, bm_strides);
    if (!c.lens.empty())
      p.nonpad_kv_seqlen =
          view<const std::int64_t, 1>(c.lens.data(), dims<1>{index_t(c.lens.size())});
    return p;
  }

  /// Downloads out and counts the elements outside the tolerance (and padding overwritten).
  std::size_t compare(const fusedops::reference::attention_result& r) const {
    const std::vector<T> got_t = dout->download();
    std::size_t bad = 0;
    std::vector<char> inside(got_t.size(), 0);
    for (index_t b = 0; b < c.b; ++b)
      for (index_t h = 0; h < c.hq; ++h)
        for (index_t i = 0; i < c.sq; ++i) {
          const std::size_t row = std::size_t((b * c.hq + h) * c.sq + i);
          for (index_t d = 0; d < c.dv; ++d) {
            const std::size_t o = out.offset(b, h, i, d);
            inside[o] = 1;
            const double got = double(to_float(got_t[o]));
            const double want = r.y[row * std::size_t(c.dv) + std::size_t(d)];
            const double apv = r.abs_pv[row * std::size_t(c.dv) + std::size_t(d)];
            const double bound = (type_tolerance<T>() + 2.0 * double(r.keys[row]) * 0x1p-24 +
                                  double(c.dqk) * 0x1p-22 * r.max_abs[row]) *
                                     apv +
                                 1e-6;
            const bool ok = std::isnan(want)
                                ? std::isnan(got)
                                : (std::isfinite(got) && std::fabs(got - want) <= bound);
            if (!ok && ++bad <= 5)
              MESSAGE(type_name<T>()
                      << " " << c.str() << ": out[" << b << "," << h << "," << i << "," << d
                      << "] = " << got << ", expected " << want << " (bound " << bound << ")");
          }
        }
    for (std::size_t o = 0; o < got_t.size(); ++o)
      if (!inside[o] && to_float(got_t[o]) != to_float(from_float<T>(sentinel)) && ++bad <= 5)
        MESSAGE(type_name<T>() << " " << c.str() << ": padding element " << o << " overwritten");
    return bad;
  }
};

/// Runs one case on the GPU (workspace as attention_workspace_size asks, poisoned with NaN) and
/// compares every output element with the oracle.
template <class T>
void check(const spec& s) {
  INFO(type_name<T>() << " " << s.str());
  problem<T> pb(s);
  stream_guard stream;
  device_attention_params p = pb.dev_params();
  const std::size_t ws =
      fusedops::attention_workspace_size<cuda>(pb.dev_q(), pb.dev_k(), pb.dev_v(), pb.dev_out(), p);
  device_buffer<float> dws(std::vector<float>(ws == 0 ? 1 : ws, qnan));
  if (ws > 0) p.workspace = device_view<float, 1>(dws.get(), dims<1>{index_t(ws)});
  const status st =
      fusedops::attention<cuda>(pb.dev_q(), pb.dev_k(), pb.dev_v(), pb.dev_out(), p, stream.get());
  REQUIRE_MESSAGE(st.ok(), st.message());
  stream.sync();
  const auto r = fusedops::reference::attention(pb.q.host_view(), pb.k.host_view(),
                                                pb.v.host_view(), pb.host_params());
  CHECK(pb.compare(r) == 0);
}

template <class T>
void check_all(const std::vector<spec>& specs) {
  for (const spec& s : specs) check<T>(s);
}

/// Shapes around the 64 × 64 tiles, MHA / GQA / MQA, causal and not.
std::vector<spec> shape_specs(index_t d) {
  struct sh {
    index_t b, hq, hkv, sq, skv;
  };
  const sh shapes[] = {{1, 1, 1, 1, 1},    {2, 2, 2, 7, 7},     {1, 2, 1, 63, 65},
                       {2, 4, 1, 65, 129}, {1, 8, 2, 129, 257}, {1, 2, 2, 257, 129},
                       {3, 3, 3, 64, 64},  {1, 4, 4, 1, 257},   {1, 2, 1, 128, 1}};
  std::vector<spec> out;
  std::uint32_t seed = 11;
  for (const sh& x : shapes)
    for (bool causal : {false, true}) {
      spec s;
      s.b = x.b, s.hq = x.hq, s.hkv = x.hkv, s.sq = x.sq, s.skv = x.skv, s.dqk = s.dv = d;
      s.causal = causal, s.q_amp = 3.0f, s.seed = seed++;
      out.push_back(s);
    }
  return out;
}

/// Softcap, windows, offsets, scale, valid lengths, masks, layouts.
std::vector<spec> feature_specs(index_t d) {
  std::vector<spec> out;
  spec base;
  base.b = 2, base.hq = 4, base.hkv = 2, base.sq = 70, base.skv = 135, base.dqk = base.dv = d;
  base.q_amp = 3.0f;
  std::uint32_t seed = 101;
  auto add = [&](spec s) {
    s.seed = seed++;
    out.push_back(s);
  };
  {
    spec s = base;  // softcap with large scores
    s.softcap = 5.0f, s.q_amp = 8.0f, s.causal = true;
    add(s);
  }
  {
    spec s = base;  // explicit scale
    s.scale = 0.3f;
    add(s);
    s.scale = -0.4f, s.causal = true;  // negative: the 128-row kernel's scaled-score path
    add(s);
  }
  {
    spec s = base;  // sliding window, causal
    s.causal = true, s.left = 16;
    add(s);
  }
  {
    spec s = base;  // two-sided window, no causal rule
    s.left = 5, s.right = 70;
    add(s);
  }
  {
    spec s = base;  // top-left causal offset 0 with Sq < Skv, and a negative offset
    s.causal = true, s.offset = 0;
    add(s);
    s.offset = -20;  // the first 20 rows see nothing: zero rows
    add(s);
  }
  {
    spec s = base;  // valid lengths (one batch fully padded), causal bottom-right on them
    s.lens = {100, 0};
    add(s);
    s.causal = true, s.lens = {135, 57};
    add(s);
  }
  {
    spec s = base;  // float mask broadcast and shorter than Skv; bool mask with empty rows
    s.fmask = 1, s.mask_len = 100;
    add(s);
    s.fmask = 2, s.bmask = 1, s.mask_len = -1, s.causal = true;
    add(s);
    s.fmask = 0, s.bmask = 1, s.causal = false, s.lens = {90, 135};
    add(s);
  }
  {
    spec s = base;  // [B, S, H, D] layout (strided, still 16-byte streamable), padded output
    s.bshd = true, s.causal = true, s.out_pad = 8;
    add(s);
  }
  {
    spec s = base;  // everything at once, MQA
    s.hkv = 1, s.causal = true, s.left = 40, s.softcap = 10.0f, s.lens = {120, 71};
    s.fmask = 1, s.bmask = 1;
    add(s);
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("cuda attention: tensor-core kernel, shapes (D = 64, 128)", T, __nv_bfloat16,
                   __half) {
  check_all<T>(shape_specs(64));
  check_all<T>(shape_specs(128));
}

TEST_CASE_TEMPLATE("cuda attention: tensor-core kernel, features", T, __nv_bfloat16, __half) {
  check_all<T>(feature_specs(128));
  check_all<T>(feature_specs(64));
}

TEST_CASE("cuda attention: fp32 (SIMT kernel), shapes and features") {
  check_all<float>(shape_specs(64));
  check_all<float>(feature_specs(64));
  std::vector<spec> other;
  spec s;
  s.b = 2, s.hq = 4, s.hkv = 2, s.sq = 33, s.skv = 77, s.q_amp = 3.0f, s.causal = true;
  for (auto dd : {std::pair<index_t, index_t>{1, 1}, {32, 32}, {80, 80}, {128, 48}, {17, 256}}) {
    s.dqk = dd.first, s.dv = dd.second, s.seed += 3;
    other.push_back(s);
  }
  check_all<float>(other);
}

TEST_CASE_TEMPLATE("cuda attention: 16-bit fallback to the SIMT kernel (head sizes, strides)", T,
                   __nv_bfloat16, __half) {
  std::vector<spec> specs;
  spec s;
  s.b = 2, s.hq = 4, s.hkv = 1, s.sq = 65, s.skv = 70, s.q_amp = 3.0f, s.causal = true;
  s.dqk = s.dv = 96;  // head size without a tensor-core instance
  specs.push_back(s);
  s.dqk = 64, s.dv = 32, s.seed = 5;  // Dqk != Dv
  specs.push_back(s);
  s.dqk = s.dv = 128, s.in_pad = 4, s.seed = 6;  // rows not 16-byte aligned
  specs.push_back(s);
  check_all<T>(specs);
}

TEST_CASE_TEMPLATE("cuda attention: split-KV decode and its combine pass", T, __nv_bfloat16,
                   __half) {
  std::vector<spec> specs;
  spec s;
  s.dqk = s.dv = 128, s.q_amp = 3.0f;
  s.b = 1, s.hq = 8, s.hkv = 2, s.sq = 1, s.skv = 4097;  // GQA decode, automatic splits
  specs.push_back(s);
  s.b = 2, s.hq = 4, s.hkv = 4, s.sq = 1, s.skv = 1000, s.lens = {1000, 333}, s.seed = 2;
  specs.push_back(s);
  s.b = 2, s.hq = 8, s.hkv = 1, s.sq = 5, s.skv = 700, s.causal = true, s.lens = {700, 64};
  s.splits = 3, s.seed = 3;  // explicit splits, MQA packed, causal over valid lengths
  specs.push_back(s);
  s.splits = 64, s.lens = {}, s.left = 100, s.softcap = 20.0f, s.seed = 4;  // empty splits
  specs.push_back(s);
  s.dqk = s.dv = 64, s.splits = 0, s.b = 1, s.hq = 2, s.hkv = 2, s.sq = 2, s.skv = 2000;
  s.bmask = 1, s.fmask = 1, s.left = -1, s.seed = 5;  // masks in split mode (row 1 empty)
  specs.push_back(s);
  check_all<T>(specs);

  // The size query matches what the call asks for; a too small workspace is an error.
  spec d;
  d.dqk = d.dv = 128, d.hq = 8, d.hkv = 2, d.skv = 4097;
  problem<T> pb(d);
  device_attention_params p = pb.dev_params();
  const std::size_t ws =
      fusedops::attention_workspace_size<cuda>(pb.dev_q(), pb.dev_k(), pb.dev_v(), pb.dev_out(), p);
  CHECK(ws > 0);
  device_buffer<float> dws(std::vector<float>(ws, 0.0f));
  p.workspace = device_view<float, 1>(dws.get(), dims<1>{index_t(ws - 1)});
  const status st = fusedops::attention<cuda>(pb.dev_q(), pb.dev_k(), pb.dev_v(), pb.dev_out(), p);
  CHECK(st.code() == errc::buffer_too_small);
  REQUIRE_CUDA(cudaDeviceSynchronize());
  const auto got = pb.dout->download();
  for (const T& x : got) REQUIRE(to_float(x) == to_float(from_float<T>(sentinel)));
  p.kv_splits = 1;  // no split: no workspace needed
  CHECK(fusedops::attention_workspace_size<cuda>(pb.dev_q(), pb.dev_k(), pb.dev_v(), pb.dev_out(),
                                                 p) == 0);
}

TEST_CASE_TEMPLATE("cuda attention: NaN propagates like the CPU operator", T, __nv_bfloat16, __half,
                   float) {
  std::vector<spec> specs;
  spec s;
  s.b = 1, s.hq = 2, s.hkv = 1, s.sq = 40, s.skv = 40, s.dqk = s.dv = 64;
  for (int where : {1, 2})
    for (bool causal : {false, true}) {
      s.nan_in = where, s.causal = causal, s.seed += 1;
      specs.push_back(s);  // q: that row NaN; k: rows attending key 5 NaN, the others finite
    }
  s.nan_in = 3, s.causal = false;  // v[key 0, column 3]: column 3 NaN in every row
  specs.push_back(s);
  check_all<T>(specs);
}

TEST_CASE("cuda attention: empty problems") {
  stream_guard stream;
  for (index_t skv : {index_t(0), index_t(5)}) {
    spec s;
    s.b = 2, s.hq = 2, s.hkv = 1, s.sq = 3, s.skv = skv, s.dqk = s.dv = 64;
    check<__nv_bfloat16>(s);  // Skv = 0: every row attends nothing, zero rows
    check<float>(s);
  }
  spec s;
  s.sq = 0, s.skv = 9;  // no output rows: nothing to do
  problem<__nv_bfloat16> pb(s);
  CHECK(fusedops::attention<cuda>(pb.dev_q(), pb.dev_k(), pb.dev_v(), pb.dev_out(), pb.dev_params(),
                                  stream.get())
            .ok());
  stream.sync();
}

TEST_CASE("cuda attention: bad arguments are reported and out is untouched") {
  spec s;
  s.b = 2, s.hq = 4, s.hkv = 2, s.sq = 9, s.skv = 11, s.dqk = s.dv = 64, s.lens = {3, 4};
  s.fmask = 2;
  problem<__nv_bfloat16> pb(s);
  using B16 = __nv_bfloat16;
  const auto q = pb.dev_q(), k = pb.dev_k(), v = pb.dev_v();
  const auto out = pb.dev_out();
  const device_attention_params good = pb.dev_params();
  auto expect = [&](status st, errc code) {
    INFO(st.message());
    CHECK(st.code() == code);
    CHECK(std::strlen(st.message()) > 0);
  };
  auto attn = [&](device_view<const B16, 4> qq, device_view<const B16, 4> kk,
                  device_view<const B16, 4> vv, device_view<B16, 4> oo,
                  const device_attention_params& p) {
    return fusedops::attention<cuda>(qq, kk, vv, oo, p);
  };
  // k with another head size
  expect(attn(q, k.slice(3, 0, 32), v, out, good), errc::shape_mismatch);
  // v with other keys
  expect(attn(q, k, v.slice(2, 0, 10), out, good), errc::shape_mismatch);
  // query heads not a multiple of the KV heads
  expect(attn(q.slice(1, 0, 3), k, v, out.slice(1, 0, 3), good), errc::shape_mismatch);
  // out of the wrong shape
  expect(attn(q, k, v, out.slice(2, 0, 8), good), errc::shape_mismatch);
  // negative stride
  expect(attn(device_view<const B16, 4>(q.data() + 63, q.shape(),
                                        {q.stride(0), q.stride(1), q.stride(2), -1}),
              k, v, out, good),
         errc::bad_stride);
  // out overlapping q
  expect(attn(q, k, v, device_view<B16, 4>(const_cast<B16*>(q.data()), out.shape(), out.strides()),
              good),
         errc::invalid_argument);
  {
    device_attention_params p = good;
    p.softcap = -1.0f;
    expect(attn(q, k, v, out, p), errc::invalid_argument);
    p = good, p.scale = std::numeric_limits<float>::infinity();
    expect(attn(q, k, v, out, p), errc::invalid_argument);
    p = good, p.window_left = -2;
    expect(attn(q, k, v, out, p), errc::invalid_argument);
    p = good, p.float_mask = p.float_mask.slice(2, 0, 8);  // mask with the wrong Sq
    expect(attn(q, k, v, out, p), errc::shape_mismatch);
    p = good, p.nonpad_kv_seqlen = p.nonpad_kv_seqlen.slice(0, 0, 1);  // lens of the wrong batch
    expect(attn(q, k, v, out, p), errc::shape_mismatch);
    p = good, p.kv_splits = -1;
    expect(attn(q, k, v, out, p), errc::invalid_argument);
    p = good, p.workspace = device_view<float, 1>(nullptr, dims<1>{16});
    expect(attn(q, k, v, out, p), errc::null_pointer);
  }
  // Dv beyond the SIMT kernel's reach: unsupported, reported before any launch
  {
    spec big;
    big.dqk = 64, big.dv = 264, big.sq = 2, big.skv = 3;
    problem<float> pf(big);
    const status st = fusedops::attention<cuda>(pf.dev_q(), pf.dev_k(), pf.dev_v(), pf.dev_out(),
                                                pf.dev_params());
    CHECK(st.code() == errc::unsupported);
    REQUIRE_CUDA(cudaDeviceSynchronize());
    for (float x : pf.dout->download()) REQUIRE(x == sentinel);
  }
  REQUIRE_CUDA(cudaDeviceSynchronize());
  for (const B16& x : pb.dout->download())
    REQUIRE(to_float(x) == to_float(from_float<B16>(sentinel)));
  // And the same arguments are fine.
  CHECK(attn(q, k, v, out, good).ok());
  REQUIRE_CUDA(cudaDeviceSynchronize());
}
