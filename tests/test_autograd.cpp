// tests/test_autograd.cpp: the reverse pass, gradient accumulation, no-grad
// scopes, graph freeing, and that gradcheck can fail.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/gradcheck.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tensor/random.h"

using namespace seqboat;

TEST_CASE("backward of a scalar, accumulation and zero_grad") {
  Tensor x = from_vector({1, 2, 3}, {3}).requires_grad_();
  Tensor y = sum(mul(x, x));  // dy/dx = 2x
  y.backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});
  sum(x).backward();  // accumulates
  CHECK(x.grad().to_vector() == std::vector<double>{3, 5, 7});
  x.zero_grad();
  CHECK(!x.grad().defined());
}

TEST_CASE("a tensor used twice gets the sum of both paths") {
  Tensor x = from_vector({2}, {1}).requires_grad_();
  Tensor a = mul(x, x), b = exp(x);
  Tensor y = sum(add(a, mul(a, b)));  // x^2 + x^2 e^x
  y.backward();
  double v = 2, expect = 2 * v + (2 * v + v * v) * std::exp(v);
  CHECK(x.grad().item() == doctest::Approx(expect).epsilon(1e-12));
}

TEST_CASE("explicit cotangent and its shape check") {
  Tensor x = from_vector({1, 2}, {2}).requires_grad_();
  Tensor y = mul_scalar(x, 3);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("not a scalar"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(y.backward(zeros({3}, DType::Float64)), doctest::Contains("cotangent shape [3]"),
                       std::invalid_argument);
  y.backward(from_vector({1, -1}, {2}));
  CHECK(x.grad().to_vector() == std::vector<double>{3, -3});
}

TEST_CASE("the graph is freed after backward unless retained") {
  Tensor x = from_vector({1, 2}, {2}).requires_grad_();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().at({0}) == doctest::Approx(2 * std::exp(1.0)));
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already freed"), std::invalid_argument);
}

TEST_CASE("no-grad scope and detach record nothing") {
  Tensor x = from_vector({1, 2}, {2}).requires_grad_();
  {
    NoGradGuard guard;
    Tensor y = mul(x, x);
    CHECK(!y.requires_grad());
  }
  CHECK(grad_mode_enabled());
  Tensor d = x.detach();
  CHECK(!d.requires_grad());
  CHECK(!mul(d, d).requires_grad());
  CHECK_THROWS_WITH_AS(sum(d).backward(), doctest::Contains("does not require grad"), std::invalid_argument);
  CHECK_THROWS_AS(zeros({2}, DType::Int64).requires_grad_(), std::invalid_argument);
}

TEST_CASE("gradients flow through views into the base") {
  Tensor x = from_vector({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = sum(mul(transpose(x, 0, 1).narrow(0, 1, 2), from_vector({1, 2, 3, 4}, {2, 2})));
  y.backward();
  // t = x^T (3x2); rows 1..2 of t are x[:, 1..2]; weights [[1,2],[3,4]] on t[1:3].
  CHECK(x.grad().to_vector() == std::vector<double>{0, 1, 3, 0, 2, 4});
}

TEST_CASE("linear gradients match hand-computed values") {
  Tensor x = from_vector({1, 2}, {1, 2}).requires_grad_();
  Tensor w = from_vector({1, 0, -1, 3}, {2, 2}).requires_grad_();
  Tensor b = from_vector({0.5, -0.5}, {2}).requires_grad_();
  Tensor y = linear(x, w, b);  // [1*1+0*2+0.5, -1+6-0.5] = [1.5, 4.5]
  CHECK(y.to_vector() == std::vector<double>{1.5, 4.5});
  y.backward(from_vector({1, 2}, {1, 2}));
  CHECK(x.grad().to_vector() == std::vector<double>{1 * 1 + 2 * -1, 0 * 1 + 2 * 3});
  CHECK(w.grad().to_vector() == std::vector<double>{1, 2, 2, 4});
  CHECK(b.grad().to_vector() == std::vector<double>{1, 2});
}

// An op with a deliberately wrong backward: y = x^2 with dy/dx claimed 3x.
static Tensor wrong_square(const Tensor& x) {
  Tensor y = mul(x.detach(), x.detach());
  Tensor xs = x.detach();
  return record("wrong_square", y, {x}, [xs](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{mul(g, mul_scalar(xs, 3.0))};
  });
}

TEST_CASE("gradcheck passes a right backward and catches a wrong one") {
  Generator g(3);
  Tensor x = rand_normal({4}, 0, 1, DType::Float64, &g).requires_grad_();
  auto good = gradcheck([](const std::vector<Tensor>& in) { return mul(in[0], in[0]); }, {x});
  CHECK_MESSAGE(good.ok, good.message);
  CHECK(good.elements_checked == 16);
  auto bad = gradcheck([](const std::vector<Tensor>& in) { return wrong_square(in[0]); }, {x});
  CHECK(!bad.ok);
  CHECK(bad.message.find("input 0") != std::string::npos);
  CHECK(bad.message.find("analytic") != std::string::npos);
  CHECK(bad.message.find("numeric") != std::string::npos);
}

TEST_CASE("gradcheck catches a backward that depends on hidden state") {
  // Nondeterministic backward: the gradient drifts by a counter each call.
  static int calls = 0;
  auto drifting = [](const std::vector<Tensor>& in) {
    Tensor xs = in[0].detach();
    return record("drift", mul(xs, xs), {in[0]}, [xs](const Tensor& g, const std::vector<bool>&) {
      return std::vector<Tensor>{add_scalar(mul(g, mul_scalar(xs, 2.0)), 1e-9 * ++calls)};
    });
  };
  Generator g(4);
  Tensor x = rand_normal({3}, 0, 1, DType::Float64, &g).requires_grad_();
  GradcheckOptions opt;
  opt.check_zero_cotangent = false;
  auto r = gradcheck(drifting, {x}, opt);
  CHECK(!r.ok);
  CHECK(r.message.find("two backward runs differ") != std::string::npos);
}

TEST_CASE("leaves never share gradient storage") {
  // add's backward hands the same cotangent to both inputs; the leaves must
  // still own separate gradients, so in-place clipping of one leaves the other.
  Tensor x = from_vector({1, 2}, {2}).requires_grad_();
  Tensor y = from_vector({3, 4}, {2}).requires_grad_();
  sum(add(x, y)).backward();
  CHECK(x.grad().impl()->storage != y.grad().impl()->storage);
  Tensor c = from_vector({5, 6}, {2});
  Tensor z = from_vector({0, 0}, {2}).requires_grad_();
  sum(mul(z, from_vector({1, 1}, {2}))).backward();
  z.grad().set({0}, 42);
  CHECK(c.at({0}) == 5);
}
