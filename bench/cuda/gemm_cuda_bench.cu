// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// fusedops' CUDA GEMM beside cuBLAS / cuBLASLt in one binary: bf16 (and fp16, fp32) inputs, fp32
// accumulation, plain and with a fused bias + GELU epilogue (cuBLASLt's CUBLASLT_EPILOGUE_GELU_BIAS
// beside fusedops' chain(bias_col, gelu_tanh)). Timed with CUDA events around each call, after
// warm-up, median (and min/max) of `reps` calls on fresh random data. Prints one table row per
// (shape, variant): TFLOP/s and the ratio to cuBLAS's plain GEMM of the same shape and types.
//
// Google Benchmark is not on the GPU machines, so this is a plain program:
//   gemm_cuda_bench [reps]          (default 30)
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cuda_bench.cuh"
#include "fusedops/gemm.hpp"

namespace {

using fusedops::device_view;
using fusedops::index_t;
using fusedops_bench::time_calls;
using fusedops_bench::timing;
namespace epilogue = fusedops::epilogue;
namespace act = fusedops::act;

template <class T>
cudaDataType_t cuda_type() {
  if constexpr (std::is_same_v<T, float>) return CUDA_R_32F;
  if constexpr (std::is_same_v<T, __half>) return CUDA_R_16F;
  return CUDA_R_16BF;
}
template <class T>
const char* name_of() {
  if constexpr (std::is_same_v<T, float>) return "fp32";
  if constexpr (std::is_same_v<T, __half>) return "fp16";
  return "bf16";
}

template <class T>
T* device_random(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<T> h(n);
  for (auto& x : h) x = T(dist(gen));
  T* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, n * sizeof(T)));
  CHECK_CUDA(cudaMemcpy(d, h.data(), n * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

void row(const char* op, const char* impl, const std::string& shape, const char* types,
         double flops, timing t, double ref_ms) {
  std::printf("%-10s %-26s %-18s %-14s %9.3f %9.3f %9.3f %8.1f %7.2f\n", op, impl, shape.c_str(),
              types, t.median_ms, t.min_ms, t.max_ms, flops / (t.median_ms * 1e9),
              ref_ms / t.median_ms);
}

/// One shape: C[M, N] = A[M, K] · W with W row-major [K, N] (b_kn) or a [N, K] weight (b_nk),
/// cuBLAS computing the same row-major product as Cᵀ = Wᵀ·Aᵀ in its column-major terms.
template <class T, class TC>
void bench_shape(cublasHandle_t blas, cublasLtHandle_t lt, cudaStream_t s, index_t m, index_t n,
                 index_t k, bool weight_nk, int reps, void* lt_ws, std::size_t lt_ws_size,
                 bool tf32 = false) {
  T* a = device_random<T>(std::size_t(m * k), 1);
  T* w = device_random<T>(std::size_t(k * n), 2);
  float* bias = device_random<float>(std::size_t(n), 3);
  TC* c = nullptr;
  CHECK_CUDA(cudaMalloc(&c, std::size_t(m * n) * sizeof(TC)));
  const double flops = 2.0 * double(m) * double(n) * double(k);
  const std::string shape = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                            (weight_nk ? " W[N,K]" : " W[K,N]");
  const std::string types =
      std::string(name_of<T>()) + (tf32 ? "(tf32)" : "") + "->" + name_of<TC>();

  const device_view<const T, 2> va(a, {m, k});
  const device_view<const T, 2> vw = weight_nk ? device_view<const T, 2>(w, {n, k}).transpose()
                                               : device_view<const T, 2>(w, {k, n});
  const device_view<TC, 2> vc(c, {m, n});

  // cuBLAS plain GEMM, fp32 compute (TF32 tensor cores for a tf32 row, as fusedops then).
  const float one = 1.f, zero = 0.f;
  CHECK_CUBLAS(cublasSetStream(blas, s));
  const cublasOperation_t op_w = weight_nk ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ldw = int(weight_nk ? k : n);
  const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  auto cublas_call = [&] {
    CHECK_CUBLAS(cublasGemmEx(blas, op_w, CUBLAS_OP_N, int(n), int(m), int(k), &one, w,
                              cuda_type<T>(), ldw, a, cuda_type<T>(), int(k), &zero, c,
                              cuda_type<TC>(), int(n), compute, CUBLAS_GEMM_DEFAULT));
  };
  const timing ref = time_calls(cublas_call, reps, s);
  row("gemm", "cublas", shape, types.c_str(), flops, ref, ref.median_ms);

  fusedops::device_gemm_params<TC> params;
  params.allow_tf32 = tf32;
  auto ours = [&](const auto& ep) {
    const fusedops::status st = fusedops::gemm<fusedops::backend::cuda>(va, vw, vc, ep, params, s);
    if (!st.ok()) {
      std::fprintf(stderr, "fusedops gemm: %s\n", st.message());
      std::exit(1);
    }
  };
  const timing plain = time_calls([&] { ours(epilogue::none{}); }, reps, s);
  row("gemm", "fusedops", shape, types.c_str(), flops, plain, ref.median_ms);

  const auto fused_ep =
      epilogue::chain(epilogue::device::bias_col{device_view<const float, 1>(bias, {n})},
                      epilogue::activation<act::gelu_tanh>{});
  const timing fused = time_calls([&] { ours(fused_ep); }, reps, s);
  row("gemm+bias+gelu", "fusedops", shape, types.c_str(), flops, fused, ref.median_ms);

  // cuBLASLt with its fused GELU + bias epilogue (bias in the output type, as Lt requires for
  // 16-bit outputs; fp32 for an fp32 output).
  if constexpr (!std::is_same_v<T, float>) {
    TC* bias_c = device_random<TC>(std::size_t(n), 4);
    cublasLtMatmulDesc_t desc;
    CHECK_CUBLAS(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CHECK_CUBLAS(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_w, sizeof(op_w)));
    const cublasOperation_t op_n = CUBLAS_OP_N;
    CHECK_CUBLAS(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof(op_n)));
    const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_GELU_BIAS;
    CHECK_CUBLAS(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
    const void* bias_ptr = bias_c;
    CHECK_CUBLAS(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_ptr,
                                                sizeof(bias_ptr)));
    cublasLtMatrixLayout_t lw, la, lc;
    CHECK_CUBLAS(
        cublasLtMatrixLayoutCreate(&lw, cuda_type<T>(), weight_nk ? k : n, weight_nk ? n : k, ldw));
    CHECK_CUBLAS(cublasLtMatrixLayoutCreate(&la, cuda_type<T>(), k, m, k));
    CHECK_CUBLAS(cublasLtMatrixLayoutCreate(&lc, cuda_type<TC>(), n, m, n));
    cublasLtMatmulPreference_t pref;
    CHECK_CUBLAS(cublasLtMatmulPreferenceCreate(&pref));
    CHECK_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &lt_ws_size, sizeof(lt_ws_size)));
    cublasLtMatmulHeuristicResult_t heur{};
    int found = 0;
    const cublasStatus_t hs =
        cublasLtMatmulAlgoGetHeuristic(lt, desc, lw, la, lc, lc, pref, 1, &heur, &found);
    if (hs == CUBLAS_STATUS_SUCCESS && found > 0) {
      auto lt_call = [&] {
        CHECK_CUBLAS(cublasLtMatmul(lt, desc, &one, w, lw, a, la, &zero, c, lc, c, lc, &heur.algo,
                                    lt_ws, lt_ws_size, s));
      };
      const timing t = time_calls(lt_call, reps, s);
      row("gemm+bias+gelu", "cublasLt GELU_BIAS", shape, types.c_str(), flops, t, ref.median_ms);
    } else {
      std::printf("gemm+bias+gelu cublasLt: no algorithm for this layout (status %d)\n", int(hs));
    }
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(lw), cublasLtMatrixLayoutDestroy(la),
        cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(desc);
    cudaFree(bias_c);
  }
  cudaFree(a), cudaFree(w), cudaFree(bias), cudaFree(c);
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 30;
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d, %d SMs), %d timed calls per row after 5 warm-ups\n", prop.name,
              prop.major, prop.minor, prop.multiProcessorCount, reps);
  cudaStream_t s;
  CHECK_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cublasHandle_t blas;
  CHECK_CUBLAS(cublasCreate(&blas));
  cublasLtHandle_t lt;
  CHECK_CUBLAS(cublasLtCreate(&lt));
  const std::size_t lt_ws_size = std::size_t(32) << 20;
  void* lt_ws = nullptr;
  CHECK_CUDA(cudaMalloc(&lt_ws, lt_ws_size));

  std::printf("%-10s %-26s %-18s %-14s %9s %9s %9s %8s %7s\n", "op", "impl", "MxNxK", "types",
              "med ms", "min ms", "max ms", "TFLOP/s", "/cublas");
  using bf16 = __nv_bfloat16;
  for (const bool nk : {true, false}) {
    bench_shape<bf16, bf16>(blas, lt, s, 4096, 4096, 4096, nk, reps, lt_ws, lt_ws_size);
    bench_shape<bf16, bf16>(blas, lt, s, 4096, 11008, 4096, nk, reps, lt_ws, lt_ws_size);
    bench_shape<bf16, bf16>(blas, lt, s, 4096, 4096, 11008, nk, reps, lt_ws, lt_ws_size);
  }
  bench_shape<bf16, float>(blas, lt, s, 4096, 4096, 4096, true, reps, lt_ws, lt_ws_size);
  bench_shape<__half, __half>(blas, lt, s, 4096, 4096, 4096, true, reps, lt_ws, lt_ws_size);
  bench_shape<float, float>(blas, lt, s, 4096, 4096, 4096, false, reps / 3 + 1, lt_ws, lt_ws_size);
  bench_shape<float, float>(blas, lt, s, 4096, 4096, 4096, true, reps, lt_ws, lt_ws_size, true);
  bench_shape<bf16, bf16>(blas, lt, s, 128, 4096, 4096, true, reps, lt_ws, lt_ws_size);

  cudaFree(lt_ws);
  cublasLtDestroy(lt);
  cublasDestroy(blas);
  cudaStreamDestroy(s);
  return 0;
}
