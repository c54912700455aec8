// ops/ema_scan.cpp: the EMA convolution computed from the EMA's parameters
// as linear recurrences (ema_conv), and the two decoding ops built on the
// same recurrences (ema_state, ema_step): argument checks, allocation and
// autograd; the arithmetic is in the backends (cpu/ema_scan.cpp,
// cuda/ema_scan_impl.h). p, a, q and coef are those of ema_kernel
// (ops/ssm.cpp).
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
// ==== ema_state / ema_step (decoding, causal, no gradient) ====
//   ema_state: h_n = sum_{i<Lk} q_n^i x0[L-1-i]  (the recurrence's state after position L-1)
//   ema_step:  h_n = q_n h_n + x_t - q_n^Lk x_old,  y = sum_n coef_n h_n
#include "ops/ema_scan.h"

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace seqboat {

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
  check_param(op, "alpha", alpha, {K, N, 1}, delta, "delta");
  check_param(op, "beta", beta, {K, N, 1}, delta, "delta");
  check_param(op, "gamma", gamma, {K, N}, delta, "delta");
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
  check_param(op, "alpha", alpha, {D, N, 1}, delta, "delta");
  check_param(op, "beta", beta, {D, N, 1}, delta, "delta");
  check_param(op, "gamma", gamma, {D, N}, delta, "delta");
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

}  // namespace seqboat
