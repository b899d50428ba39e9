# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# The optional peer libraries the benchmarks and examples compare against (never needed by the
# library itself). Sets FUSEDOPS_HAVE_OPENBLAS (+ FUSEDOPS_OPENBLAS_INCLUDE_DIR/_LIBRARY) and
# FUSEDOPS_HAVE_ONEDNN (+ FUSEDOPS_DNNL_INCLUDE_DIR/_LIBRARY); oneDNN needs OpenMP found first.
# fusedops_link_openblas(target macro) links the OpenBLAS peer where found.
include_guard(GLOBAL)

# OpenBLAS: Debian's OpenBLASConfig.cmake (or a search) names the library and the directory of its
# own cblas.h (found by openblas_config.h, so a netlib cblas.h elsewhere is never picked up).
find_package(OpenBLAS CONFIG QUIET)
set(_fusedops_openblas_lib_hints "")
foreach(_lib IN LISTS OpenBLAS_LIBRARIES)
  get_filename_component(_dir "${_lib}" DIRECTORY)
  list(APPEND _fusedops_openblas_lib_hints "${_dir}")
endforeach()
find_path(FUSEDOPS_OPENBLAS_INCLUDE_DIR openblas_config.h
          HINTS ${OpenBLAS_INCLUDE_DIRS}
          PATH_SUFFIXES openblas openblas-pthread openblas-openmp openblas64-pthread
                        x86_64-linux-gnu/openblas-pthread aarch64-linux-gnu/openblas-pthread)
find_library(FUSEDOPS_OPENBLAS_LIBRARY NAMES openblas HINTS ${_fusedops_openblas_lib_hints}
             PATH_SUFFIXES openblas-pthread openblas-openmp)
set(FUSEDOPS_HAVE_OPENBLAS OFF)
if(FUSEDOPS_OPENBLAS_INCLUDE_DIR AND FUSEDOPS_OPENBLAS_LIBRARY
   AND EXISTS "${FUSEDOPS_OPENBLAS_INCLUDE_DIR}/cblas.h")
  set(FUSEDOPS_HAVE_OPENBLAS ON)
  message(STATUS "fusedops peers: OpenBLAS found (${FUSEDOPS_OPENBLAS_LIBRARY})")
else()
  message(STATUS "fusedops peers: OpenBLAS not found (apt-get install libopenblas-dev): no OpenBLAS comparisons")
endif()

# oneDNN: located directly rather than with find_package(dnnl), whose Debian config makes OpenCL
# REQUIRED (a hard error where the OpenCL headers are missing). Its CPU runtime is OpenMP, so its
# thread count is only controllable (omp_set_num_threads) in an OpenMP build of the bench or example.
find_path(FUSEDOPS_DNNL_INCLUDE_DIR dnnl.hpp)
find_library(FUSEDOPS_DNNL_LIBRARY NAMES dnnl)
set(FUSEDOPS_HAVE_ONEDNN OFF)
if(FUSEDOPS_DNNL_INCLUDE_DIR AND FUSEDOPS_DNNL_LIBRARY AND OpenMP_CXX_FOUND)
  set(FUSEDOPS_HAVE_ONEDNN ON)
  message(STATUS "fusedops peers: oneDNN found (${FUSEDOPS_DNNL_LIBRARY})")
else()
  message(STATUS "fusedops peers: oneDNN not found (apt-get install libdnnl-dev) or no OpenMP: no oneDNN comparisons")
endif()

# Links the OpenBLAS peer into `target` when it was found, defining `macro`=1 for the sources.
function(fusedops_link_openblas target macro)
  if(FUSEDOPS_HAVE_OPENBLAS)
    target_include_directories(${target} SYSTEM PRIVATE "${FUSEDOPS_OPENBLAS_INCLUDE_DIR}")
    target_link_libraries(${target} PRIVATE "${FUSEDOPS_OPENBLAS_LIBRARY}")
    target_compile_definitions(${target} PRIVATE ${macro}=1)
  endif()
endfunction()
