// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: config. The whole macro set of the library; it must fit on one screen. No ISA tests here
// (those live in detect.hpp only).
#pragma once

#include "fusedops/config/detect.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define FUSEDOPS_INLINE inline __attribute__((always_inline))
#define FUSEDOPS_RESTRICT __restrict__
#define FUSEDOPS_LIKELY(x) __builtin_expect(!!(x), 1)
#define FUSEDOPS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define FUSEDOPS_INLINE inline
#define FUSEDOPS_RESTRICT
#define FUSEDOPS_LIKELY(x) (x)
#define FUSEDOPS_UNLIKELY(x) (x)
#endif

// Functors shared by CPU kernels, CUDA kernels and the double-precision oracle carry this.
#if FUSEDOPS_HAS_CUDA
#define FUSEDOPS_HOST_DEVICE __host__ __device__
#else
#define FUSEDOPS_HOST_DEVICE
#endif
