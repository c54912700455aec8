// kernels/elementwise.h: kernels of ops/elementwise.cpp and the
// mask-driven selections of ops/index.cpp (formulas in ops/elementwise.h and
// ops/index.h).
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div };
enum class CompareOp : uint8_t { Gt, Lt, Eq };
// `scalar` is s for AddScalar / MulScalar and p for Pow; unused otherwise.
enum class UnaryOp : uint8_t { AddScalar, MulScalar, Neg, Exp, Log, Sqrt, Pow, Square, Sigmoid, Silu, Relu, Tanh };

// out[p] = a[p] op b[p] for every position p of `shape`; out is contiguous,
// a and b are read at their (broadcast) strides.
template <class T>
using BinaryFn = void(BinaryOp op, const StridedShape& shape, const Strides& a_strides, const T* a,
                      const Strides& b_strides, const T* b, T* out);
// out[p] = a[p] cmp b[p] (1 or 0), as BinaryFn; every dtype.
template <class T>
using CompareFn = void(CompareOp op, const StridedShape& shape, const Strides& a_strides, const T* a,
                       const Strides& b_strides, const T* b, uint8_t* out);
// y[i] = f(x[i]) over n contiguous elements.
template <class T>
using UnaryFn = void(UnaryOp op, double scalar, int64_t n, const T* x, T* y);
// dx[i] = g[i] f'(x[i]) with y = f(x) at hand, for Exp .. Tanh (the linear
// ops AddScalar, MulScalar, Neg have composed backwards).
template <class T>
using UnaryBackwardFn = void(UnaryOp op, double scalar, int64_t n, const T* x, const T* y, const T* g, T* dx);
// out[i] = !x[i] (UInt8 masks).
template <class T>
using LogicalNotFn = void(int64_t n, const uint8_t* x, uint8_t* out);
// out[p] = cond[p] ? a[p] : b[p]; out contiguous.
template <class T>
using WhereFn = void(const StridedShape& shape, const Strides& cond_strides, const uint8_t* cond,
                     const Strides& a_strides, const T* a, const Strides& b_strides, const T* b, T* out);
// out[p] = (mask[p] != 0) == fill_where_set ? value : x[p]; out contiguous.
// masked_fill is fill_where_set = true; the masked gradient g * [mask == keep]
// is value 0 with fill_where_set = !keep.
template <class T>
using MaskedFillFn = void(const StridedShape& shape, const Strides& x_strides, const T* x, const Strides& mask_strides,
                          const uint8_t* mask, bool fill_where_set, T value, T* out);

}  // namespace seqboat::kernels
