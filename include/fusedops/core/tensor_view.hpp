// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. `view<T, Rank, Space>`: a non-owning strided tensor view (pointer + extents +
// strides, in elements). Reshapes, transposes, slices and selections are O(rank) and never touch
// the data. Views of const T are inputs; views of T are outputs. `Space` says where the memory
// lives (host or CUDA device) so a host view handed to a device operator fails to compile.
// Nothing here allocates, throws or depends on an ISA.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "fusedops/core/shape.hpp"

namespace fusedops {

/// Memory-space tags carried by views.
struct host_memory {
  static constexpr const char* name = "host";
};
struct device_memory {
  static constexpr const char* name = "device";
};

template <class T, int Rank, class Space = host_memory>
class view {
  static_assert(Rank >= 0 && Rank <= 8, "fusedops::view supports ranks 0..8");

 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using memory_space = Space;
  static constexpr int rank = Rank;

  /// An empty view (null data, all extents 0).
  constexpr view() noexcept = default;

  /// Contiguous row-major view of `shape` starting at `data`.
  constexpr view(T* data, const dims<Rank>& shape) noexcept
      : data_(data), shape_(shape), strides_(row_major_strides<Rank>(shape)) {}

  /// Strided view; strides are in elements and may be 0 (broadcast) for inputs.
  constexpr view(T* data, const dims<Rank>& shape, const dims<Rank>& strides) noexcept
      : data_(data), shape_(shape), strides_(strides) {}

  /// A view of T converts to a view of const T.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_const_v<U>>>
  constexpr view(const view<U, Rank, Space>& other) noexcept
      : data_(other.data()), shape_(other.shape()), strides_(other.strides()) {}

  constexpr T* data() const noexcept { return data_; }
  constexpr const dims<Rank>& shape() const noexcept { return shape_; }
  constexpr const dims<Rank>& strides() const noexcept { return strides_; }
  constexpr index_t shape(int d) const noexcept { return shape_[idx(d)]; }
  constexpr index_t stride(int d) const noexcept { return strides_[idx(d)]; }
  constexpr index_t size() const noexcept { return element_count<Rank>(shape_); }
  constexpr bool empty() const noexcept { return size() == 0; }

  /// True when the elements are densely packed in row-major order (size-1 dims ignored).
  constexpr bool is_contiguous() const noexcept {
    index_t expected = 1;
    for (int d = Rank - 1; d >= 0; --d) {
      if (shape_[idx(d)] == 1) continue;
      if (strides_[idx(d)] != expected) return false;
      expected *= shape_[idx(d)];
    }
    return true;
  }

  /// Element access; indices are not checked (use the public operators' checks for that).
  template <class... I>
  constexpr T& operator()(I... i) const noexcept {
    static_assert(sizeof...(I) == static_cast<std::size_t>(Rank), "one index per dimension");
    return data_[offset_of(std::index_sequence_for<I...>{}, static_cast<index_t>(i)...)];
  }

  /// Swaps two dimensions (a transpose when rank 2).
  constexpr view transpose(int d0 = 0, int d1 = 1) const noexcept {
    view v = *this;
    std::swap(v.shape_[idx(d0)], v.shape_[idx(d1)]);
    std::swap(v.strides_[idx(d0)], v.strides_[idx(d1)]);
    return v;
  }

  /// Reorders dimensions: result dimension i is this view's dimension order[i].
  constexpr view permute(const std::array<int, static_cast<std::size_t>(Rank)>& order) const noexcept {
    view v = *this;
    for (int d = 0; d < Rank; ++d) {
      v.shape_[idx(d)] = shape_[idx(order[idx(d)])];
      v.strides_[idx(d)] = strides_[idx(order[idx(d)])];
    }
    return v;
  }

  /// Elements [begin, end) of dimension `d`, every `step`-th (step >= 1).
  constexpr view slice(int d, index_t begin, index_t end, index_t step = 1) const noexcept {
    view v = *this;
    v.data_ = data_ + begin * strides_[idx(d)];
    v.shape_[idx(d)] = end > begin ? (end - begin + step - 1) / step : 0;
    v.strides_[idx(d)] = strides_[idx(d)] * step;
    return v;
  }

  /// Fixes dimension `d` at `index`, dropping it: rank decreases by one.
  constexpr view<T, Rank - 1, Space> select(int d, index_t index) const noexcept {
    static_assert(Rank >= 1, "select needs rank >= 1");
    dims<Rank - 1> shape{}, strides{};
    for (int s = 0, t = 0; s < Rank; ++s) {
      if (s == d) continue;
      shape[idx(t)] = shape_[idx(s)];
      strides[idx(t)] = strides_[idx(s)];
      ++t;
    }
    return {data_ + index * strides_[idx(d)], shape, strides};
  }

  /// Same data seen with a new shape of equal element count. Supported when the view is
  /// contiguous; otherwise (or when the counts differ) returns nullopt, since a copy would be
  /// needed and views never copy.
  template <std::size_t R2>
  constexpr std::optional<view<T, static_cast<int>(R2), Space>> reshape(
      const index_t (&new_shape)[R2]) const noexcept {
    dims<static_cast<int>(R2)> s{};
    for (std::size_t i = 0; i < R2; ++i) s[i] = new_shape[i];
    return reshape<static_cast<int>(R2)>(s);
  }
  template <int R2>
  constexpr std::optional<view<T, R2, Space>> reshape(const dims<R2>& new_shape) const noexcept {
    if (element_count<R2>(new_shape) != size() || !is_contiguous()) return std::nullopt;
    return view<T, R2, Space>(data_, new_shape);
  }

  /// Inserts a size-1 dimension at position d (stride chosen so the view stays contiguous).
  constexpr view<T, Rank + 1, Space> unsqueeze(int d) const noexcept {
    dims<Rank + 1> shape{}, strides{};
    for (int s = 0, t = 0; t < Rank + 1; ++t) {
      if (t == d) {
        shape[idx(t)] = 1;
        strides[idx(t)] = s < Rank ? strides_[idx(s)] * shape_[idx(s)] : 1;
        continue;
      }
      shape[idx(t)] = shape_[idx(s)];
      strides[idx(t)] = strides_[idx(s)];
      ++s;
    }
    return {data_, shape, strides};
  }

  /// Text of the shape for messages, e.g. "[3, 5]".
  shape_text shape_string() const noexcept { return to_text<Rank>(shape_); }

 private:
  static constexpr std::size_t idx(int d) noexcept { return static_cast<std::size_t>(d); }

  template <std::size_t... D, class... I>
  constexpr index_t offset_of(std::index_sequence<D...>, I... i) const noexcept {
    return (index_t{0} + ... + (i * strides_[D]));
  }

  T* data_ = nullptr;
  dims<Rank> shape_{};
  dims<Rank> strides_{};
};

/// Contiguous row-major view; `make_view(ptr, {rows, cols})`.
template <class T, std::size_t R>
constexpr view<T, static_cast<int>(R)> make_view(T* data, const index_t (&shape)[R]) noexcept {
  dims<static_cast<int>(R)> s{};
  for (std::size_t i = 0; i < R; ++i) s[i] = shape[i];
  return {data, s};
}

/// Strided view; `make_view(ptr, {rows, cols}, {ld, 1})`.
template <class T, std::size_t R>
constexpr view<T, static_cast<int>(R)> make_view(T* data, const index_t (&shape)[R],
                                                 const index_t (&strides)[R]) noexcept {
  dims<static_cast<int>(R)> s{}, st{};
  for (std::size_t i = 0; i < R; ++i) s[i] = shape[i], st[i] = strides[i];
  return {data, s, st};
}

/// Views of device memory (CUDA); same operations, different memory space tag.
template <class T, int Rank>
using device_view = view<T, Rank, device_memory>;

}  // namespace fusedops
