# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# fusedops_target_isa(<target> <isa>): the compiler flags of one backend, in ONE place.
#   generic  no SIMD backend (FUSEDOPS_FORCE_GENERIC=1, needed on AArch64 where NEON is baseline)
#   avx2     -mavx2 -mfma
#   avx512   AVX-512 F/CD/BW/DQ/VL (+ AVX2/FMA)
#   neon     AArch64 baseline (no flag needed)
#   native   -march=native (the machine's best; none when cross-compiling)
# Opt-in helper for tests, benchmarks, examples and consumers; the fusedops target itself never
# carries ISA flags.

function(fusedops_isa_flags isa out_var)
  if(isa STREQUAL "generic")
    set(flags "-DFUSEDOPS_FORCE_GENERIC=1")
  elseif(isa STREQUAL "avx2")
    set(flags -mavx2 -mfma)
  elseif(isa STREQUAL "avx512")
    set(flags -mavx512f -mavx512cd -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma)
  elseif(isa STREQUAL "neon")
    set(flags "")
  elseif(isa STREQUAL "native")
    if(CMAKE_CROSSCOMPILING)
      set(flags "")
    else()
      set(flags -march=native)
    endif()
  else()
    message(FATAL_ERROR "fusedops_target_isa: unknown ISA '${isa}' (generic, avx2, avx512, neon, native)")
  endif()
  set(${out_var} "${flags}" PARENT_SCOPE)
endfunction()

function(fusedops_target_isa target isa)
  fusedops_isa_flags(${isa} flags)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${flags}>)
endfunction()
