// nn/module.cpp: parameter/buffer registry, state dicts, train/eval.
#include "nn/module.h"

#include <fmt/format.h>

#include <set>

#include "autograd/autograd.h"
#include "ops/shape.h"
#include "tensor/safe_text.h"

namespace seqboat::nn {

void Module::register_parameter(const std::string& name, Tensor* t) {
  if (t->defined() && !t->requires_grad()) t->requires_grad_(true);
  params_.emplace_back(name, t);
}

void Module::register_buffer(const std::string& name, Tensor* t) { buffers_.emplace_back(name, t); }

void Module::collect(const std::string& prefix, bool params, std::vector<std::pair<std::string, Tensor*>>& out) {
  for (auto& [name, t] : params ? params_ : buffers_)
    if (t->defined()) out.emplace_back(prefix + name, t);
  for (auto& [name, child] : children_)
    if (child) child->collect(prefix + name + ".", params, out);
}

std::vector<std::pair<std::string, Tensor*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect("", true, out);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(*t);
  return out;
}

int64_t Module::num_parameters() {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t->numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [name, child] : children_)
    if (child) child->train(on);
}

std::map<std::string, Tensor> Module::state_dict() {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out[name] = t->detach();
  for (auto& [name, t] : named_buffers()) out[name] = t->detach();
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  NoGradGuard no_grad;
  auto all = named_parameters();
  auto bufs = named_buffers();
  all.insert(all.end(), bufs.begin(), bufs.end());
  // Everything is checked before anything is copied: a state that does not
  // fit leaves the module as it was.
  std::set<std::string> known;
  std::vector<std::string> missing;
  std::vector<std::pair<Tensor*, const Tensor*>> copies;
  for (auto& [name, t] : all) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
      continue;
    }
    const Tensor& src = it->second;
    if (!src.defined()) fail(fmt::format("load_state_dict: {} is an undefined tensor in the state", quote_text(name)));
    if (src.shape() != t->shape())
      fail(fmt::format("load_state_dict: {} has shape {} in the state but {} in the module", quote_text(name),
                       shape_str(src.shape()), shape_str(t->shape())));
    copies.emplace_back(t, &src);
  }
  if (strict) {
    std::vector<std::string> unexpected;
    for (auto& [name, t] : state)
      if (!known.count(name)) unexpected.push_back(name);
    // Lists clipped (quoted_list): a file may name 100,000 unknown tensors.
    if (!missing.empty() || !unexpected.empty())
      fail(fmt::format("load_state_dict: {} missing [{}]; {} unexpected [{}]", missing.size(), quoted_list(missing),
                       unexpected.size(), quoted_list(unexpected)));
  }
  for (auto [t, src] : copies) copy_into(*t, src->dtype() == t->dtype() ? src->detach() : src->detach().to(t->dtype()));
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t->zero_grad();
}

void Module::to(DType dt) {
  for (auto& [name, t] : named_parameters()) {
    if (t->dtype() == dt) continue;
    *t = t->detach().to(dt);
    t->requires_grad_(true);
  }
  for (auto& [name, t] : named_buffers())
    if (is_floating(t->dtype()) && t->dtype() != dt) *t = t->detach().to(dt);
}

void Module::to(Device device) {
  for (auto& [name, t] : named_parameters()) {
    if (t->device() == device) continue;
    *t = t->detach().to(device);
    t->requires_grad_(true);
  }
  for (auto& [name, t] : named_buffers())
    if (t->device() != device) *t = t->detach().to(device);
}

}  // namespace seqboat::nn
