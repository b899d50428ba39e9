// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. `cuda_stream`: the CUDA stream handle type, nameable in every TU without the CUDA
// headers. CUDA itself defines `typedef struct CUstream_st* cudaStream_t;`, so declaring the same
// opaque struct here makes fusedops::cuda_stream the very same type as cudaStream_t: no cast, and
// a CPU-only build never includes a CUDA header.
#pragma once

struct CUstream_st;  // opaque, at global scope exactly as CUDA declares it

namespace fusedops {

/// A CUDA stream (identical to cudaStream_t); nullptr is the default stream.
using cuda_stream = CUstream_st*;

}  // namespace fusedops
