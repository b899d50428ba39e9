// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: arch. Includes the headers of every backend this TU's flags enable. Together with
// config/detect.hpp this is the only place that tests ISA availability with #if; ops/ and fused/
// never do. Adding an ISA means one line here.
#pragma once

#include "fusedops/arch/generic/traits.hpp"

#if FUSEDOPS_HAS_AVX2
#include "fusedops/arch/x86_avx2/traits.hpp"
#endif

#if FUSEDOPS_HAS_AVX512
#include "fusedops/arch/x86_avx512/traits.hpp"
#endif

#if FUSEDOPS_HAS_NEON
#include "fusedops/arch/arm_neon/traits.hpp"
#endif
