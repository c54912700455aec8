// autograd/autograd.cpp: graph recording and the reverse pass.
#include "autograd/autograd.h"

#include <fmt/format.h>

#include <unordered_map>

namespace seqboat {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_mode_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

namespace {

// The edges to the inputs' nodes or leaves, and the inputs' shapes.
std::shared_ptr<Node> make_node(const char* name, const std::vector<Tensor>& inputs, MultiBackwardFn fn,
                                int32_t num_outputs) {
  std::vector<Edge> edges(inputs.size());
  std::vector<Shape> shapes(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) continue;
    shapes[i] = t.shape();
    if (!t.requires_grad()) continue;
    if (t.grad_fn()) {
      edges[i].fn = t.grad_fn();
      edges[i].output_nr = t.impl()->output_nr;
    } else {
      edges[i].leaf = t.impl_ptr();
    }
  }
  return std::make_shared<Node>(name, std::move(fn), std::move(edges), std::move(shapes), num_outputs);
}

// `out` may be a view sharing storage with an input; give it its own impl so
// that attaching history never touches the input.
Tensor attach(Tensor out, const std::shared_ptr<Node>& node, int32_t output_nr) {
  Tensor result = out.impl()->grad_fn || out.requires_grad() ? out.detach() : out;
  result.impl()->grad_fn = node;
  result.impl()->output_nr = output_nr;
  result.impl()->requires_grad = true;
  return result;
}

}  // namespace

Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!any_requires_grad(inputs)) return out;
  MultiBackwardFn one = [fn = std::move(fn)](const std::vector<Tensor>& grads, const std::vector<bool>& needs) {
    return fn(grads[0], needs);
  };
  return attach(std::move(out), make_node(name, inputs, std::move(one), 1), 0);
}

std::vector<Tensor> record_multi(const char* name, std::vector<Tensor> outs, const std::vector<Tensor>& inputs,
                                 MultiBackwardFn fn) {
  if (!any_requires_grad(inputs)) return outs;
  std::shared_ptr<Node> node = make_node(name, inputs, std::move(fn), static_cast<int32_t>(outs.size()));
  for (size_t k = 0; k < outs.size(); ++k) outs[k] = attach(std::move(outs[k]), node, static_cast<int32_t>(k));
  return outs;
}

std::vector<Tensor> Node::apply(const std::vector<Tensor>& grad) {
  if (released_)
    fail(
        fmt::format("backward: the graph through op '{}' was already freed by an earlier backward; "
                    "pass retain_graph=true to backward twice",
                    name_));
  std::vector<bool> needs(edges_.size());
  for (size_t i = 0; i < edges_.size(); ++i) needs[i] = edges_[i].active();
  std::vector<Tensor> grads = fn_(grad, needs);
  if (grads.size() != edges_.size())
    throw std::logic_error(fmt::format("internal: backward of '{}' returned {} gradients for {} inputs", name_,
                                       grads.size(), edges_.size()));
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!needs[i] || !grads[i].defined()) continue;
    if (grads[i].shape() != input_shapes_[i])
      throw std::logic_error(fmt::format("internal: backward of '{}' gave input {} a gradient of shape {}, expected {}",
                                         name_, i, shape_str(grads[i].shape()), shape_str(input_shapes_[i])));
  }
  return grads;
}

void Node::release() {
  fn_ = nullptr;
  edges_.clear();
  released_ = true;
}

void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph, const GradientMath& math) {
  auto accumulate = [&](const Tensor& acc, const Tensor& g) { return acc.defined() ? math.add(acc, g) : g; };
  NoGradGuard no_grad;
  if (root.is_leaf()) {
    Tensor prev = root.grad();
    root.impl()->grad = accumulate(prev, math.copy(seed)).impl_ptr();
    return;
  }

  // Dependency counts: how many consumers each node's output has in this graph.
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack{root.grad_fn().get()};
  deps[root.grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (n->released())
      fail(
          fmt::format("backward: the graph through op '{}' was already freed by an earlier backward; "
                      "pass retain_graph=true to backward twice",
                      n->name()));
    for (const Edge& e : n->edges()) {
      if (!e.fn) continue;
      auto it = deps.find(e.fn.get());
      if (it == deps.end()) {
        deps[e.fn.get()] = 1;
        stack.push_back(e.fn.get());
      } else {
        ++it->second;
      }
    }
  }

  // Kahn's order: a node runs once all of its consumers have contributed.
  // pending[n][k]: the summed cotangent of output k of node n.
  std::unordered_map<Node*, std::vector<Tensor>> pending;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;
  auto slot = [&](Node* n, int32_t k) -> Tensor& {
    std::vector<Tensor>& v = pending[n];
    if (v.empty()) v.resize(static_cast<size_t>(n->num_outputs()));
    return v[static_cast<size_t>(k)];
  };
  Node* root_fn = root.grad_fn().get();
  slot(root_fn, root.impl()->output_nr) = seed;
  keep_alive[root_fn] = root.grad_fn();
  std::vector<Node*> ready{root_fn};
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    std::vector<Tensor> g = std::move(pending[n]);
    pending.erase(n);
    bool any = false;
    for (const Tensor& t : g) any = any || t.defined();
    // A node that received no gradient at all passes "none" to its inputs.
    std::vector<Tensor> grads = any ? n->apply(g) : std::vector<Tensor>(n->edges().size());
    std::vector<Edge> edges = n->edges();
    if (!retain_graph) n->release();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (e.fn) {
        Node* m = e.fn.get();
        keep_alive.emplace(m, e.fn);
        if (grads[i].defined()) {
          Tensor& acc = slot(m, e.output_nr);
          acc = accumulate(acc, grads[i]);
        }
        if (--deps[m] == 0) ready.push_back(m);
      } else if (e.leaf && grads[i].defined()) {
        // A backward may hand the same tensor to several inputs (add passes g
        // to both), so a leaf's .grad always gets storage of its own: updating
        // one gradient in place (clipping) must never change another.
        Tensor prev = e.leaf->grad ? Tensor(e.leaf->grad) : Tensor();
        e.leaf->grad = (prev.defined() ? math.add(prev, grads[i]) : math.copy(grads[i])).impl_ptr();
      }
    }
  }
}

}  // namespace seqboat
