// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// Unit tests of fusedops::view: construction, indexing, layout queries and the O(rank) reshapes.
#include <array>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "fusedops/core/shape.hpp"
#include "fusedops/core/tensor_view.hpp"

namespace {

using fusedops::dims;
using fusedops::index_t;
using fusedops::make_view;
using fusedops::view;

// A buffer holding 0, 1, 2, ... so every element's value is its linear offset.
std::vector<float> iota_buffer(std::size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

// Offset of an element inside `base`, as an index_t.
template <class T>
index_t offset(const T* base, const T* p) {
  return static_cast<index_t>(p - base);
}

float sum_of(view<const float, 2> v) {
  float s = 0.0f;
  for (index_t i = 0; i < v.shape(0); ++i)
    for (index_t j = 0; j < v.shape(1); ++j) s += v(i, j);
  return s;
}

}  // namespace

TEST_CASE("view: default view is empty") {
  const view<float, 2> v;
  CHECK(v.data() == nullptr);
  CHECK(v.shape(0) == 0);
  CHECK(v.shape(1) == 0);
  CHECK(v.size() == 0);
  CHECK(v.empty());
  static_assert(view<float, 3>::rank == 3, "rank member");
  static_assert(std::is_same_v<view<const float, 2>::value_type, float>, "value_type drops const");
  static_assert(std::is_same_v<view<const float, 2>::element_type, const float>,
                "element_type keeps const");
  static_assert(std::is_trivially_copyable_v<view<float, 4>>, "views are cheap to pass by value");
}

TEST_CASE("view: contiguous construction with make_view") {
  auto buf = iota_buffer(12);
  const auto v = make_view(buf.data(), {3, 4});
  static_assert(std::is_same_v<std::remove_const_t<decltype(v)>, view<float, 2>>,
                "make_view rank/type");
  CHECK(v.data() == buf.data());
  CHECK(v.shape() == dims<2>{3, 4});
  CHECK(v.strides() == dims<2>{4, 1});
  CHECK(v.shape(0) == 3);
  CHECK(v.shape(1) == 4);
  CHECK(v.stride(0) == 4);
  CHECK(v.stride(1) == 1);
  CHECK(v.size() == 12);
  CHECK_FALSE(v.empty());
  CHECK(v.is_contiguous());
  for (index_t i = 0; i < 3; ++i)
    for (index_t j = 0; j < 4; ++j) CHECK(v(i, j) == static_cast<float>(i * 4 + j));

  // Writes through the view land in the buffer.
  v(2, 1) = -1.0f;
  CHECK(buf[9] == -1.0f);
  // Element access returns a reference into the buffer.
  CHECK(&v(1, 3) == buf.data() + 7);

  // The direct constructor gives the same thing.
  const view<float, 2> w(buf.data(), dims<2>{3, 4});
  CHECK(w.strides() == v.strides());
  CHECK(&w(2, 3) == &v(2, 3));
}

TEST_CASE("view: strided construction") {
  auto buf = iota_buffer(64);
  SUBCASE("padded leading dimension") {
    const auto v = make_view(buf.data(), {3, 4}, {10, 1});
    CHECK(v.strides() == dims<2>{10, 1});
    CHECK(v.size() == 12);
    CHECK(v(0, 0) == 0.0f);
    CHECK(v(1, 0) == 10.0f);
    CHECK(v(2, 3) == 23.0f);
    CHECK_FALSE(v.is_contiguous());
  }
  SUBCASE("column-major storage") {
    const auto v = make_view(buf.data(), {3, 4}, {1, 3});
    CHECK(v(2, 0) == 2.0f);
    CHECK(v(0, 1) == 3.0f);
    CHECK(v(2, 3) == 11.0f);
    CHECK_FALSE(v.is_contiguous());
  }
  SUBCASE("broadcast (stride 0)") {
    const auto v = make_view(buf.data() + 5, {4, 3}, {0, 1});
    for (index_t i = 0; i < 4; ++i) {
      CHECK(v(i, 0) == 5.0f);
      CHECK(v(i, 2) == 7.0f);
    }
    CHECK_FALSE(v.is_contiguous());
  }
  SUBCASE("negative stride (reversed)") {
    const view<float, 1> v(buf.data() + 9, dims<1>{10}, dims<1>{-1});
    CHECK(v(0) == 9.0f);
    CHECK(v(9) == 0.0f);
    CHECK_FALSE(v.is_contiguous());
  }
  SUBCASE("3-D strided") {
    const auto v = make_view(buf.data(), {2, 3, 2}, {20, 5, 2});
    CHECK(v(1, 2, 1) == 20.0f + 10.0f + 2.0f);
    CHECK(v.size() == 12);
  }
}

TEST_CASE("view: size and empty") {
  float x[8] = {};
  CHECK(make_view(x, {8}).size() == 8);
  CHECK(make_view(x, {2, 4}).size() == 8);
  CHECK(make_view(x, {2, 2, 2}).size() == 8);
  CHECK(make_view(x, {1, 2, 2, 2}).size() == 8);
  CHECK(make_view(x, {0}).empty());
  CHECK(make_view(x, {3, 0}).empty());
  CHECK(make_view(x, {0, 3}).size() == 0);
  CHECK(make_view(x, {2, 0, 4, 1}).empty());
  CHECK_FALSE(make_view(x, {1, 1, 1, 1}).empty());
  CHECK(make_view(x, {1, 1, 1, 1}).size() == 1);
}

TEST_CASE("view: is_contiguous") {
  float x[64] = {};
  CHECK(make_view(x, {4, 4}).is_contiguous());
  CHECK(make_view(x, {4, 4}, {4, 1}).is_contiguous());
  CHECK_FALSE(make_view(x, {4, 4}, {5, 1}).is_contiguous());  // padded leading dimension
  CHECK_FALSE(make_view(x, {4, 4}, {4, 2}).is_contiguous());  // every other column
  CHECK_FALSE(make_view(x, {4, 4}, {1, 4}).is_contiguous());  // column-major
  CHECK_FALSE(make_view(x, {4, 4}, {0, 1}).is_contiguous());  // broadcast rows

  SUBCASE("size-1 dimensions are ignored whatever their stride") {
    CHECK(make_view(x, {1, 4}, {999, 1}).is_contiguous());
    CHECK(make_view(x, {4, 1}, {1, 77}).is_contiguous());
    CHECK(make_view(x, {4, 1}, {1, 0}).is_contiguous());
    CHECK(make_view(x, {1, 3, 1, 5}, {0, 5, 123, 1}).is_contiguous());
    CHECK(make_view(x, {1, 1}, {-3, 42}).is_contiguous());
    // ...but they do not hide a gap between the others.
    CHECK_FALSE(make_view(x, {3, 1, 5}, {6, 5, 1}).is_contiguous());
  }
  SUBCASE("padded 3-D and 4-D tensors") {
    CHECK(make_view(x, {2, 3, 4}).is_contiguous());
    CHECK_FALSE(make_view(x, {2, 3, 4}, {16, 4, 1}).is_contiguous());  // padded batch stride
    CHECK_FALSE(make_view(x, {2, 3, 4}, {15, 5, 1}).is_contiguous());  // padded rows
    CHECK(make_view(x, {1, 2, 3, 4}).is_contiguous());
    CHECK_FALSE(make_view(x, {1, 2, 3, 4}, {24, 12, 1, 3}).is_contiguous());
  }
  SUBCASE("a transposed contiguous view is not contiguous, transposing back restores it") {
    const auto v = make_view(x, {3, 5});
    CHECK_FALSE(v.transpose().is_contiguous());
    CHECK(v.transpose().transpose().is_contiguous());
  }
}

TEST_CASE("view: transpose and permute") {
  auto buf = iota_buffer(24);
  const auto v = make_view(buf.data(), {3, 4});
  const auto t = v.transpose();
  CHECK(t.shape() == dims<2>{4, 3});
  CHECK(t.strides() == dims<2>{1, 4});
  CHECK(t.data() == v.data());
  for (index_t i = 0; i < 3; ++i)
    for (index_t j = 0; j < 4; ++j) CHECK(&t(j, i) == &v(i, j));

  const auto c = make_view(buf.data(), {2, 3, 4});
  SUBCASE("transpose of chosen dimensions") {
    const auto u = c.transpose(0, 2);
    CHECK(u.shape() == dims<3>{4, 3, 2});
    CHECK(u.strides() == dims<3>{1, 4, 12});
    CHECK(&u(3, 1, 1) == &c(1, 1, 3));
    const auto same = c.transpose(1, 1);
    CHECK(same.shape() == c.shape());
    CHECK(same.strides() == c.strides());
  }
  SUBCASE("permute: result dimension i is dimension order[i]") {
    const auto p = c.permute({2, 0, 1});
    CHECK(p.shape() == dims<3>{4, 2, 3});
    CHECK(p.strides() == dims<3>{1, 12, 4});
    for (index_t a = 0; a < 2; ++a)
      for (index_t b = 0; b < 3; ++b)
        for (index_t k = 0; k < 4; ++k) CHECK(&p(k, a, b) == &c(a, b, k));
    CHECK(c.permute({0, 1, 2}).is_contiguous());
    CHECK_FALSE(p.is_contiguous());
    // The inverse permutation restores the original layout.
    const auto back = p.permute({1, 2, 0});
    CHECK(back.shape() == c.shape());
    CHECK(back.strides() == c.strides());
  }
  SUBCASE("4-D NCHW seen as NHWC") {
    const auto nchw = make_view(buf.data(), {1, 2, 3, 4});
    const auto nhwc = nchw.permute({0, 2, 3, 1});
    CHECK(nhwc.shape() == dims<4>{1, 3, 4, 2});
    CHECK(nhwc.strides() == dims<4>{24, 4, 1, 12});
    CHECK(nhwc(0, 2, 3, 1) == nchw(0, 1, 2, 3));
    CHECK(nhwc(0, 2, 3, 1) == 23.0f);
  }
}

TEST_CASE("view: slice") {
  auto buf = iota_buffer(40);
  const auto v = make_view(buf.data(), {5, 8});

  SUBCASE("rows of a contiguous matrix stay contiguous") {
    const auto s = v.slice(0, 1, 4);
    CHECK(s.shape() == dims<2>{3, 8});
    CHECK(s.strides() == dims<2>{8, 1});
    CHECK(s.data() == buf.data() + 8);
    CHECK(s(0, 0) == 8.0f);
    CHECK(s(2, 7) == 31.0f);
    CHECK(s.is_contiguous());
  }
  SUBCASE("columns keep the leading dimension") {
    const auto s = v.slice(1, 2, 5);
    CHECK(s.shape() == dims<2>{5, 3});
    CHECK(s.strides() == dims<2>{8, 1});
    CHECK(s(0, 0) == 2.0f);
    CHECK(s(4, 2) == 36.0f);
    CHECK_FALSE(s.is_contiguous());
  }
  SUBCASE("with a step") {
    const auto s = v.slice(1, 1, 8, 3);  // columns 1, 4, 7
    CHECK(s.shape() == dims<2>{5, 3});
    CHECK(s.strides() == dims<2>{8, 3});
    CHECK(s(0, 0) == 1.0f);
    CHECK(s(0, 1) == 4.0f);
    CHECK(s(0, 2) == 7.0f);
    CHECK(s(3, 2) == 31.0f);
    const auto r = v.slice(0, 0, 5, 2);  // rows 0, 2, 4
    CHECK(r.shape(0) == 3);
    CHECK(r(2, 5) == 37.0f);
    // The extent rounds up: [0, 4) step 3 is {0, 3}; [0, 3) step 3 is {0}.
    CHECK(v.slice(1, 0, 4, 3).shape(1) == 2);
    CHECK(v.slice(1, 0, 3, 3).shape(1) == 1);
    CHECK(v.slice(1, 0, 8, 8).shape(1) == 1);
    CHECK(v.slice(1, 0, 8, 100).shape(1) == 1);
  }
  SUBCASE("empty ranges give an extent of zero") {
    CHECK(v.slice(0, 2, 2).shape(0) == 0);
    CHECK(v.slice(0, 2, 2).empty());
    CHECK(v.slice(1, 5, 3).shape(1) == 0);
  }
  SUBCASE("slice of a slice composes") {
    const auto s = v.slice(1, 1, 8, 2).slice(1, 1, 4, 2);  // columns 3, 7
    CHECK(s.shape(1) == 2);
    CHECK(s.stride(1) == 4);
    CHECK(s(1, 0) == 11.0f);
    CHECK(s(1, 1) == 15.0f);
  }
}

TEST_CASE("view: select drops a dimension") {
  auto buf = iota_buffer(24);
  const auto c = make_view(buf.data(), {2, 3, 4});

  const auto row = c.select(0, 1);
  static_assert(std::is_same_v<decltype(row), const view<float, 2>>, "select lowers the rank");
  CHECK(row.shape() == dims<2>{3, 4});
  CHECK(row.strides() == dims<2>{4, 1});
  CHECK(row(0, 0) == 12.0f);
  CHECK(row.is_contiguous());

  const auto mid = c.select(1, 2);
  CHECK(mid.shape() == dims<2>{2, 4});
  CHECK(mid.strides() == dims<2>{12, 1});
  CHECK(mid(1, 3) == 12.0f + 8.0f + 3.0f);
  CHECK_FALSE(mid.is_contiguous());

  const auto col = c.select(2, 3);
  CHECK(col.shape() == dims<2>{2, 3});
  CHECK(col.strides() == dims<2>{12, 4});
  CHECK(col(1, 2) == 23.0f);

  // Down to rank 1 and rank 0.
  const auto line = c.select(0, 1).select(0, 2);
  CHECK(line.shape() == dims<1>{4});
  CHECK(line(3) == 23.0f);
  const auto scalar = line.select(0, 1);
  static_assert(decltype(scalar)::rank == 0, "select of a rank-1 view is rank 0");
  CHECK(scalar() == 21.0f);
  CHECK(scalar.size() == 1);
}

TEST_CASE("view: reshape") {
  auto buf = iota_buffer(24);
  const auto v = make_view(buf.data(), {4, 6});

  SUBCASE("contiguous: ok with the same element count") {
    const auto r = v.reshape({2, 3, 4});
    REQUIRE(r.has_value());
    static_assert(std::is_same_v<decltype(r)::value_type, view<float, 3>>,
                  "reshape rank from the list");
    CHECK(r->shape() == dims<3>{2, 3, 4});
    CHECK(r->strides() == dims<3>{12, 4, 1});
    CHECK(r->data() == buf.data());
    CHECK((*r)(1, 2, 3) == 23.0f);

    const auto flat = v.reshape({24});
    REQUIRE(flat.has_value());
    CHECK((*flat)(17) == 17.0f);

    // dims<R> names its rank through a cast, so R is not deduced: it is given explicitly.
    const auto four = v.reshape<4>(dims<4>{1, 2, 12, 1});
    REQUIRE(four.has_value());
    CHECK((*four)(0, 1, 11, 0) == 23.0f);
  }
  SUBCASE("a contiguous row slice can be reshaped") {
    const auto r = v.slice(0, 1, 3).reshape({3, 4});
    REQUIRE(r.has_value());
    CHECK((*r)(0, 0) == 6.0f);
    CHECK((*r)(2, 3) == 17.0f);
  }
  SUBCASE("size-1 dimensions with odd strides do not block a reshape") {
    const auto odd = make_view(buf.data(), {1, 6}, {1000, 1});
    const auto r = odd.reshape({2, 3});
    REQUIRE(r.has_value());
    CHECK((*r)(1, 2) == 5.0f);
  }
  SUBCASE("wrong element count: nullopt") {
    CHECK_FALSE(v.reshape({5, 5}).has_value());
    CHECK_FALSE(v.reshape({23}).has_value());
    CHECK_FALSE(v.reshape({2, 3, 5}).has_value());
    CHECK_FALSE(v.reshape({0, 24}).has_value());
  }
  SUBCASE("non-contiguous: nullopt even with the right count") {
    CHECK_FALSE(v.transpose().reshape({24}).has_value());
    CHECK_FALSE(v.slice(1, 0, 3).reshape({12}).has_value());
    CHECK_FALSE(v.slice(1, 0, 6, 2).reshape({4, 3}).has_value());
    CHECK_FALSE(make_view(buf.data(), {2, 4}, {8, 1}).reshape({8}).has_value());
    CHECK_FALSE(make_view(buf.data(), {2, 4}, {0, 1}).reshape({8}).has_value());
  }
}

TEST_CASE("view: unsqueeze inserts a size-1 dimension") {
  auto buf = iota_buffer(32);
  const auto v = make_view(buf.data(), {3, 4});

  const auto front = v.unsqueeze(0);
  static_assert(decltype(front)::rank == 3, "unsqueeze raises the rank");
  CHECK(front.shape() == dims<3>{1, 3, 4});
  CHECK(front.strides() == dims<3>{12, 4, 1});
  CHECK(front.is_contiguous());
  CHECK(front(0, 2, 3) == 11.0f);

  const auto middle = v.unsqueeze(1);
  CHECK(middle.shape() == dims<3>{3, 1, 4});
  CHECK(middle.strides() == dims<3>{4, 4, 1});
  CHECK(middle.is_contiguous());
  CHECK(middle(2, 0, 1) == 9.0f);

  const auto back = v.unsqueeze(2);
  CHECK(back.shape() == dims<3>{3, 4, 1});
  CHECK(back.strides() == dims<3>{4, 1, 1});
  CHECK(back.is_contiguous());
  CHECK(back(1, 1, 0) == 5.0f);
  CHECK(back.reshape({12}).has_value());

  SUBCASE("a padded view keeps its layout") {
    const auto p = make_view(buf.data(), {3, 4}, {8, 1});
    const auto u = p.unsqueeze(1);
    CHECK(u.shape() == dims<3>{3, 1, 4});
    CHECK(u.stride(0) == 8);
    CHECK(u.stride(2) == 1);
    CHECK_FALSE(u.is_contiguous());
    for (index_t i = 0; i < 3; ++i)
      for (index_t j = 0; j < 4; ++j) CHECK(&u(i, 0, j) == &p(i, j));
  }
  SUBCASE("rank 1 -> rank 2 row and column vectors") {
    const auto line = make_view(buf.data(), {5});
    CHECK(line.unsqueeze(0).shape() == dims<2>{1, 5});
    CHECK(line.unsqueeze(1).shape() == dims<2>{5, 1});
    CHECK(line.unsqueeze(1)(4, 0) == 4.0f);
    CHECK(line.unsqueeze(0)(0, 4) == 4.0f);
  }
}

TEST_CASE("view: a view of T converts to a view of const T") {
  auto buf = iota_buffer(6);
  const view<float, 2> mutable_view = make_view(buf.data(), {2, 3});
  const view<const float, 2> const_view = mutable_view;
  CHECK(const_view.data() == mutable_view.data());
  CHECK(const_view.shape() == mutable_view.shape());
  CHECK(const_view.strides() == mutable_view.strides());
  CHECK(const_view(1, 2) == 5.0f);
  // Implicit conversion at a call site.
  CHECK(sum_of(mutable_view) == 15.0f);
  // A strided view converts too and keeps its strides.
  const view<const float, 2> t = mutable_view.transpose();
  CHECK(t.strides() == dims<2>{1, 3});

  static_assert(std::is_convertible_v<view<float, 2>, view<const float, 2>>, "T -> const T");
  static_assert(!std::is_convertible_v<view<const float, 2>, view<float, 2>>, "never const T -> T");
  static_assert(!std::is_convertible_v<view<float, 2>, view<const double, 2>>, "no type change");
  static_assert(!std::is_convertible_v<view<float, 2>, view<const float, 3>>, "no rank change");
  static_assert(
      !std::is_convertible_v<view<float, 2>, view<const float, 2, fusedops::device_memory>>,
      "no memory-space change");
  static_assert(!std::is_convertible_v<fusedops::device_view<float, 2>, view<const float, 2>>,
                "device memory never becomes host memory");
  static_assert(
      std::is_convertible_v<fusedops::device_view<float, 2>, fusedops::device_view<const float, 2>>,
      "const conversion within device memory");
  static_assert(std::is_same_v<decltype(const_view(0, 0)), const float&>, "const access");
}

TEST_CASE("view: ranks 0 to 4") {
  auto buf = iota_buffer(120);

  SUBCASE("rank 0") {
    const view<float, 0> s(buf.data() + 7, dims<0>{});
    CHECK(s.size() == 1);
    CHECK_FALSE(s.empty());
    CHECK(s.is_contiguous());
    CHECK(s() == 7.0f);
    CHECK(std::string(s.shape_string().c_str()) == "[]");
    const auto r = s.reshape({1, 1});
    REQUIRE(r.has_value());
    CHECK((*r)(0, 0) == 7.0f);
    CHECK(s.unsqueeze(0).shape() == dims<1>{1});
    CHECK(s.unsqueeze(0)(0) == 7.0f);
  }
  SUBCASE("rank 1") {
    const auto v = make_view(buf.data(), {5});
    CHECK(v.stride(0) == 1);
    CHECK(v(4) == 4.0f);
    CHECK(v.is_contiguous());
  }
  SUBCASE("rank 2") {
    const auto v = make_view(buf.data(), {4, 5});
    CHECK(v.strides() == dims<2>{5, 1});
    CHECK(v(3, 4) == 19.0f);
  }
  SUBCASE("rank 3") {
    const auto v = make_view(buf.data(), {3, 4, 5});
    CHECK(v.strides() == dims<3>{20, 5, 1});
    CHECK(v(2, 3, 4) == 59.0f);
    CHECK(v.size() == 60);
  }
  SUBCASE("rank 4") {
    const auto v = make_view(buf.data(), {2, 3, 4, 5});
    CHECK(v.strides() == dims<4>{60, 20, 5, 1});
    CHECK(v(1, 2, 3, 4) == 119.0f);
    CHECK(v(1, 0, 0, 0) == 60.0f);
    CHECK(v.size() == 120);
    CHECK(v.is_contiguous());
  }
}

TEST_CASE("view: shape_string and to_text") {
  float x[1] = {};
  CHECK(std::string(make_view(x, {7}).shape_string().c_str()) == "[7]");
  CHECK(std::string(make_view(x, {3, 5}).shape_string().c_str()) == "[3, 5]");
  CHECK(std::string(make_view(x, {2, 3, 4, 5}).shape_string().c_str()) == "[2, 3, 4, 5]");
  CHECK(std::string(make_view(x, {0, 1}).shape_string().c_str()) == "[0, 1]");
  CHECK(std::string(fusedops::to_text<2>(dims<2>{-1, 12345678901}).c_str()) == "[-1, 12345678901]");
  // Strides are not part of the text.
  CHECK(std::string(make_view(x, {3, 5}, {9, 1}).shape_string().c_str()) == "[3, 5]");

  SUBCASE("a shape too long for the buffer is truncated, never overflowed") {
    const index_t big = 1000000000000000000;  // 19 digits
    const dims<8> huge{big, big, big, big, big, big, big, big};
    const fusedops::shape_text t = fusedops::to_text<8>(huge);
    const std::string s = t.c_str();
    CHECK(s.size() == sizeof t.text - 1);
    CHECK(s.compare(0, 20, "[1000000000000000000") == 0);
    CHECK(t.text[sizeof t.text - 1] == '\0');
  }
}

TEST_CASE("view: row_major_strides and element_count") {
  constexpr dims<3> s = fusedops::row_major_strides<3>(dims<3>{2, 3, 4});
  static_assert(s[0] == 12 && s[1] == 4 && s[2] == 1, "row-major strides at compile time");
  CHECK(fusedops::row_major_strides<1>(dims<1>{9}) == dims<1>{1});
  CHECK(fusedops::element_count<3>(dims<3>{2, 3, 4}) == 24);
  CHECK(fusedops::element_count<0>(dims<0>{}) == 1);
  CHECK(fusedops::element_count<2>(dims<2>{5, 0}) == 0);
}
