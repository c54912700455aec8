// cpu/ssm.cpp: CPU kernels of ops/ssm.cpp: the EMA kernel and the SSM
// convolution (three exact algorithms). The maths, term by term, is at the
// top of ops/ssm.cpp; this file is about how the CPU evaluates it.
//
// ssm_conv: three primitives cover forward and backward: past conv, future
// conv, lagged products. Direct evaluates them in O(L Lk) per sequence. FFT
// zero-pads to n >= L + Lk - 1 (the next power of two, at least 4; the
// reference uses 2L or 2(L + Lk - 1), equally exact) and evaluates them in
// O(n log n):
//   past conv        spectrum K U          (linear convolution: no wrap-around for t < L)
//   future conv      spectrum conj(K) U    (circular correlation: u[t+i] with t+i <= L+Lk-2 < n)
//   lagged products  c[i] = sum_s x0[s] G[s+i] has spectrum conj(X0) G;
//                    dk1[i] = c[i] and dk2[i] = c[(n - i) mod n] (G is zero beyond L, so no wrap)
// The dk spectra are summed over b before the single inverse transform per d.
// Toeplitz writes the same sums as three matrix products per channel (see
// build_toeplitz below); Auto chooses among the three by a fitted cost model
// (resolve_algo). The FFT is Eigen's unsupported/Eigen/FFT (kissfft), which
// ships with libeigen3-dev: no new dependency.
// Threads: forward over (b, d); backward over d with b in a fixed order inside,
// so dk sums are deterministic (no atomics, no cross-thread reductions).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <unsupported/Eigen/FFT>
#include <vector>

#include "cpu/backend.h"

namespace seqboat::cpu {

namespace {

using kernels::ConvAlgo;
using kernels::ConvGeometry;
using kernels::EmaShape;
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using VecMap = Eigen::Map<Vec<T>>;
template <class T>
using ConstVecMap = Eigen::Map<const Vec<T>>;

// ---------------------------------------------------------------- ema_kernel

using kernels::ema_coeffs;
using kernels::EmaCoeffs;

template <class T>
void ema_kernel_forward(const EmaShape& P, const T* delta, const T* alpha, const T* beta, const T* gamma, T* k) {
  const T scale = kernels::ema_scale<T>(P.N);
  std::fill(k, k + P.K * P.length, T(0));
  for (int64_t c = 0; c < P.K; ++c)
    for (int64_t n = 0; n < P.N; ++n) {
      const int64_t cn = c * P.N + n;
      const EmaCoeffs<T> e = ema_coeffs(delta[cn], alpha[cn], beta[cn], gamma[cn], scale);
      for (int64_t l = 0; l < P.length; ++l) k[c * P.length + l] += e.coef * std::exp(T(l) * e.log_q);
    }
}

// Gradients of all four parameters (the cost is K N Lk either way).
template <class T>
void ema_kernel_backward(const EmaShape& P, const T* delta, const T* alpha, const T* beta, const T* gamma, const T* G,
                         T* d_delta, T* d_alpha, T* d_beta, T* d_gamma) {
  const T scale = kernels::ema_scale<T>(P.N);
  for (int64_t c = 0; c < P.K; ++c)
    for (int64_t n = 0; n < P.N; ++n) {
      const int64_t cn = c * P.N + n;
      const EmaCoeffs<T> e = ema_coeffs(delta[cn], alpha[cn], beta[cn], gamma[cn], scale);
      const T* g = G + c * P.length;
      T S0 = 0, S1 = 0;  // S0 = sum_l G q^l, S1 = sum_l G l q^(l-1)
      for (int64_t l = 0; l < P.length; ++l) {
        S0 += g[l] * std::exp(T(l) * e.log_q);
        if (l > 0) S1 += g[l] * T(l) * std::exp(T(l - 1) * e.log_q);
      }
      const kernels::EmaParamGrads<T> d = kernels::ema_param_grads(e, beta[cn], gamma[cn], scale, S0, S1);
      d_delta[cn] = d.delta;
      d_alpha[cn] = d.alpha;
      d_beta[cn] = d.beta;
      d_gamma[cn] = d.gamma;
    }
}

// Direct primitives on one contiguous sequence; each accumulates into out.

// out[t] += sum_{i=0..min(t, Lk-1)} k[i] u[t-i]
template <class T>
void past_conv_direct(const T* k, const T* u, int64_t L, int64_t Lk, T* out) {
  for (int64_t i = 0; i < Lk; ++i) VecMap<T>(out + i, L - i) += k[i] * ConstVecMap<T>(u, L - i);
}

// out[t] += sum_{i=0..min(L-1-t, Lk-1)} k[i] u[t+i]
template <class T>
void future_conv_direct(const T* k, const T* u, int64_t L, int64_t Lk, T* out) {
  for (int64_t i = 0; i < Lk; ++i) VecMap<T>(out, L - i) += k[i] * ConstVecMap<T>(u + i, L - i);
}

// out[i] += sum_{t=i..L-1} a[t] b[t-i], for i < Lk
template <class T>
void lagged_products_direct(const T* a, const T* b, int64_t L, int64_t Lk, T* out) {
  for (int64_t i = 0; i < Lk; ++i) out[i] += ConstVecMap<T>(a + i, L - i).dot(ConstVecMap<T>(b, L - i));
}

// A real FFT of fixed size n with scratch space; one per thread (Eigen::FFT
// caches plans and buffers, so it is not shared).
template <class T>
class RealFFT {
 public:
  using Complex = std::complex<T>;
  explicit RealFFT(int64_t n) : n_(n), samples_(static_cast<size_t>(n)) { fft_.SetFlag(Eigen::FFT<T>::HalfSpectrum); }
  int64_t bins() const { return n_ / 2 + 1; }
  // spectrum (bins() values) of u[0..len) zero-padded to n
  void forward(const T* u, int64_t len, Complex* spectrum) {
    std::copy(u, u + len, samples_.begin());
    std::fill(samples_.begin() + len, samples_.end(), T(0));
    fft_.fwd(spectrum, samples_.data(), n_);
  }
  // All n samples of the inverse transform; valid until the next call.
  const T* inverse(const Complex* spectrum) {
    fft_.inv(samples_.data(), spectrum, n_);
    return samples_.data();
  }

 private:
  int64_t n_;
  std::vector<T> samples_;
  Eigen::FFT<T> fft_;
};

// Spectra of every kernel row, (rows, bins) row-major.
template <class T>
std::vector<std::complex<T>> kernel_spectra(const T* kernel, int64_t rows, int64_t Lk, int64_t n) {
  const int64_t bins = n / 2 + 1;
  std::vector<std::complex<T>> spectra(static_cast<size_t>(rows * bins));
#pragma omp parallel
  {
    RealFFT<T> fft(n);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) fft.forward(kernel + r * Lk, Lk, spectra.data() + r * bins);
  }
  return spectra;
}

// x0_seq[b, d, :] = x[b, :, d] with padding zeroed.
template <class T>
void gather_sequence(const T* x, const uint8_t* pad, const ConvGeometry& g, int64_t b, int64_t d, T* seq) {
  for (int64_t t = 0; t < g.L; ++t) {
    const bool is_pad = pad && pad[b * g.L + t];
    seq[t] = is_pad ? T(0) : x[(b * g.L + t) * g.D + d];
  }
}

template <class T>
void scatter_sequence(const T* seq, const ConvGeometry& g, int64_t b, int64_t d, T* y) {
  for (int64_t t = 0; t < g.L; ++t) y[(b * g.L + t) * g.D + d] = seq[t];
}

// ---- Toeplitz: the direct sums as matrix products, one per channel d.
// T_d (L x L): T[t, s] = k1[t - s] (0 <= t - s < Lk) + k2[s - t] (0 <= s - t < Lk,
// bidirectional). With X_d[s, b] = x0[b, s, d] and G_d[t, b] = G[b, t, d]:
//   forward  Y_d = T_d X_d                       (past + future sums at once)
//   dx       DX0_d = T_d^T G_d                   (terms 1 and 2)
//   dk       M_d = G_d X_d^T;  dk1[i] = sum_t M[t, t - i],  dk2[i] = sum_t M[t, t + i]
// Same multiply-adds as Direct plus the zeros of T (and of M beyond Lk), but
// as blocked GEMMs (Eigen) they run about twice as fast for short sequences;
// the memory is O(L^2) per thread, so Auto only takes it for L <= 1024.
template <class T>
using ColMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T>
void build_toeplitz(const T* kernel, const ConvGeometry& g, int64_t d, ColMat<T>& Tm) {
  const int64_t L = g.L, Lk = g.Lk;
  Tm.setZero(L, L);
  const T* k1 = kernel + d * Lk;
  const T* k2 = g.bidirectional ? kernel + (g.D + d) * Lk : nullptr;
  for (int64_t s = 0; s < L; ++s) {
    T* col = Tm.data() + s * L;
    for (int64_t i = 0; i < std::min(Lk, L - s); ++i) col[s + i] += k1[i];
    if (k2)
      for (int64_t i = 0; i < std::min(Lk, s + 1); ++i) col[s - i] += k2[i];
  }
}

// X_d as an L x B view of x0_seq (B, D, L): column b is the row (b, d).
template <class T>
Eigen::Map<const ColMat<T>, 0, Eigen::OuterStride<>> x0_columns(const T* x0_seq, const ConvGeometry& g, int64_t d) {
  return {x0_seq + d * g.L, g.L, g.B, Eigen::OuterStride<>(g.D * g.L)};
}

template <class T>
void ssm_conv_forward_toeplitz(const T* x, const T* kernel, const uint8_t* pad, const ConvGeometry& g, T* x0_seq,
                               T* y) {
  const int64_t L = g.L, D = g.D, B = g.B;
#pragma omp parallel for schedule(static)
  for (int64_t bd = 0; bd < g.sequences(); ++bd) gather_sequence(x, pad, g, bd / D, bd % D, x0_seq + bd * L);
#pragma omp parallel
  {
    ColMat<T> Tm, Yd(L, B);
#pragma omp for schedule(static)
    for (int64_t d = 0; d < D; ++d) {
      build_toeplitz(kernel, g, d, Tm);
      Yd.noalias() = Tm * x0_columns(x0_seq, g, d);
      for (int64_t b = 0; b < B; ++b) scatter_sequence(Yd.data() + b * L, g, b, d, y);
    }
  }
}

template <class T>
void ssm_conv_backward_toeplitz(const T* G, const T* kernel, const T* x0_seq, const uint8_t* pad, const ConvGeometry& g,
                                T* dx, T* dk) {
  const int64_t L = g.L, Lk = g.Lk, D = g.D, B = g.B;
#pragma omp parallel
  {
    ColMat<T> Tm, Gd(L, B), DX(L, B), M(L, L);
#pragma omp for schedule(static)
    for (int64_t d = 0; d < D; ++d) {
      for (int64_t b = 0; b < B; ++b) gather_sequence<T>(G, nullptr, g, b, d, Gd.data() + b * L);
      if (dx) {
        build_toeplitz(kernel, g, d, Tm);
        DX.noalias() = Tm.transpose() * Gd;
        for (int64_t b = 0; b < B; ++b)
          for (int64_t t = 0; t < L; ++t) {
            const bool is_pad = pad && pad[b * L + t];
            dx[(b * L + t) * D + d] = is_pad ? T(0) : DX(t, b);
          }
      }
      if (dk) {
        M.noalias() = Gd * x0_columns(x0_seq, g, d).transpose();
        for (int64_t i = 0; i < Lk; ++i) dk[d * Lk + i] = M.diagonal(-i).sum();
        if (g.bidirectional)
          for (int64_t i = 0; i < Lk; ++i) dk[(D + d) * Lk + i] = M.diagonal(i).sum();
      }
    }
  }
}

// y = conv(x0, kernel); also fills x0_seq (B, D, L) for the backward.
template <class T>
void ssm_conv_forward(const ConvGeometry& g, const T* x, const T* kernel, const uint8_t* pad, T* x0_seq, T* y) {
  const int64_t L = g.L, Lk = g.Lk, D = g.D;
  const ConvAlgo algo = g.algo;
  if (algo == ConvAlgo::Toeplitz) {
    ssm_conv_forward_toeplitz(x, kernel, pad, g, x0_seq, y);
    return;
  }
  if (algo == ConvAlgo::Direct) {
#pragma omp parallel
    {
      std::vector<T> out(static_cast<size_t>(L));
#pragma omp for schedule(static)
      for (int64_t bd = 0; bd < g.sequences(); ++bd) {
        const int64_t b = bd / D, d = bd % D;
        T* x0 = x0_seq + bd * L;
        gather_sequence(x, pad, g, b, d, x0);
        std::fill(out.begin(), out.end(), T(0));
        past_conv_direct(kernel + d * Lk, x0, L, Lk, out.data());
        if (g.bidirectional) future_conv_direct(kernel + (D + d) * Lk, x0, L, Lk, out.data());
        scatter_sequence(out.data(), g, b, d, y);
      }
    }
    return;
  }
  const int64_t n = kernels::conv_fft_size(L, Lk), bins = n / 2 + 1;
  auto K = kernel_spectra(kernel, g.bidirectional ? 2 * D : D, Lk, n);
#pragma omp parallel
  {
    RealFFT<T> fft(n);
    std::vector<std::complex<T>> spec(static_cast<size_t>(bins));
#pragma omp for schedule(static)
    for (int64_t bd = 0; bd < g.sequences(); ++bd) {
      const int64_t b = bd / D, d = bd % D;
      T* x0 = x0_seq + bd * L;
      gather_sequence(x, pad, g, b, d, x0);
      fft.forward(x0, L, spec.data());
      const std::complex<T>* K1 = K.data() + d * bins;
      const std::complex<T>* K2 = g.bidirectional ? K.data() + (D + d) * bins : nullptr;
      for (int64_t f = 0; f < bins; ++f)  // past conv with k1 (+ future conv with k2)
        spec[f] = g.bidirectional ? (K1[f] + std::conj(K2[f])) * spec[f] : K1[f] * spec[f];
      scatter_sequence(fft.inverse(spec.data()), g, b, d, y);
    }
  }
}

// dx (B, L, D) and/or dk (rows, Lk); either pointer may be null.
template <class T>
void ssm_conv_backward_direct(const T* G, const T* kernel, const T* x0_seq, const uint8_t* pad, const ConvGeometry& g,
                              T* dx, T* dk) {
  const int64_t L = g.L, Lk = g.Lk, D = g.D;
#pragma omp parallel
  {
    std::vector<T> gs(static_cast<size_t>(L)), dx0(static_cast<size_t>(L));
#pragma omp for schedule(static)
    for (int64_t d = 0; d < D; ++d) {
      const T* k1 = kernel + d * Lk;
      const T* k2 = g.bidirectional ? kernel + (D + d) * Lk : nullptr;
      for (int64_t b = 0; b < g.B; ++b) {
        gather_sequence<T>(G, nullptr, g, b, d, gs.data());
        const T* x0 = x0_seq + (b * D + d) * L;
        if (dx) {
          std::fill(dx0.begin(), dx0.end(), T(0));
          future_conv_direct(k1, gs.data(), L, Lk, dx0.data());                     // term 1
          if (g.bidirectional) past_conv_direct(k2, gs.data(), L, Lk, dx0.data());  // term 2
          for (int64_t t = 0; t < L; ++t)
            if (pad && pad[b * L + t]) dx0[t] = T(0);
          scatter_sequence(dx0.data(), g, b, d, dx);
        }
        if (dk) {
          lagged_products_direct(gs.data(), x0, L, Lk, dk + d * Lk);
          if (g.bidirectional) lagged_products_direct(x0, gs.data(), L, Lk, dk + (D + d) * Lk);
        }
      }
    }
  }
}

template <class T>
void ssm_conv_backward_fft(const T* G, const T* kernel, const T* x0_seq, const uint8_t* pad, const ConvGeometry& g,
                           T* dx, T* dk) {
  const int64_t L = g.L, Lk = g.Lk, D = g.D;
  const int64_t n = kernels::conv_fft_size(L, Lk), bins = n / 2 + 1;
  auto K = kernel_spectra(kernel, g.bidirectional ? 2 * D : D, Lk, n);
#pragma omp parallel
  {
    RealFFT<T> fft(n);
    std::vector<T> gs(static_cast<size_t>(L));
    std::vector<std::complex<T>> G_spec(bins), X_spec(bins), dx_spec(bins), lag_spec(bins);
#pragma omp for schedule(static)
    for (int64_t d = 0; d < D; ++d) {
      const std::complex<T>* K1 = K.data() + d * bins;
      const std::complex<T>* K2 = g.bidirectional ? K.data() + (D + d) * bins : nullptr;
      std::fill(lag_spec.begin(), lag_spec.end(), std::complex<T>(0));
      for (int64_t b = 0; b < g.B; ++b) {
        gather_sequence<T>(G, nullptr, g, b, d, gs.data());
        fft.forward(gs.data(), L, G_spec.data());
        if (dx) {
          for (int64_t f = 0; f < bins; ++f)  // term 1: future conv of G with k1 (+ term 2: past conv with k2)
            dx_spec[f] = g.bidirectional ? (std::conj(K1[f]) + K2[f]) * G_spec[f] : std::conj(K1[f]) * G_spec[f];
          const T* dx0 = fft.inverse(dx_spec.data());
          for (int64_t t = 0; t < L; ++t) {
            const bool is_pad = pad && pad[b * L + t];
            dx[(b * L + t) * D + d] = is_pad ? T(0) : dx0[t];
          }
        }
        if (dk) {
          fft.forward(x0_seq + (b * D + d) * L, L, X_spec.data());
          for (int64_t f = 0; f < bins; ++f) lag_spec[f] += std::conj(X_spec[f]) * G_spec[f];
        }
      }
      if (dk) {
        const T* c = fft.inverse(lag_spec.data());  // c[i] = sum_b sum_s x0[s] G[s+i]
        for (int64_t i = 0; i < Lk; ++i) dk[d * Lk + i] = c[i];
        if (g.bidirectional)
          for (int64_t i = 0; i < Lk; ++i) dk[(D + d) * Lk + i] = c[(n - i) % n];
      }
    }
  }
}

// Auto estimates each algorithm's cost per sequence in Direct multiply-adds:
//   Direct    directions * (L Lk - Lk^2 / 2)
//   Toeplitz  L^2 / 2   (L^2 multiply-adds per pass at about twice Direct's rate;
//                        only for L <= 256, where T_d stays in cache)
//   FFT       16 n log2(n), n the FFT size
// and takes the cheapest (ties go to Toeplitz, then Direct). The constants are
// fitted to `build/bin/bench_conv --reps 3` (float32, B = 32, D = 128, 1 thread,
// forward + backward, ms Direct / Toeplitz / FFT, 2-core dev box):
//   causal L=32   Lk=32:    4.4 / 2.2 / 11.2    bidir L=32   Lk=32:    4.6 / 1.3 / 9.0
//   causal L=128  Lk=128:  12.8 / 10.9 / 38.6   bidir L=128  Lk=128:  22.3 / 12.0 / 37.0
//   causal L=128  Lk=32:    8.1 / 11.8 / 38.3   bidir L=128  Lk=32:    9.1 / 11.2 / 36.8
//   causal L=256  Lk=256:  36.2 / 37.8 / 62.2   bidir L=256  Lk=256:  64.4 / 43.7 / 62.9
//   causal L=512  Lk=512:   113 / 152 / 170     bidir L=512  Lk=512:   198 / 192 / 173
//   causal L=1024 Lk=1024:  427 / 693 / 328     bidir L=1024 Lk=128:   229 / 700 / 294
//   causal L=2048 Lk=256:   585 / - / 825       bidir L=2048 Lk=256:   859 / - / 849
// An earlier fit on float64, B = 2, D = 32 put the Direct/FFT crossover at the
// same constant 16 (e.g. causal L=4096: Lk=384 Direct 44 ms / FFT 57 ms,
// Lk=512 86 / 40).
ConvAlgo resolve_algo(ConvAlgo algo, const ConvGeometry& g) {
  if (algo != ConvAlgo::Auto) return algo;
  const double n = static_cast<double>(kernels::conv_fft_size(g.L, g.Lk));
  const double L = static_cast<double>(g.L), Lk = static_cast<double>(g.Lk);
  const double direct = (g.bidirectional ? 2.0 : 1.0) * (L * Lk - 0.5 * Lk * Lk);
  const double fft = 16.0 * n * std::log2(n);
  const double toeplitz = g.L <= 256 ? 0.5 * L * L : std::numeric_limits<double>::infinity();
  if (toeplitz <= direct && toeplitz <= fft) return ConvAlgo::Toeplitz;
  return direct <= fft ? ConvAlgo::Direct : ConvAlgo::FFT;
}

template <class T>
void ssm_conv_backward(const ConvGeometry& g, const T* G, const T* kernel, const T* x0_seq, const uint8_t* pad, T* dx,
                       T* dk) {
  if (g.algo == ConvAlgo::Toeplitz) ssm_conv_backward_toeplitz<T>(G, kernel, x0_seq, pad, g, dx, dk);
  else if (g.algo == ConvAlgo::Direct) ssm_conv_backward_direct<T>(G, kernel, x0_seq, pad, g, dx, dk);
  else ssm_conv_backward_fft<T>(G, kernel, x0_seq, pad, g, dx, dk);
}

ConvAlgo ssm_conv_auto_algo(const ConvGeometry& g) { return resolve_algo(ConvAlgo::Auto, g); }

}  // namespace

void add_ssm_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.ema_kernel_forward = ema_kernel_forward<T>;
    t.ema_kernel_backward = ema_kernel_backward<T>;
    t.ssm_conv_forward = ssm_conv_forward<T>;
    t.ssm_conv_backward = ssm_conv_backward<T>;
  });
  k.ssm_conv_auto_algo = ssm_conv_auto_algo;
}

}  // namespace seqboat::cpu
