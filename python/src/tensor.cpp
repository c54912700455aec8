// python/src/tensor.cpp: seqboat.Tensor (shape, dtype, autograd state,
// NumPy views, views and copies), Python operators, and the general ops
// (elementwise, reductions, matmul/linear, softmax, cross_entropy) as
// functions of the module.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "autograd/autograd.h"
#include "bindings.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace seqboat::python {

using namespace nb::literals;

static nb::tuple as_tuple(const Shape& s) {
  nb::list l;
  for (int64_t v : s) l.append(v);
  return nb::tuple(l);
}

static void bind_tensor_class(nb::module_& m) {
  nb::class_<Tensor>(m, "Tensor",
                     "A strided view over storage on one device, with autograd state. Make one with "
                     "seqboat.tensor / seqboat.from_numpy; read it with .numpy().")
      .def_prop_ro("shape", [](const Tensor& t) { return as_tuple(t.shape()); })
      .def_prop_ro(
          "strides", [](const Tensor& t) { return as_tuple(t.strides()); }, "in elements")
      .def_prop_ro("ndim", &Tensor::dim)
      .def_prop_ro("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def_prop_ro("device", [](const Tensor& t) { return std::string(device_name(t.device())); })
      .def("numel", &Tensor::numel)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("__len__",
           [](const Tensor& t) { return t.dim() ? t.size(0) : throw nb::type_error("len() of a 0-d tensor"); })
      // NumPy: shares memory for a CPU tensor (writes go both ways).
      .def(
          "numpy", [](const Tensor& t) { return to_numpy(t); },
          "A NumPy array over this tensor's memory (CPU) or a host copy.")
      .def("item", &Tensor::item)
      .def("tolist", [](const Tensor& t) { return to_numpy(t).attr("tolist")(); })
      // autograd
      .def_prop_rw(
          "requires_grad", [](const Tensor& t) { return t.requires_grad(); },
          [](Tensor& t, bool on) { t.requires_grad_(on); })
      .def(
          "requires_grad_", [](Tensor& t, bool on) { return t.requires_grad_(on); }, "on"_a = true)
      .def_prop_ro("grad",
                   [](const Tensor& t) { return t.grad().defined() ? std::optional<Tensor>(t.grad()) : std::nullopt; })
      .def_prop_ro("is_leaf", &Tensor::is_leaf)
      .def_prop_ro(
          "grad_fn",
          [](const Tensor& t) { return t.grad_fn() ? std::optional<std::string>(t.grad_fn()->name()) : std::nullopt; },
          "the name of the op that made this tensor, or None for a leaf")
      .def(
          "backward",
          [](const Tensor& t, const std::optional<Tensor>& grad, bool retain_graph) {
            t.backward(or_undefined(grad), retain_graph);
          },
          "grad"_a = nb::none(), "retain_graph"_a = false)
      .def("zero_grad", &Tensor::zero_grad)
      .def("detach", &Tensor::detach)
      // copies and views
      .def("clone", &Tensor::clone)
      .def("contiguous", &Tensor::contiguous)
      .def(
          "to", [](const Tensor& t, const std::string& dtype) { return t.to(parse_dtype(dtype)); }, "dtype"_a)
      .def(
          "reshape", [](const Tensor& t, const Shape& s) { return t.reshape(s); }, "shape"_a)
      .def(
          "permute", [](const Tensor& t, const std::vector<int64_t>& o) { return t.permute(o); }, "order"_a)
      .def("transpose", &Tensor::transpose, "a"_a, "b"_a)
      .def("narrow", &Tensor::narrow, "dim"_a, "start"_a, "length"_a)
      .def("unsqueeze", &Tensor::unsqueeze, "dim"_a)
      .def("squeeze", &Tensor::squeeze, "dim"_a)
      .def(
          "expand", [](const Tensor& t, const Shape& s) { return t.expand(s); }, "shape"_a)
      .def(
          "sum", [](const Tensor& t, std::vector<int64_t> dims, bool keepdim) { return sum(t, dims, keepdim); },
          "dims"_a = std::vector<int64_t>{}, "keepdim"_a = false)
      .def(
          "mean", [](const Tensor& t, std::vector<int64_t> dims, bool keepdim) { return mean(t, dims, keepdim); },
          "dims"_a = std::vector<int64_t>{}, "keepdim"_a = false)
      .def("__repr__", [](const Tensor& t) { return t.to_string(); })
      // operators: tensor (op) tensor broadcasts; tensor (op) number
      .def("__add__", [](const Tensor& a, const Tensor& b) { return add(a, b); })
      .def("__add__", [](const Tensor& a, double s) { return add_scalar(a, s); })
      .def("__radd__", [](const Tensor& a, double s) { return add_scalar(a, s); })
      .def("__sub__", [](const Tensor& a, const Tensor& b) { return sub(a, b); })
      .def("__sub__", [](const Tensor& a, double s) { return add_scalar(a, -s); })
      .def("__rsub__", [](const Tensor& a, double s) { return add_scalar(neg(a), s); })
      .def("__mul__", [](const Tensor& a, const Tensor& b) { return mul(a, b); })
      .def("__mul__", [](const Tensor& a, double s) { return mul_scalar(a, s); })
      .def("__rmul__", [](const Tensor& a, double s) { return mul_scalar(a, s); })
      .def("__truediv__", [](const Tensor& a, const Tensor& b) { return div(a, b); })
      .def("__truediv__", [](const Tensor& a, double s) { return mul_scalar(a, 1.0 / s); })
      .def("__rtruediv__", [](const Tensor& a, double s) { return mul_scalar(pow(a, -1.0), s); })
      .def("__neg__", [](const Tensor& a) { return neg(a); })
      .def("__pow__", [](const Tensor& a, double p) { return pow(a, p); })
      .def("__matmul__", [](const Tensor& a, const Tensor& b) { return matmul(a, b); });
}

static void bind_general_ops(nb::module_& m) {
  m.def("_share_numpy", &share_numpy, "array"_a, "A Tensor over the array's memory (see seqboat.from_numpy).");
  m.def(
      "zeros", [](const Shape& s, const std::string& dt) { return zeros(s, parse_dtype(dt)); }, "shape"_a,
      "dtype"_a = "float32");
  m.def(
      "ones", [](const Shape& s, const std::string& dt) { return ones(s, parse_dtype(dt)); }, "shape"_a,
      "dtype"_a = "float32");
  m.def(
      "full", [](const Shape& s, double v, const std::string& dt) { return full(s, v, parse_dtype(dt)); }, "shape"_a,
      "value"_a, "dtype"_a = "float32");
  m.def("add", &seqboat::add);
  m.def("sub", &seqboat::sub);
  m.def("mul", &seqboat::mul);
  m.def("div", &seqboat::div);
  m.def("exp", &seqboat::exp);
  m.def("log", &seqboat::log);
  m.def("sqrt", &seqboat::sqrt);
  m.def("square", &seqboat::square);
  m.def("sigmoid", &seqboat::sigmoid);
  m.def("silu", &seqboat::silu);
  m.def("relu", &seqboat::relu);
  m.def("tanh", &seqboat::tanh);
  m.def("matmul", &seqboat::matmul);
  m.def(
      "linear",
      [](const Tensor& x, const Tensor& w, const std::optional<Tensor>& b) { return linear(x, w, or_undefined(b)); },
      "x"_a, "weight"_a, "bias"_a = nb::none());
  m.def(
      "sum", [](const Tensor& t, std::vector<int64_t> dims, bool keepdim) { return sum(t, dims, keepdim); }, "x"_a,
      "dims"_a = std::vector<int64_t>{}, "keepdim"_a = false);
  m.def(
      "mean", [](const Tensor& t, std::vector<int64_t> dims, bool keepdim) { return mean(t, dims, keepdim); }, "x"_a,
      "dims"_a = std::vector<int64_t>{}, "keepdim"_a = false);
  m.def("softmax", &seqboat::softmax, "x"_a, "dim"_a);
  m.def("log_softmax", &seqboat::log_softmax, "x"_a, "dim"_a);
  m.def("cross_entropy", &seqboat::cross_entropy, "logits"_a, "target"_a, "ignore_index"_a = -100);
  m.def("concat", &seqboat::concat, "tensors"_a, "dim"_a);
}

void bind_tensor(nb::module_& m) {
  bind_tensor_class(m);
  bind_general_ops(m);
}

}  // namespace seqboat::python
