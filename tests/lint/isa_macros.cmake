# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# cmake -DROOT=<repo> -P isa_macros.cmake
# Backend choice lives in one place: only include/fusedops/config/detect.hpp may read compiler
# ISA/platform macros. Everything else uses the FUSEDOPS_HAS_* / FUSEDOPS_ARCH_* it defines.
file(GLOB_RECURSE files "${ROOT}/include/*.hpp" "${ROOT}/include/*.cuh")
set(bad "")
foreach(f IN LISTS files)
  if(f MATCHES "/config/detect\\.hpp$")
    continue()
  endif()
  file(STRINGS "${f}" hits REGEX "__(AVX[0-9A-Z_]*|FMA|ARM_NEON|aarch64|x86_64|CUDACC|CUDA_ARCH)__")
  if(hits)
    list(APPEND bad "${f}: ${hits}")
  endif()
endforeach()
if(bad)
  string(REPLACE ";" "\n" bad "${bad}")
  message(FATAL_ERROR "Raw ISA macros outside config/detect.hpp:\n${bad}")
endif()
message(STATUS "ISA macros are read only in config/detect.hpp")
