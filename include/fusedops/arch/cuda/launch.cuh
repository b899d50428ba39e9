// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch/cuda. Helpers shared by the CUDA launchers: the status of a kernel launch and grid
// sizing. CUDA headers: included only when FUSEDOPS_HAS_CUDA is 1 (a .cu TU compiled by nvcc).
#pragma once

#include "fusedops/config/detect.hpp"

// A readable error, then nothing else: the rest would only add pages of unrelated ones.
#if !FUSEDOPS_HAS_CUDA
#error "fusedops/arch/cuda/*.cuh need nvcc: include the operator's public header from a .cu file"
#else

#include <cuda_runtime.h>

#include <algorithm>

#include "fusedops/core/shape.hpp"
#include "fusedops/core/status.hpp"

namespace fusedops::arch::cuda {

/// Checks the kernel launch just made on this thread: ok, or errc::device_error naming `op` and
/// the CUDA error. Launch errors only (bad configuration, no kernel image for this GPU, a sticky
/// earlier error); the kernel itself runs asynchronously and is never waited for here.
inline status launch_status(const char* op) noexcept {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return {};
  return status::error(errc::device_error, "%s: CUDA launch failed: %s", op, cudaGetErrorString(e));
}

/// Blocks needed to cover n items with `per_block` each, clamped to [1, limit]. Kernels use
/// grid-stride loops, so clamping only makes each thread do more than one item.
inline unsigned int blocks_for(index_t n, index_t per_block, index_t limit) noexcept {
  return static_cast<unsigned int>(std::clamp<index_t>((n + per_block - 1) / per_block, 1, limit));
}

}  // namespace fusedops::arch::cuda

#endif  // FUSEDOPS_HAS_CUDA
