# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# find_package wrappers that stop with the Debian package to install when something is missing.
include(fusedopsXsimd)

# fusedops_require(<Package> <debian-package> [find_package args...])
macro(fusedops_require package debian_package)
  find_package(${package} ${ARGN} QUIET)
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR "fusedops: ${package} was not found. On Debian/Ubuntu install it with:\n"
                        "  apt-get install ${debian_package}\n"
                        "(or point CMAKE_PREFIX_PATH / ${package}_DIR at your own copy)")
  endif()
endmacro()

# xsimd is the only dependency of the library itself.
macro(fusedops_find_xsimd)
  if(NOT TARGET xsimd)
    fusedops_require(xsimd libxsimd-dev CONFIG)
  endif()
  fusedops_drop_missing_xtl()
endmacro()
