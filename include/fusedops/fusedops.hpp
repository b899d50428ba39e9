// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Umbrella header: every CPU operator and core type enabled for this TU's flags. Optional parts
// are separate: interop/eigen.hpp (needs Eigen), runtime/cpu_features.hpp (run-time ISA
// checks), reference/*.hpp (the double-precision oracles), and the CUDA kernels (nvcc only).
#pragma once

#include "fusedops/version.hpp"
#include "fusedops/config/detect.hpp"
#include "fusedops/core/aligned_buffer.hpp"
#include "fusedops/core/dispatch.hpp"
#include "fusedops/core/numerics.hpp"
#include "fusedops/core/status.hpp"
#include "fusedops/core/tensor_view.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/arch/simd.hpp"
#include "fusedops/ops/activation/functors.hpp"
#include "fusedops/bias_activation.hpp"
#include "fusedops/activation.hpp"
#include "fusedops/softmax.hpp"
#include "fusedops/fused/epilogue.hpp"
#include "fusedops/gemm.hpp"
#include "fusedops/attention.hpp"
#include "fusedops/normalization.hpp"
#include "fusedops/rotary_embedding.hpp"
