# SPDX-FileCopyrightText: 2026 The fusedops authors
# SPDX-License-Identifier: Apache-2.0
#
# fusedops_drop_missing_xtl(): Debian's xsimd target links "xtl", a library xsimd does not need
# and Debian does not install with it; drop the dangling link so consumers do not fail with
# "cannot find -lxtl". Used by the build tree and by the installed fusedopsConfig.cmake.
function(fusedops_drop_missing_xtl)
  if(TARGET xsimd AND NOT TARGET xtl)
    get_target_property(libs xsimd INTERFACE_LINK_LIBRARIES)
    if(libs)
      list(REMOVE_ITEM libs xtl)
      set_property(TARGET xsimd PROPERTY INTERFACE_LINK_LIBRARIES "${libs}")
    endif()
  endif()
endfunction()
