// tensor/tensor.cpp: storage, creation, element access and printing.
#include "tensor/tensor.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "autograd/autograd.h"
#include "cuda/memory.h"
#include "ops/shape.h"

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

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

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

Storage::Storage(size_t n, Device dev) : nbytes(n), device(dev) {
  size_t alloc = std::max<size_t>(n, 64);
  if (dev == Device::CPU) {
    // 64-byte alignment for vectorised kernels.
    alloc = (alloc + 63) / 64 * 64;
    data = std::aligned_alloc(64, alloc);
    if (!data) throw std::bad_alloc();
    track_alloc(static_cast<int64_t>(nbytes));
  } else {
    data = cuda::device_malloc(alloc);
  }
}

Storage::~Storage() {
  if (device == Device::CPU) {
    std::free(data);
    g_current_bytes -= static_cast<int64_t>(nbytes);
  }
  else cuda::device_free(data);
}

// ---- Tensor basics ----

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

static int64_t element_offset(const Tensor& t, const std::vector<int64_t>& index) {
  if (static_cast<int64_t>(index.size()) != t.dim())
    fail(fmt::format("Tensor::at: index has {} entries for a tensor of shape {}", index.size(),
                     shape_str(t.shape())));
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    int64_t k = index[i] < 0 ? index[i] + t.shape()[i] : index[i];
    if (k < 0 || k >= t.shape()[i])
      fail(fmt::format("Tensor::at: index {} out of range for dim {} of shape {}", index[i], i,
                       shape_str(t.shape())));
    off += k * t.strides()[i];
  }
  return off;
}

static void require_cpu(const Tensor& t, const char* what) {
  if (t.device() != Device::CPU)
    fail(fmt::format("{}: tensor is on {}, copy it to the CPU first", what, device_name(t.device())));
}

double Tensor::item() const {
  if (numel() != 1) fail(fmt::format("Tensor::item: tensor of shape {} is not a single value", shape_str(shape())));
  require_cpu(*this, "Tensor::item");
  return load_as_double(raw_data(), dtype(), 0);
}

double Tensor::at(const std::vector<int64_t>& index) const {
  require_cpu(*this, "Tensor::at");
  return load_as_double(raw_data(), dtype(), element_offset(*this, index));
}

void Tensor::set(const std::vector<int64_t>& index, double value) {
  require_cpu(*this, "Tensor::set");
  store_from_double(raw_data(), dtype(), element_offset(*this, index), value);
}

std::vector<double> Tensor::to_vector() const {
  Tensor c = detach().to(Device::CPU).contiguous();
  std::vector<double> out(static_cast<size_t>(c.numel()));
  for (int64_t i = 0; i < c.numel(); ++i) out[i] = load_as_double(c.raw_data(), c.dtype(), i);
  return out;
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

void Tensor::backward(const Tensor& cotangent, bool retain_graph) const {
  run_backward(*this, cotangent, retain_graph);
}

Tensor Tensor::contiguous() const { return seqboat::contiguous(*this); }
Tensor Tensor::clone() const {
  // A contiguous tensor would be returned as is by contiguous(); force a copy.
  Tensor out = empty(shape(), dtype(), device());
  copy_into(out, detach());
  return record("clone", out, {*this}, [](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{g};
  });
}
Tensor Tensor::to(DType dt) const { return cast(*this, dt); }

Tensor Tensor::to(Device dev) const {
  if (dev == device()) return *this;
  Tensor src = detach().contiguous();
  Tensor out = empty(shape(), dtype(), dev);
  size_t n = static_cast<size_t>(numel()) * dtype_size(dtype());
  if (dev == Device::CUDA) cuda::copy_to_device(out.raw_data(), src.raw_data(), n);
  else cuda::copy_to_host(out.raw_data(), src.raw_data(), n);
  Device from = device();
  return record("to_device", out, {*this}, [from](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{g.to(from)};
  });
}

Tensor Tensor::reshape(const Shape& s) const { return seqboat::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const {
  if (!is_contiguous()) fail(fmt::format("view: tensor of shape {} is not contiguous; use reshape", shape_str(shape())));
  return seqboat::reshape(*this, s);
}
Tensor Tensor::permute(const std::vector<int64_t>& o) const { return seqboat::permute(*this, o); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return seqboat::transpose(*this, a, b); }
Tensor Tensor::narrow(int64_t d, int64_t st, int64_t len) const { return seqboat::narrow(*this, d, st, len); }
Tensor Tensor::unsqueeze(int64_t d) const { return seqboat::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return seqboat::squeeze(*this, d); }
Tensor Tensor::expand(const Shape& s) const { return seqboat::expand(*this, s); }

// ---- printing ----

static void print_rec(std::string& out, const Tensor& t, const std::vector<double>& v, size_t d,
                      int64_t base, int64_t max_per_dim, const Shape& cs) {
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
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(s)) * dtype_size(dt), dev);
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
  return dev == Device::CPU ? t : t.to(dev);
}

Tensor zeros(const Shape& s, DType dt, Device dev) { return full(s, 0.0, dt, dev); }
Tensor ones(const Shape& s, DType dt, Device dev) { return full(s, 1.0, dt, dev); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
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
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

}  // namespace seqboat
