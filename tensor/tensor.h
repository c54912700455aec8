// tensor/tensor.h: the seqboat Tensor, a strided view over reference-counted
// storage on one device. A Tensor is a cheap handle (shared_ptr to
// TensorImpl); views (reshape, permute, narrow, expand, ...) share storage and
// differ only in shape, strides and offset. Autograd state (requires_grad,
// grad, grad_fn) lives on the TensorImpl; see autograd/autograd.h.
//
// This is the lowest layer: it knows storage, shapes, dtypes and how to move
// bytes between host and device, nothing about arithmetic. The methods marked
// "(ops/)" below are differentiable ops: they are declared here so that
// `x.reshape(...)` reads naturally, and defined in ops/tensor_methods.cpp, so
// a program using them links the ops layer.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace seqboat {

using Shape = std::vector<int64_t>;

size_t dtype_size(DType dt);
const char* dtype_name(DType dt);
bool is_floating(DType dt);
const char* device_name(Device d);
std::string shape_str(const Shape& s);
// A dimension index with negatives counted from the end; throws naming `op`
// when it is out of range for `ndim` dims.
int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim);
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);

// Raw memory on one device. CUDA storage is allocated by device/memory.h; on a
// build without CUDA, asking for it throws.
struct Storage {
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
};

// Bytes of CPU tensor storage alive now and at most since the last reset
// (what the benchmarks report as peak memory).
struct MemoryStats {
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;
};
MemoryStats memory_stats();
void reset_peak_memory();

class Node;  // autograd graph node (autograd/autograd.h)

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;  // in elements
  DType dtype = DType::Float32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     // set on outputs of recorded ops
  int32_t output_nr = 0;             // which output of grad_fn this tensor is
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl_->shape); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  int64_t offset() const { return impl_->offset; }
  bool is_contiguous() const;

  // Host pointer to the first element (offset applied), for host code that
  // reads or writes a CPU tensor. Checks the dtype and that the tensor is on
  // the CPU: a device tensor is read through cpu() / to_vector().
  template <class T>
  T* data() const;
  // Pointer to the first element on the tensor's own device (checks the
  // dtype only): what an op hands to a kernel of that device.
  template <class T>
  T* ptr() const;
  void* raw_data() const;  // ptr() without a dtype

  // Element access for tests, printing and scalars (any device: device
  // values are copied to the host; converts to double).
  double item() const;
  double at(const std::vector<int64_t>& index) const;
  void set(const std::vector<int64_t>& index, double value);
  std::vector<double> to_vector() const;  // row-major, any dtype

  // Autograd.
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  Tensor grad() const;    // undefined Tensor if none
  void zero_grad();       // drops the accumulated gradient
  Tensor detach() const;  // shares storage, no history
  // Reverse-mode pass from this tensor (ops/). With no cotangent the tensor
  // must be a scalar (cotangent 1). The graph is freed unless retain_graph.
  void backward(const Tensor& cotangent = Tensor(), bool retain_graph = false) const;

  // Copies and conversions (differentiable; ops/).
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dt) const;
  Tensor to(Device dev) const;  // a copy on `dev` (this tensor if already there)
  Tensor cpu() const { return to(Device::CPU); }

  // Views (differentiable; ops/shape.cpp).
  Tensor reshape(const Shape& s) const;
  Tensor view(const Shape& s) const;  // like reshape but never copies
  Tensor permute(const std::vector<int64_t>& order) const;
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor expand(const Shape& s) const;

  std::string to_string(int64_t max_per_dim = 6) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- creation ----
Tensor empty(const Shape& s, DType dt = DType::Float32, Device dev = Device::CPU);
Tensor zeros(const Shape& s, DType dt = DType::Float32, Device dev = Device::CPU);
Tensor ones(const Shape& s, DType dt = DType::Float32, Device dev = Device::CPU);
Tensor full(const Shape& s, double value, DType dt = DType::Float32, Device dev = Device::CPU);
Tensor zeros_like(const Tensor& t);
Tensor arange(int64_t n, DType dt = DType::Int64);
Tensor scalar_tensor(double value, DType dt = DType::Float32);
// From row-major host values (converted to dt), on the CPU.
Tensor from_vector(const std::vector<double>& values, const Shape& s, DType dt = DType::Float64);
Tensor from_vector_i64(const std::vector<int64_t>& values, const Shape& s);
Tensor from_vector_u8(const std::vector<uint8_t>& values, const Shape& s);

// A contiguous CPU copy of t's values (no autograd history): the way host
// code reads a tensor of any device and any strides.
Tensor host_contiguous_copy(const Tensor& t);
// Copies the bytes of src (contiguous, same shape and dtype) into dst
// (contiguous), across devices: the host/device boundary.
void copy_contiguous_bytes(const Tensor& dst, const Tensor& src);

// Throws std::invalid_argument naming the op.
[[noreturn]] void fail(const std::string& message);

// Calls f(T{}) with T = float or double according to dt; other dtypes throw.
template <class F>
decltype(auto) dispatch_float(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: break;
  }
  fail(std::string(op) + ": expected a floating dtype (float32 or float64), got " + dtype_name(dt));
}

template <class T>
T* Tensor::ptr() const {
  if (impl_->dtype != dtype_of<T>())
    fail(std::string("Tensor::ptr: tensor has dtype ") + dtype_name(impl_->dtype) + ", requested " +
         dtype_name(dtype_of<T>()));
  return static_cast<T*>(impl_->storage->data) + impl_->offset;
}

template <class T>
T* Tensor::data() const {
  if (impl_->dtype != dtype_of<T>())
    fail(std::string("Tensor::data: tensor has dtype ") + dtype_name(impl_->dtype) + ", requested " +
         dtype_name(dtype_of<T>()));
  if (impl_->storage->device != Device::CPU)
    fail(std::string("Tensor::data: the tensor is on ") + device_name(impl_->storage->device) +
         "; host code reads it through cpu() or to_vector()");
  return static_cast<T*>(impl_->storage->data) + impl_->offset;
}

}  // namespace seqboat
