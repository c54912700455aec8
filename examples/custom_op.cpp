// examples/custom_op.cpp: a new differentiable op with a hand-written
// backward, recorded on the autograd graph and proven with gradcheck; then
// the same op with a deliberately wrong backward, which gradcheck rejects.
//
// The op: softplus with a learnable sharpness beta (a (1) tensor),
//   y = log(1 + exp(beta x)) / beta
// with s = sigmoid(beta x):
//   dy/dx    = s                      (term 1)
//   dy/dbeta = (x s - y) / beta       (term 2; beta broadcasts, so summed over x's shape)
// The forward is built from existing ops under NoGradGuard (so it records
// nothing itself and runs on any device); record() then attaches our closure.
//
// Run:   build/examples/custom_op
// Exits non-zero unless gradcheck accepts the right backward and rejects the wrong one.
#include <fmt/format.h>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/gradcheck.h"
#include "ops/reduce.h"
#include "tensor/random.h"

using namespace seqboat;

// right = false drops the "- y" of term 2: the mistake gradcheck must catch.
static Tensor softplus_beta(const Tensor& x, const Tensor& beta, bool right) {
  Tensor y;
  {
    NoGradGuard no_grad;
    y = div(log(add_scalar(exp(mul(x, beta)), 1.0)), beta);
  }
  Tensor xs = x.detach(), bs = beta.detach(), ys = y.detach();  // saved without history
  return record("softplus_beta", y, {x, beta}, [=](const Tensor& g, const std::vector<bool>& needs) {
    Tensor s = sigmoid(mul(xs, bs));
    std::vector<Tensor> grads(2);        // undefined = no gradient
    if (needs[0]) grads[0] = mul(g, s);  // term 1
    if (needs[1]) {                      // term 2
      Tensor dy_db = div(right ? sub(mul(xs, s), ys) : mul(xs, s), bs);
      grads[1] = sum_to(mul(g, dy_db), bs.shape());  // beta was broadcast
    }
    return grads;
  });
}

static GradcheckResult check(bool right, const Tensor& x, const Tensor& beta) {
  return gradcheck([right](const std::vector<Tensor>& in) { return softplus_beta(in[0], in[1], right); }, {x, beta});
}

int main() {
  Generator gen(3);
  Tensor x = rand_normal({3, 4}, 0, 1, DType::Float64, &gen).requires_grad_();
  Tensor beta = from_vector({1.5}, {1}).requires_grad_();

  // Use it like any op: it composes with the rest of the graph.
  Tensor loss = sum(softplus_beta(x, beta, true));
  loss.backward();
  fmt::print("loss = {:.6f}, d loss / d beta = {:.6f}\n", loss.item(), beta.grad().item());

  GradcheckResult good = check(true, x.detach().requires_grad_(), beta.detach().requires_grad_());
  fmt::print("right backward: gradcheck {} ({} Jacobian entries, max |analytic - numeric| = {:.2e})\n",
             good.ok ? "passed" : "FAILED", good.elements_checked, good.max_abs_error);
  GradcheckResult bad = check(false, x.detach().requires_grad_(), beta.detach().requires_grad_());
  fmt::print("wrong backward: gradcheck {}\n  {}\n", bad.ok ? "PASSED (it should not)" : "rejected it", bad.message);

  bool ok = good.ok && !bad.ok;
  fmt::print("{}\n", ok ? "custom_op: ok" : "custom_op: FAILED");
  return ok ? 0 : 1;
}
