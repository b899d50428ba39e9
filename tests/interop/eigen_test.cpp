// SPDX-FileCopyrightText: 2026 The fusedops authors
// SPDX-License-Identifier: Apache-2.0
//
// interop/eigen.hpp: views of Eigen objects (both storage orders, Map, Ref, Block) and back.
#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include <Eigen/Core>

#include "fusedops/bias_activation.hpp"
#include "fusedops/interop/eigen.hpp"
#include "fusedops/reference/bias_activation.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"
#include "support/tolerance.hpp"

namespace {

using namespace fusedops;

using col_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Distinct values so any index mix-up shows.
template <class M>
void fill_distinct(M& m) {
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = float(100 * i + j) + 0.5f;
}

/// Every element seen through v equals the Eigen object's, at the same address.
template <class T, class M>
bool same_elements(const view<T, 2>& v, const M& m) {
  if (v.shape(0) != m.rows() || v.shape(1) != m.cols()) return false;
  for (index_t i = 0; i < v.shape(0); ++i)
    for (index_t j = 0; j < v.shape(1); ++j)
      if (&v(i, j) != &m.coeffRef(i, j) || v(i, j) != m(i, j)) return false;
  return true;
}
template <class T, class M>
bool same_elements(const view<T, 1>& v, const M& m) {
  if (v.shape(0) != m.size()) return false;
  for (index_t i = 0; i < v.shape(0); ++i)
    if (&v(i) != &m.coeffRef(i) || v(i) != m(i)) return false;
  return true;
}

template <class V>
dims<V::rank> strides_of(const V& v) {
  return v.strides();
}

}  // namespace

TEST_CASE("from_eigen: plain matrices in both storage orders") {
  col_major c(5, 7);
  row_major r(5, 7);
  fill_distinct(c);
  fill_distinct(r);

  auto vc = from_eigen(c);
  static_assert(std::is_same_v<decltype(vc), view<float, 2>>);
  CHECK(vc.data() == c.data());
  CHECK(vc.shape() == dims<2>{5, 7});
  CHECK(vc.strides() == dims<2>{1, 5});  // column-major: {1, outerStride}
  CHECK(same_elements(vc, c));

  auto vr = from_eigen(r);
  CHECK(vr.strides() == dims<2>{7, 1});
  CHECK(vr.is_contiguous());
  CHECK(same_elements(vr, r));

  // Writes through the view land in the matrix.
  vc(4, 6) = -1.f;
  vr(4, 6) = -2.f;
  CHECK(c(4, 6) == -1.f);
  CHECK(r(4, 6) == -2.f);

  // Const matrices give views of const float.
  const col_major& cc = c;
  auto vcc = from_eigen(cc);
  static_assert(std::is_same_v<decltype(vcc), view<const float, 2>>);
  static_assert(std::is_same_v<decltype(from_eigen(std::as_const(r))), view<const float, 2>>);
  CHECK(same_elements(vcc, c));

  // Fixed-size matrices and arrays.
  Eigen::Matrix3f f;
  fill_distinct(f);
  CHECK(from_eigen(f).strides() == dims<2>{1, 3});
  CHECK(same_elements(from_eigen(f), f));
  Eigen::Array<float, 2, 4, Eigen::RowMajor> a;
  fill_distinct(a);
  CHECK(from_eigen(a).strides() == dims<2>{4, 1});
  CHECK(same_elements(from_eigen(a), a));
  Eigen::MatrixXd d(3, 2);
  fill_distinct(d);
  static_assert(std::is_same_v<decltype(from_eigen(d)), view<double, 2>>);
  CHECK(same_elements(from_eigen(d), d));
}

TEST_CASE("from_eigen: Map with and without strides, Ref, Block, Transpose") {
  std::vector<float> buf(200);
  for (std::size_t k = 0; k < buf.size(); ++k) buf[k] = float(k);

  Eigen::Map<col_major> m(buf.data(), 4, 6);
  CHECK(from_eigen(m).strides() == dims<2>{1, 4});
  CHECK(same_elements(from_eigen(m), m));

  Eigen::Map<col_major, Eigen::Unaligned, Eigen::OuterStride<>> mo(buf.data(), 4, 6,
                                                                   Eigen::OuterStride<>(9));
  CHECK(from_eigen(mo).strides() == dims<2>{1, 9});
  CHECK(same_elements(from_eigen(mo), mo));

  Eigen::Map<row_major, Eigen::Unaligned, Eigen::OuterStride<>> mro(buf.data(), 4, 6,
                                                                    Eigen::OuterStride<>(11));
  CHECK(from_eigen(mro).strides() == dims<2>{11, 1});
  CHECK(same_elements(from_eigen(mro), mro));

  using dyn_stride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  Eigen::Map<row_major, Eigen::Unaligned, dyn_stride> ms(buf.data(), 3, 5, dyn_stride(20, 3));
  CHECK(from_eigen(ms).strides() == dims<2>{20, 3});
  CHECK(same_elements(from_eigen(ms), ms));
  Eigen::Map<col_major, Eigen::Unaligned, dyn_stride> mcs(buf.data(), 3, 5, dyn_stride(20, 3));
  CHECK(from_eigen(mcs).strides() == dims<2>{3, 20});
  CHECK(same_elements(from_eigen(mcs), mcs));

  // Map<const ...> is read-only; a temporary Map (it does not own its data) is accepted.
  Eigen::Map<const col_major> mc(buf.data(), 4, 6);
  static_assert(std::is_same_v<decltype(from_eigen(mc)), view<const float, 2>>);
  CHECK(same_elements(from_eigen(mc), mc));
  auto vt = from_eigen(Eigen::Map<row_major>(buf.data() + 10, 2, 3));
  static_assert(std::is_same_v<decltype(vt), view<float, 2>>);
  CHECK(vt.data() == buf.data() + 10);
  CHECK(vt(1, 2) == 15.f);

  // Blocks keep the parent's strides; the data pointer is the block's first element.
  col_major c(6, 8);
  fill_distinct(c);
  auto vb = from_eigen(c.block(1, 2, 3, 4));
  static_assert(std::is_same_v<decltype(vb), view<float, 2>>);
  CHECK(vb.data() == &c(1, 2));
  CHECK(vb.shape() == dims<2>{3, 4});
  CHECK(vb.strides() == dims<2>{1, 6});
  CHECK(same_elements(vb, c.block(1, 2, 3, 4)));
  row_major r(6, 8);
  fill_distinct(r);
  CHECK(from_eigen(r.block(2, 1, 4, 3)).strides() == dims<2>{8, 1});
  CHECK(same_elements(from_eigen(r.block(2, 1, 4, 3)), r.block(2, 1, 4, 3)));
  CHECK(same_elements(from_eigen(r.middleCols(2, 5)), r.middleCols(2, 5)));
  const col_major& cc = c;
  static_assert(std::is_same_v<decltype(from_eigen(cc.block(0, 0, 2, 2))), view<const float, 2>>);

  // Transpose flips the storage order: the view's strides swap.
  CHECK(from_eigen(c.transpose()).strides() == dims<2>{6, 1});
  CHECK(same_elements(from_eigen(c.transpose()), c.transpose()));

  // Ref: writable, bound to a block (keeps the parent's outer stride), and Ref<const>.
  Eigen::Ref<col_major> ref = c.block(0, 1, 4, 5);
  CHECK(from_eigen(ref).strides() == dims<2>{1, 6});
  CHECK(same_elements(from_eigen(ref), ref));
  Eigen::Ref<const col_major> cref = c.middleCols(3, 2);
  static_assert(std::is_same_v<decltype(from_eigen(cref)), view<const float, 2>>);
  CHECK(same_elements(from_eigen(cref), cref));
  Eigen::Ref<row_major> rref = r.bottomRows(3);
  CHECK(from_eigen(rref).strides() == dims<2>{8, 1});
  CHECK(same_elements(from_eigen(rref), rref));
}

TEST_CASE("from_eigen: vectors give rank-1 views with their element step") {
  Eigen::VectorXf v(9);
  Eigen::RowVectorXf rv(5);
  for (int i = 0; i < 9; ++i) v(i) = float(i);
  for (int i = 0; i < 5; ++i) rv(i) = float(-i);

  auto vv = from_eigen(v);
  static_assert(std::is_same_v<decltype(vv), view<float, 1>>);
  CHECK(vv.shape(0) == 9);
  CHECK(vv.stride(0) == 1);
  CHECK(same_elements(vv, v));
  CHECK(same_elements(from_eigen(rv), rv));
  static_assert(std::is_same_v<decltype(from_eigen(std::as_const(v))), view<const float, 1>>);

  col_major c(6, 4);
  row_major r(6, 4);
  fill_distinct(c);
  fill_distinct(r);
  // A row of a column-major matrix steps by the leading dimension, a column by 1.
  CHECK(from_eigen(c.row(2)).stride(0) == 6);
  CHECK(same_elements(from_eigen(c.row(2)), c.row(2)));
  CHECK(from_eigen(c.col(3)).stride(0) == 1);
  CHECK(from_eigen(r.col(1)).stride(0) == 4);
  CHECK(same_elements(from_eigen(r.col(1)), r.col(1)));
  CHECK(from_eigen(r.row(5)).stride(0) == 1);

  std::vector<float> buf(30);
  for (std::size_t k = 0; k < buf.size(); ++k) buf[k] = float(k);
  Eigen::Map<const Eigen::VectorXf, Eigen::Unaligned, Eigen::InnerStride<>> mv(
      buf.data(), 10, Eigen::InnerStride<>(3));
  auto vm = from_eigen(mv);
  static_assert(std::is_same_v<decltype(vm), view<const float, 1>>);
  CHECK(vm.stride(0) == 3);
  CHECK(vm(9) == 27.f);

  // from_eigen_2d keeps the matrix shape of a vector.
  auto v2 = from_eigen_2d(v);
  static_assert(std::is_same_v<decltype(v2), view<float, 2>>);
  CHECK(v2.shape() == dims<2>{9, 1});
  CHECK(v2(4, 0) == 4.f);
  CHECK(from_eigen_2d(rv).shape() == dims<2>{1, 5});
  CHECK(from_eigen_2d(c).strides() == from_eigen(c).strides());
}

TEST_CASE("to_eigen_map: round trip, any strides, writes go through") {
  std::vector<float> buf(60);
  for (std::size_t k = 0; k < buf.size(); ++k) buf[k] = float(k) * 0.5f;

  // Row-major with padding.
  const auto v = make_view(buf.data(), {4, 5}, {7, 1});
  auto m = to_eigen_map(v);
  static_assert(std::is_same_v<decltype(m), eigen_matrix_map<float>>);
  CHECK(m.rows() == 4);
  CHECK(m.cols() == 5);
  CHECK(same_elements(v, m));
  m(3, 4) = -9.f;
  CHECK(v(3, 4) == -9.f);
  // Back to a view: the same data, shape and strides.
  const auto back = from_eigen(m);
  static_assert(std::is_same_v<decltype(back), const view<float, 2>>);
  CHECK(back.data() == v.data());
  CHECK(back.shape() == v.shape());
  CHECK(back.strides() == v.strides());

  // Transposed (column stride != 1), sliced with a step, and negative strides.
  for (const auto& w : {v.transpose(), v.slice(1, 1, 5, 2), v.slice(0, 0, 4, 3).transpose(),
                        view<float, 2>(buf.data() + 25, {4, 5}, {-7, -1})}) {
    const std::string shape = w.shape_string().c_str();
    CAPTURE(shape);
    const auto mw = to_eigen_map(w);
    CHECK(same_elements(w, mw));
    CHECK(from_eigen(mw).strides() == w.strides());
    CHECK(from_eigen(mw).data() == w.data());
  }

  // A const view gives a read-only map; Eigen arithmetic on it works.
  const view<const float, 2> cv = v;
  auto cm = to_eigen_map(cv);
  static_assert(std::is_same_v<decltype(cm.data()), const float*>);
  CHECK(cm.sum() == doctest::Approx(double(m.sum())));
  static_assert(std::is_same_v<decltype(from_eigen(cm)), view<const float, 2>>);

  // Broadcast input (stride 0).
  const auto bc = make_view(static_cast<const float*>(buf.data()), {3, 4}, {0, 1});
  const auto bm = to_eigen_map(bc);
  CHECK(bm(2, 3) == buf[3]);
  CHECK(same_elements(bc, bm));

  // Rank 1.
  const auto v1 = make_view(buf.data() + 1, {6}, {4});
  auto m1 = to_eigen_map(v1);
  CHECK(m1.size() == 6);
  CHECK(same_elements(v1, m1));
  CHECK(strides_of(from_eigen(m1)) == dims<1>{4});
  m1(5) = 123.f;
  CHECK(buf[21] == 123.f);

  // An Eigen matrix through a view and back.
  col_major c(3, 4);
  fill_distinct(c);
  CHECK((to_eigen_map(from_eigen(c)) == c));
  row_major r(3, 4);
  fill_distinct(r);
  CHECK((to_eigen_map(from_eigen(r)) == r));
}

TEST_CASE_TEMPLATE_DEFINE("bias_activation on column-major Eigen matrices", B, eigen_bias_act_id) {
  namespace tol = fusedops::test::tolerance;
  constexpr int L = simd::lanes_of<float, B>;
  for (Eigen::Index rows : {Eigen::Index{1}, Eigen::Index{5}})
    for (Eigen::Index cols : {Eigen::Index{1}, Eigen::Index{L + 1}, Eigen::Index{37}}) {
      CAPTURE(rows);
      CAPTURE(cols);
      const auto xs = test::random_floats(std::size_t(rows * cols), 21, -3.f, 3.f);
      const auto bs = test::random_floats(std::size_t(std::max(rows, cols)), 22);
      const col_major X = Eigen::Map<const col_major>(xs.data(), rows, cols);

      {  // Y = act(X + 1 bias^T): views straight on the column-major storage (strides {1, rows}).
        const Eigen::VectorXf bias = Eigen::Map<const Eigen::VectorXf>(bs.data(), cols);
        col_major Y = col_major::Constant(rows, cols, -7.f);
        const auto x = from_eigen(X);
        REQUIRE(x.strides() == dims<2>{1, rows});
        REQUIRE(bias_activation<B>(x, from_eigen(bias), from_eigen(Y), act::gelu_erf{}).ok());
        const auto want = reference::bias_activation(x, from_eigen(bias), act::gelu_erf{});
        int bad = 0;
        for (Eigen::Index i = 0; i < rows; ++i)
          for (Eigen::Index j = 0; j < cols; ++j)
            bad += !tol::close(Y(i, j), want[std::size_t(i * cols + j)], tol::bias_activation_rel,
                               tol::bias_activation_abs);
        CHECK(bad == 0);
      }
      {  // Per-row bias on X: the transposed view is row-major with unit column stride (fast path).
        const Eigen::VectorXf bias = Eigen::Map<const Eigen::VectorXf>(bs.data(), rows);
        col_major Y = col_major::Constant(rows, cols, -7.f);
        const auto xt = from_eigen(X).transpose();
        REQUIRE(xt.shape() == dims<2>{cols, rows});
        REQUIRE(xt.stride(1) == 1);
        REQUIRE(
            bias_activation<B>(xt, from_eigen(bias), from_eigen(Y).transpose(), act::silu{}).ok());
        // The same computed by Eigen in double: Y = silu(X + bias 1^T).
        const Eigen::MatrixXd z = X.cast<double>().colwise() + bias.cast<double>();
        int bad = 0;
        for (Eigen::Index i = 0; i < rows; ++i)
          for (Eigen::Index j = 0; j < cols; ++j)
            bad += !tol::close(Y(i, j), act::silu{}(z(i, j)), tol::bias_activation_rel,
                               tol::bias_activation_abs);
        CHECK(bad == 0);
      }
      {  // In place on an Eigen matrix.
        col_major Z = X;
        const Eigen::VectorXf bias = Eigen::Map<const Eigen::VectorXf>(bs.data(), cols);
        REQUIRE(
            bias_activation<B>(from_eigen(Z), from_eigen(bias), from_eigen(Z), act::relu{}).ok());
        const col_major want = (X.rowwise() + bias.transpose()).cwiseMax(0.f);
        CHECK((Z.array() == want.array()).all());  // one float add and a max: exact
      }
    }
}
TEST_CASE_TEMPLATE_APPLY(eigen_bias_act_id, fusedops::test::compiled_backends_tuple);
