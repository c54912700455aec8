// autograd/autograd.h: dynamic reverse-mode differentiation.
//
// Every differentiable op computes its output, then calls record(): when grad
// mode is on and an input requires grad, the output gets a Node holding the
// op's backward closure and edges to the inputs' nodes (or to leaf tensors).
// Tensor::backward() walks the graph in reverse topological order, calls each
// backward once with the summed cotangent of its output, and accumulates
// (`+=`) the results into the inputs' nodes, or into `.grad` of leaves.
//
// Backward closures run with grad mode off (no double backward) and save
// inputs/outputs detached, so the graph holds no reference cycle.
//
// The engine does no arithmetic of its own: how two gradients are summed and
// how a leaf's gradient gets storage of its own come from the caller
// (GradientMath; ops/tensor_methods.cpp passes ops::add and clone), so this
// layer depends on the tensor layer only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat {

// Where an input's gradient goes: output `output_nr` of another node, a leaf
// tensor, or nowhere.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  int32_t output_nr = 0;
  bool active() const { return fn != nullptr || leaf != nullptr; }
};

// grad: cotangent of the op's output (same shape). needs[i]: whether input i
// wants a gradient. Returns one tensor per input (undefined = zero / none).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad, const std::vector<bool>& needs)>;
// The same for an op with several outputs: one cotangent per output, an
// undefined one where that output received no gradient (it is zero).
using MultiBackwardFn =
    std::function<std::vector<Tensor>(const std::vector<Tensor>& grads, const std::vector<bool>& needs)>;

class Node {
 public:
  Node(std::string name, MultiBackwardFn fn, std::vector<Edge> edges, std::vector<Shape> input_shapes,
       int32_t num_outputs)
      : name_(std::move(name)),
        fn_(std::move(fn)),
        edges_(std::move(edges)),
        input_shapes_(std::move(input_shapes)),
        num_outputs_(num_outputs) {}
  const std::string& name() const { return name_; }
  const std::vector<Edge>& edges() const { return edges_; }
  int32_t num_outputs() const { return num_outputs_; }
  std::vector<Tensor> apply(const std::vector<Tensor>& grads);
  void release();  // frees saved tensors and edges
  bool released() const { return released_; }

 private:
  std::string name_;
  MultiBackwardFn fn_;
  std::vector<Edge> edges_;
  std::vector<Shape> input_shapes_;
  int32_t num_outputs_ = 1;
  bool released_ = false;
};

bool grad_mode_enabled();

// RAII scope in which ops record no graph (inference, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when grad mode is on and some input requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attaches a backward closure to `out` if any input requires grad (and grad
// mode is on). Returns `out`.
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn fn);
// The same for an op with several outputs (one node, one backward for all).
std::vector<Tensor> record_multi(const char* name, std::vector<Tensor> outs, const std::vector<Tensor>& inputs,
                                 MultiBackwardFn fn);

// The two operations the reverse pass needs on gradients.
struct GradientMath {
  Tensor (*add)(const Tensor& a, const Tensor& b);  // a + b, same shape
  Tensor (*copy)(const Tensor& g);                  // a copy with storage of its own
};

// Runs the reverse pass (Tensor::backward calls this). `seed` is the
// cotangent of root, already checked: root's shape, dtype and device.
void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph, const GradientMath& math);

}  // namespace seqboat
