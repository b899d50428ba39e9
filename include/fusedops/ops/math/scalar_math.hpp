// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops. Scalar math used by functors when they run on one value (tails, strided paths, the
// double-precision oracle, CUDA device code). Calls the C library's float/double overloads, which
// CUDA also provides as __host__ __device__ functions, so one functor body serves every backend.
#pragma once

#include <math.h>  // NOLINT(modernize-deprecated-headers): ::tanhf etc. are what CUDA overloads too

#include "fusedops/config/macros.hpp"

namespace fusedops::scalar_math {

FUSEDOPS_HOST_DEVICE inline float exp(float x) noexcept { return ::expf(x); }
FUSEDOPS_HOST_DEVICE inline double exp(double x) noexcept { return ::exp(x); }
FUSEDOPS_HOST_DEVICE inline float tanh(float x) noexcept { return ::tanhf(x); }
FUSEDOPS_HOST_DEVICE inline double tanh(double x) noexcept { return ::tanh(x); }
FUSEDOPS_HOST_DEVICE inline float erf(float x) noexcept { return ::erff(x); }
FUSEDOPS_HOST_DEVICE inline double erf(double x) noexcept { return ::erf(x); }

}  // namespace fusedops::scalar_math
