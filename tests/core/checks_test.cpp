// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Unit tests of fusedops::checks: argument validation shared by every public operator.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/core/checks.hpp"
#include "fusedops/core/status.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace {

using fusedops::dims;
using fusedops::errc;
using fusedops::index_t;
using fusedops::make_view;
using fusedops::status;
using fusedops::view;
namespace checks = fusedops::checks;

bool contains(const status& s, const char* text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("checks::tensor") {
  float x[16] = {};

  SUBCASE("valid views pass") {
    CHECK(checks::tensor("op", "x", make_view(x, {4, 4})).ok());
    CHECK(checks::tensor("op", "x", make_view(x, {2, 2}, {8, 1})).ok());
    CHECK(checks::tensor("op", "x", make_view(x, {4, 4}, {0, 1})).ok());  // broadcast input
    CHECK(checks::tensor("op", "x", make_view(static_cast<const float*>(x), {16})).ok());
    CHECK(checks::tensor("op", "x", view<float, 0>(x, dims<0>{})).ok());
  }
  SUBCASE("a negative extent is an invalid argument") {
    const status s = checks::tensor("my_op", "weights", make_view(x, {3, -2}));
    CHECK(s.code() == errc::invalid_argument);
    CHECK(contains(s, "my_op"));
    CHECK(contains(s, "'weights'"));
    CHECK(contains(s, "[3, -2]"));
    CHECK(contains(s, "negative"));
    // Checked before the pointer: a null view with a negative extent still reports the extent.
    const status n = checks::tensor("my_op", "w", view<float, 2>(nullptr, dims<2>{-1, 4}));
    CHECK(n.code() == errc::invalid_argument);
    // Even when the element count is zero.
    CHECK(checks::tensor("op", "x", make_view(x, {0, -5})).code() == errc::invalid_argument);
  }
  SUBCASE("a null pointer with a non-empty shape is null_pointer") {
    const status s = checks::tensor("my_op", "bias", view<const float, 1>(nullptr, dims<1>{5}));
    CHECK(s.code() == errc::null_pointer);
    CHECK(std::string(s.message()) == "my_op: argument 'bias' (shape [5]) has a null data pointer");
    // Rank 0 has one element, so null is an error there too.
    CHECK(checks::tensor("op", "s", view<float, 0>(nullptr, dims<0>{})).code() ==
          errc::null_pointer);
  }
  SUBCASE("a null pointer with an empty shape is fine") {
    CHECK(checks::tensor("op", "x", view<float, 2>(nullptr, dims<2>{0, 7})).ok());
    CHECK(checks::tensor("op", "x", view<float, 2>(nullptr, dims<2>{7, 0})).ok());
    CHECK(checks::tensor("op", "x", view<float, 1>()).ok());
    CHECK(checks::tensor("op", "x", view<float, 3>()).ok());
  }
}

TEST_CASE("checks::output") {
  std::vector<float> buf(256);
  float* p = buf.data();

  SUBCASE("contiguous, padded and transposed outputs are accepted") {
    CHECK(checks::output("op", "y", make_view(p, {4, 8})).ok());
    CHECK(checks::output("op", "y", make_view(p, {4, 8}, {8, 1})).ok());   // ld == row
    CHECK(checks::output("op", "y", make_view(p, {4, 8}, {12, 1})).ok());  // padded ld
    CHECK(checks::output("op", "y", make_view(p, {4, 8}).transpose()).ok());
    CHECK(checks::output("op", "y", make_view(p, {4, 8}, {1, 4})).ok());   // column-major
    CHECK(checks::output("op", "y", make_view(p, {4, 8}, {1, 6})).ok());   // padded column-major
    CHECK(checks::output("op", "y", make_view(p, {4, 8}, {16, 2})).ok());  // every other column
    CHECK(checks::output("op", "y", make_view(p, {10})).ok());
    CHECK(checks::output("op", "y", make_view(p, {10}, {3})).ok());
    CHECK(checks::output("op", "y", view<float, 0>(p, dims<0>{})).ok());
  }
  SUBCASE("negative strides are fine when elements are distinct") {
    CHECK(checks::output("op", "y", view<float, 1>(p + 9, dims<1>{10}, dims<1>{-1})).ok());
    CHECK(checks::output("op", "y", view<float, 2>(p + 32, dims<2>{4, 8}, dims<2>{-8, 1})).ok());
  }
  SUBCASE("stride 0 (broadcast) outputs are rejected") {
    const status s = checks::output("my_op", "out", make_view(p, {4, 8}, {0, 1}));
    CHECK(s.code() == errc::bad_stride);
    CHECK(contains(s, "my_op"));
    CHECK(contains(s, "'out'"));
    CHECK(contains(s, "[4, 8]"));
    CHECK(checks::output("op", "y", make_view(p, {4, 8}, {8, 0})).code() == errc::bad_stride);
    CHECK(checks::output("op", "y", make_view(p, {5}, {0})).code() == errc::bad_stride);
  }
  SUBCASE("a stride of 0 on a size-1 dimension is harmless") {
    CHECK(checks::output("op", "y", make_view(p, {1, 8}, {0, 1})).ok());
    CHECK(checks::output("op", "y", make_view(p, {4, 1}, {8, 0})).ok());
  }
  SUBCASE("a leading dimension smaller than the row is rejected") {
    const status s = checks::output("gemm", "c", make_view(p, {4, 8}, {7, 1}));
    CHECK(s.code() == errc::bad_stride);
    CHECK(contains(s, "gemm"));
    CHECK(contains(s, "'c'"));
    CHECK(checks::output("op", "y", make_view(p, {4, 8}, {1, 3})).code() == errc::bad_stride);
    CHECK(checks::output("op", "y", make_view(p, {2, 2}, {1, 1})).code() == errc::bad_stride);
    // Negative strides overlapping in the same way.
    CHECK(checks::output("op", "y", view<float, 2>(p + 64, dims<2>{4, 8}, dims<2>{-7, 1})).code() ==
          errc::bad_stride);
  }
  SUBCASE("3-D outputs") {
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4})).ok());
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4}, {16, 4, 1})).ok());  // padded batch
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4}, {20, 5, 1})).ok());  // padded rows
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4}).permute({2, 0, 1})).ok());
    // Batch stride too small: batch 1 overlaps the last row of batch 0.
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4}, {8, 4, 1})).code() == errc::bad_stride);
    // Batch stride 0: every batch writes the same matrix.
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4}, {0, 4, 1})).code() == errc::bad_stride);
  }
  SUBCASE("4-D outputs") {
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4, 5})).ok());
    CHECK(
        checks::output("op", "y", make_view(p, {2, 3, 4, 5}).permute({0, 2, 3, 1})).ok());  // NHWC
    CHECK(checks::output("op", "y", make_view(p, {1, 3, 4, 5}, {0, 20, 5, 1})).ok());
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4, 5}, {64, 20, 5, 1})).ok());
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4, 5}, {60, 20, 4, 1})).code() ==
          errc::bad_stride);
    CHECK(checks::output("op", "y", make_view(p, {2, 3, 4, 5}, {60, 19, 5, 1})).code() ==
          errc::bad_stride);
  }
  SUBCASE("empty outputs need no valid strides or pointer") {
    CHECK(checks::output("op", "y", make_view(p, {0, 8}, {0, 0})).ok());
    CHECK(checks::output("op", "y", view<float, 2>(nullptr, dims<2>{3, 0})).ok());
  }
  SUBCASE("the tensor checks come first") {
    CHECK(checks::output("op", "y", view<float, 2>(nullptr, dims<2>{3, 4})).code() ==
          errc::null_pointer);
    CHECK(checks::output("op", "y", make_view(p, {3, -4})).code() == errc::invalid_argument);
  }
}

TEST_CASE("checks::shape_equals") {
  CHECK(checks::shape_equals<2>("op", "x", dims<2>{3, 5}, dims<2>{3, 5}, "same").ok());
  CHECK(checks::shape_equals<0>("op", "x", dims<0>{}, dims<0>{}, "scalars").ok());

  const status s = checks::shape_equals<1>("bias_activation", "bias", dims<1>{7}, dims<1>{5},
                                           "the last dimension of 'x' [3, 5]");
  CHECK(s.code() == errc::shape_mismatch);
  CHECK(std::string(s.message()) ==
        "bias_activation: argument 'bias' has shape [7], expected [5] (the last dimension of 'x' "
        "[3, 5])");

  const status t =
      checks::shape_equals<3>("op", "y", dims<3>{2, 3, 4}, dims<3>{2, 4, 3}, "the shape of 'x'");
  CHECK(t.code() == errc::shape_mismatch);
  CHECK(std::string(t.message()) ==
        "op: argument 'y' has shape [2, 3, 4], expected [2, 4, 3] (the shape of 'x')");

  // Works directly on view shapes.
  float a[12] = {}, b[12] = {};
  CHECK(checks::shape_equals<2>("op", "b", make_view(b, {3, 4}).shape(),
                                make_view(a, {3, 4}).shape(), "x")
            .ok());
  CHECK_FALSE(checks::shape_equals<2>("op", "b", make_view(b, {4, 3}).shape(),
                                      make_view(a, {3, 4}).shape(), "x")
                  .ok());
}

TEST_CASE("checks::in_place_or_disjoint") {
  std::vector<float> buf(64);
  float* p = buf.data();
  const float* cp = p;

  SUBCASE("the identical view is accepted (in-place)") {
    const auto y = make_view(p, {4, 8});
    const view<const float, 2> x = y;
    CHECK(checks::in_place_or_disjoint("op", "y", y, "x", x).ok());
    // Also for a strided and a transposed view, as long as both are the same.
    const auto ys = make_view(p, {4, 4}, {8, 2});
    CHECK(checks::in_place_or_disjoint("op", "y", ys, "x", view<const float, 2>(ys)).ok());
    const auto yt = y.transpose();
    CHECK(checks::in_place_or_disjoint("op", "y", yt, "x", view<const float, 2>(yt)).ok());
  }
  SUBCASE("disjoint views are accepted") {
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p, {2, 8}), "x",
                                       make_view(cp + 16, {2, 8}))
              .ok());
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p + 16, {2, 8}), "x",
                                       make_view(cp, {2, 8}))
              .ok());
    // Exactly adjacent ranges in both orders.
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p, {10}), "x", make_view(cp + 10, {10}))
              .ok());
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p + 10, {10}), "x", make_view(cp, {10}))
              .ok());
    // Different ranks (a bias vector next to the output).
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p, {4, 8}), "bias",
                                       make_view(cp + 32, {8}))
              .ok());
    // A reversed input that ends just before the output.
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p + 4, {4}), "x",
                                       view<const float, 1>(cp + 3, dims<1>{4}, dims<1>{-1}))
              .ok());
    // Empty views touch nothing.
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p, {0, 8}), "x", make_view(cp, {4, 8}))
              .ok());
    CHECK(checks::in_place_or_disjoint("op", "y", make_view(p, {4, 8}), "x", make_view(cp, {4, 0}))
              .ok());
  }
  SUBCASE("partial overlap is rejected, naming both arguments") {
    const status s = checks::in_place_or_disjoint("bias_activation", "y", make_view(p + 1, {2, 8}),
                                                  "x", make_view(cp, {2, 8}));
    CHECK(s.code() == errc::invalid_argument);
    CHECK(contains(s, "bias_activation"));
    CHECK(contains(s, "'y'"));
    CHECK(contains(s, "'x'"));
    CHECK(contains(s, "[2, 8]"));
    CHECK(contains(s, "overlap"));

    // Overlap by a single element at either end.
    CHECK_FALSE(
        checks::in_place_or_disjoint("op", "y", make_view(p, {10}), "x", make_view(cp + 9, {10}))
            .ok());
    CHECK_FALSE(
        checks::in_place_or_disjoint("op", "y", make_view(p + 9, {10}), "x", make_view(cp, {10}))
            .ok());
    // Same pointer but a different shape or different strides is not "in place".
    CHECK_FALSE(
        checks::in_place_or_disjoint("op", "y", make_view(p, {4, 8}), "x", make_view(cp, {8, 4}))
            .ok());
    const auto y = make_view(p, {4, 4});
    CHECK_FALSE(
        checks::in_place_or_disjoint("op", "y", y, "x", view<const float, 2>(y.transpose())).ok());
    CHECK_FALSE(checks::in_place_or_disjoint("op", "y", make_view(p, {4, 4}, {8, 1}), "x",
                                             make_view(cp, {4, 4}, {4, 1}))
                    .ok());
    // An input contained in the output.
    CHECK_FALSE(
        checks::in_place_or_disjoint("op", "y", make_view(p, {4, 8}), "x", make_view(cp + 8, {8}))
            .ok());
    // A reversed input overlapping the output by one element.
    CHECK_FALSE(checks::in_place_or_disjoint("op", "y", make_view(p + 3, {4}), "x",
                                             view<const float, 1>(cp + 3, dims<1>{4}, dims<1>{-1}))
                    .ok());
    // Different ranks that share memory.
    CHECK_FALSE(
        checks::in_place_or_disjoint("op", "y", make_view(p, {4, 8}), "x", make_view(cp, {32}))
            .ok());
  }
}
