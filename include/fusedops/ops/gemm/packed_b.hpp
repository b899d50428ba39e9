// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: ops/gemm. Prepacked weights. Inference weights are constant, so B is packed once into
// the micro-kernel's panel layout (ops/gemm/packing.hpp) and every later GEMM reads the panels
// directly: no packing in the hot path and no workspace for B. The layout depends on the
// backend's tile, so packed_b is typed by backend; the packed size is packed_b_size<B>(K, N).
#pragma once

#include <cstddef>

#include "fusedops/core/aligned_buffer.hpp"
#include "fusedops/core/checks.hpp"
#include "fusedops/core/threading.hpp"
#include "fusedops/ops/gemm/blocking.hpp"
#include "fusedops/ops/gemm/packing.hpp"

namespace fusedops {

/// Non-owning handle to weights B [K, N] packed for backend B (or, gated, a gate and an up
/// matrix [K, N] each, packed side by side for a gated epilogue).
template <class B>
class packed_b {
 public:
  /// Columns of one packed panel (tile vectors × lanes).
  static constexpr int panel_width = ops::gemm_shape<B>::width;

  packed_b() noexcept = default;
  index_t k() const noexcept { return k_; }
  /// Output columns: N (for gated weights, the columns of each of gate and up).
  index_t n() const noexcept { return n_; }
  bool gated() const noexcept { return gated_; }
  const float* data() const noexcept { return data_; }
  /// Floats of storage in use.
  std::size_t size() const noexcept { return floats(k_, n_, gated_); }
  index_t panels() const noexcept { return panel_count(n_, gated_); }
  /// Output columns per panel.
  static constexpr int columns_per_panel(bool gated) noexcept {
    return gated ? panel_width / 2 : panel_width;
  }
  static constexpr index_t panel_count(index_t n, bool gated) noexcept {
    return (n + columns_per_panel(gated) - 1) / columns_per_panel(gated);
  }
  static constexpr std::size_t floats(index_t k, index_t n, bool gated) noexcept {
    return static_cast<std::size_t>(panel_count(n, gated) * k * panel_width);
  }
  /// Storage as a 1-D range (for overlap checks).
  view<const float, 1> storage() const noexcept {
    return view<const float, 1>(data_, dims<1>{static_cast<index_t>(size())});
  }

  /// Adopts storage already holding packed panels (e.g. weights packed at build time and
  /// memory-mapped); the caller guarantees it was produced by pack_b<B> with these k, n, gated.
  static packed_b adopt(const float* data, index_t k, index_t n, bool gated) noexcept {
    packed_b p;
    p.data_ = data, p.k_ = k, p.n_ = n, p.gated_ = gated;
    return p;
  }

 private:
  const float* data_ = nullptr;
  index_t k_ = 0, n_ = 0;
  bool gated_ = false;
};

/// Floats of storage pack_b<B> needs for a [K, N] matrix (gated: for gate and up [K, N] each).
template <class B = default_backend>
constexpr std::size_t packed_b_size(index_t k, index_t n, bool gated = false) noexcept {
  return packed_b<B>::floats(k, n, gated);
}

namespace ops::gemm_detail {
inline status check_pack_storage(const char* op, std::size_t needed, const view<float, 1>& storage,
                                 index_t k, index_t n) noexcept {
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor(op, "storage", storage));
  if (static_cast<std::size_t>(storage.shape(0)) < needed)
    return status::error(errc::buffer_too_small,
                         "%s: 'storage' holds %td floats but packing a [%td, %td] B needs %zu "
                         "(packed_b_size)",
                         op, storage.shape(0), k, n, needed);
  if (storage.stride(0) != 1 && storage.shape(0) > 1)
    return status::error(errc::bad_stride, "%s: 'storage' must be contiguous (stride 1)", op);
  return {};
}

template <class B>
status pack_into(const char* op, const b_source& src, index_t k, const view<float, 1>& storage,
                 packed_b<B>& out, const threading& threads) noexcept {
  const bool gated = src.parts == 2;
  const std::size_t needed = packed_b_size<B>(k, src.n_out, gated);
  FUSEDOPS_RETURN_IF_ERROR(check_pack_storage(op, needed, storage, k, src.n_out));
  for (int s = 0; s < src.parts; ++s) {
    std::uintptr_t olo, ohi, ilo, ihi;
    checks::byte_range(storage, olo, ohi);
    checks::byte_range(src.part[s], ilo, ihi);
    if (!(ohi <= ilo || ihi <= olo))
      return status::error(errc::invalid_argument, "%s: 'storage' overlaps the matrix being packed",
                           op);
  }
  const index_t panels = packed_b<B>::panel_count(src.n_out, gated);
  const index_t panel_floats = k * packed_b<B>::panel_width;
  float* dst = storage.data();
  parallel_for(threads, panels, 4, [&](index_t p0, index_t p1) {
    pack_b_panels<B>(src, 0, k, p0, p1 - p0, dst + p0 * panel_floats, panel_floats);
  });
  out = packed_b<B>::adopt(dst, k, src.n_out, gated);
  return {};
}
}  // namespace ops::gemm_detail

/// Packs b [K, N] (any strides) into `storage` (at least packed_b_size<B>(K, N) floats, best
/// 64-byte aligned) and sets `out` to it. Storage must outlive every use of `out`.
/// @return buffer_too_small (naming both sizes) if storage is short; nothing is written then.
template <class B = default_backend>
status pack_b(view<const float, 2> b, view<float, 1> storage, packed_b<B>& out,
              threading threads = threading::serial()) noexcept {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("pack_b", "b", b));
  ops::gemm_detail::b_source src{{b, {}}, 1, b.shape(1)};
  return ops::gemm_detail::pack_into<B>("pack_b", src, b.shape(0), storage, out, threads);
}

/// Packs the gate and up weights of a gated FFN ([K, N] each, any strides) side by side, for
/// gemm with a gated epilogue (epilogue::swiglu, epilogue::geglu), whose output is [M, N].
template <class B = default_backend>
status pack_b_gated(view<const float, 2> gate, view<const float, 2> up, view<float, 1> storage,
                    packed_b<B>& out, threading threads = threading::serial()) noexcept {
  require_backend<B, host_memory>();
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("pack_b_gated", "gate", gate));
  FUSEDOPS_RETURN_IF_ERROR(checks::tensor("pack_b_gated", "up", up));
  FUSEDOPS_RETURN_IF_ERROR(checks::shape_equals<2>("pack_b_gated", "up", up.shape(), gate.shape(),
                                                   "the shape of 'gate'"));
  ops::gemm_detail::b_source src{{gate, up}, 2, gate.shape(1)};
  return ops::gemm_detail::pack_into<B>("pack_b_gated", src, gate.shape(0), storage, out, threads);
}

/// Owning packed weights: allocates and packs once (at model load), then `get()` for every call.
template <class B = default_backend>
class packed_weights {
 public:
  status pack(view<const float, 2> b, threading threads = threading::serial()) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor("pack_b", "b", b));
    FUSEDOPS_RETURN_IF_ERROR(
        buffer_.allocate(packed_b_size<B>(b.shape(0), b.shape(1)), pages::huge));
    return pack_b<B>(b, storage(), packed_, threads);
  }
  status pack_gated(view<const float, 2> gate, view<const float, 2> up,
                    threading threads = threading::serial()) noexcept {
    FUSEDOPS_RETURN_IF_ERROR(checks::tensor("pack_b_gated", "gate", gate));
    FUSEDOPS_RETURN_IF_ERROR(
        buffer_.allocate(packed_b_size<B>(gate.shape(0), gate.shape(1), true), pages::huge));
    return pack_b_gated<B>(gate, up, storage(), packed_, threads);
  }
  const packed_b<B>& get() const noexcept { return packed_; }

 private:
  view<float, 1> storage() noexcept {
    return view<float, 1>(buffer_.data(), dims<1>{static_cast<index_t>(buffer_.size())});
  }
  aligned_buffer<float> buffer_;
  packed_b<B> packed_{};
};

}  // namespace fusedops
