// ops/ssm.cpp: the SeqBoat state-space ops (SPEC sections 1 and 2): argument
// checks, allocation and autograd; the arithmetic is in the backends
// (cpu/ssm.cpp: also how Direct, Toeplitz and FFT evaluate the convolution).
//
// ==== ema_kernel(delta, alpha, beta, gamma, Lk) -> k (K, Lk) ====
// forward, for each kernel row c and state n (s = sqrt(1/N)):
//   p = sigmoid(delta)    a = sigmoid(alpha)    q = 1 - p a    q^l = exp(l log q)
//   k[c,l] = sum_n coef q^l,    coef = p beta gamma s
// backward, G = dk[c,:], per (c, n):
//   S0 = sum_l G[l] q^l          S1 = sum_l G[l] l q^(l-1)      (d/dq of q^l = l q^(l-1))
//   dbeta  = p gamma s S0                       (coef is linear in beta)
//   dgamma = p beta s S0                        (coef is linear in gamma)
//   dp     = beta gamma s S0                    term 1: d/dp through coef
//          - a coef S1                          term 2: d/dp through q (dq/dp = -a)
//   da     = -p coef S1                         (a enters through q only: dq/da = -p)
//   ddelta = dp p (1 - p)                       (sigmoid')
//   dalpha = da a (1 - a)
//
// ==== ssm_conv(x, kernel, pad, bidirectional) -> y (B, L, D) ====
// x0 = x with padding positions zeroed. Sequence (b, d), k1 = kernel[d], k2 = kernel[D + d]:
// forward:
//   y[t] = sum_{i=0..min(t, Lk-1)} k1[i] x0[t-i]               past convolution
//        + sum_{i=0..min(L-1-t, Lk-1)} k2[i] x0[t+i]           future convolution (bidirectional only)
// backward, G = dy[b,:,d]:
//   dx0[s] = sum_i k1[i] G[s+i]        term 1: d/dx0 of the past sum   = future conv of G with k1
//          + sum_i k2[i] G[s-i]        term 2: d/dx0 of the future sum = past conv of G with k2
//   dx[s]  = dx0[s] (1 - pad[s])       padding positions get no gradient (x0 is zero there)
//   dk1[i] = sum_b sum_t G[t] x0[t-i]  = lagged products of (G, x0)
//   dk2[i] = sum_b sum_t G[t] x0[t+i]  = lagged products of (x0, G)
// Three primitives cover forward and backward: past conv, future conv,
// lagged products; the CPU evaluates them directly, as Toeplitz matrix
// products or by FFT (all exact; cpu/ssm.cpp), the algorithm picked per size
// by the backend unless the caller names one.
//
// ==== ema_conv(x, delta, alpha, beta, gamma, pad, bidirectional, trunc) -> y (B, L, D) ====
// The same y as ssm_conv(x, ema_kernel(...)), from the parameters: with
// p, a, q, coef of ema_kernel for row c and state n, the kernel is
// k[c, l] = sum_n coef_n q_n^l, so the past sum splits into N recurrences
// (x0 = x with padding zeroed, Lk = the kernel length, x0 = 0 outside [0, L)):
//   h_n[t] = q_n h_n[t-1] + x0[t] - q_n^Lk x0[t-Lk]   (= sum_{i<Lk} q_n^i x0[t-i])
//   y[t]   = sum_n coef_n h_n[t]
// (the future sum of a bidirectional layer runs the same backwards in t, over
// rows D + d). Exact in exact arithmetic; in float64 it matches the direct
// sums to rounding (about 1e-15).
// backward, G = dy:
//   dx0[s] = sum_n coef_n r_n[s],  r_n[s] = q_n r_n[s+1] + G[s] - q_n^Lk G[s+Lk]
//                                   (the adjoint recurrence, backwards in s)
//   S0_n = sum_b sum_t G[t] h_n[t]          = sum_l dk[l] q^l      (ema_kernel's S0)
//   S1_n = sum_b sum_t G[t] h'_n[t]         = sum_l dk[l] l q^(l-1) (ema_kernel's S1)
//          h'_n = dh_n/dq_n: h'[t] = q h'[t-1] + h[t-1] - Lk q^(Lk-1) x0[t-Lk]
//   and from S0, S1 the parameter gradients exactly as in ema_kernel's backward.
//
// ==== rotary(x, positions) -> (B, S, Z) ====
// forward: theta = pos * freq[m], freq[m] = 10000^(-2m/Z), m = 0..Z/2-1
//   out[2m]   = x[2m] cos theta - x[2m+1] sin theta      (x[2m] + i x[2m+1]) e^{i theta}
//   out[2m+1] = x[2m] sin theta + x[2m+1] cos theta
// backward: the transpose of a rotation is the rotation by -theta:
//   dx[2m]   =  G[2m] cos theta + G[2m+1] sin theta
//   dx[2m+1] = -G[2m] sin theta + G[2m+1] cos theta
//
// ==== rel_pos_bias_gather(w, pos_q, pos_k) -> (B, S, T) ====
// forward:  out[b,i,j] = w[r],  r = rel_pos_index(M, pos_q[b,i], pos_k[b,j]) = clamp(M-1 + pos_k - pos_q, 0, 2M-2)
// backward: dw[r] += G[b,i,j]  (scatter-add, serial: deterministic)
#include "ops/ssm.h"

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace seqboat {

namespace {

void check_ema_param(const char* op, const char* arg, const Tensor& t, const Shape& expected, const Tensor& delta) {
  check_defined(op, arg, t);
  check_same_dtype(op, delta, t);
  common_device(op, {&delta, &t});
  if (t.shape() != expected)
    fail(fmt::format("{}: {} must have shape {}, got {} (delta {})", op, arg, shape_str(expected), shape_str(t.shape()),
                     shape_str(delta.shape())));
}

ConvGeometry check_ssm_conv_args(const Tensor& x, const Tensor& kernel, const Tensor& pad, bool bidirectional) {
  const char* op = "ssm_conv";
  check_defined(op, "x", x);
  check_defined(op, "kernel", kernel);
  common_device(op, {&x, &kernel, &pad});
  check_dim(op, "x", x, 3);
  check_dim(op, "kernel", kernel, 2);
  check_float(op, "x", x);
  check_same_dtype(op, x, kernel);
  ConvGeometry g{x.size(0), x.size(1), x.size(2), kernel.size(1), bidirectional};
  const int64_t rows = bidirectional ? 2 * g.D : g.D;
  if (kernel.size(0) != rows)
    fail(fmt::format("ssm_conv: kernel {} must have {} rows ({}, D = {}) for x {}", shape_str(kernel.shape()), rows,
                     bidirectional ? "2D, bidirectional" : "D, causal", g.D, shape_str(x.shape())));
  if (g.Lk < 1 || g.Lk > g.L)
    fail(fmt::format("ssm_conv: kernel length Lk = {} must be in [1, L = {}] (kernel {}, x {})", g.Lk, g.L,
                     shape_str(kernel.shape()), shape_str(x.shape())));
  if (pad.defined()) {
    check_dtype(op, "padding_mask", pad, DType::UInt8);
    if (pad.shape() != Shape{g.B, g.L})
      fail(fmt::format("ssm_conv: padding_mask must have shape (B, L) = {}, got {} (x {})", shape_str({g.B, g.L}),
                       shape_str(pad.shape()), shape_str(x.shape())));
  }
  return g;
}

// The algorithm the backend of `device` runs for g when asked for Auto.
ConvAlgo resolve_algo(ConvAlgo algo, const ConvGeometry& g, Device device, DType dtype) {
  if (algo != ConvAlgo::Auto) return algo;
  return dispatch_float(dtype, "ssm_conv", [&](auto tag) {
    using T = decltype(tag);
    return SEQBOAT_KERNEL("ssm_conv", device, T, ssm_conv_algo)(g);
  });
}

// {dx, dk} for the cotangent `grad`; an undefined tensor where not needed.
std::vector<Tensor> ssm_conv_backward(const Tensor& grad, const Tensor& x0_seq, const Tensor& kernel, const Tensor& pad,
                                      const ConvGeometry& g, bool need_x, bool need_kernel) {
  const char* op = "ssm_conv_backward";
  const Device dev = grad.device();
  Tensor G = grad.contiguous();
  Tensor dx = need_x ? empty({g.B, g.L, g.D}, grad.dtype(), dev) : Tensor();
  Tensor dk = need_kernel ? zeros(kernel.shape(), grad.dtype(), dev) : Tensor();
  dispatch_float(grad.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, ssm_conv_backward)
    (g, G.ptr<T>(), kernel.ptr<T>(), x0_seq.ptr<T>(), pad.defined() ? pad.ptr<uint8_t>() : nullptr,
     dx.defined() ? dx.ptr<T>() : nullptr, dk.defined() ? dk.ptr<T>() : nullptr);
  });
  return {dx, dk};
}

void check_positions(const char* op, const char* arg, const Tensor& pos, int64_t B, int64_t S, const Tensor& other) {
  check_defined(op, arg, pos);
  common_device(op, {&pos, &other});
  check_dtype(op, arg, pos, DType::Int64);
  if (pos.shape() != Shape{B, S})
    fail(fmt::format("{}: {} must have shape {}, got {} (other input {})", op, arg, shape_str({B, S}),
                     shape_str(pos.shape()), shape_str(other.shape())));
}

}  // namespace

Tensor ema_kernel(const Tensor& delta, const Tensor& alpha, const Tensor& beta, const Tensor& gamma, int64_t length) {
  const char* op = "ema_kernel";
  check_defined(op, "delta", delta);
  check_dim(op, "delta", delta, 3);
  check_float(op, "delta", delta);
  if (delta.size(2) != 1 || delta.size(1) < 1)
    fail(fmt::format("ema_kernel: delta must have shape (K, N, 1) with N >= 1, got {}", shape_str(delta.shape())));
  if (length < 0) fail(fmt::format("ema_kernel: length must be >= 0, got {}", length));
  const int64_t K = delta.size(0), N = delta.size(1);
  check_ema_param(op, "alpha", alpha, {K, N, 1}, delta);
  check_ema_param(op, "beta", beta, {K, N, 1}, delta);
  check_ema_param(op, "gamma", gamma, {K, N}, delta);
  const Device dev = delta.device();
  const kernels::EmaShape s{K, N, length};
  Tensor pd = delta.detach().contiguous(), pa = alpha.detach().contiguous();
  Tensor pb = beta.detach().contiguous(), pg = gamma.detach().contiguous();
  Tensor out = empty({K, length}, delta.dtype(), dev);
  dispatch_float(delta.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, ema_kernel_forward)(s, pd.ptr<T>(), pa.ptr<T>(), pb.ptr<T>(), pg.ptr<T>(), out.ptr<T>());
  });
  return record(op, out, {delta, alpha, beta, gamma},
                [s, pd, pa, pb, pg](const Tensor& g, const std::vector<bool>& need) {
                  const char* bop = "ema_kernel_backward";
                  const Device dev = g.device();
                  Tensor gc = g.contiguous();
                  Tensor d_delta = empty(pd.shape(), g.dtype(), dev), d_alpha = empty(pa.shape(), g.dtype(), dev);
                  Tensor d_beta = empty(pb.shape(), g.dtype(), dev), d_gamma = empty(pg.shape(), g.dtype(), dev);
                  dispatch_float(g.dtype(), bop, [&](auto tag) {
                    using T = decltype(tag);
                    SEQBOAT_KERNEL(bop, dev, T, ema_kernel_backward)
                    (s, pd.ptr<T>(), pa.ptr<T>(), pb.ptr<T>(), pg.ptr<T>(), gc.ptr<T>(), d_delta.ptr<T>(),
                     d_alpha.ptr<T>(), d_beta.ptr<T>(), d_gamma.ptr<T>());
                  });
                  std::vector<Tensor> grads{d_delta, d_alpha, d_beta, d_gamma};
                  for (size_t i = 0; i < grads.size(); ++i)
                    if (!need[i]) grads[i] = Tensor();
                  return grads;
                });
}

ConvAlgo ssm_conv_auto_algo(int64_t B, int64_t L, int64_t D, int64_t Lk, bool bidirectional, Device device,
                            DType dtype) {
  return resolve_algo(ConvAlgo::Auto, ConvGeometry{B, L, D, Lk, bidirectional}, device, dtype);
}

Tensor ssm_conv(const Tensor& x, const Tensor& kernel, const Tensor& padding_mask, bool bidirectional, ConvAlgo algo) {
  ConvGeometry g = check_ssm_conv_args(x, kernel, padding_mask, bidirectional);
  const Device dev = x.device();
  g.algo = resolve_algo(algo, g, dev, x.dtype());
  Tensor xc = x.detach().contiguous(), kc = kernel.detach().contiguous();
  Tensor pad = padding_mask.defined() ? padding_mask.detach().contiguous() : Tensor();
  Tensor x0_seq = empty({g.B, g.D, g.L}, x.dtype(), dev);  // x0, one contiguous row per (b, d)
  Tensor y = empty({g.B, g.L, g.D}, x.dtype(), dev);
  dispatch_float(x.dtype(), "ssm_conv", [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL("ssm_conv", dev, T, ssm_conv_forward)
    (g, xc.ptr<T>(), kc.ptr<T>(), pad.defined() ? pad.ptr<uint8_t>() : nullptr, x0_seq.ptr<T>(), y.ptr<T>());
  });
  return record("ssm_conv", y, {x, kernel}, [x0_seq, kc, pad, g](const Tensor& grad, const std::vector<bool>& need) {
    return ssm_conv_backward(grad, x0_seq, kc, pad, g, need[0], need[1]);
  });
}

Tensor ema_conv(const Tensor& x, const Tensor& delta, const Tensor& alpha, const Tensor& beta, const Tensor& gamma,
                const Tensor& padding_mask, bool bidirectional, int64_t truncation) {
  const char* op = "ema_conv";
  check_defined(op, "x", x);
  check_dim(op, "x", x, 3);
  check_float(op, "x", x);
  check_defined(op, "delta", delta);
  check_dim(op, "delta", delta, 3);
  check_same_dtype(op, x, delta);
  const Device dev = common_device(op, {&x, &delta, &alpha, &beta, &gamma, &padding_mask});
  const int64_t B = x.size(0), L = x.size(1), D = x.size(2), K = bidirectional ? 2 * D : D;
  if (delta.size(0) != K || delta.size(2) != 1 || delta.size(1) < 1)
    fail(fmt::format("ema_conv: delta must have shape ({}, N, 1) ({} for x {}), got {}", K,
                     bidirectional ? "2D, bidirectional" : "D, causal", shape_str(x.shape()),
                     shape_str(delta.shape())));
  const int64_t N = delta.size(1);
  check_ema_param(op, "alpha", alpha, {K, N, 1}, delta);
  check_ema_param(op, "beta", beta, {K, N, 1}, delta);
  check_ema_param(op, "gamma", gamma, {K, N}, delta);
  if (truncation < 0) fail(fmt::format("ema_conv: truncation must be >= 0 (0 = none), got {}", truncation));
  if (padding_mask.defined()) {
    check_dtype(op, "padding_mask", padding_mask, DType::UInt8);
    if (padding_mask.shape() != Shape{B, L})
      fail(fmt::format("ema_conv: padding_mask must have shape (B, L) = {}, got {} (x {})", shape_str({B, L}),
                       shape_str(padding_mask.shape()), shape_str(x.shape())));
  }
  const kernels::EmaScanShape s{B, L, D, N, truncation > 0 ? std::min(truncation, L) : L, bidirectional};
  Tensor xc = x.detach().contiguous(), pd = delta.detach().contiguous(), pa = alpha.detach().contiguous();
  Tensor pb = beta.detach().contiguous(), pg = gamma.detach().contiguous();
  Tensor pad = padding_mask.defined() ? padding_mask.detach().contiguous() : Tensor();
  Tensor y = empty({B, L, D}, x.dtype(), dev);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, dev, T, ema_scan_forward)
    (s, xc.ptr<T>(), pad.defined() ? pad.ptr<uint8_t>() : nullptr, pd.ptr<T>(), pa.ptr<T>(), pb.ptr<T>(), pg.ptr<T>(),
     y.ptr<T>());
  });
  return record(op, y, {x, delta, alpha, beta, gamma},
                [s, xc, pad, pd, pa, pb, pg](const Tensor& g, const std::vector<bool>& need) {
                  const char* bop = "ema_conv_backward";
                  const Device dev = g.device();
                  Tensor gc = g.contiguous();
                  std::vector<Tensor> grads(5);
                  if (need[0]) grads[0] = empty(xc.shape(), g.dtype(), dev);
                  const Tensor* params[] = {&pd, &pa, &pb, &pg};
                  for (int i = 0; i < 4; ++i)
                    if (need[i + 1]) grads[i + 1] = empty(params[i]->shape(), g.dtype(), dev);
                  dispatch_float(g.dtype(), bop, [&](auto tag) {
                    using T = decltype(tag);
                    auto out = [](const Tensor& t) { return t.defined() ? t.ptr<T>() : nullptr; };
                    SEQBOAT_KERNEL(bop, dev, T, ema_scan_backward)
                    (s, xc.ptr<T>(), pad.defined() ? pad.ptr<uint8_t>() : nullptr, pd.ptr<T>(), pa.ptr<T>(),
                     pb.ptr<T>(), pg.ptr<T>(), gc.ptr<T>(), out(grads[0]), out(grads[1]), out(grads[2]), out(grads[3]),
                     out(grads[4]));
                  });
                  return grads;
                });
}

namespace {

// The shared checks of ema_state / ema_step: causal parameters (D, N, 1),
// (D, N) of x's dtype and device; returns N.
int64_t check_causal_ema(const char* op, const Tensor& x, int64_t D, const Tensor& delta, const Tensor& alpha,
                         const Tensor& beta, const Tensor& gamma) {
  check_float(op, "x", x);
  check_defined(op, "delta", delta);
  check_dim(op, "delta", delta, 3);
  check_same_dtype(op, x, delta);
  common_device(op, {&x, &delta, &alpha, &beta, &gamma});
  if (delta.size(0) != D || delta.size(2) != 1 || delta.size(1) < 1)
    fail(fmt::format("{}: delta must have shape ({}, N, 1) (causal, D = {}), got {}", op, D, D,
                     shape_str(delta.shape())));
  const int64_t N = delta.size(1);
  check_ema_param(op, "alpha", alpha, {D, N, 1}, delta);
  check_ema_param(op, "beta", beta, {D, N, 1}, delta);
  check_ema_param(op, "gamma", gamma, {D, N}, delta);
  return N;
}

// The decoding ops record no gradient: refuse a call that would need one
// rather than return values silently cut from the graph.
void check_inference_only(const char* op, std::initializer_list<const Tensor*> inputs) {
  if (any_requires_grad(inputs))
    fail(fmt::format("{}: an inference op (no gradient): call it under NoGradGuard or with detached inputs", op));
}

}  // namespace

Tensor ema_state(const Tensor& x, const Tensor& delta, const Tensor& alpha, const Tensor& beta, const Tensor& gamma,
                 const Tensor& padding_mask, int64_t truncation) {
  const char* op = "ema_state";
  check_defined(op, "x", x);
  check_inference_only(op, {&x, &delta, &alpha, &beta, &gamma});
  check_dim(op, "x", x, 3);
  const int64_t B = x.size(0), L = x.size(1), D = x.size(2);
  const int64_t N = check_causal_ema(op, x, D, delta, alpha, beta, gamma);
  if (truncation < 0) fail(fmt::format("ema_state: truncation must be >= 0 (0 = none), got {}", truncation));
  if (padding_mask.defined() && (padding_mask.dtype() != DType::UInt8 || padding_mask.shape() != Shape{B, L}))
    fail(fmt::format("ema_state: padding_mask must be uint8 (B, L) = {}, got {} {}", shape_str({B, L}),
                     dtype_name(padding_mask.dtype()), shape_str(padding_mask.shape())));
  const kernels::EmaScanShape s{B, L, D, N, truncation > 0 ? std::min(truncation, L) : L, false};
  Tensor xc = x.detach().contiguous(), pad = padding_mask.defined() ? padding_mask.contiguous() : Tensor();
  Tensor pd = delta.detach().contiguous(), pa = alpha.detach().contiguous(), pb = beta.detach().contiguous(),
         pg = gamma.detach().contiguous();
  Tensor h = empty({B, D, N}, x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, ema_scan_state)
    (s, xc.ptr<T>(), pad.defined() ? pad.ptr<uint8_t>() : nullptr, pd.ptr<T>(), pa.ptr<T>(), pb.ptr<T>(), pg.ptr<T>(),
     h.ptr<T>());
  });
  return h;
}

Tensor ema_step(const Tensor& x_t, const Tensor& x_old, const Tensor& delta, const Tensor& alpha, const Tensor& beta,
                const Tensor& gamma, const Tensor& h, int64_t truncation) {
  const char* op = "ema_step";
  check_defined(op, "x_t", x_t);
  check_inference_only(op, {&x_t, &delta, &alpha, &beta, &gamma});
  check_dim(op, "x_t", x_t, 2);
  const int64_t B = x_t.size(0), D = x_t.size(1);
  const int64_t N = check_causal_ema(op, x_t, D, delta, alpha, beta, gamma);
  check_defined(op, "h", h);
  if (h.shape() != Shape{B, D, N} || !h.is_contiguous() || h.dtype() != x_t.dtype() || h.device() != x_t.device())
    fail(fmt::format("ema_step: the state h must be a contiguous {} {} on {}, got {} {}", dtype_name(x_t.dtype()),
                     shape_str({B, D, N}), device_name(x_t.device()), dtype_name(h.dtype()), shape_str(h.shape())));
  if (x_old.defined() && x_old.shape() != x_t.shape())
    fail(fmt::format("ema_step: x_old must have x_t's shape {}, got {}", shape_str(x_t.shape()),
                     shape_str(x_old.shape())));
  if (truncation < 0) fail(fmt::format("ema_step: truncation must be >= 0 (0 = none), got {}", truncation));
  if (x_old.defined() && truncation == 0)
    fail("ema_step: x_old is the input `truncation` steps back; without truncation pass none");
  kernels::EmaScanShape s{B, 1, D, N, truncation > 0 ? truncation : 1, false};
  Tensor xc = x_t.detach().contiguous(), xo = x_old.defined() ? x_old.detach().contiguous() : Tensor();
  Tensor pd = delta.detach().contiguous(), pa = alpha.detach().contiguous(), pb = beta.detach().contiguous(),
         pg = gamma.detach().contiguous();
  Tensor y = empty({B, D}, x_t.dtype(), x_t.device());
  dispatch_float(x_t.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x_t.device(), T, ema_scan_step)
    (s, xc.ptr<T>(), xo.defined() ? xo.ptr<T>() : nullptr, pd.ptr<T>(), pa.ptr<T>(), pb.ptr<T>(), pg.ptr<T>(),
     h.ptr<T>(), y.ptr<T>());
  });
  return y;
}

Tensor rotary(const Tensor& x, const Tensor& positions) {
  const char* op = "rotary";
  check_defined(op, "x", x);
  check_dim(op, "x", x, 3);
  check_float(op, "x", x);
  if (x.size(2) % 2 != 0)
    fail(fmt::format("rotary: the last dim of x {} must be even (pairs (2m, 2m+1))", shape_str(x.shape())));
  check_positions(op, "positions", positions, x.size(0), x.size(1), x);
  const int64_t rows = x.size(0) * x.size(1), Z = x.size(2);
  Tensor xc = x.detach().contiguous(), pos = positions.detach().contiguous();
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, x.device(), T, rotary)(rows, Z, +1.0, pos.ptr<int64_t>(), xc.ptr<T>(), out.ptr<T>());
  });
  Shape shape = x.shape();
  return record(op, out, {x}, [pos, rows, Z, shape](const Tensor& g, const std::vector<bool>&) {
    Tensor gc = g.contiguous();
    Tensor dx = empty(shape, g.dtype(), g.device());
    dispatch_float(g.dtype(), "rotary_backward", [&](auto tag) {
      using T = decltype(tag);  // the transpose of a rotation: the rotation by -theta
      SEQBOAT_KERNEL("rotary_backward", g.device(), T, rotary)
      (rows, Z, -1.0, pos.ptr<int64_t>(), gc.ptr<T>(), dx.ptr<T>());
    });
    return std::vector<Tensor>{dx};
  });
}

Tensor rel_pos_bias_gather(const Tensor& w, const Tensor& pos_q, const Tensor& pos_k) {
  const char* op = "rel_pos_bias_gather";
  check_defined(op, "w", w);
  check_dim(op, "w", w, 1);
  check_float(op, "w", w);
  if (w.size(0) % 2 != 1)
    fail(fmt::format("rel_pos_bias_gather: w must have odd length 2M - 1, got shape {}", shape_str(w.shape())));
  check_defined(op, "pos_q", pos_q);
  check_dim(op, "pos_q", pos_q, 2);
  check_positions(op, "pos_q", pos_q, pos_q.size(0), pos_q.size(1), w);
  check_defined(op, "pos_k", pos_k);
  check_dim(op, "pos_k", pos_k, 2);
  check_positions(op, "pos_k", pos_k, pos_q.size(0), pos_k.size(1), pos_q);
  const int64_t M = (w.size(0) + 1) / 2, B = pos_q.size(0), S = pos_q.size(1), Tk = pos_k.size(1);
  Tensor wc = w.detach().contiguous(), pq = pos_q.detach().contiguous(), pk = pos_k.detach().contiguous();
  Tensor out = empty({B, S, Tk}, w.dtype(), w.device());
  dispatch_float(w.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    SEQBOAT_KERNEL(op, w.device(), T, rel_pos_bias_gather_forward)
    (B, S, Tk, M, wc.ptr<T>(), pq.ptr<int64_t>(), pk.ptr<int64_t>(), out.ptr<T>());
  });
  return record(op, out, {w}, [pq, pk, M, B, S, Tk](const Tensor& g, const std::vector<bool>&) {
    const char* bop = "rel_pos_bias_gather_backward";
    Tensor gc = g.contiguous();
    Tensor dw = empty({2 * M - 1}, g.dtype(), g.device());
    dispatch_float(g.dtype(), bop, [&](auto tag) {
      using T = decltype(tag);
      SEQBOAT_KERNEL(bop, g.device(), T, rel_pos_bias_gather_backward)
      (B, S, Tk, M, gc.ptr<T>(), pq.ptr<int64_t>(), pk.ptr<int64_t>(), dw.ptr<T>());
    });
    return std::vector<Tensor>{dw};
  });
}

}  // namespace seqboat
