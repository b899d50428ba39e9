// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Public entry for fused epilogues (used by gemm and gemm_batched).
//
// The epilogue concept. An epilogue is a trivially copyable functor with
//
//   template <class V> V operator()(V x, const epilogue::coord& at) const noexcept;
//
// called on finished results while they sit in a register: x is either a backend vector holding
// output row at.row, columns [at.col, at.col + lanes) of which the first at.count are real, or a
// scalar (float, or double in the reference oracle) with at.count == 1. It returns the value to
// store. It may read memory for the real lanes only (epilogue::detail::load_segment does that), and
// must give the same result lane by lane as its scalar form: the tests compare both against the
// double oracle. Optionally it has
//
//   status validate(const char* op, const view<float, 2>& output) const noexcept;
//
// to check its own arguments against the output before the operator writes anything, and
//
//   void prefetch(const epilogue::coord& at) const noexcept;
//
// to start loading what it will read for row at.row, columns [at.col, at.col + at.count): GEMM
// calls it before a tile's k loop so those loads overlap the arithmetic (residual does this).
//
// Building blocks (fused/epilogue/nodes.hpp): none, scale, bias_col, bias_row, residual,
// activation<Act> (every fusedops::act functor: relu, clip, gelu_erf, gelu_tanh, silu, sigmoid,
// tanh, hardswish); chain(e1, e2, ...) composes them; gated<Act> (SwiGLU, GEGLU) combines the gate
// and up halves of a gated GEMM. On backend::cuda the epilogue runs per element in device code:
// the nodes that read memory have device twins (fused/epilogue/device_nodes.hpp:
// epilogue::device::bias_col, bias_row, residual), and a user functor must be __host__ __device__
// (FUSEDOPS_HOST_DEVICE) and callable with a float.
#pragma once

#include "fusedops/fused/epilogue/chain.hpp"
#include "fusedops/fused/epilogue/device_nodes.hpp"
#include "fusedops/fused/epilogue/gated.hpp"
#include "fusedops/fused/epilogue/nodes.hpp"
