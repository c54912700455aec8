// nn/module.h: the Module base. A module owns named parameters (leaf tensors
// that require grad) and buffers (state such as batch-norm running
// statistics), and child modules; names are dotted paths exactly as in the
// PyTorch reference (`seq_layers.0.norm.norm.running_mean`), so a PyTorch
// state_dict saved as safetensors loads directly.
//
// Modules register pointers to their own Tensor members, so a module must not
// be moved or copied after construction: hold it by std::shared_ptr.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat::nn {

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  std::vector<std::pair<std::string, Tensor*>> named_parameters();
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  std::vector<Tensor> parameters();
  int64_t num_parameters();

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Parameters and buffers by name (tensors share storage with the module).
  std::map<std::string, Tensor> state_dict();
  // Copies values in. strict: every module tensor must be present and no
  // unknown names given. Shapes must match; dtypes are converted. Errors name
  // the tensor and the shapes; the whole state is checked before anything is
  // copied, so a state that does not fit leaves the module as it was.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  void zero_grad();
  // Converts every parameter and buffer to dt (floating tensors only).
  void to(DType dt);
  // Moves every parameter and buffer to `device` (their gradients are dropped).
  void to(Device device);

 protected:
  void register_parameter(const std::string& name, Tensor* t);
  void register_buffer(const std::string& name, Tensor* t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }
  virtual void on_train(bool) {}

 private:
  void collect(const std::string& prefix, bool params, std::vector<std::pair<std::string, Tensor*>>& out);
  std::vector<std::pair<std::string, Tensor*>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace seqboat::nn
