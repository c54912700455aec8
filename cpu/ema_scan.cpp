// cpu/ema_scan.cpp: CPU kernels of ops/ssm.cpp's ema_conv: the EMA
// convolution evaluated as N linear recurrences per channel instead of a
// convolution with a materialised kernel (formulas, term by term, at the top
// of ops/ssm.cpp). O(B L D N) work, no FFT, no (B, D, L) copies.
//
// Work is split into tasks (b, block of 64 channels); a task runs the causal
// sweep and, bidirectional, the anti-causal one, so every output element is
// written by one thread. The parameter gradients are summed per task over t,
// then over b in order: results do not depend on the thread count. The
// innermost loops run over the channels of the block (contiguous in x, y and
// in the transposed coefficient tables) and are marked `omp simd`: the
// arrays never overlap, which GCC cannot prove for this many pointers.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/backend.h"
#include "cpu/parallel.h"

namespace seqboat::cpu {

namespace {

using kernels::EmaScanShape;

constexpr int64_t kBlock = 32;  // channels per task: its N x 32 states stay in L1

// The coefficients the recurrences read, per (row c, state n)
// (kernels::scan_coeffs): q, coef, qk, dqk. Stored transposed, [n][c], so a
// block of channels is contiguous.
template <class T>
struct Coeffs {
  int64_t K = 0, N = 0;
  std::vector<T> q, coef, qk, dqk;
  T at(const std::vector<T>& v, int64_t n, int64_t c) const { return v[n * K + c]; }
};

template <class T>
Coeffs<T> coefficients(const EmaScanShape& s, const T* delta, const T* alpha, const T* beta, const T* gamma) {
  Coeffs<T> e;
  e.K = s.bidirectional ? 2 * s.D : s.D;
  e.N = s.N;
  const size_t n = static_cast<size_t>(e.K * e.N);
  e.q.resize(n), e.coef.resize(n), e.qk.resize(n), e.dqk.resize(n);
  for (int64_t c = 0; c < e.K; ++c)
    for (int64_t k = 0; k < s.N; ++k) {
      const int64_t at = k * e.K + c;
      const kernels::ScanCoeffs<T> one = kernels::scan_coeffs(s, delta, alpha, beta, gamma, c * s.N + k);
      e.q[at] = one.q;
      e.coef[at] = one.coef;
      e.qk[at] = one.qk;
      e.dqk[at] = one.dqk;
    }
  return e;
}

// x0[t] at channels [d0, d0 + w) into buf (zeros at padding or outside [0, L)).
template <class T>
const T* input_row(const EmaScanShape& s, const T* x, const uint8_t* pad, int64_t b, int64_t t, int64_t d0,
                   const T* zeros) {
  if (t < 0 || t >= s.L || (pad && pad[b * s.L + t])) return zeros;
  return x + (b * s.L + t) * s.D + d0;
}

// One sweep of direction dir (+1 causal over rows c = d, -1 anti-causal over
// rows c = D + d) for batch row b and channels [d0, d0 + w):
//   h_n[t] = q h_n[t - dir] + x0[t] - q^Lk x0[t - dir Lk],  y[t] (+)= sum_n coef_n h_n[t]
template <class T, bool kTruncated>
void forward_sweep(const EmaScanShape& s, const Coeffs<T>& e, const T* x, const uint8_t* pad, int64_t b, int64_t d0,
                   int64_t w, int dir, bool accumulate, T* y, std::vector<T>& h_buf, const T* zeros) {
  const int64_t c0 = dir > 0 ? d0 : s.D + d0, N = s.N, K = e.K;
  std::fill(h_buf.begin(), h_buf.end(), T(0));
  std::vector<T> acc_buf(static_cast<size_t>(w));
  T* __restrict acc = acc_buf.data();
  for (int64_t step = 0; step < s.L; ++step) {
    const int64_t t = dir > 0 ? step : s.L - 1 - step;
    const T* __restrict xt = input_row(s, x, pad, b, t, d0, zeros);
    const T* __restrict xold = kTruncated ? input_row(s, x, pad, b, t - dir * s.Lk, d0, zeros) : zeros;
    std::fill(acc, acc + w, T(0));
    for (int64_t n = 0; n < N; ++n) {
      T* __restrict h = h_buf.data() + n * w;
      const T* __restrict q = e.q.data() + n * K + c0;
      const T* __restrict coef = e.coef.data() + n * K + c0;
      if constexpr (kTruncated) {
        const T* __restrict qk = e.qk.data() + n * K + c0;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
          h[j] = q[j] * h[j] + xt[j] - qk[j] * xold[j];
          acc[j] += coef[j] * h[j];
        }
      } else {
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
          h[j] = q[j] * h[j] + xt[j];
          acc[j] += coef[j] * h[j];
        }
      }
    }
    T* yt = y + (b * s.L + t) * s.D + d0;
    for (int64_t j = 0; j < w; ++j) yt[j] = accumulate ? yt[j] + acc[j] : acc[j];
  }
}

// The backward of one direction for (b, block), in one sweep against the
// direction (dir = +1: s from L-1 down to 0): the adjoint
//   r_n[s]  = q r_n[s + dir] + G[s] - q^Lk G[s + dir Lk]          (= sum_{i<Lk} q^i G[s + dir i])
//   r'_n[s] = q r'_n[s + dir] + r_n[s + dir] - Lk q^(Lk-1) G[s + dir Lk]   (= dr_n/dq)
// gives dx0[s] (+)= sum_n coef_n r_n[s], and, since sum_t G[t] h_n[t] =
// sum_s x0[s] r_n[s] (both are sum over t, i of q^i G[t] x0[t - dir i]),
//   S0_n += x0[s] r_n[s],  S1_n += x0[s] r'_n[s].
template <class T, bool kTruncated>
void backward_sweep(const EmaScanShape& s, const Coeffs<T>& e, const T* x, const uint8_t* pad, const T* G, int64_t b,
                    int64_t d0, int64_t w, int dir, bool accumulate, T* dx, T* S0, T* S1, std::vector<T>& r_buf,
                    std::vector<T>& rp_buf, const T* zeros) {
  const int64_t c0 = dir > 0 ? d0 : s.D + d0, N = s.N, K = e.K, L = s.L;
  auto grad_row = [&](int64_t t) { return t < 0 || t >= L ? zeros : G + (b * L + t) * s.D + d0; };
  std::fill(r_buf.begin(), r_buf.end(), T(0));
  std::fill(rp_buf.begin(), rp_buf.end(), T(0));
  std::vector<T> acc_buf(static_cast<size_t>(w));
  T* __restrict acc = acc_buf.data();
  for (int64_t step = 0; step < L; ++step) {
    const int64_t t = dir > 0 ? L - 1 - step : step;
    const T* __restrict gt = grad_row(t);
    const T* __restrict gold = kTruncated ? grad_row(t + dir * s.Lk) : zeros;
    const T* __restrict xt = input_row(s, x, pad, b, t, d0, zeros);
    std::fill(acc, acc + w, T(0));
    for (int64_t n = 0; n < N; ++n) {
      T* __restrict r = r_buf.data() + n * w;
      T* __restrict rp = rp_buf.data() + n * w;
      const T* __restrict q = e.q.data() + n * K + c0;
      const T* __restrict coef = e.coef.data() + n * K + c0;
      T* __restrict s0 = S0 + n * w;
      T* __restrict s1 = S1 + n * w;
      if constexpr (kTruncated) {
        const T* __restrict qk = e.qk.data() + n * K + c0;
        const T* __restrict dqk = e.dqk.data() + n * K + c0;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
          rp[j] = q[j] * rp[j] + r[j] - dqk[j] * gold[j];  // uses r[s + dir]
          r[j] = q[j] * r[j] + gt[j] - qk[j] * gold[j];
          acc[j] += coef[j] * r[j];
          s0[j] += xt[j] * r[j];
          s1[j] += xt[j] * rp[j];
        }
      } else {
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
          rp[j] = q[j] * rp[j] + r[j];
          r[j] = q[j] * r[j] + gt[j];
          acc[j] += coef[j] * r[j];
          s0[j] += xt[j] * r[j];
          s1[j] += xt[j] * rp[j];
        }
      }
    }
    if (dx) {
      T* dxt = dx + (b * L + t) * s.D + d0;
      const bool padded = pad && pad[b * L + t];
      for (int64_t j = 0; j < w; ++j) dxt[j] = padded ? T(0) : (accumulate ? dxt[j] + acc[j] : acc[j]);
    }
  }
}

template <class T>
void ema_scan_forward(const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                      const T* beta, const T* gamma, T* y) {
  const Coeffs<T> e = coefficients(s, delta, alpha, beta, gamma);
  const int64_t blocks = (s.D + kBlock - 1) / kBlock, tasks = s.B * blocks;
  const std::vector<T> zeros(static_cast<size_t>(kBlock), T(0));
#pragma omp parallel for schedule(static) if (s.B * s.L * s.D * s.N > kParallelWork)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t b = task / blocks, d0 = (task % blocks) * kBlock, w = std::min(kBlock, s.D - d0);
    std::vector<T> h(static_cast<size_t>(s.N * w));
    auto sweep = s.Lk < s.L ? forward_sweep<T, true> : forward_sweep<T, false>;
    sweep(s, e, x, pad, b, d0, w, +1, false, y, h, zeros.data());
    if (s.bidirectional) sweep(s, e, x, pad, b, d0, w, -1, true, y, h, zeros.data());
  }
}

template <class T>
void ema_scan_backward(const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                       const T* beta, const T* gamma, const T* G, T* dx, T* d_delta, T* d_alpha, T* d_beta,
                       T* d_gamma) {
  const Coeffs<T> e = coefficients(s, delta, alpha, beta, gamma);
  const int64_t K = e.K, N = s.N;
  const bool params = d_delta || d_alpha || d_beta || d_gamma;
  const int64_t blocks = (s.D + kBlock - 1) / kBlock, tasks = s.B * blocks;
  // Per batch row: S0, S1 for every (n, c), laid out [b][n][c].
  std::vector<T> S0(params ? static_cast<size_t>(s.B * N * K) : 0, T(0)), S1(S0.size(), T(0));
  const std::vector<T> zeros(static_cast<size_t>(kBlock), T(0));
#pragma omp parallel for schedule(static) if (s.B * s.L * s.D * s.N > kParallelWork)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t b = task / blocks, d0 = (task % blocks) * kBlock, w = std::min(kBlock, s.D - d0);
    std::vector<T> h(static_cast<size_t>(N * w)), hp(h.size()), s0(h.size()), s1(h.size());
    for (int dir : {+1, -1}) {
      if (dir < 0 && !s.bidirectional) break;
      std::fill(s0.begin(), s0.end(), T(0));
      std::fill(s1.begin(), s1.end(), T(0));
      auto sweep = s.Lk < s.L ? backward_sweep<T, true> : backward_sweep<T, false>;
      sweep(s, e, x, pad, G, b, d0, w, dir, dir < 0, dx, s0.data(), s1.data(), h, hp, zeros.data());
      if (!params) continue;
      const int64_t c0 = dir > 0 ? d0 : s.D + d0;
      for (int64_t n = 0; n < N; ++n)
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
          S0[(b * N + n) * K + c0 + j] = s0[n * w + j];
          S1[(b * N + n) * K + c0 + j] = s1[n * w + j];
        }
    }
  }
  if (!params) return;
  const T scale = kernels::ema_scale<T>(N);
  for (int64_t c = 0; c < K; ++c)
    for (int64_t n = 0; n < N; ++n) {
      double s0 = 0, s1 = 0;  // over the batch rows, in order
      for (int64_t b = 0; b < s.B; ++b) {
        s0 += S0[(b * N + n) * K + c];
        s1 += S1[(b * N + n) * K + c];
      }
      const int64_t cn = c * N + n;
      const kernels::EmaCoeffs<T> one = kernels::ema_coeffs(delta[cn], alpha[cn], beta[cn], gamma[cn], scale);
      const kernels::EmaParamGrads<T> g =
          kernels::ema_param_grads(one, beta[cn], gamma[cn], scale, static_cast<T>(s0), static_cast<T>(s1));
      if (d_delta) d_delta[cn] = g.delta;
      if (d_alpha) d_alpha[cn] = g.alpha;
      if (d_beta) d_beta[cn] = g.beta;
      if (d_gamma) d_gamma[cn] = g.gamma;
    }
}

// The causal recurrences run to the end of each row: h (B, D, N).
template <class T>
void ema_scan_state(const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                    const T* beta, const T* gamma, T* h) {
  const Coeffs<T> e = coefficients(s, delta, alpha, beta, gamma);
  const int64_t D = s.D, N = s.N, K = e.K;
  const bool truncated = s.Lk < s.L;
  const std::vector<T> zeros(static_cast<size_t>(D), T(0));
  std::vector<T> state(static_cast<size_t>(N * D));  // [n][d]
  for (int64_t b = 0; b < s.B; ++b) {
    std::fill(state.begin(), state.end(), T(0));
    for (int64_t t = 0; t < s.L; ++t) {
      const T* xt = input_row(s, x, pad, b, t, 0, zeros.data());
      const T* xold = truncated ? input_row(s, x, pad, b, t - s.Lk, 0, zeros.data()) : zeros.data();
      for (int64_t n = 0; n < N; ++n) {
        T* hn = state.data() + n * D;
        const T* q = e.q.data() + n * K;
        const T* qk = e.qk.data() + n * K;
        for (int64_t d = 0; d < D; ++d) hn[d] = q[d] * hn[d] + xt[d] - qk[d] * xold[d];
      }
    }
    for (int64_t d = 0; d < D; ++d)
      for (int64_t n = 0; n < N; ++n) h[(b * D + d) * N + n] = state[n * D + d];
  }
}

template <class T>
void ema_scan_step(const EmaScanShape& s, const T* x_t, const T* x_old, const T* delta, const T* alpha, const T* beta,
                   const T* gamma, T* h, T* y) {
  const Coeffs<T> e = coefficients(s, delta, alpha, beta, gamma);
  const int64_t D = s.D, N = s.N, K = e.K;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t d = 0; d < D; ++d) {
      const T x = x_t[b * D + d], old = x_old ? x_old[b * D + d] : T(0);
      T acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        T& hn = h[(b * D + d) * N + n];
        hn = e.at(e.q, n, d) * hn + x - e.at(e.qk, n, d) * old;
        acc += e.at(e.coef, n, d) * hn;
      }
      y[b * D + d] = acc;
    }
  (void)K;
}

}  // namespace

void add_ema_scan_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.ema_scan_forward = ema_scan_forward<T>;
    t.ema_scan_backward = ema_scan_backward<T>;
    t.ema_scan_state = ema_scan_state<T>;
    t.ema_scan_step = ema_scan_step<T>;
  });
}

}  // namespace seqboat::cpu
