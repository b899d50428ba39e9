// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: config. The ONLY file that reads compiler ISA/platform macros. It turns them into
// FUSEDOPS_* feature macros that are always defined as 0 or 1 (so -Wundef catches typos).
// Everything else tests FUSEDOPS_HAS_* / FUSEDOPS_ARCH_*; CI greps for raw ISA macros elsewhere.
#pragma once

// --- instruction sets enabled by this translation unit's compiler flags -------------------------
// -DFUSEDOPS_FORCE_GENERIC=1 turns every SIMD backend off (on AArch64 NEON is always enabled by the
// compiler, so this is the only way to build a generic-only binary there).
#ifndef FUSEDOPS_FORCE_GENERIC
#define FUSEDOPS_FORCE_GENERIC 0
#endif

// AVX-512 needs F+CD+BW+DQ together: xsimd 8.1's avx512 batches fail to compile with any subset.
#if !FUSEDOPS_FORCE_GENERIC && defined(__AVX512F__) && defined(__AVX512CD__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
#define FUSEDOPS_HAS_AVX512 1
#else
#define FUSEDOPS_HAS_AVX512 0
#endif

// The avx2 backend is AVX2 + FMA3 (every AVX2 CPU since Haswell has both).
#if !FUSEDOPS_FORCE_GENERIC && defined(__AVX2__) && defined(__FMA__)
#define FUSEDOPS_HAS_AVX2 1
#else
#define FUSEDOPS_HAS_AVX2 0
#endif

#if !FUSEDOPS_FORCE_GENERIC && defined(__aarch64__) && defined(__ARM_NEON)
#define FUSEDOPS_HAS_NEON 1
#else
#define FUSEDOPS_HAS_NEON 0
#endif

// CUDA kernels are visible only to nvcc; a CPU-only build never sees them.
#if defined(__CUDACC__)
#define FUSEDOPS_HAS_CUDA 1
#else
#define FUSEDOPS_HAS_CUDA 0
#endif

// The GPU architecture nvcc's device pass compiles for (e.g. 800, 900); 0 in host code. Kernels
// that need newer instructions (tensor-core mma.sync from 800) test it.
#if defined(__CUDA_ARCH__)
#define FUSEDOPS_CUDA_ARCH __CUDA_ARCH__
#else
#define FUSEDOPS_CUDA_ARCH 0
#endif
// 1 in a device pass for sm_90a (Hopper's arch-specific instructions: wgmma, setmaxnreg).
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define FUSEDOPS_CUDA_SM90A 1
#else
#define FUSEDOPS_CUDA_SM90A 0
#endif

// --- target architecture (for floating-point environment control) ------------------------------
#if defined(__x86_64__) || defined(_M_X64)
#define FUSEDOPS_ARCH_X86_64 1
#else
#define FUSEDOPS_ARCH_X86_64 0
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
#define FUSEDOPS_ARCH_AARCH64 1
#else
#define FUSEDOPS_ARCH_AARCH64 0
#endif

// --- language and runtime features --------------------------------------------------------------
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define FUSEDOPS_HAS_EXCEPTIONS 1
#else
#define FUSEDOPS_HAS_EXCEPTIONS 0
#endif

#if defined(_OPENMP)
#define FUSEDOPS_HAS_OPENMP 1
#else
#define FUSEDOPS_HAS_OPENMP 0
#endif
