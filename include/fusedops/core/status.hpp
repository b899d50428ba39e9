// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Layer: core. How every public call reports failure, with or without C++ exceptions.
//
// Every public operator returns a `status` (marked [[nodiscard]]). A failed status carries an error
// code and a message naming the operator, the argument and the shapes involved, e.g.
//   "bias_activation: argument 'bias' has shape [7], expected [5] (the last dimension of 'x' [3, 5])"
// The message lives in a fixed buffer inside the status: reporting an error never allocates.
// Operators validate every argument before touching any output, so a failed call leaves outputs
// exactly as they were. Callers who prefer exceptions wrap a call in `throw_if_error(...)`.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "fusedops/config/detect.hpp"

#if FUSEDOPS_HAS_EXCEPTIONS
#include <stdexcept>
#include <string>
#endif

namespace fusedops {

/// Error categories. `ok` is zero so a status converts naturally to "no error".
enum class errc : int {
  ok = 0,
  invalid_argument,  ///< a scalar argument is out of its domain (negative size, bad axis, ...)
  null_pointer,      ///< a required pointer is null
  shape_mismatch,    ///< tensor shapes are inconsistent with each other
  bad_stride,        ///< strides are invalid for the argument (e.g. overlapping output rows)
  bad_alignment,     ///< a buffer is not aligned as the call requires
  buffer_too_small,  ///< a caller-provided buffer (workspace, packed weights) is undersized
  out_of_memory,     ///< an allocation the caller asked for failed
  unsupported,       ///< valid request that this backend/build does not implement
  device_error,      ///< a device runtime (CUDA) call failed
};

/// Short stable name of an error code, e.g. "shape_mismatch".
constexpr const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid_argument";
    case errc::null_pointer: return "null_pointer";
    case errc::shape_mismatch: return "shape_mismatch";
    case errc::bad_stride: return "bad_stride";
    case errc::bad_alignment: return "bad_alignment";
    case errc::buffer_too_small: return "buffer_too_small";
    case errc::out_of_memory: return "out_of_memory";
    case errc::unsupported: return "unsupported";
    case errc::device_error: return "device_error";
  }
  return "unknown";
}

/// Result of a public call: ok, or an error code plus a human-readable message.
/// Trivially copyable, no allocation, safe to return across threads.
class [[nodiscard]] status {
 public:
  static constexpr int max_message = 256;

  /// An ok status. The message buffer is written by error() only and read from a failed status
  /// only: every argument check returns a status, and zero-filling 256 bytes per check cost a
  /// LayerNorm call ~40 ns (as much as normalizing ~450 of a hot row's floats).
  status() noexcept {}

  /// Builds a failed status with a printf-style message (truncated to max_message - 1 chars).
  /// Cold and out of line, so that the checks calling it stay small enough to inline.
#if defined(__GNUC__) || defined(__clang__)
  __attribute__((format(printf, 2, 3), cold, noinline))
#endif
  static status
  error(errc code, const char* format, ...) noexcept {
    status s;
    s.code_ = code;
    std::va_list args;
    va_start(args, format);
    std::vsnprintf(s.message_, sizeof s.message_, format, args);
    va_end(args);
    return s;
  }

  constexpr bool ok() const noexcept { return code_ == errc::ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  constexpr errc code() const noexcept { return code_; }
  /// The message; "" for ok.
  constexpr const char* message() const noexcept { return ok() ? "" : message_; }

 private:
  errc code_ = errc::ok;
  char message_[max_message];  // written by error() only
};

#if FUSEDOPS_HAS_EXCEPTIONS
/// Exception thrown by throw_if_error; what() is the status message.
class error : public std::runtime_error {
 public:
  explicit error(const status& s)
      : std::runtime_error(std::string(s.message()) + " [" + to_string(s.code()) + "]"),
        code_(s.code()) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

/// Throws fusedops::error when `s` is a failure; returns normally otherwise.
inline void throw_if_error(const status& s) {
  if (!s.ok()) throw error(s);
}
#endif

/// For programs built without exceptions that treat any error as fatal: prints the message to
/// stderr and aborts. Library code never calls this; it is a convenience for applications.
inline void abort_if_error(const status& s) noexcept {
  if (s.ok()) return;
  std::fprintf(stderr, "fusedops error [%s]: %s\n", to_string(s.code()), s.message());
  std::abort();
}

}  // namespace fusedops

/// Inside a function returning status: evaluate `expr` (a status) and return it if it failed.
#define FUSEDOPS_RETURN_IF_ERROR(expr)            \
  do {                                            \
    ::fusedops::status fusedops_status_ = (expr); \
    if (!fusedops_status_.ok()) return fusedops_status_; \
  } while (0)
