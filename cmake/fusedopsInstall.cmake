# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# install() rules: headers, the exported fusedops::fusedops target, fusedopsConfig.cmake and its
# version file, so find_package(fusedops CONFIG) works from an install prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FUSEDOPS_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/fusedops")

install(TARGETS fusedops EXPORT fusedopsTargets)
install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT fusedopsTargets NAMESPACE fusedops:: DESTINATION ${FUSEDOPS_CMAKE_DIR})
export(EXPORT fusedopsTargets NAMESPACE fusedops::
       FILE "${PROJECT_BINARY_DIR}/fusedopsTargets.cmake")

configure_package_config_file(cmake/fusedopsConfig.cmake.in
                              "${PROJECT_BINARY_DIR}/fusedopsConfig.cmake"
                              INSTALL_DESTINATION ${FUSEDOPS_CMAKE_DIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/fusedopsConfigVersion.cmake"
                                 COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/fusedopsConfig.cmake"
              "${PROJECT_BINARY_DIR}/fusedopsConfigVersion.cmake"
              cmake/fusedopsIsa.cmake
              cmake/fusedopsXsimd.cmake
        DESTINATION ${FUSEDOPS_CMAKE_DIR})
