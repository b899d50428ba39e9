// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Every bad argument of layer_norm, rms_norm, add_layer_norm, add_rms_norm: the error code, a
// message naming the operator and the argument, and outputs left exactly as they were.
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/normalization.hpp"
#include "support/backends.hpp"

namespace {

using namespace fusedops;

constexpr float sentinel = -12345.5f;

/// Buffers of one call: everything sentinel-filled, so "untouched" is a memcmp.
struct arena {
  static constexpr index_t rows = 4, hidden = 24;
  std::vector<float> x = std::vector<float>(std::size_t(rows * hidden * 2), 0.5f);
  std::vector<float> r = std::vector<float>(std::size_t(rows * hidden * 2), 0.25f);
  std::vector<float> out = std::vector<float>(std::size_t(rows * hidden * 4), sentinel);
  std::vector<float> vecs = std::vector<float>(std::size_t(hidden * 4), 1.0f);
  std::vector<float> stats = std::vector<float>(std::size_t(rows * 4), sentinel);

  view<const float, 2> xv() const { return make_view(x.data(), {rows, hidden}); }
  view<const float, 2> rv() const { return make_view(r.data(), {rows, hidden}); }
  view<float, 2> sum() { return make_view(out.data(), {rows, hidden}); }
  view<float, 2> y() { return make_view(out.data() + 2 * rows * hidden, {rows, hidden}); }
  view<const float, 1> scale() const { return make_view(vecs.data(), {hidden}); }
  view<const float, 1> bias() const { return make_view(vecs.data() + hidden, {hidden}); }
  view<float, 1> mean() { return make_view(stats.data(), {rows}); }
  view<float, 1> inv() { return make_view(stats.data() + 2 * rows, {rows}); }
};

/// Runs `call` on a fresh arena; checks code, that the message holds every `needles`, and that
/// no output buffer changed.
void expect_error(const std::function<status(arena&)>& call, errc code,
                  const std::vector<std::string>& needles) {
  arena a;
  const std::vector<float> out0 = a.out, stats0 = a.stats, x0 = a.x, r0 = a.r;
  const status s = call(a);
  const std::string msg = s.message();
  CAPTURE(msg);
  CHECK(s.code() == code);
  for (const auto& n : needles) CHECK_MESSAGE(msg.find(n) != std::string::npos, "missing: " << n);
  CHECK(std::memcmp(a.out.data(), out0.data(), out0.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.stats.data(), stats0.data(), stats0.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.x.data(), x0.data(), x0.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.r.data(), r0.data(), r0.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("normalization: argument errors leave outputs untouched", B,
                          norm_err_id) {
  constexpr index_t R = arena::rows, H = arena::hidden;
  SUBCASE("axis out of range") {
    for (int axis : {2, -3, 100}) {
      expect_error(
          [&](arena& a) {
            layer_norm_params p;
            p.axis = axis;
            return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
          },
          errc::invalid_argument, {"layer_norm", "'axis'", std::to_string(axis), "[4, 24]"});
      expect_error(
          [&](arena& a) {
            rms_norm_params p;
            p.axis = axis;
            return rms_norm<B>(a.xv(), a.scale(), a.y(), p);
          },
          errc::invalid_argument, {"rms_norm", "'axis'"});
    }
  }
  SUBCASE("epsilon negative, NaN or infinite") {
    for (float eps : {-1e-5f, std::numeric_limits<float>::quiet_NaN(),
                      std::numeric_limits<float>::infinity()}) {
      expect_error(
          [&](arena& a) {
            layer_norm_params p;
            p.epsilon = eps;
            return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
          },
          errc::invalid_argument, {"layer_norm", "'epsilon'"});
      expect_error(
          [&](arena& a) {
            rms_norm_params p;
            p.epsilon = eps;
            return add_rms_norm<B>(a.xv(), a.rv(), a.scale(), a.sum(), a.y(), p);
          },
          errc::invalid_argument, {"add_rms_norm", "'epsilon'"});
    }
  }
  SUBCASE("shape mismatches") {
    expect_error(
        [&](arena& a) {
          return layer_norm<B>(a.xv(), a.scale(), make_view(a.out.data(), {R, H - 1}));
        },
        errc::shape_mismatch, {"layer_norm", "'y'", "[4, 23]", "[4, 24]"});
    expect_error(
        [&](arena& a) { return layer_norm<B>(a.xv(), make_view(a.vecs.data(), {H + 1}), a.y()); },
        errc::shape_mismatch, {"layer_norm", "'scale'", "[25]", "[24]"});
    expect_error(
        [&](arena& a) {
          layer_norm_params p;
          p.bias = make_view(a.vecs.data() + H, {H - 2});
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::shape_mismatch, {"layer_norm", "'bias'", "[22]"});
    expect_error(
        [&](arena& a) {
          layer_norm_params p;
          p.mean = make_view(a.stats.data(), {R + 1});
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::shape_mismatch, {"layer_norm", "'mean'", "[5]", "[4]"});
    expect_error(
        [&](arena& a) {
          layer_norm_params p;
          p.inv_std_dev = make_view(a.stats.data(), {R - 1});
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::shape_mismatch, {"layer_norm", "'inv_std_dev'"});
    expect_error(
        [&](arena& a) {  // axis 0: scale must cover rows × hidden
          layer_norm_params p;
          p.axis = 0;
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::shape_mismatch, {"layer_norm", "'scale'", "[96]", "axis 0"});
    expect_error(
        [&](arena& a) {
          return add_layer_norm<B>(a.xv(), make_view(a.r.data(), {R - 1, H}), a.scale(), a.sum(),
                                   a.y());
        },
        errc::shape_mismatch, {"add_layer_norm", "'residual'", "[3, 24]"});
    expect_error(
        [&](arena& a) {
          return add_rms_norm<B>(a.xv(), a.rv(), a.scale(), make_view(a.out.data(), {R, H + 1}),
                                 a.y());
        },
        errc::shape_mismatch, {"add_rms_norm", "'sum'"});
    expect_error(
        [&](arena& a) {
          rms_norm_params p;
          p.residual_bias = make_view(a.vecs.data(), {index_t{3}});
          return add_rms_norm<B>(a.xv(), a.rv(), a.scale(), a.sum(), a.y(), p);
        },
        errc::shape_mismatch, {"add_rms_norm", "'residual_bias'", "[3]"});
  }
  SUBCASE("residual_bias on a plain norm") {
    expect_error(
        [&](arena& a) {
          layer_norm_params p;
          p.residual_bias = a.bias();
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::invalid_argument, {"layer_norm", "'residual_bias'", "add_layer_norm"});
    expect_error(
        [&](arena& a) {
          rms_norm_params p;
          p.residual_bias = a.bias();
          return rms_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::invalid_argument, {"rms_norm", "'residual_bias'"});
  }
  SUBCASE("null pointers and negative extents") {
    expect_error(
        [&](arena& a) {
          return layer_norm<B>(make_view(static_cast<const float*>(nullptr), {R, H}), a.scale(),
                               a.y());
        },
        errc::null_pointer, {"layer_norm", "'x'"});
    expect_error(
        [&](arena& a) {
          return rms_norm<B>(a.xv(), make_view(static_cast<const float*>(nullptr), {H}), a.y());
        },
        errc::null_pointer, {"rms_norm", "'scale'"});
    expect_error(
        [&](arena& a) {
          return add_layer_norm<B>(a.xv(), a.rv(), a.scale(),
                                   make_view(static_cast<float*>(nullptr), {R, H}), a.y());
        },
        errc::null_pointer, {"add_layer_norm", "'sum'"});
    expect_error(
        [&](arena& a) {
          return layer_norm<B>(make_view(a.x.data(), {index_t{-1}, H}), a.scale(), a.y());
        },
        errc::invalid_argument, {"layer_norm", "'x'", "negative"});
  }
  SUBCASE("strides") {
    expect_error(
        [&](arena& a) {  // hidden not unit stride
          return layer_norm<B>(make_view(a.x.data(), {R, H}, {2 * H, 2}), a.scale(), a.y());
        },
        errc::bad_stride, {"layer_norm", "'x'", "unit stride", "[48, 2]"});
    expect_error(
        [&](arena& a) {  // normalized dims [1, 3) not contiguous
          return rms_norm<B>(make_view(a.x.data(), {R, index_t{2}, H / 2}, {H * 2, H, 1}),
                             a.scale(), make_view(a.out.data(), {R, index_t{2}, H / 2}),
                             rms_norm_params{1});
        },
        errc::bad_stride, {"rms_norm", "'x'", "[1, 3)"});
    expect_error(
        [&](arena& a) { return layer_norm<B>(a.xv(), make_view(a.vecs.data(), {H}, {2}), a.y()); },
        errc::bad_stride, {"layer_norm", "'scale'", "unit stride"});
    expect_error(
        [&](arena& a) {  // overlapping output rows
          return layer_norm<B>(a.xv(), a.scale(), make_view(a.out.data(), {R, H}, {H / 2, 1}));
        },
        errc::bad_stride, {"layer_norm", "'y'", "overlap"});
    expect_error(
        [&](arena& a) {
          layer_norm_params p;
          p.mean = make_view(a.stats.data(), {R}, {0});
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::bad_stride, {"layer_norm", "'mean'"});
  }
  SUBCASE("aliasing") {
    expect_error(
        [&](arena& a) {  // y partially overlaps x
          auto xv = make_view(static_cast<const float*>(a.out.data()), {R, H});
          return layer_norm<B>(xv, a.scale(), make_view(a.out.data() + 1, {R, H}));
        },
        errc::invalid_argument, {"layer_norm", "'y'", "'x'"});
    expect_error(
        [&](arena& a) {  // y over scale
          return layer_norm<B>(
              a.xv(), make_view(static_cast<const float*>(a.out.data() + 2 * R * H), {H}), a.y());
        },
        errc::invalid_argument, {"layer_norm", "'y'", "'scale'"});
    expect_error(
        [&](arena& a) {  // y is sum
          return add_layer_norm<B>(a.xv(), a.rv(), a.scale(), a.y(), a.y());
        },
        errc::invalid_argument, {"add_layer_norm", "'y'", "'sum'"});
    expect_error(
        [&](arena& a) {  // sum partially overlaps residual
          auto rv = make_view(static_cast<const float*>(a.out.data() + H), {R, H});
          return add_rms_norm<B>(a.xv(), rv, a.scale(), a.sum(), a.y());
        },
        errc::invalid_argument, {"add_rms_norm", "'sum'", "'residual'"});
    expect_error(
        [&](arena& a) {  // mean inside y
          layer_norm_params p;
          p.mean = make_view(a.out.data() + 2 * R * H, {R});
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::invalid_argument, {"layer_norm", "'mean'", "'y'"});
    expect_error(
        [&](arena& a) {  // mean and inv_std_dev share memory
          layer_norm_params p;
          p.mean = a.mean();
          p.inv_std_dev = a.mean();
          return layer_norm<B>(a.xv(), a.scale(), a.y(), p);
        },
        errc::invalid_argument, {"layer_norm", "'mean'", "'inv_std_dev'"});
  }
  SUBCASE("empty normalized dimensions") {
    expect_error(
        [&](arena& a) {
          return layer_norm<B>(make_view(a.x.data(), {R, index_t{0}}),
                               make_view(a.vecs.data(), {index_t{0}}),
                               make_view(a.out.data(), {R, index_t{0}}));
        },
        errc::invalid_argument, {"layer_norm", "no elements"});
  }
}
TEST_CASE_TEMPLATE_APPLY(norm_err_id, fusedops::test::compiled_backends_tuple);
