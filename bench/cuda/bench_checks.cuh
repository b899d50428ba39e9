// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// What the CUDA benchmarks share: checked CUDA, cuBLAS and fusedops calls. A benchmark has no
// use for a failed call's numbers, so each prints where and why, then exits.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

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
