// ops/ssm.cpp: the SeqBoat state-space ops (docs/semantics.md section 1): argument
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
#include "ops/ssm.h"

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace seqboat {

namespace {

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

// The algorithm the backend of `device` runs for g when asked for Auto (its
// policy, kernels/table.h).
ConvAlgo resolve_algo(ConvAlgo algo, const ConvGeometry& g, Device device) {
  if (algo != ConvAlgo::Auto) return algo;
  kernels::SsmConvAutoAlgoFn* policy = backend_on(device).ssm_conv_auto_algo;
  if (!policy) fail(fmt::format("ssm_conv: no {} backend to choose an algorithm", device_name(device)));
  return policy(g);
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
  check_param(op, "alpha", alpha, {K, N, 1}, delta, "delta");
  check_param(op, "beta", beta, {K, N, 1}, delta, "delta");
  check_param(op, "gamma", gamma, {K, N}, delta, "delta");
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

ConvAlgo ssm_conv_auto_algo(int64_t B, int64_t L, int64_t D, int64_t Lk, bool bidirectional, Device device) {
  return resolve_algo(ConvAlgo::Auto, ConvGeometry{B, L, D, Lk, bidirectional}, device);
}

Tensor ssm_conv(const Tensor& x, const Tensor& kernel, const Tensor& padding_mask, bool bidirectional, ConvAlgo algo) {
  ConvGeometry g = check_ssm_conv_args(x, kernel, padding_mask, bidirectional);
  const Device dev = x.device();
  g.algo = resolve_algo(algo, g, dev);
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

}  // namespace seqboat
