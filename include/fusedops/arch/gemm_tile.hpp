// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. The register tile of each backend's fp32 GEMM micro-kernel: `rows` rows of A
// broadcast against `vectors` vectors of B, so rows × vectors accumulators live in registers.
// Each backend specialises gemm_tile in its traits header, with the reasoning for its shape; the
// micro-kernel itself (ops/gemm/microkernel.hpp) is written once for all of them.
// Packed weights depend on the tile (panels are `vectors × lanes` columns wide), so packed_b is
// typed by backend.
#pragma once

namespace fusedops::arch {

template <class B>
struct gemm_tile;  // { static constexpr int rows, vectors; }

}  // namespace fusedops::arch
