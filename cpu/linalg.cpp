// cpu/linalg.cpp: CPU kernels of ops/linalg.cpp on Eigen's GEMM (formulas in
// ops/linalg.h).
#include "cpu/backend.h"
#include "cpu/gemm.h"

namespace seqboat::cpu {

namespace {

template <class T>
void gemm_batched(const kernels::GemmShape& s, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < s.batch; ++i)
    gemm<T>(a + i * s.stride_a, b + i * s.stride_b, c + i * s.stride_c, s.m, s.n, s.k, s.trans_a, s.trans_b,
            s.accumulate);
}

// Y = bias (every row), then Y += X W^T.
template <class T>
void linear_forward(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* bias, T* y) {
  MapM<T> Y(y, rows, out);
  if (bias) Y.rowwise() = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias, out);
  else Y.setZero();
  gemm<T>(x, w, y, rows, out, in, false, true, true);
}

template <class T>
void linear_backward(int64_t rows, int64_t in, int64_t out, const T* x, const T* w, const T* g, T* dx, T* dw, T* db) {
  if (dx) gemm<T>(g, w, dx, rows, in, out, false, false, false);  // dx = g W
  if (dw) gemm<T>(g, x, dw, out, in, rows, true, false, false);   // dW = g^T x
  if (db)                                                         // db = sum over rows of g
    Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(db, out) = MapC<T>(g, rows, out).colwise().sum();
}

}  // namespace

void add_linalg_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.gemm = gemm_batched<T>;
    t.linear_forward = linear_forward<T>;
    t.linear_backward = linear_backward<T>;
  });
}

}  // namespace seqboat::cpu
