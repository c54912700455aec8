// cuda/shape_impl.h: CUDA kernels of ops/shape.cpp (kernels/shape.h),
// written over an executor (cuda/exec.h).
#pragma once

#include "cuda/exec.h"
#include "kernels/shape.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::StridedShape;
using kernels::Strides;

// dst[p] = src[p]: one work item per element.
template <class Exec, class T>
void copy_strided(Exec& ex, const StridedShape& shape, const Strides& dst_strides, T* dst, const Strides& src_strides,
                  const T* src) {
  ex.for_each(shape.numel(), [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    dst[strided_offset(shape, dst_strides, i)] = src[strided_offset(shape, src_strides, i)];
  });
}

template <class To, class From>
SEQBOAT_HOST_DEVICE inline To convert_through_double(From v) {
  return static_cast<To>(static_cast<double>(v));
}

template <class Exec, class T>
void cast(Exec& ex, int64_t n, const T* src, DType dst_dtype, void* dst) {
  switch (dst_dtype) {
    case DType::Float32: {
      float* d = static_cast<float*>(dst);
      ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { d[i] = convert_through_double<float>(src[i]); });
      break;
    }
    case DType::Float64: {
      double* d = static_cast<double*>(dst);
      ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { d[i] = convert_through_double<double>(src[i]); });
      break;
    }
    case DType::Int64: {
      int64_t* d = static_cast<int64_t*>(dst);
      ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { d[i] = convert_through_double<int64_t>(src[i]); });
      break;
    }
    case DType::UInt8: {
      uint8_t* d = static_cast<uint8_t*>(dst);
      ex.for_each(n, [=] SEQBOAT_HOST_DEVICE(int64_t i) { d[i] = convert_through_double<uint8_t>(src[i]); });
      break;
    }
  }
}

// The shape kernels of executor Exec, for the kernel table.
template <class Exec>
void add_shape_kernels(kernels::BackendKernels& k) {
  k.fill_all_dtypes([](auto& t, auto tag) {
    using T = decltype(tag);
    t.copy_strided = &Bound<&copy_strided<Exec, T>>::call;
    t.cast = &Bound<&cast<Exec, T>>::call;
  });
}

}  // namespace seqboat::cuda::impl
