// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// What the CUDA tests share: a checked CUDA call, device memory owned by a test (the library never
// allocates), and a non-blocking stream (so the tests also check that kernels run on the stream
// they are given).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

#include <doctest/doctest.h>

#define REQUIRE_CUDA(call)                                                        \
  do {                                                                            \
    const cudaError_t fusedops_test_err_ = (call);                                \
    REQUIRE_MESSAGE(fusedops_test_err_ == cudaSuccess,                            \
                    #call " failed: " << cudaGetErrorString(fusedops_test_err_)); \
  } while (0)

namespace fusedops::test {

/// Device memory holding a copy of a host vector of T.
template <class T>
class device_buffer {
 public:
  explicit device_buffer(const std::vector<T>& host) : n_(host.size()) {
    REQUIRE_CUDA(cudaMalloc(reinterpret_cast<void**>(&p_), (n_ == 0 ? 1 : n_) * sizeof(T)));
    REQUIRE_CUDA(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() { cudaFree(p_); }

  T* get() const { return p_; }
  std::vector<T> download() const {
    std::vector<T> h(n_);
    REQUIRE_CUDA(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  T* p_ = nullptr;
  std::size_t n_;
};

class stream_guard {
 public:
  stream_guard() { REQUIRE_CUDA(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  stream_guard(const stream_guard&) = delete;
  stream_guard& operator=(const stream_guard&) = delete;
  ~stream_guard() { cudaStreamDestroy(s_); }
  cudaStream_t get() const { return s_; }
  /// Waits for the stream, then reports any error of the kernels that ran on it.
  void sync() const {
    REQUIRE_CUDA(cudaStreamSynchronize(s_));
    REQUIRE_CUDA(cudaGetLastError());
  }

 private:
  cudaStream_t s_ = nullptr;
};

}  // namespace fusedops::test
