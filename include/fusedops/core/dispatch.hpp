// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. Compile-time backend selection.
//  * compiled_backends: the CPU backends this TU's flags enable, best first (avx512, avx2, neon,
//    generic); generic is always last, so the list is never empty.
//  * default_backend (alias `native`): the best of them, or -DFUSEDOPS_DEFAULT_BACKEND=... .
//  * require_backend<B, Space>(): the readable compile error for a backend the build cannot
//    provide, or for views in the wrong memory space. Every public operator calls it first.
//  * impl_for<Op, B>: which implementation an operator uses on a backend. The default is the
//    operator's width-generic implementation; an ISA may specialise it with a faster kernel.
#pragma once

#include <type_traits>

#include "fusedops/arch/tags.hpp"
#include "fusedops/core/typelist.hpp"

namespace fusedops {

template <class B>
struct is_compiled : std::bool_constant<B::compiled> {};

/// Every CPU backend tag, best first.
using all_cpu_backends = typelist<backend::avx512, backend::avx2, backend::neon, backend::generic>;

/// The CPU backends this translation unit can use, best first.
using compiled_backends = filter_t<is_compiled, all_cpu_backends>;

#ifdef FUSEDOPS_DEFAULT_BACKEND
using default_backend = FUSEDOPS_DEFAULT_BACKEND;
#else
using default_backend = front_t<compiled_backends>;
#endif
static_assert(default_backend::compiled, "FUSEDOPS_DEFAULT_BACKEND names a backend this TU lacks");

namespace backend {
/// The best backend the compiler flags enable (-march=native on an AVX-512 CPU: avx512).
using native = ::fusedops::default_backend;
}  // namespace backend

/// Whether B is a backend tag this TU can run.
template <class B>
inline constexpr bool is_available_v = B::compiled;

/// Fails to compile, with a message saying which flags are missing, when B is not enabled in
/// this translation unit, or when views in memory space `Space` cannot be used by B.
template <class B, class Space = typename B::memory_space>
constexpr void require_backend() noexcept {
  static_assert(!std::is_same_v<B, backend::avx512> || B::compiled,
                "fusedops: backend::avx512 is not enabled in this translation unit; compile it with "
                "-mavx512f -mavx512cd -mavx512bw -mavx512dq (or -march=skylake-avx512 / native on "
                "an AVX-512 CPU), or use another backend");
  static_assert(!std::is_same_v<B, backend::avx2> || B::compiled,
                "fusedops: backend::avx2 is not enabled in this translation unit; compile it with "
                "-mavx2 -mfma (or -march=haswell or later), or use another backend");
  static_assert(!std::is_same_v<B, backend::neon> || B::compiled,
                "fusedops: backend::neon needs an aarch64 target; use another backend here");
  static_assert(!std::is_same_v<B, backend::cuda> || B::compiled,
                "fusedops: backend::cuda is only available in a .cu translation unit compiled by "
                "nvcc (include the operator from a .cu file)");
  static_assert(std::is_same_v<Space, typename B::memory_space>,
                "fusedops: these views live in a memory space this backend cannot access (host "
                "views need a CPU backend; device_view's need backend::cuda)");
}

/// Which implementation operator `Op` uses on backend `B`. Each operator header defines the
/// default (its width-generic implementation); ISA headers add full specialisations.
template <class Op, class B, class = void>
struct impl_for;

template <class Op, class B>
using impl_for_t = typename impl_for<Op, B>::type;

}  // namespace fusedops
