// cuda/elementwise_impl.h: CUDA kernels of ops/elementwise.cpp
// (kernels/elementwise.h), over an executor (cuda/exec.h). One work item per
// output element, each the formula of kernels/elementwise.h.
#pragma once

#include <cmath>

#include "cuda/exec.h"
#include "kernels/elementwise.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::BinaryOp;
using kernels::CompareOp;
using kernels::StridedShape;
using kernels::Strides;
using kernels::UnaryOp;

template <class Exec, class T>
void binary(Exec& ex, BinaryOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb,
            const T* b, T* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = kernels::binary_value(op, a[strided_offset(shape, sa, i)], b[strided_offset(shape, sb, i)]);
  });
}

template <class Exec, class T>
void compare(Exec& ex, CompareOp op, const StridedShape& shape, const Strides& sa, const T* a, const Strides& sb,
             const T* b, uint8_t* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = kernels::compare_value(op, a[strided_offset(shape, sa, i)], b[strided_offset(shape, sb, i)]);
  });
}

template <class Exec, class T>
void unary(Exec& ex, UnaryOp op, double scalar, int64_t n, const T* x, T* y) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { y[i] = kernels::unary_value(op, scalar, x[i]); });
}

template <class Exec, class T>
void unary_backward(Exec& ex, UnaryOp op, double scalar, int64_t n, const T* x, const T* y, const T* g, T* dx) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { dx[i] = kernels::unary_grad(op, scalar, x[i], y[i], g[i]); });
}

template <class Exec>
void logical_not(Exec& ex, int64_t n, const uint8_t* x, uint8_t* out) {
  ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { out[i] = x[i] == 0; });
}

template <class Exec, class T>
void where(Exec& ex, const StridedShape& shape, const Strides& sc, const uint8_t* c, const Strides& sa, const T* a,
           const Strides& sb, const T* b, T* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = c[strided_offset(shape, sc, i)] ? a[strided_offset(shape, sa, i)] : b[strided_offset(shape, sb, i)];
  });
}

template <class Exec, class T>
void masked_fill(Exec& ex, const StridedShape& shape, const Strides& sx, const T* x, const Strides& sm,
                 const uint8_t* mask, bool fill_where_set, T value, T* out) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    out[i] = (mask[strided_offset(shape, sm, i)] != 0) == fill_where_set ? value : x[strided_offset(shape, sx, i)];
  });
}

// The elementwise kernels of executor Exec, for the kernel table.
template <class Exec>
void add_elementwise_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.binary = &Bound<&binary<Exec, T>>::call;
    t.unary = &Bound<&unary<Exec, T>>::call;
    t.unary_backward = &Bound<&unary_backward<Exec, T>>::call;
    t.where = &Bound<&where<Exec, T>>::call;
    t.masked_fill = &Bound<&masked_fill<Exec, T>>::call;
  });
  k.fill_all_dtypes([](auto& t, auto tag) { t.compare = &Bound<&compare<Exec, decltype(tag)>>::call; });
  k.untyped.logical_not = &Bound<&logical_not<Exec>>::call;
}

}  // namespace seqboat::cuda::impl
