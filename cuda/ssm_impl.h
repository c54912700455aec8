// cuda/ssm_impl.h: CUDA kernels of ops/ssm.cpp (kernels/ssm.h) over an
// executor (cuda/exec.h): the EMA kernel and the SSM convolution. Formulas,
// term by term, in ops/ssm.cpp.
//
// ssm_conv runs one of two exact algorithms:
//   Direct  one work item per output element, summing the lags in order
//           (O(B L D Lk)); also what Toeplitz requests get: the same sums;
//   FFT     batched real FFTs of size n >= L + Lk - 1 (the CPU's choice of n),
//           the spectrum products of cpu/ssm.cpp, and one inverse per output
//           row; the dk spectra are summed over the batch in order.
// Auto takes FFT once L Lk exceeds 2^16 (about L = 256 untruncated), where
// Direct's quadratic cost overtakes the transforms.
#pragma once

#include "cuda/exec.h"
#include "kernels/ssm.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::ConvAlgo;
using kernels::ConvGeometry;
using kernels::EmaShape;

// ---------------------------------------------------------------- ema_kernel

using kernels::conv_fft_size;
using kernels::ema_coeffs;
using kernels::EmaCoeffs;

// k[c, l] = sum_n coef q^l, n in order: one work item per (c, l).
template <class Exec, class T>
void ema_kernel_forward(Exec& ex, const EmaShape& P, const T* delta, const T* alpha, const T* beta, const T* gamma,
                        T* k) {
  const T scale = kernels::ema_scale<T>(P.N);
  ex.for_each(P.K * P.length, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t c = e / P.length, l = e % P.length;
    T acc = 0;
    for (int64_t n = 0; n < P.N; ++n) {
      const int64_t cn = c * P.N + n;
      const EmaCoeffs<T> q = ema_coeffs(delta[cn], alpha[cn], beta[cn], gamma[cn], scale);
      acc += q.coef * math_exp(T(l) * q.log_q);
    }
    k[e] = acc;
  });
}

// All four gradients of one (c, n): S0 = sum_l G q^l, S1 = sum_l G l q^(l-1).
template <class Exec, class T>
void ema_kernel_backward(Exec& ex, const EmaShape& P, const T* delta, const T* alpha, const T* beta, const T* gamma,
                         const T* G, T* d_delta, T* d_alpha, T* d_beta, T* d_gamma) {
  const T scale = kernels::ema_scale<T>(P.N);
  ex.for_each(P.K * P.N, [=] SEQBOAT_HOST_DEVICE(int64_t cn) {
    const int64_t c = cn / P.N;
    const EmaCoeffs<T> e = ema_coeffs(delta[cn], alpha[cn], beta[cn], gamma[cn], scale);
    const T* g = G + c * P.length;
    T S0 = 0, S1 = 0;
    for (int64_t l = 0; l < P.length; ++l) {
      S0 += g[l] * math_exp(T(l) * e.log_q);
      if (l > 0) S1 += g[l] * T(l) * math_exp(T(l - 1) * e.log_q);
    }
    const kernels::EmaParamGrads<T> d = kernels::ema_param_grads(e, beta[cn], gamma[cn], scale, S0, S1);
    d_delta[cn] = d.delta;
    d_alpha[cn] = d.alpha;
    d_beta[cn] = d.beta;
    d_gamma[cn] = d.gamma;
  });
}

// ---------------------------------------------------------------- ssm_conv

inline ConvAlgo conv_auto_algo(const ConvGeometry& g) {
  return g.L * g.Lk > (int64_t{1} << 16) ? ConvAlgo::FFT : ConvAlgo::Direct;
}

// x0_seq[(b D + d) L + t] = x[b, t, d], 0 at padding.
template <class Exec, class T>
void gather_sequences(Exec& ex, const ConvGeometry& g, const T* x, const uint8_t* pad, T* x0_seq) {
  const int64_t B = g.B, L = g.L, D = g.D;
  ex.for_each(B * D * L, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t t = e % L, bd = e / L, b = bd / D, d = bd % D;
    x0_seq[e] = pad && pad[b * L + t] ? T(0) : x[(b * L + t) * D + d];
  });
}

// The past sum and (bidirectional) the future sum at (b, t, d) of sequence u
// (one contiguous row of L per (b, d)), lags in order.
template <class T>
SEQBOAT_HOST_DEVICE inline T conv_at(const ConvGeometry& g, const T* k1, const T* k2, const T* u, int64_t t) {
  T acc = 0;
  for (int64_t i = 0; i < g.Lk && i <= t; ++i) acc += k1[i] * u[t - i];
  if (k2)
    for (int64_t i = 0; i < g.Lk && t + i < g.L; ++i) acc += k2[i] * u[t + i];
  return acc;
}

template <class Exec, class T>
void conv_forward_direct(Exec& ex, const ConvGeometry& g, const T* kernel, const T* x0_seq, T* y) {
  const int64_t B = g.B, L = g.L, D = g.D, Lk = g.Lk;
  const bool bidir = g.bidirectional;
  ex.for_each(B * L * D, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t d = e % D, t = (e / D) % L, b = e / (D * L);
    y[e] = conv_at(g, kernel + d * Lk, bidir ? kernel + (D + d) * Lk : nullptr, x0_seq + (b * D + d) * L, t);
  });
}

template <class Exec, class T>
void conv_backward_direct(Exec& ex, const ConvGeometry& g, const T* G, const T* kernel, const T* x0_seq,
                          const uint8_t* pad, T* dx, T* dk) {
  const int64_t B = g.B, L = g.L, D = g.D, Lk = g.Lk;
  const bool bidir = g.bidirectional;
  if (dx) {  // dx0[s] = sum_i k1[i] G[s+i] (term 1) + sum_i k2[i] G[s-i] (term 2), 0 at padding
    ex.for_each(B * L * D, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t d = e % D, s = (e / D) % L, b = e / (D * L);
      if (pad && pad[b * L + s]) {
        dx[e] = T(0);
        return;
      }
      const T* k1 = kernel + d * Lk;
      T acc = 0;
      for (int64_t i = 0; i < Lk && s + i < L; ++i) acc += k1[i] * G[(b * L + s + i) * D + d];
      if (bidir) {
        const T* k2 = kernel + (D + d) * Lk;
        for (int64_t i = 0; i < Lk && i <= s; ++i) acc += k2[i] * G[(b * L + s - i) * D + d];
      }
      dx[e] = acc;
    });
  }
  if (dk) {  // dk1[i] = sum_b sum_t G[t] x0[t-i]; dk2[i] = sum_b sum_t G[t] x0[t+i]
    const int64_t rows = bidir ? 2 * D : D;
    ex.for_each(rows * Lk, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t row = e / Lk, i = e % Lk, d = row % D;
      const bool future = row >= D;
      T acc = 0;
      for (int64_t b = 0; b < B; ++b) {
        const T* x0 = x0_seq + (b * D + d) * L;
        for (int64_t t = 0; t < L; ++t) {
          const int64_t s = future ? t + i : t - i;
          if (s >= 0 && s < L) acc += G[(b * L + t) * D + d] * x0[s];
        }
      }
      dk[e] += acc;
    });
  }
}

// Spectra (rows, bins) of `rows` sequences of length `len` (row stride `len`),
// zero-padded to n.
template <class Exec, class T>
void spectra(Exec& ex, int64_t rows, int64_t len, int64_t n, const T* seq, Cplx<T>* out) {
  auto padded = ex.template scratch<T>(rows * n);
  T* p = padded.get();
  ex.for_each(rows * n, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t r = e / n, t = e % n;
    p[e] = t < len ? seq[r * len + t] : T(0);
  });
  ex.fft_r2c(rows, n, p, out);
}

template <class Exec, class T>
void conv_forward_fft(Exec& ex, const ConvGeometry& g, const T* kernel, const T* x0_seq, T* y) {
  const int64_t B = g.B, L = g.L, D = g.D, Lk = g.Lk, n = conv_fft_size(L, Lk), bins = n / 2 + 1;
  const bool bidir = g.bidirectional;
  auto K = ex.template scratch<Cplx<T>>((bidir ? 2 : 1) * D * bins);
  auto X = ex.template scratch<Cplx<T>>(B * D * bins);
  auto out = ex.template scratch<T>(B * D * n);
  Cplx<T>* pk = K.get();
  Cplx<T>* px = X.get();
  T* po = out.get();
  spectra(ex, (bidir ? 2 : 1) * D, Lk, n, kernel, pk);
  spectra(ex, B * D, L, n, x0_seq, px);
  ex.for_each(B * D * bins, [=] SEQBOAT_HOST_DEVICE(int64_t e) {  // past conv with k1 (+ future conv with k2)
    const int64_t f = e % bins, d = (e / bins) % D;
    const Cplx<T> k1 = pk[d * bins + f];
    px[e] = bidir ? cmul(cadd(k1, cconj(pk[(D + d) * bins + f])), px[e]) : cmul(k1, px[e]);
  });
  ex.fft_c2r(B * D, n, px, po);
  const T inv_n = T(1) / static_cast<T>(n);
  ex.for_each(B * L * D, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t d = e % D, t = (e / D) % L, b = e / (D * L);
    y[e] = po[(b * D + d) * n + t] * inv_n;
  });
}

template <class Exec, class T>
void conv_backward_fft(Exec& ex, const ConvGeometry& g, const T* G, const T* kernel, const T* x0_seq,
                       const uint8_t* pad, T* dx, T* dk) {
  const int64_t B = g.B, L = g.L, D = g.D, Lk = g.Lk, n = conv_fft_size(L, Lk), bins = n / 2 + 1;
  const bool bidir = g.bidirectional;
  const T inv_n = T(1) / static_cast<T>(n);
  auto gseq = ex.template scratch<T>(B * D * L);  // G as one row per (b, d)
  T* gs = gseq.get();
  ex.for_each(B * D * L, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t t = e % L, bd = e / L, b = bd / D, d = bd % D;
    gs[e] = G[(b * L + t) * D + d];
  });
  auto Gspec = ex.template scratch<Cplx<T>>(B * D * bins);
  Cplx<T>* pg = Gspec.get();
  spectra(ex, B * D, L, n, gs, pg);
  if (dx) {
    auto K = ex.template scratch<Cplx<T>>((bidir ? 2 : 1) * D * bins);
    auto spec = ex.template scratch<Cplx<T>>(B * D * bins);
    auto out = ex.template scratch<T>(B * D * n);
    Cplx<T>* pk = K.get();
    Cplx<T>* ps = spec.get();
    T* po = out.get();
    spectra(ex, (bidir ? 2 : 1) * D, Lk, n, kernel, pk);
    ex.for_each(B * D * bins, [=] SEQBOAT_HOST_DEVICE(int64_t e) {  // term 1 (+ term 2)
      const int64_t f = e % bins, d = (e / bins) % D;
      const Cplx<T> k1c = cconj(pk[d * bins + f]);
      ps[e] = bidir ? cmul(cadd(k1c, pk[(D + d) * bins + f]), pg[e]) : cmul(k1c, pg[e]);
    });
    ex.fft_c2r(B * D, n, ps, po);
    ex.for_each(B * L * D, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t d = e % D, t = (e / D) % L, b = e / (D * L);
      dx[e] = pad && pad[b * L + t] ? T(0) : po[(b * D + d) * n + t] * inv_n;
    });
  }
  if (dk) {  // c[i] = sum_b sum_s x0[s] G[s+i]: spectrum sum_b conj(X0) G, b in order
    auto X = ex.template scratch<Cplx<T>>(B * D * bins);
    auto lag = ex.template scratch<Cplx<T>>(D * bins);
    auto c = ex.template scratch<T>(D * n);
    Cplx<T>* px = X.get();
    Cplx<T>* pl = lag.get();
    T* pc = c.get();
    spectra(ex, B * D, L, n, x0_seq, px);
    ex.for_each(D * bins, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t d = e / bins, f = e % bins;
      Cplx<T> acc{T(0), T(0)};
      for (int64_t b = 0; b < B; ++b)
        acc = cadd(acc, cmul(cconj(px[(b * D + d) * bins + f]), pg[(b * D + d) * bins + f]));
      pl[e] = acc;
    });
    ex.fft_c2r(D, n, pl, pc);
    const int64_t rows = bidir ? 2 * D : D;
    ex.for_each(rows * Lk, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t row = e / Lk, i = e % Lk, d = row % D;
      const int64_t at = row < D ? i : (n - i) % n;  // dk1[i] = c[i], dk2[i] = c[(n - i) mod n]
      dk[e] += pc[d * n + at] * inv_n;
    });
  }
}

template <class Exec, class T>
void ssm_conv_forward(Exec& ex, const ConvGeometry& g, const T* x, const T* kernel, const uint8_t* pad, T* x0_seq,
                      T* y) {
  gather_sequences(ex, g, x, pad, x0_seq);
  if (g.algo == ConvAlgo::FFT) conv_forward_fft(ex, g, kernel, x0_seq, y);
  else conv_forward_direct(ex, g, kernel, x0_seq, y);
}

template <class Exec, class T>
void ssm_conv_backward(Exec& ex, const ConvGeometry& g, const T* G, const T* kernel, const T* x0_seq,
                       const uint8_t* pad, T* dx, T* dk) {
  if (g.algo == ConvAlgo::FFT) conv_backward_fft(ex, g, G, kernel, x0_seq, pad, dx, dk);
  else conv_backward_direct(ex, g, G, kernel, x0_seq, pad, dx, dk);
}

// The ssm kernels of executor Exec, for the kernel table.
template <class Exec>
void add_ssm_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.ema_kernel_forward = &Bound<&ema_kernel_forward<Exec, T>>::call;
    t.ema_kernel_backward = &Bound<&ema_kernel_backward<Exec, T>>::call;
    t.ssm_conv_forward = &Bound<&ssm_conv_forward<Exec, T>>::call;
    t.ssm_conv_backward = &Bound<&ssm_conv_backward<Exec, T>>::call;
  });
  k.ssm_conv_auto_algo = &conv_auto_algo;
}

}  // namespace seqboat::cuda::impl
