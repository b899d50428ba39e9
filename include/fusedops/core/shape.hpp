// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. Index type and fixed-rank extents/strides, plus formatting of shapes for error
// messages ("[3, 5]") into a fixed buffer (no allocation).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace fusedops {

/// Signed index type for extents, strides and offsets (element units, never bytes).
using index_t = std::ptrdiff_t;

/// Fixed-rank list of extents or strides.
template <int Rank>
using dims = std::array<index_t, static_cast<std::size_t>(Rank)>;

/// Row-major (C order) strides for `shape`: the last dimension is contiguous.
template <int Rank>
constexpr dims<Rank> row_major_strides(const dims<Rank>& shape) noexcept {
  dims<Rank> strides{};
  index_t step = 1;
  for (int d = Rank - 1; d >= 0; --d) {
    strides[static_cast<std::size_t>(d)] = step;
    step *= shape[static_cast<std::size_t>(d)];
  }
  return strides;
}

/// Number of elements of `shape` (1 for rank 0).
template <int Rank>
constexpr index_t element_count(const dims<Rank>& shape) noexcept {
  index_t n = 1;
  for (index_t e : shape) n *= e;
  return n;
}

/// Text form of a shape for messages, e.g. "[3, 5]". Holds its own buffer.
struct shape_text {
  char text[128] = {};
  const char* c_str() const noexcept { return text; }
};

template <int Rank>
shape_text to_text(const dims<Rank>& shape) noexcept {
  shape_text out;
  int pos = std::snprintf(out.text, sizeof out.text, "[");
  for (int d = 0; d < Rank && pos > 0 && pos < static_cast<int>(sizeof out.text); ++d) {
    pos += std::snprintf(out.text + pos, sizeof out.text - static_cast<std::size_t>(pos), "%s%td",
                         d == 0 ? "" : ", ", shape[static_cast<std::size_t>(d)]);
  }
  if (pos > 0 && pos < static_cast<int>(sizeof out.text))
    std::snprintf(out.text + pos, sizeof out.text - static_cast<std::size_t>(pos), "]");
  return out;
}

}  // namespace fusedops
