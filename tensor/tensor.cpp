// tensor/tensor.cpp: storage, creation, element access, host/device copies
// and printing. The differentiable Tensor methods are in ops/tensor_methods.cpp.
#include "tensor/tensor.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "device/memory.h"
#include "tensor/checked.h"
#include "tensor/host_allocator.h"

namespace seqboat {

void fail(const std::string& message) { throw std::invalid_argument(message); }

size_t dtype_size(DType dt) {
  switch (dt) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::UInt8: return 1;
  }
  return 0;
}

const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
  }
  return "?";
}

bool is_floating(DType dt) { return dt == DType::Float32 || dt == DType::Float64; }

const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

int64_t shape_numel(const Shape& s) { return checked_numel(s, "tensor shape"); }

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

namespace {
std::atomic<int64_t> g_current_bytes{0}, g_peak_bytes{0};
void track_alloc(int64_t n) {
  int64_t now = g_current_bytes += n;
  int64_t peak = g_peak_bytes.load();
  while (now > peak && !g_peak_bytes.compare_exchange_weak(peak, now)) {}
}
}  // namespace

MemoryStats memory_stats() { return {g_current_bytes.load(), g_peak_bytes.load()}; }
void reset_peak_memory() { g_peak_bytes = g_current_bytes.load(); }

// At least 64 bytes, a multiple of 64 (vectorised kernels read whole lines).
static size_t allocation_size(size_t n) { return (std::max<size_t>(n, 64) + 63) / 64 * 64; }

Storage::Storage(size_t n, Device dev) : nbytes(n), device(dev) {
  if (dev == Device::CPU) {
    data = host_allocate(allocation_size(n));
    track_alloc(static_cast<int64_t>(nbytes));
  } else {
    data = cuda::device_malloc(allocation_size(n));
  }
}

Storage::~Storage() {
  if (device == Device::CPU) {
    host_release(data, allocation_size(nbytes));
    g_current_bytes -= static_cast<int64_t>(nbytes);
  } else cuda::device_free(data);
}

// ---- Tensor basics ----

int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim) {
  int64_t d = dim < 0 ? dim + ndim : dim;
  if (d < 0 || d >= std::max<int64_t>(ndim, 1) || (ndim == 0))
    fail(fmt::format("{}: dimension {} out of range for a tensor with {} dims", op, dim, ndim));
  return d;
}

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim("size", d, dim())]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = impl_->shape.size(); i-- > 0;) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != expected) return false;
    expected *= impl_->shape[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl_->storage->data) + impl_->offset * dtype_size(impl_->dtype);
}

static double load_as_double(const void* base, DType dt, int64_t i) {
  switch (dt) {
    case DType::Float32: return static_cast<const float*>(base)[i];
    case DType::Float64: return static_cast<const double*>(base)[i];
    case DType::Int64: return static_cast<double>(static_cast<const int64_t*>(base)[i]);
    case DType::UInt8: return static_cast<const uint8_t*>(base)[i];
  }
  return 0;
}

static void store_from_double(void* base, DType dt, int64_t i, double v) {
  switch (dt) {
    case DType::Float32: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    case DType::Float64: static_cast<double*>(base)[i] = v; break;
    case DType::Int64: static_cast<int64_t*>(base)[i] = static_cast<int64_t>(v); break;
    case DType::UInt8: static_cast<uint8_t*>(base)[i] = static_cast<uint8_t>(v); break;
  }
}

static int64_t element_offset(const Tensor& t, const std::vector<int64_t>& index, const char* what) {
  if (static_cast<int64_t>(index.size()) != t.dim())
    fail(fmt::format("{}: index has {} entries for a tensor of shape {}", what, index.size(), shape_str(t.shape())));
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    int64_t k = index[i] < 0 ? index[i] + t.shape()[i] : index[i];
    if (k < 0 || k >= t.shape()[i])
      fail(fmt::format("{}: index {} out of range for dim {} of shape {}", what, index[i], i, shape_str(t.shape())));
    off += k * t.strides()[i];
  }
  return off;
}

// Bytes between the host and a tensor's device (memcpy on the CPU).
static void bytes_to_host(void* dst, const void* src, size_t n, Device from) {
  if (n == 0) return;
  if (from == Device::CPU) std::memcpy(dst, src, n);
  else cuda::copy_to_host(dst, src, n);
}

static void bytes_from_host(void* dst, const void* src, size_t n, Device to) {
  if (n == 0) return;
  if (to == Device::CPU) std::memcpy(dst, src, n);
  else cuda::copy_to_device(dst, src, n);
}

// One element as double, read from any device.
static double read_element(const Tensor& t, int64_t element_offset) {
  const size_t es = dtype_size(t.dtype());
  alignas(8) unsigned char buf[8];
  bytes_to_host(buf, static_cast<const char*>(t.raw_data()) + element_offset * static_cast<int64_t>(es), es,
                t.device());
  return load_as_double(buf, t.dtype(), 0);
}

double Tensor::item() const {
  if (numel() != 1) fail(fmt::format("Tensor::item: tensor of shape {} is not a single value", shape_str(shape())));
  return read_element(*this, 0);
}

double Tensor::at(const std::vector<int64_t>& index) const {
  return read_element(*this, element_offset(*this, index, "Tensor::at"));
}

void Tensor::set(const std::vector<int64_t>& index, double value) {
  const int64_t off = element_offset(*this, index, "Tensor::set");
  const size_t es = dtype_size(dtype());
  alignas(8) unsigned char buf[8];
  store_from_double(buf, dtype(), 0, value);
  bytes_from_host(static_cast<char*>(raw_data()) + off * static_cast<int64_t>(es), buf, es, device());
}

std::vector<double> Tensor::to_vector() const {
  Tensor c = host_contiguous_copy(*this);
  std::vector<double> out(static_cast<size_t>(c.numel()));
  for (int64_t i = 0; i < c.numel(); ++i) out[i] = load_as_double(c.raw_data(), c.dtype(), i);
  return out;
}

Tensor host_contiguous_copy(const Tensor& t) {
  Tensor out = empty(t.shape(), t.dtype(), Device::CPU);
  if (t.numel() == 0) return out;
  const size_t es = dtype_size(t.dtype());
  if (t.is_contiguous()) {
    bytes_to_host(out.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()) * es, t.device());
    return out;
  }
  // A strided view: bring the storage it covers to the host, then gather.
  const char* base = static_cast<const char*>(t.impl()->storage->data);
  std::vector<char> staged;
  if (t.device() != Device::CPU) {
    staged.resize(t.impl()->storage->nbytes);
    bytes_to_host(staged.data(), base, staged.size(), t.device());
    base = staged.data();
  }
  const int64_t nd = t.dim();
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t off = t.offset();
    for (int64_t d = 0; d < nd; ++d) off += idx[d] * t.strides()[d];
    std::memcpy(dst + n * static_cast<int64_t>(es), base + off * static_cast<int64_t>(es), es);
    for (int64_t d = nd - 1; d >= 0 && ++idx[d] == t.shape()[d]; --d) idx[d] = 0;
  }
  return out;
}

void copy_contiguous_bytes(const Tensor& dst, const Tensor& src) {
  if (dst.shape() != src.shape() || dst.dtype() != src.dtype() || !dst.is_contiguous() || !src.is_contiguous())
    fail(fmt::format("copy_contiguous_bytes: destination {} {} and source {} {} must be contiguous and alike",
                     dtype_name(dst.dtype()), shape_str(dst.shape()), dtype_name(src.dtype()), shape_str(src.shape())));
  const size_t n = static_cast<size_t>(src.numel()) * dtype_size(src.dtype());
  if (n == 0) return;
  if (src.device() == Device::CPU) bytes_from_host(dst.raw_data(), src.raw_data(), n, dst.device());
  else if (dst.device() == Device::CPU) bytes_to_host(dst.raw_data(), src.raw_data(), n, src.device());
  else cuda::copy_device_to_device(dst.raw_data(), src.raw_data(), n);
}

Tensor& Tensor::requires_grad_(bool on) {
  if (on && !is_floating(dtype()))
    fail(fmt::format("requires_grad_: only floating tensors can require grad, got {}", dtype_name(dtype())));
  if (!is_leaf()) fail("requires_grad_: can only be set on leaf tensors (use detach() first)");
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }

void Tensor::zero_grad() { impl_->grad.reset(); }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->dtype = impl_->dtype;
  return Tensor(impl);
}

// ---- printing ----

static void print_rec(std::string& out, const Tensor& t, const std::vector<double>& v, size_t d, int64_t base,
                      int64_t max_per_dim, const Shape& cs) {
  if (d == t.shape().size()) {
    double x = v[static_cast<size_t>(base)];
    if (is_floating(t.dtype())) out += fmt::format("{:.6g}", x);
    else out += fmt::format("{}", static_cast<int64_t>(x));
    return;
  }
  out += "[";
  int64_t n = t.shape()[d];
  for (int64_t i = 0; i < n; ++i) {
    if (n > max_per_dim && i == max_per_dim / 2) {
      out += "..., ";
      i = n - max_per_dim / 2;
    }
    print_rec(out, t, v, d + 1, base + i * cs[d], max_per_dim, cs);
    if (i + 1 < n) out += d + 1 == t.shape().size() ? ", " : ",\n" + std::string(d + 8, ' ');
  }
  out += "]";
}

std::string Tensor::to_string(int64_t max_per_dim) const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> v = to_vector();
  std::string body;
  print_rec(body, *this, v, 0, 0, max_per_dim, contiguous_strides(shape()));
  return fmt::format("tensor({}, shape={}, dtype={}{})", body, shape_str(shape()), dtype_name(dtype()),
                     requires_grad() ? ", requires_grad" : "");
}

// ---- creation ----

Tensor empty(const Shape& s, DType dt, Device dev) {
  for (int64_t d : s)
    if (d < 0) fail(fmt::format("empty: negative dimension in shape {}", shape_str(s)));
  // Checked: a shape from a file or a config must not wrap to a small size.
  // (The message is formatted only on failure: empty() is on every op's path.)
  size_t nbytes = 0;
  try {
    nbytes = checked_nbytes(checked_numel(s, "size"), dtype_size(dt), "size");
  } catch (const SizeError& e) {
    throw SizeError(fmt::format("cannot allocate a {} tensor of shape {}: {}", dtype_name(dt), shape_str(s), e.what()));
  }
  // The live CPU tensors together must fit the machine too: each of a
  // too-large model's tensors may fit on its own, and the kernel's
  // overcommit would let them all "succeed" until the OOM killer ends the
  // process with a signal while they are first written.
  if (dev == Device::CPU) {
    const size_t live = static_cast<size_t>(std::max<int64_t>(g_current_bytes.load(), 0));
    if (live + nbytes > max_allocation_bytes())
      throw SizeError(fmt::format("cannot allocate a {} tensor of shape {} ({}): {} of tensors are already live and "
                                  "together they would exceed the {} this machine can allocate (the model, batch or "
                                  "data configured is too large)",
                                  dtype_name(dt), shape_str(s), bytes_text(static_cast<double>(nbytes)),
                                  bytes_text(static_cast<double>(live)),
                                  bytes_text(static_cast<double>(max_allocation_bytes()))));
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(nbytes, dev);
  impl->shape = s;
  impl->strides = contiguous_strides(s);
  impl->dtype = dt;
  return Tensor(impl);
}

Tensor full(const Shape& s, double value, DType dt, Device dev) {
  Tensor t = empty(s, dt, Device::CPU);
  void* p = t.raw_data();
  int64_t n = t.numel();
  switch (dt) {
    case DType::Float32: std::fill_n(static_cast<float*>(p), n, static_cast<float>(value)); break;
    case DType::Float64: std::fill_n(static_cast<double*>(p), n, value); break;
    case DType::Int64: std::fill_n(static_cast<int64_t*>(p), n, static_cast<int64_t>(value)); break;
    case DType::UInt8: std::fill_n(static_cast<uint8_t*>(p), n, static_cast<uint8_t>(value)); break;
  }
  if (dev == Device::CPU) return t;
  Tensor d = empty(s, dt, dev);
  copy_contiguous_bytes(d, t);
  return d;
}

Tensor zeros(const Shape& s, DType dt, Device dev) {
  if (dev == Device::CPU) return full(s, 0.0, dt, dev);
  Tensor t = empty(s, dt, dev);
  cuda::device_memset_zero(t.raw_data(), static_cast<size_t>(t.numel()) * dtype_size(dt));
  return t;
}
Tensor ones(const Shape& s, DType dt, Device dev) { return full(s, 1.0, dt, dev); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor scalar_tensor(double value, DType dt) { return full({}, value, dt); }

Tensor arange(int64_t n, DType dt) {
  Tensor t = empty({n}, dt);
  for (int64_t i = 0; i < n; ++i) store_from_double(t.raw_data(), dt, i, static_cast<double>(i));
  return t;
}

Tensor from_vector(const std::vector<double>& values, const Shape& s, DType dt) {
  if (static_cast<int64_t>(values.size()) != shape_numel(s))
    fail(fmt::format("from_vector: {} values for shape {}", values.size(), shape_str(s)));
  Tensor t = empty(s, dt);
  for (size_t i = 0; i < values.size(); ++i) store_from_double(t.raw_data(), dt, static_cast<int64_t>(i), values[i]);
  return t;
}

Tensor from_vector_i64(const std::vector<int64_t>& values, const Shape& s) {
  if (static_cast<int64_t>(values.size()) != shape_numel(s))
    fail(fmt::format("from_vector_i64: {} values for shape {}", values.size(), shape_str(s)));
  Tensor t = empty(s, DType::Int64);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

Tensor from_vector_u8(const std::vector<uint8_t>& values, const Shape& s) {
  if (static_cast<int64_t>(values.size()) != shape_numel(s))
    fail(fmt::format("from_vector_u8: {} values for shape {}", values.size(), shape_str(s)));
  Tensor t = empty(s, DType::UInt8);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size());
  return t;
}

}  // namespace seqboat
