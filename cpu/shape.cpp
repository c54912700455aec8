// cpu/shape.cpp: CPU kernels of ops/shape.cpp: strided copies and dtype
// conversion (see kernels/shape.h).
#include <cstring>

#include "cpu/backend.h"
#include "cpu/parallel.h"

namespace seqboat::cpu {

namespace {

// Moves elements by their bits: a copy does not care what they mean.
template <class T>
void copy_strided(const StridedShape& shape, const Strides& dst_strides, T* dst, const Strides& src_strides,
                  const T* src) {
  if (is_contiguous(shape, dst_strides) && is_contiguous(shape, src_strides)) {
    if (shape.numel() > 0) std::memcpy(dst, src, static_cast<size_t>(shape.numel()) * sizeof(T));
    return;
  }
  for_each_offset<2>(shape, {&dst_strides, &src_strides},
                     [&](const std::array<int64_t, 2>& o) { dst[o[0]] = src[o[1]]; });
}

template <class To, class From>
void convert(int64_t n, const From* src, To* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<To>(static_cast<double>(src[i]));
}

template <class T>
void cast(int64_t n, const T* src, DType dst_dtype, void* dst) {
  switch (dst_dtype) {
    case DType::Float32: convert(n, src, static_cast<float*>(dst)); break;
    case DType::Float64: convert(n, src, static_cast<double*>(dst)); break;
    case DType::Int64: convert(n, src, static_cast<int64_t*>(dst)); break;
    case DType::UInt8: convert(n, src, static_cast<uint8_t*>(dst)); break;
  }
}

}  // namespace

void add_shape_kernels(kernels::BackendKernels& k) {
  k.fill_all_dtypes([](auto& t, auto tag) {
    using T = decltype(tag);
    t.copy_strided = copy_strided<T>;
    t.cast = cast<T>;
  });
}

}  // namespace seqboat::cpu
