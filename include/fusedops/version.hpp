// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// The library version. CMake parses these three lines; keep their shape.
#pragma once

#define FUSEDOPS_VERSION_MAJOR 0
#define FUSEDOPS_VERSION_MINOR 1
#define FUSEDOPS_VERSION_PATCH 0

namespace fusedops {
inline constexpr int version_major = FUSEDOPS_VERSION_MAJOR;
inline constexpr int version_minor = FUSEDOPS_VERSION_MINOR;
inline constexpr int version_patch = FUSEDOPS_VERSION_PATCH;
}  // namespace fusedops
