// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. `aligned_buffer<T>`: an owning, move-only, aligned array for packed weights and
// workspaces. Allocation happens only where the caller asks for it (allocate()), reports failure
// through status (works with -fno-exceptions) and never happens implicitly inside an operator.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "fusedops/core/shape.hpp"
#include "fusedops/core/status.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace fusedops {

/// The pages an aligned_buffer asks for. `huge` suits scratch and packed weights that kernels
/// stream and that are allocated often or read whole: a fresh GEMM workspace (4 MiB) faults in
/// two pages instead of a thousand (each 4 KiB fault cost ~2 µs on this project's VM, and a gemm
/// that allocated its workspace ran 1024³ at 0.75 of the FMA peak against 0.87 with the
/// caller's; advised, 0.87), and its streams take fewer TLB misses. Not the default: buffers
/// that all start on a 2 MiB boundary put equal offsets in the same cache sets, and a LayerNorm
/// reading x and writing y at equal offsets of two such buffers ran 14–29 % slower of a copy.
enum class pages { normal, huge };

/// Default alignment: one cache line, also the widest vector (AVX-512) width.
inline constexpr std::size_t default_alignment = 64;

template <class T, std::size_t Alignment = default_alignment>
class aligned_buffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "aligned_buffer holds plain numeric data");
  static_assert(Alignment >= alignof(T) && (Alignment & (Alignment - 1)) == 0,
                "alignment must be a power of two no smaller than alignof(T)");

 public:
  static constexpr std::size_t alignment = Alignment;
  /// The huge-page size allocate(count, pages::huge) aligns to (x86-64 and AArch64 Linux, 4 KiB
  /// base pages).
  static constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

  aligned_buffer() noexcept = default;
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  aligned_buffer(aligned_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  aligned_buffer& operator=(aligned_buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~aligned_buffer() { release(); }

  /// (Re)allocates room for `count` elements (contents undefined, old contents dropped).
  /// On failure the buffer is left empty and out_of_memory is returned. With pages::huge, a
  /// buffer of huge_page_bytes or more starts on a huge-page boundary, is rounded up to whole
  /// huge pages and is advised as transparent huge pages on Linux (the kernel may ignore it).
  status allocate(std::size_t count, pages kind = pages::normal) noexcept {
    release();
    if (count == 0) return {};
    if (count > (static_cast<std::size_t>(-1) - Alignment) / sizeof(T))
      return status::error(errc::out_of_memory,
                           "aligned_buffer: %zu elements of %zu bytes overflow", count, sizeof(T));
    // aligned_alloc needs the size to be a multiple of the alignment.
    const std::size_t bytes = (count * sizeof(T) + Alignment - 1) / Alignment * Alignment;
    const bool huge = kind == pages::huge && bytes >= huge_page_bytes &&
                      bytes <= static_cast<std::size_t>(-1) - huge_page_bytes;
    const std::size_t align = huge ? huge_page_bytes : Alignment;
    const std::size_t rounded =
        huge ? (bytes + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes : bytes;
    void* p = std::aligned_alloc(align, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p != nullptr && huge) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    if (p == nullptr)
      return status::error(errc::out_of_memory, "aligned_buffer: cannot allocate %zu bytes", bytes);
    data_ = static_cast<T*>(p);
    size_ = count;
    return {};
  }

  /// Frees the memory; the buffer becomes empty.
  void release() noexcept {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

  /// Contiguous view of the first element_count(shape) elements (caller ensures it fits).
  template <std::size_t R>
  view<T, static_cast<int>(R)> as_view(const index_t (&shape)[R]) noexcept {
    return make_view(data_, shape);
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace fusedops
