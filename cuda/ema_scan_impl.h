// cuda/ema_scan_impl.h: CUDA kernels of ops/ssm.cpp's ema_conv (the EMA
// convolution as N linear recurrences per channel; formulas at the top of
// ops/ssm.cpp) over an executor (cuda/exec.h). Forward and backward scan in
// chunks of 64 positions (see kScanChunk below); decoding's state and step
// kernels run one item per (b, d, n) and (b, d).
#pragma once

#include "cuda/exec.h"
#include "kernels/ssm.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::EmaScanShape;

using kernels::scan_coeffs;
using kernels::ScanCoeffs;

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

// Chunks of kScanChunk positions (in t) make the sequential recurrences
// parallel without changing what they compute: the recurrence is linear, so
// the state entering a chunk is the previous chunk's entering state times
// q^len plus what the chunk does from a zero state. Three kinds of work item:
// (1) per (b, row c, state n, chunk k) the chunk's own effect from zero;
// (2) per (b, c, n) the carries, chunk after chunk in the sweep's order;
// (3) per chunk the outputs, rescanning it from its carried state. That is
// B K N ceil(L / 64) items where one per (b, d) channel ran all of L before.
// Every sum still runs in a fixed order: no atomics, the same bits on every
// run (not the CPU's bits: the chunked association rounds differently).
constexpr int64_t kScanChunk = 64;

struct ScanChunks {
  int64_t K, N, count;  // coefficient rows (D, or 2D bidirectional), states, chunks
  SEQBOAT_HOST_DEVICE int64_t index(int64_t b, int64_t c, int64_t n, int64_t k) const {
    return ((b * K + c) * N + n) * count + k;
  }
};

inline ScanChunks scan_chunks(const EmaScanShape& s) {
  return {s.bidirectional ? 2 * s.D : s.D, s.N, (s.L + kScanChunk - 1) / kScanChunk};
}

// Chunk k is positions [t0, t1); a sweep of direction dir visits them from
// `first` by steps of dir.
struct ChunkSpan {
  int64_t t0, t1;
  SEQBOAT_HOST_DEVICE int64_t length() const { return t1 - t0; }
  SEQBOAT_HOST_DEVICE int64_t at(int dir, int64_t i) const { return dir > 0 ? t0 + i : t1 - 1 - i; }
};

SEQBOAT_HOST_DEVICE inline ChunkSpan chunk_span(const EmaScanShape& s, int64_t k) {
  const int64_t t0 = k * kScanChunk;
  return {t0, t0 + kScanChunk < s.L ? t0 + kScanChunk : s.L};
}

// u[t] = x0[t] - q^Lk x0[t - dir Lk]: the input of the forward recurrence.
template <class T>
SEQBOAT_HOST_DEVICE inline T scan_input(const EmaScanShape& s, const ScanCoeffs<T>& e, const T* x, const uint8_t* pad,
                                        int64_t b, int64_t t, int64_t d, int dir) {
  const T now = x0_at(s, x, pad, b, t, d);
  return s.Lk < s.L ? now - e.qk * x0_at(s, x, pad, b, t - dir * s.Lk, d) : now;
}

// g~[t] = G[t] - q^Lk G[t + dir Lk]: the input of the adjoint recurrence.
template <class T>
SEQBOAT_HOST_DEVICE inline T adjoint_input(const EmaScanShape& s, const ScanCoeffs<T>& e, const T* G, int64_t b,
                                           int64_t t, int64_t d, int dir) {
  const T now = g_at(s, G, b, t, d);
  return s.Lk < s.L ? now - e.qk * g_at(s, G, b, t + dir * s.Lk, d) : now;
}

// The state entering each chunk of a recurrence whose chunks, from a zero
// state, end at own[] and scale an entering state by power[] (q^len);
// `ascending` visits the chunks from k = 0.
template <class T>
SEQBOAT_HOST_DEVICE inline void carry_chunks(const ScanChunks& ch, int64_t b, int64_t c, int64_t n, bool ascending,
                                             const T* power, const T* own, T* enter) {
  T h = 0;
  for (int64_t j = 0; j < ch.count; ++j) {
    const int64_t at = ch.index(b, c, n, ascending ? j : ch.count - 1 - j);
    enter[at] = h;
    h = power[at] * h + own[at];
  }
}

// out over chunk k of channel d of row b: zeroed, then per direction (causal
// first) and state n, the recurrence v = q v + input(e, t, dir) rescanned
// from its carried value, out[t] += coef v. walk = +1 visits the chunk in
// the sweep's direction (forward states), -1 against it (the adjoint).
template <class T, class Input>
SEQBOAT_HOST_DEVICE inline void chunk_outputs(const EmaScanShape& s, const ScanChunks& ch, const T* delta,
                                              const T* alpha, const T* beta, const T* gamma, const T* carried, int walk,
                                              int64_t b, int64_t d, int64_t k, T* out, const Input& input) {
  const ChunkSpan span = chunk_span(s, k);
  for (int64_t t = span.t0; t < span.t1; ++t) out[(b * s.L + t) * s.D + d] = T(0);
  for (int dir = 1; dir >= -1; dir -= 2) {
    if (dir < 0 && !s.bidirectional) break;
    const int64_t c = dir > 0 ? d : s.D + d;
    for (int64_t n = 0; n < s.N; ++n) {
      const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, c * s.N + n);
      T v = carried[ch.index(b, c, n, k)];
      for (int64_t j = 0; j < span.length(); ++j) {
        const int64_t t = span.at(walk * dir, j);
        v = e.q * v + input(e, t, dir);
        out[(b * s.L + t) * s.D + d] += e.coef * v;
      }
    }
  }
}

// One step of the forward state h and its q-derivative h' at position t.
template <class T>
SEQBOAT_HOST_DEVICE inline void state_pair_step(const EmaScanShape& s, const ScanCoeffs<T>& e, const T* x,
                                                const uint8_t* pad, int64_t b, int64_t t, int64_t d, int dir, T& h,
                                                T& hp) {
  const T xold = s.Lk < s.L ? x0_at(s, x, pad, b, t - dir * s.Lk, d) : T(0);
  hp = e.q * hp + h - e.dqk * xold;
  h = e.q * h + x0_at(s, x, pad, b, t, d) - e.qk * xold;
}

// Forward, per direction: h_n[t] = q h_n[t - dir] + u[t], y[t] (+)= sum_n coef_n h_n[t].
template <class Exec, class T>
void ema_scan_forward(Exec& ex, const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                      const T* beta, const T* gamma, T* y) {
  const ScanChunks ch = scan_chunks(s);
  const int64_t items = s.B * ch.K * ch.N * ch.count;
  auto own = ex.template scratch<T>(items), power = ex.template scratch<T>(items), enter = ex.template scratch<T>(items);
  T *E = own.get(), *P = power.get(), *H = enter.get();
  // (1) the chunk's end state from zero, and q^len
  ex.for_each(items, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    const int64_t k = i % ch.count, n = (i / ch.count) % ch.N, c = (i / (ch.count * ch.N)) % ch.K,
                  b = i / (ch.count * ch.N * ch.K);
    const int dir = c < s.D ? 1 : -1;
    const int64_t d = c % s.D;
    const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, c * s.N + n);
    const ChunkSpan span = chunk_span(s, k);
    T h = 0, q_len = 1;
    for (int64_t j = 0; j < span.length(); ++j) {
      h = e.q * h + scan_input(s, e, x, pad, b, span.at(dir, j), d, dir);
      q_len *= e.q;
    }
    E[i] = h;
    P[i] = q_len;
  });
  // (2) the state entering each chunk, chunks in the sweep's order
  ex.for_each(s.B * ch.K * ch.N, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    const int64_t n = i % ch.N, c = (i / ch.N) % ch.K, b = i / (ch.N * ch.K);
    carry_chunks(ch, b, c, n, c < s.D, P, E, H);
  });
  // (3) y over each chunk: the causal sweep's states, then the anti-causal one's
  ex.for_each(s.B * s.D * ch.count, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    const int64_t k = i % ch.count, d = (i / ch.count) % s.D, b = i / (ch.count * s.D);
    chunk_outputs(s, ch, delta, alpha, beta, gamma, H, +1, b, d, k, y, [&](const ScanCoeffs<T>& e, int64_t t, int dir) {
      return scan_input(s, e, x, pad, b, t, d, dir);
    });
  });
}

// Backward, per direction: the adjoint r[t] = q r[t + dir] + g~[t] gives
// dx[t] (+)= sum_n coef_n r[t]; the parameter sums S0 = sum_t G h and
// S1 = sum_t G h' come from the forward states (h, h' = dh/dq):
//   h[t] = q h[t - dir] + u[t],  h'[t] = q h'[t - dir] + h[t - dir] - Lk q^(Lk-1) x0[t - dir Lk].
// From (a, a') with no input, len steps give (q^len a, q^len a' + len q^(len-1) a).
template <class Exec, class T>
void ema_scan_backward(Exec& ex, const EmaScanShape& s, const T* x, const uint8_t* pad, const T* delta, const T* alpha,
                       const T* beta, const T* gamma, const T* G, T* dx, T* d_delta, T* d_alpha, T* d_beta,
                       T* d_gamma) {
  const ScanChunks ch = scan_chunks(s);
  const int64_t K = ch.K, N = s.N;
  const bool params = d_delta || d_alpha || d_beta || d_gamma, want_dx = dx != nullptr;
  const int64_t items = s.B * K * N * ch.count, param_items = params ? items : 1, dx_items = want_dx ? items : 1;
  auto power = ex.template scratch<T>(items), power_d = ex.template scratch<T>(param_items);
  auto own_h = ex.template scratch<T>(param_items), own_hp = ex.template scratch<T>(param_items);
  auto enter_h = ex.template scratch<T>(param_items), enter_hp = ex.template scratch<T>(param_items);
  auto part = ex.template scratch<T>(2 * param_items);
  auto own_r = ex.template scratch<T>(dx_items), enter_r = ex.template scratch<T>(dx_items);
  T *P = power.get(), *Pd = power_d.get(), *Eh = own_h.get(), *Ehp = own_hp.get(), *Hh = enter_h.get(),
    *Hhp = enter_hp.get(), *Part = part.get(), *Er = own_r.get(), *R = enter_r.get();
  // (1) each chunk from zero: the forward states (h, h') at its end and the
  // adjoint at its start (the adjoint runs against the sweep)
  ex.for_each(items, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    const int64_t k = i % ch.count, n = (i / ch.count) % N, c = (i / (ch.count * N)) % K, b = i / (ch.count * N * K);
    const int dir = c < s.D ? 1 : -1;
    const int64_t d = c % s.D;
    const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, c * N + n);
    const ChunkSpan span = chunk_span(s, k);
    const int64_t len = span.length();
    T q_len = 1, dq_len = 0;  // q^m and m q^(m-1)
    for (int64_t j = 0; j < len; ++j) {
      dq_len = e.q * dq_len + q_len;
      q_len *= e.q;
    }
    P[i] = q_len;
    if (params) {
      Pd[i] = dq_len;
      T h = 0, hp = 0;
      for (int64_t j = 0; j < len; ++j) state_pair_step(s, e, x, pad, b, span.at(dir, j), d, dir, h, hp);
      Eh[i] = h;
      Ehp[i] = hp;
    }
    if (want_dx) {
      T r = 0;
      for (int64_t j = 0; j < len; ++j) r = e.q * r + adjoint_input(s, e, G, b, span.at(-dir, j), d, dir);
      Er[i] = r;
    }
  });
  // (2) what enters each chunk: forward states in the sweep's order, the
  // adjoint in the opposite order
  ex.for_each(s.B * K * N, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    const int64_t n = i % N, c = (i / N) % K, b = i / (N * K);
    const int dir = c < s.D ? 1 : -1;
    if (params) {
      T h = 0, hp = 0;
      for (int64_t j = 0; j < ch.count; ++j) {
        const int64_t at = ch.index(b, c, n, dir > 0 ? j : ch.count - 1 - j);
        Hh[at] = h;
        Hhp[at] = hp;
        const T h_next = P[at] * h + Eh[at];
        hp = P[at] * hp + Pd[at] * h + Ehp[at];
        h = h_next;
      }
    }
    if (want_dx) carry_chunks(ch, b, c, n, dir < 0, P, Er, R);
  });
  // (3a) dx over each chunk, the causal sweep's adjoint first
  if (want_dx)
    ex.for_each(s.B * s.D * ch.count, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
      const int64_t k = i % ch.count, d = (i / ch.count) % s.D, b = i / (ch.count * s.D);
      chunk_outputs(s, ch, delta, alpha, beta, gamma, R, -1, b, d, k, dx,
                    [&](const ScanCoeffs<T>& e, int64_t t, int dir) { return adjoint_input(s, e, G, b, t, d, dir); });
      const ChunkSpan span = chunk_span(s, k);
      if (pad)  // padding positions get no gradient (x0 is zero there)
        for (int64_t t = span.t0; t < span.t1; ++t)
          if (pad[b * s.L + t]) dx[(b * s.L + t) * s.D + d] = T(0);
    });
  if (!params) return;
  // (3b) each chunk's share of S0 and S1, from its carried forward states
  ex.for_each(items, [=] SEQBOAT_HOST_DEVICE(int64_t i) {
    const int64_t k = i % ch.count, n = (i / ch.count) % N, c = (i / (ch.count * N)) % K, b = i / (ch.count * N * K);
    const int dir = c < s.D ? 1 : -1;
    const int64_t d = c % s.D;
    const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, c * N + n);
    const ChunkSpan span = chunk_span(s, k);
    T h = Hh[i], hp = Hhp[i], s0 = 0, s1 = 0;
    for (int64_t j = 0; j < span.length(); ++j) {
      const int64_t t = span.at(dir, j);
      state_pair_step(s, e, x, pad, b, t, d, dir, h, hp);
      const T g = g_at(s, G, b, t, d);
      s0 += g * h;
      s1 += g * hp;
    }
    Part[2 * i] = s0;
    Part[2 * i + 1] = s1;
  });
  // (4) the parameter gradients: S0, S1 over the batch rows and chunks, in order
  const int64_t B = s.B;
  ex.for_each(K * N, [=] SEQBOAT_HOST_DEVICE(int64_t cn) {
    const int64_t c = cn / N, n = cn % N;
    double s0 = 0, s1 = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < ch.count; ++k) {
        s0 += Part[2 * ch.index(b, c, n, k)];
        s1 += Part[2 * ch.index(b, c, n, k) + 1];
      }
    const T S0 = static_cast<T>(s0), S1 = static_cast<T>(s1);
    const ScanCoeffs<T> e = scan_coeffs(s, delta, alpha, beta, gamma, cn);
    const kernels::EmaParamGrads<T> g =
        kernels::ema_param_grads<T>(e, beta[cn], gamma[cn], kernels::ema_scale<T>(s.N), S0, S1);
    if (d_delta) d_delta[cn] = g.delta;
    if (d_alpha) d_alpha[cn] = g.alpha;
    if (d_beta) d_beta[cn] = g.beta;
    if (d_gamma) d_gamma[cn] = g.gamma;
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

// The ema_scan kernels of executor Exec, for the kernel table.
template <class Exec>
void add_ema_scan_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.ema_scan_forward = &Bound<&ema_scan_forward<Exec, T>>::call;
    t.ema_scan_backward = &Bound<&ema_scan_backward<Exec, T>>::call;
    t.ema_scan_state = &Bound<&ema_scan_state<Exec, T>>::call;
    t.ema_scan_step = &Bound<&ema_scan_step<Exec, T>>::call;
  });
}

}  // namespace seqboat::cuda::impl
