// ops/kernel_util.h: small helpers shared by the CPU kernels: strided
// iteration, broadcast strides, argument checks with shapes in the message.
#pragma once

#include <fmt/format.h>

#include <array>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace seqboat {

// Strides of `t` viewed with shape `out` (right-aligned broadcast: 0 stride on
// broadcast dims).
inline Shape broadcast_strides(const Tensor& t, const Shape& out) {
  Shape st(out.size(), 0);
  int64_t lead = static_cast<int64_t>(out.size()) - t.dim();
  for (int64_t i = 0; i < t.dim(); ++i) st[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return st;
}

// Calls f(offsets...) for every multi-index of `shape` (row-major order), where
// offsets[k] = sum_i index[i] * strides[k][i]. N operands.
template <size_t N, class F>
void for_each_offset(const Shape& shape, const std::array<Shape, N>& strides, F&& f) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  if (shape_numel(shape) == 0) return;
  if (nd == 0) {
    std::array<int64_t, N> off{};
    f(off);
    return;
  }
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  std::array<int64_t, N> off{};
  const int64_t inner = shape[nd - 1];
  while (true) {
    std::array<int64_t, N> o = off;
    for (int64_t i = 0; i < inner; ++i) {
      f(o);
      for (size_t k = 0; k < N; ++k) o[k] += strides[k][nd - 1];
    }
    int64_t d = nd - 2;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * (shape[d] - 1);
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    fail(fmt::format("{}: dtype mismatch, {} {} vs {} {}", op, dtype_name(a.dtype()), shape_str(a.shape()),
                     dtype_name(b.dtype()), shape_str(b.shape())));
}

inline void check_dtype(const char* op, const char* arg, const Tensor& t, DType dt) {
  if (t.dtype() != dt)
    fail(fmt::format("{}: {} must be {}, got {} of shape {}", op, arg, dtype_name(dt), dtype_name(t.dtype()),
                     shape_str(t.shape())));
}

inline void check_dim(const char* op, const char* arg, const Tensor& t, int64_t ndim) {
  if (t.dim() != ndim)
    fail(fmt::format("{}: {} must have {} dims, got shape {}", op, arg, ndim, shape_str(t.shape())));
}

inline void check_defined(const char* op, const char* arg, const Tensor& t) {
  if (!t.defined()) fail(fmt::format("{}: {} is undefined", op, arg));
}

// Loops over fewer elements than this stay serial (OpenMP start-up costs more).
constexpr int64_t kParallelWork = 1 << 15;

// Every tensor op in ops/ runs on the CPU here; a CUDA tensor reaching an op
// without a CUDA kernel gets this message rather than a crash.
inline void check_cpu(const char* op, const Tensor& t) {
  if (t.defined() && t.device() != Device::CPU)
    fail(fmt::format("{}: no {} kernel for this op yet (tensor of shape {})", op, device_name(t.device()),
                     shape_str(t.shape())));
}

// A defined, CPU, floating tensor; the message names op, argument and shape.
inline void check_float(const char* op, const char* arg, const Tensor& t) {
  check_defined(op, arg, t);
  check_cpu(op, t);
  if (!is_floating(t.dtype()))
    fail(fmt::format("{}: {} must be float32 or float64, got {} of shape {}", op, arg, dtype_name(t.dtype()),
                     shape_str(t.shape())));
}

}  // namespace seqboat
