// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// gemm on backend::cuda against the double-precision oracle (reference/gemm.hpp), for fp32, fp16
// and bf16 inputs and fp32/fp16/bf16 outputs: shapes with 1, odd, prime and non-multiple-of-tile
// extents; row-major, padded and transposed A and B (so both the tensor-core kernel's layouts and
// the SIMT fallback run); alpha, beta with a broadcast C_in; the device epilogue nodes, a chain and
// a user functor; NaN/Inf; K = 0; bad arguments, which must come back as errors with C untouched.
// Random data, drawn afresh per case and rounded to the input type before the oracle sees it.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cuda/device_support.cuh"
#include "fusedops/gemm.hpp"
#include "fusedops/reference/gemm.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using fusedops::device_gemm_params;
using fusedops::device_view;
using fusedops::dims;
using fusedops::errc;
using fusedops::index_t;
using fusedops::status;
using fusedops::view;
using fusedops::test::device_buffer;
using fusedops::test::stream_guard;
namespace act = fusedops::act;
namespace epilogue = fusedops::epilogue;
namespace tol = fusedops::test::tolerance;
using cuda = fusedops::backend::cuda;

constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float sentinel = -12345.5f;  // C's padding, compared after rounding to C's type

using fusedops::arch::cuda::gemm::from_float;
using fusedops::arch::cuda::gemm::to_float;

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, float>) return "fp32";
  if constexpr (std::is_same_v<T, __half>) return "fp16";
  if constexpr (std::is_same_v<T, __nv_bfloat16>) return "bf16";
  return "?";
}
/// Unit roundoff of storing a float result as T.
template <class T>
double store_roundoff() {
  if constexpr (std::is_same_v<T, float>) return 0.0;
  if constexpr (std::is_same_v<T, __half>) return 0x1p-11;
  return 0x1p-8;
}

/// How an operand is stored: transposed (the other dimension has unit stride) and padded rows.
struct layout {
  bool trans;
  index_t pad;
};
/// A rows × cols matrix stored as `l` says: host floats (already rounded to T) and a device copy.
template <class T>
struct matrix {
  index_t rows, cols, ld;
  layout l;
  std::vector<float> host;  // the stored buffer, in float
  device_buffer<T> dev;

  static std::vector<T> convert(const std::vector<float>& h) {
    std::vector<T> v(h.size());
    for (std::size_t i = 0; i < h.size(); ++i) v[i] = from_float<T>(h[i]);
    return v;
  }
  static std::vector<float> rounded(std::vector<float> h) {
    for (float& x : h) x = to_float(from_float<T>(x));
    return h;
  }
  matrix(index_t r, index_t c, layout lay, std::uint32_t seed)
      : rows(r),
        cols(c),
        ld((lay.trans ? r : c) + lay.pad),
        l(lay),
        host(rounded(fusedops::test::random_floats(std::size_t((lay.trans ? c : r) * ld), seed))),
        dev(convert(host)) {}
  dims<2> strides() const { return l.trans ? dims<2>{1, ld} : dims<2>{ld, 1}; }
  float& at(index_t i, index_t j) { return host[std::size_t(l.trans ? j * ld + i : i * ld + j)]; }
  view<const float, 2> host_view() const { return {host.data(), {rows, cols}, strides()}; }
  device_view<const T, 2> device() const { return {dev.get(), {rows, cols}, strides()}; }
};

/// Per-element error bound (tolerance.hpp's GEMM bound, see the comment in check_against):
///   lipschitz · 2·gamma_K · scale + rel · |want| + abs · (1 + |pre|).
struct epi_error {
  double lipschitz = 1.0, rel = 0.0, abs = 0.0;
  /// Run with device_gemm_params::allow_tf32: TF32 keeps 10 mantissa bits of each fp32 input,
  /// so every product may carry up to 2^-9 more relative error (added to gamma below).
  bool tf32 = false;
};

/// Runs c = ep(alpha · a·b + beta · c_in) on the GPU and compares it with the oracle.
template <class T, class TC, class DevEp, class HostEp>
void check_against(index_t m, index_t n, index_t k, layout la, layout lb, const DevEp& dev_ep,
                   const HostEp& host_ep, epi_error err, float alpha, float beta, bool c_in_row,
                   std::uint32_t seed, const matrix<T>* a_in = nullptr,
                   const matrix<T>* b_in = nullptr) {
  CAPTURE(type_name<T>());
  CAPTURE(type_name<TC>());
  INFO("[M, N, K] = [" << m << ", " << n << ", " << k << "], a " << (la.trans ? "T" : "N") << "+"
                       << la.pad << ", b " << (lb.trans ? "T" : "N") << "+" << lb.pad << ", alpha "
                       << alpha << ", beta " << beta);
  const matrix<T> a_own(a_in ? 1 : m, a_in ? 1 : k, la, seed);
  const matrix<T> b_own(b_in ? 1 : k, b_in ? 1 : n, lb, seed + 1);
  const matrix<T>& a = a_in ? *a_in : a_own;
  const matrix<T>& b = b_in ? *b_in : b_own;

  // C_in: a full [M, N] matrix, or one row broadcast with stride 0 (ONNX Gemm's C of shape [N]).
  const std::vector<float> cin_host = matrix<TC>::rounded(
      fusedops::test::random_floats(std::size_t(c_in_row ? n : m * n), seed + 2));
  device_buffer<TC> cin_dev(matrix<TC>::convert(cin_host));
  const dims<2> cin_strides = c_in_row ? dims<2>{0, 1} : dims<2>{n, 1};
  const view<const float, 2> cin_h(cin_host.data(), {m, n}, cin_strides);

  const index_t ldc = n + 3;
  device_buffer<TC> c_dev(std::vector<TC>(std::size_t(m * ldc), from_float<TC>(sentinel)));
  device_gemm_params<TC> p;
  p.alpha = alpha, p.beta = beta;
  p.c_in = device_view<const TC, 2>(cin_dev.get(), {m, n}, cin_strides);
  p.allow_tf32 = err.tf32;
  stream_guard stream;
  const status s = fusedops::gemm<cuda>(a.device(), b.device(),
                                        device_view<TC, 2>(c_dev.get(), {m, n}, {ldc, 1}), dev_ep,
                                        p, stream.get());
  REQUIRE_MESSAGE(s.ok(), s.message());
  stream.sync();
  const std::vector<TC> c = c_dev.download();

  const std::vector<double> want =
      fusedops::reference::gemm(a.host_view(), b.host_view(), host_ep, alpha, beta, cin_h);
  const std::vector<double> pre =
      fusedops::reference::gemm(a.host_view(), b.host_view(), epilogue::none{}, alpha, beta, cin_h);
  // Bound: gamma_K of tolerance.hpp (any summation order, one rounding per product and add),
  // doubled because the tensor cores of sm_80/sm_90 add each k-group's products with truncation
  // rather than round-to-nearest (up to 1 ulp per step instead of 1/2); the epilogue's terms as
  // in the CPU GEMM tests; plus the rounding of the stored result to TC.
  const double gamma = 2.0 * tol::gemm_gamma(long(k)) + (err.tf32 ? std::ldexp(1.0, -9) : 0.0);
  const double rel = err.rel + store_roundoff<TC>();
  index_t bad = 0, stray = 0;
  std::string first;
  for (index_t i = 0; i < m; ++i) {
    for (index_t j = 0; j < n; ++j) {
      double scale = 0.0;
      for (index_t q = 0; q < k; ++q)
        scale += std::fabs(double(a.host_view()(i, q)) * double(b.host_view()(q, j)));
      scale = std::fabs(double(alpha)) * scale + std::fabs(double(beta) * double(cin_h(i, j)));
      const std::size_t e = std::size_t(i * n + j);
      const double got = double(to_float(c[std::size_t(i * ldc + j)]));
      const double bound = err.lipschitz * gamma * scale + rel * std::fabs(want[e]) +
                           err.abs * (1.0 + std::fabs(pre[e]));
      if (!tol::gemm_close(got, want[e], bound) && bad++ == 0)
        first = "c(" + std::to_string(i) + ", " + std::to_string(j) + ") = " + std::to_string(got) +
                ", oracle " + std::to_string(want[e]) + ", bound " + std::to_string(bound);
    }
    for (index_t j = n; j < ldc; ++j)
      stray += to_float(c[std::size_t(i * ldc + j)]) != to_float(from_float<TC>(sentinel));
  }
  CHECK_MESSAGE(bad == 0, bad << " of " << m * n << " elements off the oracle; first: " << first);
  CHECK_MESSAGE(stray == 0, stray << " padding elements of c were written");
}

/// A user epilogue that reads its coordinates: x + row - 2·col (device: float; oracle: double).
/// Kernel template arguments cannot be types local to a function, so it lives here.
struct user_ep {
  FUSEDOPS_HOST_DEVICE float operator()(float x, const epilogue::coord& at) const {
    return x + float(at.row) - 2.0f * float(at.col);
  }
  double operator()(double x, const epilogue::coord& at) const {
    return x + double(at.row) - 2.0 * double(at.col);
  }
};

struct shape {
  index_t m, n, k;
};
const shape shapes[] = {{1, 1, 1},      {1, 24, 8},     {2, 3, 7},       {7, 16, 15},
                        {16, 8, 16},    {17, 33, 31},   {31, 63, 64},    {65, 127, 40},
                        {128, 128, 32}, {129, 136, 72}, {255, 264, 200}, {300, 520, 1000}};
const layout a_layouts[] = {{false, 0}, {false, 8}, {false, 5}, {true, 0}};
const layout b_layouts[] = {{false, 0}, {true, 0}, {true, 8}, {false, 3}};

template <class T, class TC>
void shapes_and_layouts() {
  std::uint32_t seed = 1000;
  for (const shape& sh : shapes)
    for (const layout& la : a_layouts)
      for (const layout& lb : b_layouts)
        check_against<T, TC>(sh.m, sh.n, sh.k, la, lb, epilogue::none{}, epilogue::none{}, {}, 1.0f,
                             0.0f, false, seed++);
}

}  // namespace

TEST_CASE("cuda gemm vs reference: fp32, shapes x layouts") { shapes_and_layouts<float, float>(); }
TEST_CASE("cuda gemm vs reference: bf16 in, fp32 out, shapes x layouts") {
  shapes_and_layouts<__nv_bfloat16, float>();
}
TEST_CASE("cuda gemm vs reference: fp16 in, fp32 out, shapes x layouts") {
  shapes_and_layouts<__half, float>();
}
TEST_CASE("cuda gemm vs reference: 16-bit outputs") {
  check_against<__nv_bfloat16, __nv_bfloat16>(77, 136, 96, {false, 0}, {false, 0}, epilogue::none{},
                                              epilogue::none{}, {}, 1.0f, 0.0f, false, 7);
  check_against<__half, __half>(77, 136, 96, {false, 0}, {true, 0}, epilogue::none{},
                                epilogue::none{}, {}, 1.0f, 0.0f, false, 8);
  check_against<float, __nv_bfloat16>(33, 40, 17, {true, 0}, {false, 0}, epilogue::none{},
                                      epilogue::none{}, {}, 1.0f, 0.0f, false, 9);
}

TEST_CASE("cuda gemm: a K large enough for many pipeline slices (tensor cores and SIMT)") {
  // Row-major B: mma.sync; a [N, K] weight: wgmma on sm_90a (both 16-bit types), else mma.sync.
  check_against<__nv_bfloat16, float>(200, 264, 4096, {false, 0}, {false, 0}, epilogue::none{},
                                      epilogue::none{}, {}, 1.0f, 0.0f, false, 11);
  check_against<__nv_bfloat16, float>(257, 392, 4104, {false, 0}, {true, 0}, epilogue::none{},
                                      epilogue::none{}, {}, 1.0f, 0.0f, false, 13);
  check_against<__half, __half>(384, 256, 2048, {false, 8}, {true, 16}, epilogue::none{},
                                epilogue::none{}, {}, 1.0f, 0.0f, false, 14);
  check_against<float, float>(130, 70, 3000, {false, 0}, {true, 0}, epilogue::none{},
                              epilogue::none{}, {}, 1.0f, 0.0f, false, 12);
}

TEST_CASE("cuda gemm: grids of 128 x 256 tiles (the sm_90a kernel's wide tiles), beta, coords") {
  // At least 132 tiles of 128 × 256 (one per H100 SM): the launcher picks the wide tile. Odd N
  // with an even leading dimension (n + 3) takes the paired stores, and the last column the
  // single one; a user functor checks every element's coordinates.
  check_against<__nv_bfloat16, __nv_bfloat16>(1031, 4103, 200, {false, 0}, {true, 0}, user_ep{},
                                              user_ep{}, {1, tol::gemm_node_rel, 0}, 0.5f, 0.75f,
                                              false, 51);
  check_against<__half, float>(1200, 4096, 136, {false, 0}, {true, 8}, epilogue::none{},
                               epilogue::none{}, {}, 1.0f, 0.5f, true, 52);
}

TEST_CASE("cuda gemm: fp32 with allow_tf32 (Hopper: TMA + wgmma in TF32)") {
  // [N, K] weights with 16-byte rows take the TF32 kernel on an sm_90a build on Hopper (M = 1;
  // K = 15 inside padded rows, the map zero-filling past K; alpha/beta; wide grids in both
  // arrangements); K = 30 rows (120 bytes) stay on the exact SIMT kernel. The bound adds TF32's
  // input rounding (epi_error::tf32).
  const epi_error tf32{1, 0, 0, true};
  check_against<float, float>(1, 24, 8, {false, 0}, {true, 0}, epilogue::none{}, epilogue::none{},
                              tf32, 1.0f, 0.0f, false, 61);
  check_against<float, float>(7, 16, 15, {false, 1}, {true, 1}, epilogue::none{}, epilogue::none{},
                              tf32, 1.0f, 0.0f, false, 62);
  check_against<float, float>(129, 136, 72, {false, 0}, {true, 4}, epilogue::none{},
                              epilogue::none{}, tf32, 1.0f, 0.0f, false, 63);
  check_against<float, float>(300, 520, 1000, {false, 0}, {true, 0}, epilogue::none{},
                              epilogue::none{}, tf32, 0.5f, 0.25f, false, 64);
  check_against<float, float>(65, 70, 30, {false, 0}, {true, 0}, epilogue::none{}, epilogue::none{},
                              tf32, 1.0f, 0.0f, false, 65);
  check_against<float, float>(1030, 4100, 64, {false, 0}, {true, 0}, epilogue::none{},
                              epilogue::none{}, tf32, 1.0f, 0.0f, false, 66);
  check_against<float, float>(1031, 4103, 200, {false, 0}, {true, 0}, user_ep{}, user_ep{},
                              {1, tol::gemm_node_rel, 0, true}, 1.0f, 0.0f, false, 67);
}

TEST_CASE("cuda gemm: alpha, beta and C_in (full, broadcast row)") {
  for (const bool row : {false, true}) {
    check_against<float, float>(37, 45, 29, {false, 0}, {false, 0}, epilogue::none{},
                                epilogue::none{}, {}, 0.5f, 2.0f, row, 21);
    check_against<__nv_bfloat16, float>(64, 136, 64, {false, 0}, {true, 0}, epilogue::none{},
                                        epilogue::none{}, {}, -1.5f, 1.0f, row, 22);
  }
}

TEST_CASE("cuda gemm: every epilogue node, a chain, and a user functor") {
  const index_t m = 67, n = 136, k = 48;
  const std::vector<float> bias_n = fusedops::test::random_floats(std::size_t(n), 31);
  const std::vector<float> bias_m = fusedops::test::random_floats(std::size_t(m), 32);
  const std::vector<float> res = fusedops::test::random_floats(std::size_t(m * n), 33);
  device_buffer<float> dbn(bias_n), dbm(bias_m), dres(res);
  const view<const float, 1> hbn(bias_n.data(), {n}), hbm(bias_m.data(), {m});
  const view<const float, 2> hres(res.data(), {m, n});
  const device_view<const float, 1> dvbn(dbn.get(), {n}), dvbm(dbm.get(), {m});
  const device_view<const float, 2> dvres(dres.get(), {m, n});
  const double node = tol::gemm_node_rel;
  const epi_error act_err{tol::gemm_act_lipschitz, 2 * node + tol::bias_activation_rel,
                          tol::bias_activation_abs};

  auto both = [&](const auto& dev_ep, const auto& host_ep, epi_error e, const char* name) {
    INFO(name);
    check_against<float, float>(m, n, k, {false, 0}, {true, 0}, dev_ep, host_ep, e, 1.0f, 0.0f,
                                false, 41);
    check_against<__nv_bfloat16, float>(m, n, k, {false, 0}, {false, 0}, dev_ep, host_ep, e, 1.0f,
                                        0.0f, false, 42);
  };
  both(epilogue::scale{0.25f}, epilogue::scale{0.25f}, {0.25, node, 0}, "scale");
  both(epilogue::device::bias_col{dvbn}, epilogue::bias_col{hbn}, {1, node, 0}, "bias_col");
  both(epilogue::device::bias_row{dvbm}, epilogue::bias_row{hbm}, {1, node, 0}, "bias_row");
  both(epilogue::device::residual{dvres}, epilogue::residual{hres}, {1, node, 0}, "residual");
  both(epilogue::activation<act::relu>{}, epilogue::activation<act::relu>{}, act_err, "relu");
  both(epilogue::activation<act::silu>{{1.5f}}, epilogue::activation<act::silu>{{1.5f}}, act_err,
       "silu alpha 1.5");
  both(epilogue::activation<act::gelu_erf>{}, epilogue::activation<act::gelu_erf>{}, act_err,
       "gelu_erf");
  both(epilogue::activation<act::hardswish>{}, epilogue::activation<act::hardswish>{}, act_err,
       "hardswish");
  both(epilogue::chain(epilogue::device::bias_col{dvbn}, epilogue::activation<act::gelu_tanh>{},
                       epilogue::device::residual{dvres}),
       epilogue::chain(epilogue::bias_col{hbn}, epilogue::activation<act::gelu_tanh>{},
                       epilogue::residual{hres}),
       {tol::gemm_act_lipschitz, 4 * node + tol::bias_activation_rel, tol::bias_activation_abs},
       "bias_col -> gelu_tanh -> residual");
  both(user_ep{}, user_ep{}, {1, node, 0}, "user functor with coord");
}

TEST_CASE("cuda gemm: NaN and Inf propagate; beta = 0 never reads C_in; K = 0") {
  const index_t m = 20, n = 24, k = 16;
  // Copies a matrix's patched host data to its device buffer.
  auto patched = [](matrix<__nv_bfloat16>& mtx) {
    std::vector<__nv_bfloat16> v = matrix<__nv_bfloat16>::convert(mtx.host);
    REQUIRE_CUDA(
        cudaMemcpy(mtx.dev.get(), v.data(), v.size() * sizeof(v[0]), cudaMemcpyHostToDevice));
  };
  matrix<__nv_bfloat16> a(m, k, {false, 0}, 53), b(k, n, {false, 0}, 54), bt(k, n, {true, 0}, 55);
  a.at(3, 5) = qnan, a.at(7, 0) = inf, a.at(9, 15) = -inf;
  b.at(2, 11) = qnan, bt.at(2, 11) = qnan;
  patched(a), patched(b), patched(bt);
  check_against<__nv_bfloat16, float>(m, n, k, {false, 0}, {false, 0}, epilogue::none{},
                                      epilogue::none{}, {}, 1.0f, 0.0f, false, 56, &a, &b);
  check_against<__nv_bfloat16, float>(m, n, k, {false, 0}, {true, 0}, epilogue::none{},
                                      epilogue::none{}, {}, 1.0f, 0.0f, false, 57, &a, &bt);

  // beta = 0 with NaN in C (the output itself as C_in): no NaN may appear.
  std::vector<float> cbuf(std::size_t(m * n), qnan);
  device_buffer<float> c(cbuf);
  stream_guard stream;
  REQUIRE(fusedops::gemm<cuda>(a.device(), b.device(), device_view<float, 2>(c.get(), {m, n}),
                               epilogue::none{}, device_gemm_params<float>{}, stream.get())
              .ok());
  stream.sync();
  const std::vector<float> got = c.download();
  const std::vector<double> want = fusedops::reference::gemm(a.host_view(), b.host_view());
  index_t nan_mismatch = 0;
  for (std::size_t e = 0; e < got.size(); ++e)
    nan_mismatch += std::isnan(got[e]) != std::isnan(want[e]);
  CHECK(nan_mismatch == 0);

  // K = 0: C = epilogue(beta · C_in).
  check_against<float, float>(9, 11, 0, {false, 0}, {false, 0}, epilogue::scale{3.0f},
                              epilogue::scale{3.0f}, {3, tol::gemm_node_rel, 0}, 1.0f, 0.5f, false,
                              56);
  check_against<__nv_bfloat16, float>(9, 16, 0, {false, 0}, {false, 0}, epilogue::none{},
                                      epilogue::none{}, {}, 1.0f, 0.0f, false, 57);
}

TEST_CASE("cuda gemm: bad arguments are reported and c is untouched") {
  const index_t m = 6, n = 20, k = 8;
  device_buffer<float> a(fusedops::test::random_floats(std::size_t(m * k), 61));
  device_buffer<float> b(fusedops::test::random_floats(std::size_t(k * n), 62));
  device_buffer<float> bias(fusedops::test::random_floats(std::size_t(n + 1), 63));
  const std::vector<float> before(std::size_t(m * n), sentinel);
  device_buffer<float> c(before);
  const device_view<const float, 2> va(a.get(), {m, k}), vb(b.get(), {k, n});
  const device_view<float, 2> vc(c.get(), {m, n});
  stream_guard stream;

  auto expect = [&](const status& s, errc code, std::initializer_list<const char*> needles) {
    const std::string msg = s.message();
    CAPTURE(msg);
    CHECK_FALSE(s.ok());
    CHECK(s.code() == code);
    CHECK(msg.find("gemm") != std::string::npos);
    for (const char* needle : needles) CHECK(msg.find(needle) != std::string::npos);
    stream.sync();
    CHECK(c.download() == before);
  };
  const device_gemm_params<float> none{};
  expect(fusedops::gemm<cuda>(va, device_view<const float, 2>(b.get(), {k + 1, n}), vc,
                              epilogue::none{}, none, stream.get()),
         errc::shape_mismatch, {"'a'", "[6, 8]", "[9, 20]"});
  expect(fusedops::gemm<cuda>(va, vb, device_view<float, 2>(c.get(), {m, n - 1}), epilogue::none{},
                              none, stream.get()),
         errc::shape_mismatch, {"'c'", "[6, 19]"});
  expect(fusedops::gemm<cuda>(device_view<const float, 2>(nullptr, {m, k}), vb, vc,
                              epilogue::none{}, none, stream.get()),
         errc::null_pointer, {"'a'"});
  expect(fusedops::gemm<cuda>(va, vb, device_view<float, 2>(c.get(), {m, n}, {n - 1, 1}),
                              epilogue::none{}, none, stream.get()),
         errc::bad_stride, {"'c'"});
  expect(fusedops::gemm<cuda>(device_view<const float, 2>(c.get(), {m, k}), vb, vc,
                              epilogue::none{}, none, stream.get()),
         errc::invalid_argument, {"'c'", "'a'", "overlaps"});
  expect(
      fusedops::gemm<cuda>(
          va, vb, vc, epilogue::device::bias_col{device_view<const float, 1>(bias.get(), {n + 1})},
          none, stream.get()),
      errc::shape_mismatch, {"'bias_col.bias'", "[21]", "[6, 20]"});
  expect(fusedops::gemm<cuda>(
             va, vb, vc, epilogue::device::residual{device_view<const float, 2>(c.get(), {m, n})},
             none, stream.get()),
         errc::invalid_argument, {"'residual.r'", "overlaps"});
  device_gemm_params<float> bad_cin;
  bad_cin.beta = 1.0f;
  bad_cin.c_in = device_view<const float, 2>(bias.get(), {m, n + 1}, {0, 1});
  expect(fusedops::gemm<cuda>(va, vb, vc, epilogue::none{}, bad_cin, stream.get()),
         errc::shape_mismatch, {"'c_in'", "[6, 21]"});
}

namespace {

/// x + 10 · batch: shows that every matrix of a batch gets its own coord::batch.
struct batch_ep {
  FUSEDOPS_HOST_DEVICE float operator()(float x, const epilogue::coord& at) const {
    return x + 10.0f * float(at.batch);
  }
  double operator()(double x, const epilogue::coord& at) const {
    return x + 10.0 * double(at.batch);
  }
};

/// gemm_batched of `batch` matrices: A per matrix ([batch, M, K] row-major), B shared or per matrix
/// and stored as `lb` says; each output matrix compared with the oracle.
template <class T>
void check_batched(index_t batch, index_t m, index_t n, index_t k, bool share_b, layout lb,
                   float beta, std::uint32_t seed) {
  CAPTURE(type_name<T>());
  INFO("batch " << batch << ", [M, N, K] = [" << m << ", " << n << ", " << k << "], b "
                << (share_b ? "shared" : "per matrix") << (lb.trans ? ", [N, K]" : ", [K, N]")
                << ", beta " << beta);
  const index_t b_count = share_b ? 1 : batch;
  const matrix<T> a(batch * m, k, {false, 0}, seed);  // matrix i: rows [i·M, (i+1)·M)
  std::vector<const matrix<T>*> bs;
  std::vector<std::unique_ptr<matrix<T>>> b_own;
  for (index_t i = 0; i < b_count; ++i) {
    b_own.push_back(std::make_unique<matrix<T>>(k, n, lb, seed + 1 + std::uint32_t(i)));
    bs.push_back(b_own.back().get());
  }
  // One buffer holding every B back to back, as the batched view needs.
  const index_t b_size = index_t(bs[0]->host.size());
  std::vector<float> b_all;
  for (const auto* bm : bs) b_all.insert(b_all.end(), bm->host.begin(), bm->host.end());
  device_buffer<T> b_dev(matrix<T>::convert(b_all));
  const dims<2> bst = bs[0]->strides();

  const std::vector<float> cin = fusedops::test::random_floats(std::size_t(n), seed + 99);
  device_buffer<float> cin_dev(cin);
  device_buffer<float> c_dev(std::vector<float>(std::size_t(batch * m * n), sentinel));
  device_gemm_params<float> p;
  p.beta = beta;
  if (beta != 0.0f) p.c_in = device_view<const float, 2>(cin_dev.get(), {m, n}, {0, 1});
  stream_guard stream;
  const status s = fusedops::gemm_batched<cuda>(
      device_view<const T, 3>(a.dev.get(), {batch, m, k}, {m * k, k, 1}),
      device_view<const T, 3>(b_dev.get(), {b_count, k, n},
                              {b_count == 1 ? 0 : b_size, bst[0], bst[1]}),
      device_view<float, 3>(c_dev.get(), {batch, m, n}), batch_ep{}, p, stream.get());
  REQUIRE_MESSAGE(s.ok(), s.message());
  stream.sync();
  const std::vector<float> c = c_dev.download();

  const double gamma = 2.0 * tol::gemm_gamma(long(k));
  index_t bad = 0;
  for (index_t i = 0; i < batch; ++i) {
    const view<const float, 2> ai(a.host.data() + i * m * k, {m, k});
    const view<const float, 2> bi = bs[std::size_t(share_b ? 0 : i)]->host_view();
    const view<const float, 2> ci(cin.data(), {m, n}, {0, 1});
    const std::vector<double> want =
        fusedops::reference::gemm(ai, bi, batch_ep{}, 1.0, beta, ci, i);
    for (index_t r = 0; r < m; ++r)
      for (index_t j = 0; j < n; ++j) {
        double scale = std::fabs(double(beta) * double(ci(r, j)));
        for (index_t q = 0; q < k; ++q) scale += std::fabs(double(ai(r, q)) * double(bi(q, j)));
        const double w = want[std::size_t(r * n + j)];
        const double bound = gamma * scale + tol::gemm_node_rel * std::fabs(w);
        bad += !tol::gemm_close(c[std::size_t((i * m + r) * n + j)], w, bound);
      }
  }
  CHECK_MESSAGE(bad == 0, bad << " elements off the oracle");
}

}  // namespace

TEST_CASE("cuda gemm_batched: per-matrix and shared operands, coord::batch, shared C_in") {
  check_batched<__nv_bfloat16>(5, 33, 40, 24, true, {true, 0}, 0.0f, 71);
  check_batched<__nv_bfloat16>(3, 130, 136, 72, false, {false, 0}, 1.0f, 72);
  check_batched<__half>(4, 64, 128, 64, false, {true, 0}, 0.5f, 73);
  check_batched<float>(6, 17, 19, 23, false, {true, 5}, 0.0f, 74);
  check_batched<float>(2, 9, 11, 13, true, {false, 0}, 2.0f, 75);
}

TEST_CASE("cuda gemm_batched: bad batch extents are reported and c is untouched") {
  const index_t m = 4, n = 8, k = 8;
  device_buffer<float> a(fusedops::test::random_floats(std::size_t(3 * m * k), 81));
  device_buffer<float> b(fusedops::test::random_floats(std::size_t(3 * k * n), 82));
  const std::vector<float> before(std::size_t(3 * m * n), sentinel);
  device_buffer<float> c(before);
  const status s = fusedops::gemm_batched<cuda>(device_view<const float, 3>(a.get(), {2, m, k}),
                                                device_view<const float, 3>(b.get(), {3, k, n}),
                                                device_view<float, 3>(c.get(), {3, m, n}));
  CHECK(s.code() == errc::shape_mismatch);
  const std::string msg = s.message();
  CHECK(msg.find("gemm_batched") != std::string::npos);
  CHECK(msg.find("[2, 4, 8]") != std::string::npos);
  REQUIRE_CUDA(cudaDeviceSynchronize());
  CHECK(c.download() == before);
}
