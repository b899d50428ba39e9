# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# find_package wrappers that stop with the Debian package to install when something is missing.

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
  # Debian's xsimd target links "xtl", a library xsimd does not need and Debian does not install
  # with it: drop the dangling link so consumers do not fail with "cannot find -lxtl".
  if(NOT TARGET xtl)
    get_target_property(_fusedops_xsimd_libs xsimd INTERFACE_LINK_LIBRARIES)
    if(_fusedops_xsimd_libs)
      list(REMOVE_ITEM _fusedops_xsimd_libs xtl)
      set_property(TARGET xsimd PROPERTY INTERFACE_LINK_LIBRARIES "${_fusedops_xsimd_libs}")
    endif()
  endif()
endmacro()
