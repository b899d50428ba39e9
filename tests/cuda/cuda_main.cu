// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// main() of the CUDA test binary. Asks the CUDA runtime for a device first: without a usable one
// (no driver, no GPU) it prints why and exits 77, which CTest reports as a skip
// (SKIP_RETURN_CODE), so the binary can be built and "run" on machines without a GPU.
#include <cuda_runtime.h>

#include <cstdio>

#include <doctest/doctest.h>

int main(int argc, char** argv) {
  int count = 0;  // cudaGetDeviceCount leaves it unchanged on error
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    std::printf("SKIPPED: no CUDA device (cudaGetDeviceCount: %s: %s)\n", cudaGetErrorName(e),
                cudaGetErrorString(e));
    return 77;
  }
  if (count == 0) {
    std::printf("SKIPPED: no CUDA device (cudaGetDeviceCount found 0 devices)\n");
    return 77;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    std::printf("CUDA device 0: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);

  doctest::Context context(argc, argv);
  return context.run();
}
