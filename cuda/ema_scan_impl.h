// cuda/ema_scan_impl.h: CUDA kernels of ops/ssm.cpp's ema_conv (the EMA
// convolution as N linear recurrences per channel; formulas at the top of
// ops/ssm.cpp) over an executor (cuda/exec.h). One work item per (b, d)
// channel sequence runs the causal sweep and, bidirectional, the anti-causal
// one, state by state; the parameter gradients are summed per (b, row, n) and
// then over b in order by one item per (row, n).
#pragma once

#include "cuda/exec.h"
#include "ops/kernels/ssm.h"
#include "ops/kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::EmaScanShape;

// The recurrence coefficients of row c, state n.
template <class T>
struct ScanCoeffs {
  T p, a, q, coef, qk, dqk;  // qk = q^Lk, dqk = Lk q^(Lk-1)
};

template <class T>
SEQBOAT_HOST_DEVICE inline ScanCoeffs<T> scan_coeffs(const EmaScanShape& s, const T* delta, const T* alpha,
                                                     const T* beta, const T* gamma, int64_t cn) {
  ScanCoeffs<T> e;
  e.p = T(1) / (T(1) + math_exp(-delta[cn]));
  e.a = T(1) / (T(1) + math_exp(-alpha[cn]));
  e.q = T(1) - e.p * e.a;
  e.coef = e.p * beta[cn] * gamma[cn] * static_cast<T>(sqrt(1.0 / static_cast<double>(s.N)));
  const T log_q = math_log(e.q);
  e.qk = math_exp(T(s.Lk) * log_q);
  e.dqk = T(s.Lk) * math_exp(T(s.Lk - 1) * log_q);
  return e;
}

// x0[b, t, d]: 0 at padding and outside [0, L).
template <class T>
SEQBOAT_HOST_DEVICE inline T x0_at(const EmaScanShape& s, const T* x, const uint8_t* pad, int64_t b, int64_t t,
                                   int64_t d) {
  if (t < 0 || t >= s.L || (pad && pad[b * s.L + t])) return T(0);
  return x[(b * s.L + t) * s.D + d];
}

template <class T>
SEQBOAT_HOST_DEVICE inline T g_at(const EmaScanShape& s, const T* G, int64_t b, int64_t t, int64_t d) {
  return t < 0 || t >= s.L ? T(0) : G[(b * s.L + t) * s.D + d];
}

template <class Exec, class T>
void ema_scan_forward(Exec& ex, const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                      const T* beta, const T* gamma, T* y) {
  ex.for_each(s.B * s.D, [=] SEQBOAT_HOST_DEVICE(int64_t bd) {
    const int64_t b = bd / s.D, d = bd % s.D, L = s.L;
    const bool truncated = s.Lk < L;
    for (int64_t t = 0; t < L; ++t) y[(b * L + t) * s.D + d] = T(0);
    for (int dir = 1; dir >= -1; dir -= 2) {
      if (dir < 0 && !s.bidirectional) break;
      const int64_t c = dir > 0 ? d : s.D + d;
      for (int64_t n = 0; n < s.N; ++n) {  // h_n[t] = q h_n[t - dir] + x0[t] - q^Lk x0[t - dir Lk]
        const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, c * s.N + n);
        T h = 0;
        for (int64_t step = 0; step < L; ++step) {
          const int64_t t = dir > 0 ? step : L - 1 - step;
          h = e.q * h + x0_at(s, x, pad, b, t, d) - (truncated ? e.qk * x0_at(s, x, pad, b, t - dir * s.Lk, d) : T(0));
          y[(b * L + t) * s.D + d] += e.coef * h;
        }
      }
    }
  });
}

template <class Exec, class T>
void ema_scan_backward(Exec& ex, const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                       const T* beta, const T* gamma, const T* G, T* dx, T* d_delta, T* d_alpha, T* d_beta,
                       T* d_gamma) {
  const int64_t K = s.bidirectional ? 2 * s.D : s.D, N = s.N;
  const bool params = d_delta || d_alpha || d_beta || d_gamma;
  auto sums = ex.template scratch<T>(params ? 2 * s.B * K * N : 1);
  T* S = sums.get();  // S[((b K + c) N + n) 2 + {0, 1}] = S0, S1
  ex.for_each(s.B * s.D, [=] SEQBOAT_HOST_DEVICE(int64_t bd) {
    const int64_t b = bd / s.D, d = bd % s.D, L = s.L;
    const bool truncated = s.Lk < L;
    if (dx)
      for (int64_t t = 0; t < L; ++t) dx[(b * L + t) * s.D + d] = T(0);
    for (int dir = 1; dir >= -1; dir -= 2) {
      if (dir < 0 && !s.bidirectional) break;
      const int64_t c = dir > 0 ? d : s.D + d;
      for (int64_t n = 0; n < N; ++n) {
        const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, c * N + n);
        if (params) {  // S0 = sum_t G h, S1 = sum_t G h' (h' = dh/dq), in the sweep's order
          T h = 0, hp = 0, s0 = 0, s1 = 0;
          for (int64_t step = 0; step < L; ++step) {
            const int64_t t = dir > 0 ? step : L - 1 - step;
            const T xold = truncated ? x0_at(s, x, pad, b, t - dir * s.Lk, d) : T(0);
            hp = e.q * hp + h - e.dqk * xold;
            h = e.q * h + x0_at(s, x, pad, b, t, d) - e.qk * xold;
            const T g = g_at(s, G, b, t, d);
            s0 += g * h;
            s1 += g * hp;
          }
          S[((b * K + c) * N + n) * 2] = s0;
          S[((b * K + c) * N + n) * 2 + 1] = s1;
        }
        if (dx) {  // the adjoint r[t] = q r[t + dir] + G[t] - q^Lk G[t + dir Lk], backwards
          T r = 0;
          for (int64_t step = 0; step < L; ++step) {
            const int64_t t = dir > 0 ? L - 1 - step : step;
            r = e.q * r + g_at(s, G, b, t, d) - (truncated ? e.qk * g_at(s, G, b, t + dir * s.Lk, d) : T(0));
            dx[(b * L + t) * s.D + d] += e.coef * r;
          }
        }
      }
    }
    if (dx && pad)  // padding positions get no gradient (x0 is zero there)
      for (int64_t t = 0; t < L; ++t)
        if (pad[b * L + t]) dx[(b * L + t) * s.D + d] = T(0);
  });
  if (!params) return;
  const int64_t B = s.B;
  ex.for_each(K * N, [=] SEQBOAT_HOST_DEVICE(int64_t cn) {
    const int64_t c = cn / N, n = cn % N;
    double s0 = 0, s1 = 0;  // over the batch rows, in order
    for (int64_t b = 0; b < B; ++b) {
      s0 += S[((b * K + c) * N + n) * 2];
      s1 += S[((b * K + c) * N + n) * 2 + 1];
    }
    const T S0 = static_cast<T>(s0), S1 = static_cast<T>(s1);
    const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, cn);
    const T scale = static_cast<T>(sqrt(1.0 / static_cast<double>(s.N)));
    if (d_beta) d_beta[cn] = e.p * gamma[cn] * scale * S0;
    if (d_gamma) d_gamma[cn] = e.p * beta[cn] * scale * S0;
    const T dp = beta[cn] * gamma[cn] * scale * S0 - e.a * e.coef * S1;  // terms 1 and 2
    const T da = -e.p * e.coef * S1;
    if (d_delta) d_delta[cn] = dp * e.p * (T(1) - e.p);
    if (d_alpha) d_alpha[cn] = da * e.a * (T(1) - e.a);
  });
}

// Decoding: the causal recurrences to the end of each row, one item per (b, d, n).
template <class Exec, class T>
void ema_scan_state(Exec& ex, const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                    const T* beta, const T* gamma, T* h) {
  ex.for_each(s.B * s.D * s.N, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
    const int64_t n = e % s.N, d = (e / s.N) % s.D, b = e / (s.N * s.D);
    const ScanCoeffs<T> c = scan_coeffs(s, delta, alpha, beta, gamma, d * s.N + n);
    const bool truncated = s.Lk < s.L;
    T state = 0;
    for (int64_t t = 0; t < s.L; ++t)
      state = c.q * state + x0_at(s, x, pad, b, t, d) - (truncated ? c.qk * x0_at(s, x, pad, b, t - s.Lk, d) : T(0));
    h[e] = state;
  });
}

// One decoding step, one item per (b, d) over its N states.
template <class Exec, class T>
void ema_scan_step(Exec& ex, const EmaScanShape& s, const T* x_t, const T* x_old, const T* delta, const T* alpha,
                   const T* beta, const T* gamma, T* h, T* y) {
  ex.for_each(s.B * s.D, [=] SEQBOAT_HOST_DEVICE(int64_t bd) {
    const int64_t d = bd % s.D;
    const T x = x_t[bd], old = x_old ? x_old[bd] : T(0);
    T acc = 0;
    for (int64_t n = 0; n < s.N; ++n) {
      const ScanCoeffs<T> c = scan_coeffs(s, delta, alpha, beta, gamma, d * s.N + n);
      T& hn = h[bd * s.N + n];
      hn = c.q * hn + x - c.qk * old;
      acc += c.coef * hn;
    }
    y[bd] = acc;
  });
}

template <class Exec, class T>
void fill_ema_scan_kernels(kernels::TypedKernels<T>& k) {
  k.ema_scan_forward = &Bound<&ema_scan_forward<Exec, T>>::call;
  k.ema_scan_backward = &Bound<&ema_scan_backward<Exec, T>>::call;
  k.ema_scan_state = &Bound<&ema_scan_state<Exec, T>>::call;
  k.ema_scan_step = &Bound<&ema_scan_step<Exec, T>>::call;
}

template <class Exec>
void add_ema_scan_kernels(kernels::BackendKernels& k) {
  fill_ema_scan_kernels<Exec>(k.f32);
  fill_ema_scan_kernels<Exec>(k.f64);
}

}  // namespace seqboat::cuda::impl
