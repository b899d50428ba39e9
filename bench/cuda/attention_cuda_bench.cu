// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// fusedops' CUDA flash attention beside the unfused composition it replaces, in one binary, bf16,
// D = 128: cuBLAS QKᵀ (cublasGemmStridedBatchedEx, fp32 compute, scale folded into alpha) into a
// bf16 score buffer S [B, Hq, Sq, Skv], a row softmax kernel (causal-aware: masked entries become
// 0) in place, then cuBLAS P·V. GQA works in both by treating a KV head's G query heads as one
// (G·Sq) × D matrix. Timed with CUDA events around each call, after warm-up, median of `reps`
// calls on random data (never zeros). Each row also reports max |fused - unfused| over the whole
// output as a sanity check (bf16 P in both: expect ~1e-2 or less).
//
// Google Benchmark is not on the GPU machines, so this is a plain program:
//   attention_cuda_bench [reps] [sweep]  (default 20; sweep: decode at explicit split counts too)
// Table: shape, fused ms, TFLOP/s (4·B·Hq·Sq·Skv·D, halved for causal) or, for decode, GB/s of
// K + V read, unfused ms, ratio unfused / fused.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cuda_bench.cuh"
#include "fusedops/attention.hpp"

namespace {

using fusedops::device_attention_params;
using fusedops::device_view;
using fusedops::dims;
using fusedops::index_t;
using bf16 = __nv_bfloat16;

/// Uniform values in [-amp, amp) from a hash of the index (no host round trip for 4 GB).
__global__ void fill_random(bf16* p, std::size_t n, std::uint32_t seed, float amp) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    std::uint32_t x = std::uint32_t(i) * 2654435761u ^ (std::uint32_t(i >> 32) + seed * 97u);
    x ^= x >> 16, x *= 0x7feb352du, x ^= x >> 15, x *= 0x846ca68bu, x ^= x >> 16;
    p[i] = __float2bfloat16_rn(amp * (float(x >> 8) * 0x1p-23f - 1.0f));
  }
}

bf16* device_random(std::size_t n, std::uint32_t seed, float amp = 1.0f) {
  bf16* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, n * sizeof(bf16)));
  fill_random<<<1024, 256>>>(d, n, seed, amp);
  CHECK_CUDA(cudaGetLastError());
  return d;
}

/// In-place row softmax of the bf16 scores S [rows, skv] (already scaled), fp32 arithmetic.
/// Row r is query i = r % sq of its matrix; with `causal`, keys j > i + skv - sq become 0.
/// One block per row; 16-byte loads (skv % 8 == 0); two reads and one write of the row.
__global__ void __launch_bounds__(256)
    softmax_rows(bf16* s, index_t rows, index_t skv, index_t sq, bool causal) {
  __shared__ float red[2][8];
  for (index_t r = blockIdx.x; r < rows; r += gridDim.x) {
    bf16* const row = s + r * skv;
    const index_t i = r % sq;
    const index_t hi = causal && i + skv - sq + 1 < skv ? i + skv - sq + 1 : skv;
    float m = -INFINITY, l = 0.0f;
    for (index_t c = threadIdx.x * 8; c < hi; c += blockDim.x * 8) {
      const uint4 u = *reinterpret_cast<const uint4*>(row + c);
      const bf16* x = reinterpret_cast<const bf16*>(&u);
      for (int e = 0; e < 8; ++e) {
        if (c + e >= hi) break;
        const float v = __bfloat162float(x[e]);
        if (v > m)
          l = l * __expf(m - v) + 1.0f, m = v;
        else
          l += __expf(v - m);
      }
    }
    // Block reduction of (m, l).
    for (int off = 16; off > 0; off >>= 1) {
      const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
      const float l2 = __shfl_xor_sync(0xffffffffu, l, off);
      const float mm = fmaxf(m, m2);
      l = (m == -INFINITY ? 0.0f : l * __expf(m - mm)) +
          (m2 == -INFINITY ? 0.0f : l2 * __expf(m2 - mm));
      m = mm;
    }
    const int warp = int(threadIdx.x) >> 5, lane = int(threadIdx.x) & 31;
    if (lane == 0) red[0][warp] = m, red[1][warp] = l;
    __syncthreads();
    float mt = -INFINITY, lt = 0.0f;
    for (int w = 0; w < int(blockDim.x) / 32; ++w) mt = fmaxf(mt, red[0][w]);
    for (int w = 0; w < int(blockDim.x) / 32; ++w)
      if (red[0][w] != -INFINITY) lt += red[1][w] * __expf(red[0][w] - mt);
    __syncthreads();
    const float inv = lt > 0.0f ? 1.0f / lt : 0.0f;
    for (index_t c = threadIdx.x * 8; c < skv; c += blockDim.x * 8) {
      uint4 u = *reinterpret_cast<const uint4*>(row + c);
      bf16* x = reinterpret_cast<bf16*>(&u);
      for (int e = 0; e < 8; ++e)
        x[e] = __float2bfloat16_rn(c + e < hi ? __expf(__bfloat162float(x[e]) - mt) * inv : 0.0f);
      *reinterpret_cast<uint4*>(row + c) = u;
    }
  }
}

struct shape {
  const char* name;
  index_t b, hq, hkv, sq, skv;
  bool causal;
};

struct result {
  std::string label;
  double fused_ms, rate, unfused_ms, max_diff;
  bool decode;
};

double max_abs_diff(const bf16* a, const bf16* b, std::size_t n) {
  std::vector<bf16> ha(n), hb(n);
  CHECK_CUDA(cudaMemcpy(ha.data(), a, n * sizeof(bf16), cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(hb.data(), b, n * sizeof(bf16), cudaMemcpyDeviceToHost));
  double m = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(__bfloat162float(ha[i])) - double(__bfloat162float(hb[i])));
    if (!(d <= m)) m = d;  // NaN wins
  }
  return m;
}

bool g_sweep = false;  // "sweep": also time decode at explicit split counts

result bench(cublasHandle_t blas, cudaStream_t st, const shape& sh, int reps) {
  constexpr index_t D = 128;
  const index_t g = sh.hq / sh.hkv;
  const std::size_t nq = std::size_t(sh.b * sh.hq * sh.sq * D);
  const std::size_t nkv = std::size_t(sh.b * sh.hkv * sh.skv * D);
  bf16* q = device_random(nq, 1, 2.0f);
  bf16* k = device_random(nkv, 2);
  bf16* v = device_random(nkv, 3);
  bf16 *o_fused = nullptr, *o_unfused = nullptr, *s = nullptr;
  CHECK_CUDA(cudaMalloc(&o_fused, nq * sizeof(bf16)));
  CHECK_CUDA(cudaMalloc(&o_unfused, nq * sizeof(bf16)));
  const std::size_t ns = std::size_t(sh.b * sh.hq * sh.sq * sh.skv);
  CHECK_CUDA(cudaMalloc(&s, ns * sizeof(bf16)));

  // Fused.
  const device_view<const bf16, 4> vq(q, dims<4>{sh.b, sh.hq, sh.sq, D});
  const device_view<const bf16, 4> vk(k, dims<4>{sh.b, sh.hkv, sh.skv, D});
  const device_view<const bf16, 4> vv(v, dims<4>{sh.b, sh.hkv, sh.skv, D});
  const device_view<bf16, 4> vo(o_fused, dims<4>{sh.b, sh.hq, sh.sq, D});
  device_attention_params p;
  p.is_causal = sh.causal;
  const std::size_t ws =
      fusedops::attention_workspace_size<fusedops::backend::cuda>(vq, vk, vv, vo, p);
  float* wsp = nullptr;
  if (ws > 0) {
    CHECK_CUDA(cudaMalloc(&wsp, ws * sizeof(float)));
    p.workspace = device_view<float, 1>(wsp, dims<1>{index_t(ws)});
  }
  auto fused = [&] {
    const fusedops::status r = fusedops::attention<fusedops::backend::cuda>(vq, vk, vv, vo, p, st);
    if (!r.ok()) {
      std::fprintf(stderr, "fused attention failed: %s\n", r.message());
      std::exit(1);
    }
  };
  const double fused_ms = fusedops_bench::time_calls(fused, reps, st).median_ms;
  if (g_sweep && sh.sq == 1) {  // decode: the fused time for explicit split counts
    std::printf("  %s Skv=%td splits (auto %td):", sh.name, sh.skv,
                index_t(fusedops::ops::attention_detail::device_plan::make(sh.b, sh.hq, sh.hkv,
                                                                           sh.sq, sh.skv, D, 0)
                            .splits));
    for (index_t n : {1, 2, 3, 4, 6, 8, 12, 16, 24, 32}) {
      device_attention_params ps = p;
      ps.kv_splits = n;
      const std::size_t wn =
          fusedops::attention_workspace_size<fusedops::backend::cuda>(vq, vk, vv, vo, ps);
      float* w = nullptr;
      if (wn > 0) {
        CHECK_CUDA(cudaMalloc(&w, wn * sizeof(float)));
        ps.workspace = device_view<float, 1>(w, dims<1>{index_t(wn)});
      }
      auto call = [&] {
        if (!fusedops::attention<fusedops::backend::cuda>(vq, vk, vv, vo, ps, st).ok())
          std::exit(1);
      };
      const double ms = fusedops_bench::time_calls(call, reps, st).median_ms;
      std::printf(" %td:%.3f", n, ms);
      if (w != nullptr) CHECK_CUDA(cudaFree(w));
    }
    std::printf("\n");
  }

  // Unfused: per (batch, KV head) the G·Sq query rows of the group are one matrix.
  const float scale = float(1.0 / std::sqrt(double(D))), one = 1.0f, zero = 0.0f;
  const int batches = int(sh.b * sh.hkv), m = int(g * sh.sq), n = int(sh.skv), kd = int(D);
  CHECK_CUBLAS(cublasSetStream(blas, st));
  auto unfused = [&] {
    // S = scale · Q·Kᵀ, row-major [m, n]: column-major Sᵀ = K (as Kᵀᵀ) · Qᵀ.
    CHECK_CUBLAS(cublasGemmStridedBatchedEx(
        blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, kd, &scale, k, CUDA_R_16BF, kd,
        (long long)(sh.skv * D), q, CUDA_R_16BF, kd, (long long)(m)*D, &zero, s, CUDA_R_16BF, n,
        (long long)(m)*n, batches, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    const index_t rows = index_t(batches) * m;
    softmax_rows<<<unsigned(std::min<index_t>(rows, 1 << 20)), 256, 0, st>>>(s, rows, sh.skv, sh.sq,
                                                                             sh.causal);
    // O = P·V, row-major [m, D]: column-major Oᵀ = Vᵀ · Pᵀ.
    CHECK_CUBLAS(cublasGemmStridedBatchedEx(
        blas, CUBLAS_OP_N, CUBLAS_OP_N, kd, m, n, &one, v, CUDA_R_16BF, kd, (long long)(sh.skv * D),
        s, CUDA_R_16BF, n, (long long)(m)*n, &zero, o_unfused, CUDA_R_16BF, kd, (long long)(m)*kd,
        batches, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  };
  const double unfused_ms = fusedops_bench::time_calls(unfused, reps, st).median_ms;
  CHECK_CUDA(cudaStreamSynchronize(st));

  result r;
  r.decode = sh.sq == 1;
  r.label = std::string(sh.name) + " B=" + std::to_string(sh.b) + " Hq=" + std::to_string(sh.hq) +
            " Hkv=" + std::to_string(sh.hkv) + " Sq=" + std::to_string(sh.sq) +
            " Skv=" + std::to_string(sh.skv) + (sh.causal ? " causal" : "");
  r.fused_ms = fused_ms, r.unfused_ms = unfused_ms;
  if (r.decode) {
    r.rate = 2.0 * double(nkv) * sizeof(bf16) / (fused_ms * 1e6);  // GB/s of K + V
  } else {
    double flops = 4.0 * double(sh.b * sh.hq) * double(sh.sq) * double(sh.skv) * double(D);
    if (sh.causal) flops *= 0.5;
    r.rate = flops / (fused_ms * 1e9);
  }
  r.max_diff = max_abs_diff(o_fused, o_unfused, nq);
  std::printf("%-62s fused %8.3f ms  unfused %8.3f ms  max|diff| %.3g\n", r.label.c_str(), fused_ms,
              unfused_ms, r.max_diff);
  std::fflush(stdout);
  CHECK_CUDA(cudaFree(q));
  CHECK_CUDA(cudaFree(k));
  CHECK_CUDA(cudaFree(v));
  CHECK_CUDA(cudaFree(o_fused));
  CHECK_CUDA(cudaFree(o_unfused));
  CHECK_CUDA(cudaFree(s));
  if (wsp != nullptr) CHECK_CUDA(cudaFree(wsp));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  g_sweep = argc > 2 && std::string(argv[2]) == "sweep";
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("attention_cuda_bench on %s (sm_%d%d), bf16, D = 128, %d reps (median)\n", prop.name,
              prop.major, prop.minor, reps);
  cublasHandle_t blas;
  CHECK_CUBLAS(cublasCreate(&blas));
  cudaStream_t st;
  CHECK_CUDA(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  const shape shapes[] = {
      {"prefill", 4, 32, 32, 4096, 4096, true},    {"prefill", 4, 32, 32, 4096, 4096, false},
      {"prefill GQA", 4, 32, 8, 4096, 4096, true}, {"prefill", 8, 16, 16, 1024, 1024, true},
      {"decode GQA", 8, 32, 8, 1, 8192, false},    {"decode GQA", 8, 32, 8, 1, 32768, false},
      {"decode MHA", 4, 32, 32, 1, 16384, false},
  };
  std::vector<result> results;
  for (const shape& sh : shapes) results.push_back(bench(blas, st, sh, reps));

  std::printf("\n%-62s %10s %16s %11s %8s %10s\n", "shape (bf16, D=128)", "fused ms", "rate",
              "unfused ms", "ratio", "max|diff|");
  for (const result& r : results)
    std::printf("%-62s %10.3f %9.1f %-6s %11.3f %7.2fx %10.3g\n", r.label.c_str(), r.fused_ms,
                r.rate, r.decode ? "GB/s" : "TFLOP/s", r.unfused_ms, r.unfused_ms / r.fused_ms,
                r.max_diff);
  CHECK_CUDA(cudaStreamDestroy(st));
  CHECK_CUBLAS(cublasDestroy(blas));
  return 0;
}
