// cpu/gemm.h: one row-major matrix product on Eigen's blocked GEMM, shared by
// the CPU kernels that multiply matrices (linalg, the Toeplitz convolution).
//
// Threads: a large product is cut into one panel of C per OpenMP thread
// (along the longer of C's two sides) and each panel runs Eigen's
// single-threaded GEMM. Eigen's own parallel GEMM shares packed blocks
// between threads and spin-waits on them, which is fine on idle cores but
// collapses when a core is busy with something else (measured: a layer's
// forward+backward 6x slower with 2 threads than with 1 on a 2-core machine
// running another job; bench/README.md). Panels need no synchronisation but
// the end of the parallel region; each thread packs the other operand itself.
#pragma once

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

namespace seqboat::cpu {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MapC = Eigen::Map<const RowMat<T>>;
template <class T>
using MapM = Eigen::Map<RowMat<T>>;
template <class T>
using StridedMapC = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <class T>
using StridedMapM = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;

// Products below this many multiply-adds run on one thread (about 10 us).
constexpr double kParallelGemmMacs = double(1 << 20);

// C (m, n; row stride ldc) = op(A) op(B) (+= when accumulate), where A is
// stored (m, k) with row stride lda, or (k, m) when ta; B is stored (k, n)
// with row stride ldb, or (n, k) when tb. One thread (Eigen's serial GEMM
// when called inside a parallel region).
template <class T>
void gemm_panel(const T* a, int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc, int64_t m, int64_t n, int64_t k,
                bool ta, bool tb, bool accumulate) {
  StridedMapM<T> C(c, m, n, Eigen::OuterStride<>(ldc));
  auto run = [&](const auto& A, const auto& B) {
    if (accumulate) C.noalias() += A * B;
    else C.noalias() = A * B;
  };
  using Stride = Eigen::OuterStride<>;
  if (!ta && !tb) run(StridedMapC<T>(a, m, k, Stride(lda)), StridedMapC<T>(b, k, n, Stride(ldb)));
  else if (ta && !tb) run(StridedMapC<T>(a, k, m, Stride(lda)).transpose(), StridedMapC<T>(b, k, n, Stride(ldb)));
  else if (!ta && tb) run(StridedMapC<T>(a, m, k, Stride(lda)), StridedMapC<T>(b, n, k, Stride(ldb)).transpose());
  else run(StridedMapC<T>(a, k, m, Stride(lda)).transpose(), StridedMapC<T>(b, n, k, Stride(ldb)).transpose());
}

// C[m, n] = op(A) op(B) (+= when accumulate) for contiguous row-major A, B:
// A is (m, k), or (k, m) when ta; B is (k, n), or (n, k) when tb.
template <class T>
void gemm(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool accumulate) {
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const bool split_rows = m >= n;
  // Panel edges on multiples of Eigen's register block (24 rows of C for
  // float AVX, 8 columns), so that no panel gets a ragged micro-kernel.
  const int64_t side = split_rows ? m : n, quantum = split_rows ? 24 : 8;
  // At least one quantum per panel: with more threads than quanta of work
  // (threads > side) side / threads is 0, and fewer threads run.
  const int64_t panel = std::max<int64_t>(quantum, (side / threads + quantum - 1) / quantum * quantum);
  if (threads <= 1 || double(m) * double(n) * double(k) < kParallelGemmMacs || panel >= side) {
    gemm_panel(a, lda, b, ldb, c, n, m, n, k, ta, tb, accumulate);
    return;
  }
  const int64_t panels = (side + panel - 1) / panel;
#pragma omp parallel for num_threads(static_cast <int>(std::min <int64_t>(threads, panels))) schedule(static, 1)
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t lo = p * panel, len = std::min(side, lo + panel) - lo;
    if (split_rows)  // rows lo.. of C and of op(A)
      gemm_panel(ta ? a + lo : a + lo * lda, lda, b, ldb, c + lo * n, n, len, n, k, ta, tb, accumulate);
    else  // columns lo.. of C and of op(B)
      gemm_panel(a, lda, tb ? b + lo * ldb : b + lo, ldb, c + lo, n, m, len, k, ta, tb, accumulate);
  }
}

}  // namespace seqboat::cpu
