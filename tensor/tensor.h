// tensor/tensor.h: the seqboat Tensor, a strided view over reference-counted
// storage. A Tensor is a cheap handle (shared_ptr to TensorImpl); views
// (reshape, permute, narrow, expand, ...) share storage and differ only in
// shape, strides and offset. Autograd state (requires_grad, grad, grad_fn)
// lives on the TensorImpl; see autograd/autograd.h.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqboat {

enum class DType : uint8_t { Float32, Float64, Int64, UInt8 };
enum class Device : uint8_t { CPU, CUDA };

using Shape = std::vector<int64_t>;

size_t dtype_size(DType dt);
const char* dtype_name(DType dt);
bool is_floating(DType dt);
const char* device_name(Device d);
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);

// Raw memory on one device. CUDA storage is allocated by cuda/memory.*; on a
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

  // Typed pointer to the first element (offset applied). Checks the dtype.
  template <class T>
  T* data() const;
  void* raw_data() const;

  // Element access for tests and printing (CPU only; converts to double).
  double item() const;
  double at(const std::vector<int64_t>& index) const;
  void set(const std::vector<int64_t>& index, double value);
  std::vector<double> to_vector() const;  // row-major, any dtype

  // Autograd.
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  Tensor grad() const;  // undefined Tensor if none
  void zero_grad();     // drops the accumulated gradient
  Tensor detach() const;  // shares storage, no history
  // Reverse-mode pass from this tensor. With no cotangent the tensor must be a
  // scalar (cotangent 1). The graph is freed unless retain_graph.
  void backward(const Tensor& cotangent = Tensor(), bool retain_graph = false) const;

  // Copies and conversions (differentiable).
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dt) const;
  Tensor to(Device dev) const;

  // Views (differentiable; see ops/shape.cpp).
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
Tensor ones_like(const Tensor& t);
Tensor arange(int64_t n, DType dt = DType::Int64);
Tensor scalar_tensor(double value, DType dt = DType::Float32);
// From row-major values (converted to dt).
Tensor from_vector(const std::vector<double>& values, const Shape& s, DType dt = DType::Float64);
Tensor from_vector_i64(const std::vector<int64_t>& values, const Shape& s);

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
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }

template <class T>
T* Tensor::data() const {
  if (impl_->dtype != dtype_of<T>())
    fail(std::string("Tensor::data: tensor has dtype ") + dtype_name(impl_->dtype) +
         ", requested " + dtype_name(dtype_of<T>()));
  return static_cast<T*>(impl_->storage->data) + impl_->offset;
}

}  // namespace seqboat
