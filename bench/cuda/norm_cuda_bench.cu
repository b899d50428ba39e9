// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// fusedops' CUDA normalization and softmax kernels against the device's copy bandwidth: they are
// memory-bound, so the yardstick is cudaMemcpyAsync device-to-device on a buffer well above the L2
// size (bytes read + bytes written per second). Each operator is timed with CUDA events around
// each call, after warm-up; median (and min/max) of `reps` calls; fresh random data, rotating
// between enough input sets (>= 2, >= 4x the L2 size in all) that no call finds its data in L2.
// Bytes per call = each input read once + each output written once (scale/bias included).
// Issue 6's target: LayerNorm / RMSNorm >= 80% of the copy bandwidth on an H100. The norms are
// also timed on bfloat16 tensors (fp32 statistics), rows marked "bf16".
//
// Google Benchmark is not on the GPU machines, so this is a plain program:
//   norm_cuda_bench [reps]          (default 30)
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cuda_bench.cuh"
#include "fusedops/normalization.hpp"
#include "fusedops/softmax.hpp"

namespace {


using cuda = fusedops::backend::cuda;
using fusedops::device_view;
using fusedops::index_t;

float* device_random(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> h(n);
  for (auto& x : h) x = dist(gen);
  float* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, n * sizeof(float)));
  CHECK_CUDA(cudaMemcpy(d, h.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  return d;
}
__nv_bfloat16* device_random_bf16(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<__nv_bfloat16> h(n);
  for (auto& x : h) x = __float2bfloat16_rn(dist(gen));
  __nv_bfloat16* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, n * sizeof(__nv_bfloat16)));
  CHECK_CUDA(cudaMemcpy(d, h.data(), n * sizeof(__nv_bfloat16), cudaMemcpyHostToDevice));
  return d;
}
float* device_zeros(std::size_t n) {
  float* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, n * sizeof(float)));
  CHECK_CUDA(cudaMemset(d, 0, n * sizeof(float)));
  return d;
}

struct timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
};

/// Times `reps` calls of f(i) (i: the call's index, for rotating data), each between two events.
timing time_calls(int reps, cudaStream_t stream, const std::function<void(int)>& f) {
  for (int i = 0; i < 3; ++i) f(i);  // warm-up (and first-launch costs)
  CHECK_CUDA(cudaStreamSynchronize(stream));
  std::vector<cudaEvent_t> ev(static_cast<std::size_t>(2 * reps));
  for (auto& e : ev) CHECK_CUDA(cudaEventCreate(&e));
  for (int i = 0; i < reps; ++i) {
    CHECK_CUDA(cudaEventRecord(ev[std::size_t(2 * i)], stream));
    f(i + 3);
    CHECK_CUDA(cudaEventRecord(ev[std::size_t(2 * i + 1)], stream));
  }
  CHECK_CUDA(cudaStreamSynchronize(stream));
  CHECK_CUDA(cudaGetLastError());
  std::vector<double> ms(static_cast<std::size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    float t = 0;
    CHECK_CUDA(cudaEventElapsedTime(&t, ev[std::size_t(2 * i)], ev[std::size_t(2 * i + 1)]));
    ms[std::size_t(i)] = double(t);
  }
  for (auto& e : ev) CHECK_CUDA(cudaEventDestroy(e));
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front(), ms.back()};
}

struct row {
  std::string op, shape;
  double bytes;
  timing t;
};

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 30;
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  const double l2 = double(prop.l2CacheSize);
  std::printf("device: %s (sm_%d%d, %d SMs, L2 %.0f MiB), reps %d\n", prop.name, prop.major,
              prop.minor, prop.multiProcessorCount, l2 / (1 << 20), reps);
  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  // 1. The yardstick: device-to-device copy of 512 MiB (>> L2), bytes read + written.
  double copy_gbs = 0;
  {
    const std::size_t bytes = std::size_t(512) << 20;
    float* src = device_random(bytes / 4, 1);
    float* dst = device_zeros(bytes / 4);
    const timing t = time_calls(reps, stream, [&](int) {
      CHECK_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
    });
    copy_gbs = 2.0 * double(bytes) / (t.median_ms * 1e-3) / 1e9;
    std::printf(
        "cudaMemcpyAsync D2D 512 MiB: median %.3f ms (min %.3f, max %.3f): %.0f GB/s "
        "(read + write)\n",
        t.median_ms, t.min_ms, t.max_ms, copy_gbs);
    CHECK_CUDA(cudaFree(src));
    CHECK_CUDA(cudaFree(dst));
  }

  // 2. The operators.
  struct shape {
    index_t rows, hidden;
  };
  const shape shapes[] = {{16384, 4096}, {65536, 1024}, {8192, 768},
                          {4096, 8192},  {32768, 4000}, {1, 4096}};
  std::vector<row> table;
  for (const shape& sh : shapes) {
    const index_t rows = sh.rows, n = sh.hidden;
    const std::size_t elems = std::size_t(rows * n);
    const double tensor = double(elems) * 4;
    // x, residual, sum, y per set: enough sets for >= 4x L2 in all (tiny shapes: L2 is fine, they
    // measure latency).
    const int sets = std::clamp(int(4 * l2 / (4 * tensor)) + 1, 2, 16);
    std::vector<float*> xs, rs, ss, ys;
    for (int s = 0; s < sets; ++s) {
      xs.push_back(device_random(elems, 100 + unsigned(s), -2.f, 3.f));
      rs.push_back(device_random(elems, 200 + unsigned(s)));
      ss.push_back(device_zeros(elems));
      ys.push_back(device_zeros(elems));
    }
    float* g = device_random(std::size_t(n), 7, 0.5f, 1.5f);
    float* b = device_random(std::size_t(n), 8);
    const device_view<const float, 1> gv(g, {n}), bv(b, {n});
    const auto v = [&](float* p) { return device_view<float, 2>(p, {rows, n}); };
    const std::string shape_name = std::to_string(rows) + "x" + std::to_string(n);
    const double vec = double(n) * 4;

    fusedops::device_layer_norm_params lp;
    lp.bias = bv;
    table.push_back(
        {"layer_norm", shape_name, 2 * tensor + 2 * vec, time_calls(reps, stream, [&](int i) {
           CHECK_STATUS(fusedops::layer_norm<cuda>(v(xs[std::size_t(i % sets)]), gv,
                                                   v(ys[std::size_t(i % sets)]), lp, stream));
         })});
    table.push_back({"rms_norm", shape_name, 2 * tensor + vec, time_calls(reps, stream, [&](int i) {
                       CHECK_STATUS(fusedops::rms_norm<cuda>(v(xs[std::size_t(i % sets)]), gv,
                                                             v(ys[std::size_t(i % sets)]), {},
                                                             stream));
                     })});
    table.push_back(
        {"add_layer_norm", shape_name, 4 * tensor + 2 * vec, time_calls(reps, stream, [&](int i) {
           const std::size_t k = std::size_t(i % sets);
           CHECK_STATUS(fusedops::add_layer_norm<cuda>(v(xs[k]), v(rs[k]), gv, v(ss[k]), v(ys[k]),
                                                       lp, stream));
         })});
    table.push_back(
        {"add_rms_norm", shape_name, 4 * tensor + vec, time_calls(reps, stream, [&](int i) {
           const std::size_t k = std::size_t(i % sets);
           CHECK_STATUS(fusedops::add_rms_norm<cuda>(v(xs[k]), v(rs[k]), gv, v(ss[k]), v(ys[k]), {},
                                                     stream));
         })});
    table.push_back({"softmax", shape_name, 2 * tensor, time_calls(reps, stream, [&](int i) {
                       CHECK_STATUS(fusedops::softmax<cuda>(
                           device_view<const float, 2>(v(xs[std::size_t(i % sets)])),
                           v(ys[std::size_t(i % sets)]), -1, stream));
                     })});
    table.push_back({"log_softmax", shape_name, 2 * tensor, time_calls(reps, stream, [&](int i) {
                       CHECK_STATUS(fusedops::log_softmax<cuda>(
                           device_view<const float, 2>(v(xs[std::size_t(i % sets)])),
                           v(ys[std::size_t(i % sets)]), -1, stream));
                     })});
    {  // bfloat16 tensors: half the bytes
      using bf16 = __nv_bfloat16;
      std::vector<bf16*> hx, hr, hs, hy;
      for (int s = 0; s < sets; ++s) {
        hx.push_back(device_random_bf16(elems, 300 + unsigned(s), -2.f, 3.f));
        hr.push_back(device_random_bf16(elems, 400 + unsigned(s)));
        hs.push_back(device_random_bf16(elems, 500 + unsigned(s)));
        hy.push_back(device_random_bf16(elems, 600 + unsigned(s)));
      }
      bf16* hg = device_random_bf16(std::size_t(n), 9, 0.5f, 1.5f);
      bf16* hb = device_random_bf16(std::size_t(n), 10);
      const device_view<const bf16, 1> hgv(hg, {n}), hbv(hb, {n});
      const auto w = [&](bf16* p) { return device_view<bf16, 2>(p, {rows, n}); };
      const double t16 = tensor / 2, v16 = vec / 2;
      fusedops::device_layer_norm_params_of<bf16> hp;
      hp.bias = hbv;
      table.push_back(
          {"layer_norm bf16", shape_name, 2 * t16 + 2 * v16, time_calls(reps, stream, [&](int i) {
             const std::size_t k = std::size_t(i % sets);
             CHECK_STATUS(fusedops::layer_norm<cuda>(w(hx[k]), hgv, w(hy[k]), hp, stream));
           })});
      table.push_back(
          {"rms_norm bf16", shape_name, 2 * t16 + v16, time_calls(reps, stream, [&](int i) {
             const std::size_t k = std::size_t(i % sets);
             CHECK_STATUS(fusedops::rms_norm<cuda>(w(hx[k]), hgv, w(hy[k]), {}, stream));
           })});
      table.push_back(
          {"add_rms_norm bf16", shape_name, 4 * t16 + v16, time_calls(reps, stream, [&](int i) {
             const std::size_t k = std::size_t(i % sets);
             CHECK_STATUS(fusedops::add_rms_norm<cuda>(w(hx[k]), w(hr[k]), hgv, w(hs[k]), w(hy[k]),
                                                       {}, stream));
           })});
      for (int s = 0; s < sets; ++s) {
        CHECK_CUDA(cudaFree(hx[std::size_t(s)]));
        CHECK_CUDA(cudaFree(hr[std::size_t(s)]));
        CHECK_CUDA(cudaFree(hs[std::size_t(s)]));
        CHECK_CUDA(cudaFree(hy[std::size_t(s)]));
      }
      CHECK_CUDA(cudaFree(hg));
      CHECK_CUDA(cudaFree(hb));
    }
    for (int s = 0; s < sets; ++s) {
      CHECK_CUDA(cudaFree(xs[std::size_t(s)]));
      CHECK_CUDA(cudaFree(rs[std::size_t(s)]));
      CHECK_CUDA(cudaFree(ss[std::size_t(s)]));
      CHECK_CUDA(cudaFree(ys[std::size_t(s)]));
    }
    CHECK_CUDA(cudaFree(g));
    CHECK_CUDA(cudaFree(b));
  }

  std::printf("\n%-18s %-12s %10s %10s %10s %9s %8s\n", "op", "shape", "median_us", "min_us",
              "max_us", "GB/s", "of_copy");
  for (const row& r : table) {
    const double gbs = r.bytes / (r.t.median_ms * 1e-3) / 1e9;
    std::printf("%-18s %-12s %10.1f %10.1f %10.1f %9.0f %7.1f%%\n", r.op.c_str(), r.shape.c_str(),
                r.t.median_ms * 1e3, r.t.min_ms * 1e3, r.t.max_ms * 1e3, gbs,
                100.0 * gbs / copy_gbs);
  }
  std::printf("copy bandwidth (D2D, read + write): %.0f GB/s\n", copy_gbs);
  CHECK_CUDA(cudaStreamDestroy(stream));
  return 0;
}
