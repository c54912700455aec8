// kernels/shape.h: kernels of ops/shape.cpp (copies that move data
// without arithmetic) and of dtype conversion.
#pragma once

#include "kernels/common.h"
#include "tensor/dtype.h"

namespace seqboat::kernels {

// dst[p] = src[p] for every position p of `shape`, each operand read or
// written at its own strides (element units).
template <class T>
using CopyStridedFn = void(const StridedShape& shape, const Strides& dst_strides, T* dst, const Strides& src_strides,
                           const T* src);

// dst[i] = src[i] converted to dst_dtype, for n contiguous elements; the
// value goes through double (so float -> int truncates toward zero).
template <class T>
using CastFn = void(int64_t n, const T* src, DType dst_dtype, void* dst);

}  // namespace seqboat::kernels

// The kernel table's rows of this family (kernels/table.h).
#define SEQBOAT_KERNELS_shape(K, U)      \
  K(shape, copy_strided, CopyStridedFn)  \
  K(shape, cast, CastFn)
