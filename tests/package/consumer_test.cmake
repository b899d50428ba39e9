# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# cmake -P driver of the packaging tests (see CMakeLists.txt here). Every step must succeed, or
# the script stops with FATAL_ERROR and the test fails. Variables (all -D):
#   MODE           install | find_package | add_subdirectory
#   SOURCE_DIR     fusedops source tree;  TOP_BINARY_DIR  its build tree;  PREFIX  install prefix
#   GENERATOR, MAKE_PROGRAM, CXX_COMPILER, BUILD_TYPE, xsimd_DIR, EXE_SUFFIX  of the parent build
#   PROJECT_DIR    the project to build;  WORK_DIR  its (fresh) build dir;  PROGRAM  what to run
cmake_minimum_required(VERSION 3.21)

function(run_step what)
  message(STATUS "package test [${MODE}]: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package test [${MODE}]: '${what}' failed (exit ${rc}):\n  ${ARGN}")
  endif()
endfunction()

foreach(var MODE SOURCE_DIR TOP_BINARY_DIR PREFIX GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()
set(config_args "")
if(BUILD_TYPE)
  set(config_args --config ${BUILD_TYPE})
endif()

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")  # a fresh prefix every time: no stale headers
  run_step("install into ${PREFIX}"
           "${CMAKE_COMMAND}" --install "${TOP_BINARY_DIR}" --prefix "${PREFIX}" ${config_args})
  file(GLOB_RECURSE config_file "${PREFIX}/*/fusedopsConfig.cmake")
  if(NOT config_file OR NOT EXISTS "${PREFIX}/include/fusedops/fusedops.hpp")
    message(FATAL_ERROR "package test: the install has no fusedopsConfig.cmake or no headers")
  endif()
  return()
endif()

foreach(var PROJECT_DIR WORK_DIR PROGRAM)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()

set(configure_args -S "${PROJECT_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(BUILD_TYPE)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
if(xsimd_DIR)
  list(APPEND configure_args "-Dxsimd_DIR=${xsimd_DIR}")
endif()
if(MODE STREQUAL "find_package")
  # Only the fresh install may satisfy find_package: no user or system package registry.
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${PREFIX}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
       -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args "-DFUSEDOPS_SOURCE_DIR=${SOURCE_DIR}")
else()
  message(FATAL_ERROR "consumer_test.cmake: unknown MODE '${MODE}'")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")  # configure from scratch every time
run_step("configure ${PROJECT_DIR}" "${CMAKE_COMMAND}" ${configure_args})

if(MODE STREQUAL "find_package")
  # The consumer must have found the installed package, not the build or source tree.
  file(STRINGS "${WORK_DIR}/CMakeCache.txt" found_dir REGEX "^fusedops_DIR:")
  string(REGEX REPLACE "^fusedops_DIR:[A-Z]+=" "" found_dir "${found_dir}")
  file(REAL_PATH "${PREFIX}" real_prefix)
  file(REAL_PATH "${found_dir}" real_found)
  string(FIND "${real_found}/" "${real_prefix}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "package test: fusedops was found in '${found_dir}', not under '${PREFIX}'")
  endif()
else()
  # add_subdirectory must not drag fusedops' own tests or examples into the user's build.
  foreach(dir tests examples bench)
    if(EXISTS "${WORK_DIR}/fusedops/${dir}")
      message(FATAL_ERROR "package test: add_subdirectory configured fusedops/${dir} although it is switched off")
    endif()
  endforeach()
endif()

run_step("build" "${CMAKE_COMMAND}" --build "${WORK_DIR}" ${config_args})

set(program "${WORK_DIR}/${PROGRAM}${EXE_SUFFIX}")
if(NOT EXISTS "${program}" AND BUILD_TYPE)
  set(program "${WORK_DIR}/${BUILD_TYPE}/${PROGRAM}${EXE_SUFFIX}")  # multi-config generators
endif()
run_step("run ${PROGRAM}" "${program}")
