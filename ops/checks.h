// ops/checks.h: the argument checks every op runs before calling a kernel
// (messages name the op, the argument, the shapes), and the conversions from
// a Tensor's geometry to the plain structs kernels take.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <string>

#include "kernels/common.h"
#include "tensor/tensor.h"

namespace seqboat {

inline void check_defined(const char* op, const char* arg, const Tensor& t) {
  if (!t.defined()) fail(fmt::format("{}: {} is undefined", op, arg));
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    fail(fmt::format("{}: dtype mismatch, {} {} vs {} {}", op, dtype_name(a.dtype()), shape_str(a.shape()),
                     dtype_name(b.dtype()), shape_str(b.shape())));
}

// Every defined tensor lives on the device of the first one; returns it.
inline Device common_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t || !t->defined()) continue;
    if (!first) first = t;
    else if (t->device() != first->device())
      fail(fmt::format("{}: tensors on different devices, {} {} and {} {}; move them with .to(device)", op,
                       device_name(first->device()), shape_str(first->shape()), device_name(t->device()),
                       shape_str(t->shape())));
  }
  return first ? first->device() : Device::CPU;
}

inline void check_dtype(const char* op, const char* arg, const Tensor& t, DType dt) {
  if (t.dtype() != dt)
    fail(fmt::format("{}: {} must be {}, got {} of shape {}", op, arg, dtype_name(dt), dtype_name(t.dtype()),
                     shape_str(t.shape())));
}

inline void check_dim(const char* op, const char* arg, const Tensor& t, int64_t ndim) {
  if (t.dim() != ndim) fail(fmt::format("{}: {} must have {} dims, got shape {}", op, arg, ndim, shape_str(t.shape())));
}

// A defined, floating tensor; the message names op, argument and shape.
inline void check_float(const char* op, const char* arg, const Tensor& t) {
  check_defined(op, arg, t);
  if (!is_floating(t.dtype()))
    fail(fmt::format("{}: {} must be float32 or float64, got {} of shape {}", op, arg, dtype_name(t.dtype()),
                     shape_str(t.shape())));
}

// A parameter that goes with `ref` (argument `ref_arg`): defined, of ref's
// dtype and device, and of shape `expected`.
inline void check_param(const char* op, const char* arg, const Tensor& t, const Shape& expected, const Tensor& ref,
                        const char* ref_arg) {
  check_defined(op, arg, t);
  check_same_dtype(op, ref, t);
  common_device(op, {&ref, &t});
  if (t.shape() != expected)
    fail(fmt::format("{}: {} must have shape {}, got {} ({} {})", op, arg, shape_str(expected), shape_str(t.shape()),
                     ref_arg, shape_str(ref.shape())));
}

// ---- Tensor geometry -> kernel structs

inline kernels::StridedShape strided_shape(const char* op, const Shape& s) {
  if (static_cast<int64_t>(s.size()) > kernels::kMaxDims)
    fail(fmt::format("{}: shape {} has {} dims; kernels take at most {}", op, shape_str(s), s.size(),
                     kernels::kMaxDims));
  kernels::StridedShape out;
  out.ndim = static_cast<int32_t>(s.size());
  for (size_t d = 0; d < s.size(); ++d) out.size[d] = s[d];
  return out;
}

inline kernels::Strides strides_of(const Shape& strides) {
  kernels::Strides out;
  for (size_t d = 0; d < strides.size() && d < static_cast<size_t>(kernels::kMaxDims); ++d) out.step[d] = strides[d];
  return out;
}

// Strides of `t` read with shape `out` (right-aligned broadcast: stride 0 on
// broadcast dims).
inline kernels::Strides broadcast_strides(const Tensor& t, const Shape& out) {
  kernels::Strides st;
  const int64_t lead = static_cast<int64_t>(out.size()) - t.dim();
  for (int64_t i = 0; i < t.dim(); ++i) st.step[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return st;
}

}  // namespace seqboat
