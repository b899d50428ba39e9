// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// What the CUDA benchmarks share: checked CUDA, cuBLAS and fusedops calls (a benchmark has no use
// for a failed call's numbers, so each prints where and why, then exits), and timing with CUDA
// events.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fusedops/core/status.hpp"

#define CHECK_CUDA(call)                                                                          \
  do {                                                                                            \
    const cudaError_t e_ = (call);                                                                \
    if (e_ != cudaSuccess) {                                                                      \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)
#define CHECK_CUBLAS(call)                                                                       \
  do {                                                                                           \
    const cublasStatus_t s_ = (call);                                                            \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                           \
      std::fprintf(stderr, "%s:%d: %s: cuBLAS status %d\n", __FILE__, __LINE__, #call, int(s_)); \
      std::exit(1);                                                                              \
    }                                                                                            \
  } while (0)
#define CHECK_STATUS(expr)                                                              \
  do {                                                                                  \
    const fusedops::status s_ = (expr);                                                 \
    if (!s_.ok()) {                                                                     \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, s_.message()); \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

namespace fusedops_bench {

/// Median, min and max of one call's time in ms.
struct timing {
  double median_ms, min_ms, max_ms;
};

/// Times `call` (which enqueues on `s`) with events around each of `reps` runs, after 5 warm-ups.
template <class F>
timing time_calls(F&& call, int reps, cudaStream_t s) {
  for (int i = 0; i < 5; ++i) call();
  CHECK_CUDA(cudaStreamSynchronize(s));
  std::vector<float> ms(std::size_t(reps), 0.f);
  cudaEvent_t e0, e1;
  CHECK_CUDA(cudaEventCreate(&e0));
  CHECK_CUDA(cudaEventCreate(&e1));
  for (int i = 0; i < reps; ++i) {
    CHECK_CUDA(cudaEventRecord(e0, s));
    call();
    CHECK_CUDA(cudaEventRecord(e1, s));
    CHECK_CUDA(cudaEventSynchronize(e1));
    CHECK_CUDA(cudaEventElapsedTime(&ms[std::size_t(i)], e0, e1));
  }
  CHECK_CUDA(cudaGetLastError());
  CHECK_CUDA(cudaEventDestroy(e0));
  CHECK_CUDA(cudaEventDestroy(e1));
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front(), ms.back()};
}

}  // namespace fusedops_bench
