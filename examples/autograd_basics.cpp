// examples/autograd_basics.cpp: tensors, views, a small graph, backward, and
// reading gradients (the README's 20-line sample, compiled and extended).
//
// Shows: creating tensors; views share storage with their base (a write
// through a view is seen by the base); recording a graph by calling ops on
// tensors that require grad; loss.backward(); reading .grad(); gradients
// accumulate until zero_grad().
//
// Run:   build/examples/autograd_basics
// Exits non-zero when a gradient differs from its closed form.
#include <fmt/format.h>

#include <cmath>

#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "tensor/random.h"

using namespace seqboat;

// Largest |a - b| over the elements of two tensors of one shape.
static double max_diff(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector(), y = b.to_vector();
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::fabs(x[i] - y[i]));
  return d;
}

int main() {
  // 1. Tensors and views. narrow() and transpose() are views: no copy.
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = a.narrow(0, 1, 1);  // the second row, shape (1, 3)
  Tensor at = a.transpose(0, 1);   // shape (3, 2), strides (1, 3)
  row.set({0, 0}, 40);             // writes into a's storage
  fmt::print("a after writing 40 through a view of its second row:\n{}\n", a.to_string());
  fmt::print("a^T is a view: shape {}, strides {}, contiguous {}\n", shape_str(at.shape()), shape_str(at.strides()),
             at.is_contiguous());

  // 2. A small graph: loss = sum((x W^T)^2), with W requiring grad.
  Generator gen(0);
  Tensor x = rand_normal({4, 3}, 0, 1, DType::Float64, &gen);
  Tensor w = rand_normal({2, 3}, 0, 1, DType::Float64, &gen).requires_grad_();
  Tensor y = linear(x, w);       // (4, 2), recorded
  Tensor loss = sum(square(y));  // a scalar
  loss.backward();               // fills w.grad()
  fmt::print("loss = {:.6f}\nd loss / d W =\n{}\n", loss.item(), w.grad().to_string());

  // Closed form: d/dW sum((x W^T)^2) = 2 (x W^T)^T x.
  Tensor expected = mul_scalar(matmul(y.detach().transpose(0, 1), x), 2.0);
  double err = max_diff(w.grad(), expected);
  fmt::print("matches 2 (x W^T)^T x: max |diff| = {:.2e}\n", err);

  // 3. Gradients accumulate (+=) across backward calls until zero_grad().
  sum(square(linear(x, w))).backward();
  double doubled = max_diff(w.grad(), mul_scalar(expected, 2.0));
  fmt::print("after a second backward the gradient doubled: max |diff| = {:.2e}\n", doubled);
  w.zero_grad();
  fmt::print("after zero_grad(): grad defined = {}\n", w.grad().defined());

  bool ok = err < 1e-12 && doubled < 1e-12 && !w.grad().defined() && a.at({1, 0}) == 40;
  fmt::print("{}\n", ok ? "autograd_basics: ok" : "autograd_basics: FAILED");
  return ok ? 0 : 1;
}
