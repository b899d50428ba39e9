// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: config. The whole macro set of the library; it must fit on one screen. No ISA tests here
// (those live in detect.hpp only).
#pragma once

#include "fusedops/config/detect.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define FUSEDOPS_INLINE inline __attribute__((always_inline))
#define FUSEDOPS_NOINLINE __attribute__((noinline))
#define FUSEDOPS_RESTRICT __restrict__
#define FUSEDOPS_LIKELY(x) __builtin_expect(!!(x), 1)
#define FUSEDOPS_UNLIKELY(x) __builtin_expect(!!(x), 0)
// Hints: bring the line at p into cache for writing / reading (p need not be dereferenceable);
// _L2: for reading soon, not next (x86 prefetcht1: into L2, not L1).
#define FUSEDOPS_PREFETCH_WRITE(p) __builtin_prefetch((p), 1, 3)
#define FUSEDOPS_PREFETCH_READ(p) __builtin_prefetch((p), 0, 3)
#define FUSEDOPS_PREFETCH_READ_L2(p) __builtin_prefetch((p), 0, 2)
#else
#define FUSEDOPS_INLINE inline
#define FUSEDOPS_NOINLINE
#define FUSEDOPS_RESTRICT
#define FUSEDOPS_LIKELY(x) (x)
#define FUSEDOPS_UNLIKELY(x) (x)
#define FUSEDOPS_PREFETCH_WRITE(p) static_cast<void>(p)
#define FUSEDOPS_PREFETCH_READ(p) static_cast<void>(p)
#define FUSEDOPS_PREFETCH_READ_L2(p) static_cast<void>(p)
#endif

// Functors shared by CPU kernels, CUDA kernels and the double-precision oracle carry this.
#if FUSEDOPS_HAS_CUDA
#define FUSEDOPS_HOST_DEVICE __host__ __device__
#else
#define FUSEDOPS_HOST_DEVICE
#endif

// Put before a FUSEDOPS_HOST_DEVICE template whose callees depend on its template arguments
// (an epilogue chain of host-only nodes, a functor called with a CPU vector): nvcc would otherwise
// reject the host-only instantiation as a __host__ __device__ function calling a __host__ one.
#if FUSEDOPS_HAS_CUDA
#define FUSEDOPS_HOST_DEVICE_TEMPLATE _Pragma("nv_exec_check_disable")
#else
#define FUSEDOPS_HOST_DEVICE_TEMPLATE
#endif
