// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Backend selection: compiled list vs FUSEDOPS_HAS_*, default backend, tags, lanes, CPU support.
#include <string>
#include <tuple>
#include <type_traits>

#include <doctest/doctest.h>

#include "fusedops/arch/simd.hpp"
#include "fusedops/bias_activation.hpp"
#include "fusedops/runtime/cpu_features.hpp"
#include "support/backends.hpp"

namespace {

using namespace fusedops;

// The list compiled_backends must be, written independently of its definition: best first, one
// entry per FUSEDOPS_HAS_* macro that is on, generic always last.
template <bool On, class B>
using if_on = std::conditional_t<On, std::tuple<B>, std::tuple<>>;
using expected_backends = decltype(std::tuple_cat(
    if_on<FUSEDOPS_HAS_AVX512 != 0, backend::avx512>{},
    if_on<FUSEDOPS_HAS_AVX2 != 0, backend::avx2>{}, if_on<FUSEDOPS_HAS_NEON != 0, backend::neon>{},
    std::tuple<backend::generic>{}));
static_assert(std::is_same_v<expected_backends, test::compiled_backends_tuple>,
              "compiled_backends disagrees with the FUSEDOPS_HAS_* macros");

constexpr std::size_t n_compiled = std::tuple_size_v<test::compiled_backends_tuple>;
static_assert(compiled_backends::size == n_compiled);
static_assert(n_compiled >= 1 && n_compiled <= 3,
              "at most avx512 + avx2 + generic, or neon + generic");
static_assert(std::is_same_v<std::tuple_element_t<n_compiled - 1, test::compiled_backends_tuple>,
                             backend::generic>,
              "generic must be the last compiled backend");
static_assert(contains_v<backend::generic, compiled_backends>);
static_assert(!contains_v<backend::cuda, compiled_backends>, "cuda is never a CPU candidate");

// default_backend is the first compiled backend (the tests build without FUSEDOPS_DEFAULT_BACKEND).
static_assert(
    std::is_same_v<default_backend, std::tuple_element_t<0, test::compiled_backends_tuple>>);
static_assert(std::is_same_v<backend::native, default_backend>);
static_assert(default_backend::compiled && default_backend::is_cpu);

// The per-ISA test binaries hold their ISA and every lower one (x86 and AArch64 never mix).
#if FUSEDOPS_HAS_AVX512
static_assert(FUSEDOPS_HAS_AVX2, "an AVX-512 binary also enables the avx2 backend");
#endif
#if FUSEDOPS_HAS_NEON
static_assert(!FUSEDOPS_HAS_AVX2 && !FUSEDOPS_HAS_AVX512);
#endif
#if FUSEDOPS_FORCE_GENERIC
static_assert(std::is_same_v<compiled_backends, typelist<backend::generic>>,
              "FUSEDOPS_FORCE_GENERIC leaves generic only");
#endif

// Tag constants.
static_assert(backend::generic::compiled);
static_assert(backend::avx2::compiled == (FUSEDOPS_HAS_AVX2 != 0));
static_assert(backend::avx512::compiled == (FUSEDOPS_HAS_AVX512 != 0));
static_assert(backend::neon::compiled == (FUSEDOPS_HAS_NEON != 0));
static_assert(!backend::cuda::compiled, "a .cpp translation unit never has the cuda backend");
static_assert(is_available_v<backend::generic> && !is_available_v<backend::cuda>);
static_assert(backend::generic::is_cpu && backend::avx2::is_cpu && backend::avx512::is_cpu &&
              backend::neon::is_cpu && !backend::cuda::is_cpu);
static_assert(std::is_same_v<backend::generic::memory_space, host_memory>);
static_assert(std::is_same_v<backend::avx2::memory_space, host_memory>);
static_assert(std::is_same_v<backend::avx512::memory_space, host_memory>);
static_assert(std::is_same_v<backend::neon::memory_space, host_memory>);
static_assert(std::is_same_v<backend::cuda::memory_space, device_memory>);
static_assert(
    std::is_same_v<all_cpu_backends,
                   typelist<backend::avx512, backend::avx2, backend::neon, backend::generic>>);

// Lanes of float (and double) per backend; the generic backend mimics a 256-bit register.
template <class B>
constexpr int expected_float_lanes() {
  if constexpr (std::is_same_v<B, backend::avx512>)
    return 16;
  else if constexpr (std::is_same_v<B, backend::avx2>)
    return 8;
  else if constexpr (std::is_same_v<B, backend::neon>)
    return 4;
  else
    return 8;  // generic
}
static_assert(simd::lanes_of<float, backend::generic> == 8);
static_assert(simd::lanes_of<double, backend::generic> == 4);
static_assert(
    std::is_same_v<simd::vec_t<float, backend::generic>, arch::generic::fixed_vec<float, 8>>);
#if FUSEDOPS_HAS_AVX2
static_assert(simd::lanes_of<float, backend::avx2> == 8);
static_assert(simd::lanes_of<double, backend::avx2> == 4);
#endif
#if FUSEDOPS_HAS_AVX512
static_assert(simd::lanes_of<float, backend::avx512> == 16);
static_assert(simd::lanes_of<double, backend::avx512> == 8);
#endif
#if FUSEDOPS_HAS_NEON
static_assert(simd::lanes_of<float, backend::neon> == 4);
static_assert(simd::lanes_of<double, backend::neon> == 2);
#endif

}  // namespace

TEST_CASE("compiled_backends: names, order and default") {
  std::string names;
  for_each_type(compiled_backends{}, [&](auto b) {
    if (!names.empty()) names += ", ";
    names += decltype(b)::name;
  });
  MESSAGE("compiled backends: " << names << "; default: " << std::string(default_backend::name));

  CHECK(std::string(backend::generic::name) == "generic");
  CHECK(std::string(backend::avx2::name) == "avx2");
  CHECK(std::string(backend::avx512::name) == "avx512");
  CHECK(std::string(backend::neon::name) == "neon");
  CHECK(std::string(backend::cuda::name) == "cuda");
  CHECK(std::string(backend::native::name) == std::string(default_backend::name));
  // The last entry of the list is generic, whatever the flags.
  CHECK(names.size() >= 7);
  CHECK(names.substr(names.size() - 7) == "generic");
  // Every tag documents the flags that enable it.
  CHECK(std::string(backend::avx2::required_flags).find("-mavx2") != std::string::npos);
  CHECK(std::string(backend::avx512::required_flags).find("-mavx512f") != std::string::npos);
}

TEST_CASE("runtime::cpu_supports agrees with the compiled backends") {
  // This binary only runs when the CPU has its ISA (isa_main.cpp exits 77 otherwise), so every
  // backend it compiled must be reported as supported.
  for_each_type(compiled_backends{}, [](auto b) {
    using B = decltype(b);
    INFO("backend " << std::string(B::name));
    CHECK(runtime::cpu_supports<B>());
  });
  CHECK(runtime::cpu_supports<backend::generic>());
  CHECK_FALSE(runtime::cpu_supports<backend::cuda>());
#if FUSEDOPS_ARCH_AARCH64
  CHECK_FALSE(runtime::cpu_supports<backend::avx2>());
  CHECK_FALSE(runtime::cpu_supports<backend::avx512>());
  CHECK(runtime::cpu_supports<backend::neon>());
#endif
#if FUSEDOPS_ARCH_X86_64
  CHECK_FALSE(runtime::cpu_supports<backend::neon>());
  // AVX-512 support implies AVX2 + FMA support.
  if (runtime::cpu_supports<backend::avx512>()) {
    CHECK(runtime::cpu_supports<backend::avx2>());
  }
#endif
  // The best supported of this binary's backends is its default one.
  CHECK(std::string(runtime::best_supported(compiled_backends{})) ==
        std::string(default_backend::name));
  CHECK(std::string(runtime::best_supported(typelist<backend::generic>{})) == "generic");
}

TEST_CASE_TEMPLATE_DEFINE("backend tag properties", B, backend_tag_test_id) {
  static_assert(B::compiled && B::is_cpu);
  static_assert(is_available_v<B>);
  static_assert(std::is_same_v<typename B::memory_space, host_memory>);
  static_assert(simd::lanes_of<float, B> == expected_float_lanes<B>());
  static_assert(simd::lanes_of<double, B> * 2 == simd::lanes_of<float, B>);
  static_assert(simd::lanes<simd::vec_t<float, B>> == simd::lanes_of<float, B>);
  static_assert(std::is_same_v<typename simd::vec_t<float, B>::value_type, float>);
  // Operators use their width-generic implementation unless an ISA header specialises impl_for.
  static_assert(
      std::is_same_v<impl_for_t<ops::bias_activation_op, B>, ops::bias_activation_generic<B>>);
  require_backend<B>();  // compiles for every compiled backend

  MESSAGE(std::string(B::name) << ": " << simd::lanes_of<float, B> << " float lanes");
  CHECK(simd::lanes_of<float, B> == expected_float_lanes<B>());
  CHECK(runtime::cpu_supports<B>());
  CHECK(std::string(B::name).size() > 0);
}
TEST_CASE_TEMPLATE_APPLY(backend_tag_test_id, fusedops::test::compiled_backends_tuple);
