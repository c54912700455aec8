// cuda/host_exec.h: the host executor for the CUDA backend's kernels
// (cuda/exec.h): every work item runs as an ordinary loop iteration, GEMM is
// the textbook triple loop and the FFTs are direct DFTs. Slow and simple on
// purpose: it exists so that tests can run the CUDA kernels' logic on a
// machine without a GPU.
#pragma once

#include <cmath>
#include <cstring>
#include <vector>

#include "cuda/exec.h"
#include "kernels/linalg.h"

namespace seqboat::cuda {

struct HostExec {
  template <class F>
  void for_each(int64_t n, F f) {
    for (int64_t i = 0; i < n; ++i) f(i);
  }

  // The lanes of CudaExec's block reduction, added in lane order.
  template <class Acc, class Term, class Store>
  void reduce_rows(int64_t rows, int64_t n, Term term, Store store) {
    for (int64_t r = 0; r < rows; ++r) {
      Acc total = 0;
      if (n < kReduceThreads) {
        for (int64_t i = 0; i < n; ++i) total += term(r, i);
      } else {
        for (int64_t lane = 0; lane < kReduceThreads; ++lane) {
          Acc part = 0;
          for (int64_t i = lane; i < n; i += kReduceThreads) part += term(r, i);
          total += part;
        }
      }
      store(r, total);
    }
  }

  template <class Acc, class Term, class Store>
  void reduce_cols(int64_t cols, int64_t n, Term term, Store store) {
    const int64_t chunks = n > 0 ? (n + kColChunk - 1) / kColChunk : 1;
    for (int64_t c = 0; c < cols; ++c) {
      Acc total = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        const int64_t i0 = k * kColChunk, i1 = i0 + kColChunk < n ? i0 + kColChunk : n;
        Acc chunk = 0;
        for (int lane = 0; lane < kColLanes; ++lane) {
          Acc part = 0;
          for (int64_t i = i0 + lane; i < i1; i += kColLanes) part += term(c, i);
          chunk += part;
        }
        total += chunk;
      }
      store(c, total);
    }
  }

  template <class Count, class Visit>
  void scan_rows(int64_t rows, int64_t n, Count count, Visit visit) {
    for (int64_t r = 0; r < rows; ++r) {
      int64_t before = 0;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t c = count(r, i);
        visit(r, i, before);
        before += c;
      }
    }
  }

  // Shared memory per block: what a GPU grants without opting in (48 KiB);
  // tests lower it to take the kernels' paths without shared memory.
  static inline size_t shared_bytes_limit = 48 * 1024;
  static size_t shared_limit() { return shared_bytes_limit; }

  template <class... Phases>
  void for_blocks(int64_t blocks, int64_t steps, size_t shared_bytes, Phases... phases) {
    std::vector<double> shared(shared_bytes / sizeof(double) + 1);  // 8-byte aligned
    auto* raw = reinterpret_cast<unsigned char*>(shared.data());
    for (int64_t block = 0; block < blocks; ++block)
      for (int64_t step = 0; step < steps; ++step)
        (run_phase(phases, block, step, raw), ...);
  }

  template <class T>
  class Buffer {
   public:
    explicit Buffer(int64_t n) : data_(static_cast<size_t>(n > 0 ? n : 1)) {}
    T* get() { return data_.data(); }

   private:
    std::vector<T> data_;
  };
  template <class T>
  Buffer<T> scratch(int64_t n) {
    return Buffer<T>(n);
  }

  void to_host(void* dst, const void* src, size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }

  // Row-major C_b = op(A_b) op(B_b) (+= when accumulate), as kernels::GemmShape.
  template <class T>
  void gemm(const kernels::GemmShape& s, const T* a, const T* b, T* c) {
    for (int64_t bi = 0; bi < s.batch; ++bi) {
      const T* A = a + bi * s.stride_a;
      const T* B = b + bi * s.stride_b;
      T* C = c + bi * s.stride_c;
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) {
          T acc = 0;
          for (int64_t p = 0; p < s.k; ++p) {
            const T av = s.trans_a ? A[p * s.m + i] : A[i * s.k + p];
            const T bv = s.trans_b ? B[j * s.k + p] : B[p * s.n + j];
            acc += av * bv;
          }
          C[i * s.n + j] = s.accumulate ? C[i * s.n + j] + acc : acc;
        }
    }
  }

 private:
  template <class Phase>
  static void run_phase(Phase& phase, int64_t block, int64_t step, unsigned char* shared) {
    for (int thread = 0; thread < kBlockThreads; ++thread) phase(block, step, thread, shared);
  }

 public:
  // out[b, f] = sum_t in[b, t] e^{-2 pi i f t / n}, f < n/2 + 1 (as cuFFT R2C).
  template <class T>
  void fft_r2c(int64_t batch, int64_t n, const T* in, Cplx<T>* out) {
    const int64_t bins = n / 2 + 1;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t f = 0; f < bins; ++f) {
        double re = 0, im = 0;
        for (int64_t t = 0; t < n; ++t) {
          const double angle = -2.0 * M_PI * static_cast<double>((f * t) % n) / static_cast<double>(n);
          re += in[b * n + t] * std::cos(angle);
          im += in[b * n + t] * std::sin(angle);
        }
        out[b * bins + f] = {static_cast<T>(re), static_cast<T>(im)};
      }
  }

  // out[b, t] = sum_f X[f] e^{+2 pi i f t / n} over the full Hermitian
  // spectrum of the n/2 + 1 bins given, unnormalised (as cuFFT C2R).
  template <class T>
  void fft_c2r(int64_t batch, int64_t n, const Cplx<T>* in, T* out) {
    const int64_t bins = n / 2 + 1;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < n; ++t) {
        double acc = 0;
        for (int64_t f = 0; f < n; ++f) {
          // bins beyond n/2 are the conjugates of n - f
          const Cplx<T> x = f < bins ? in[b * bins + f] : cconj(in[b * bins + (n - f)]);
          const double angle = 2.0 * M_PI * static_cast<double>((f * t) % n) / static_cast<double>(n);
          acc += x.re * std::cos(angle) - x.im * std::sin(angle);
        }
        out[b * n + t] = static_cast<T>(acc);
      }
  }
};

}  // namespace seqboat::cuda
