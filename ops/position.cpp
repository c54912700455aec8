// ops/position.cpp: the position encodings of the attention unit, rotary
// embedding and the relative-position bias: argument checks, allocation and
// autograd; the arithmetic is in the backends (cpu/position.cpp,
// cuda/position_impl.h).
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
#include "ops/position.h"

#include "autograd/autograd.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace seqboat {

namespace {

void check_positions(const char* op, const char* arg, const Tensor& pos, int64_t B, int64_t S, const Tensor& other) {
  check_defined(op, arg, pos);
  common_device(op, {&pos, &other});
  check_dtype(op, arg, pos, DType::Int64);
  if (pos.shape() != Shape{B, S})
    fail(fmt::format("{}: {} must have shape {}, got {} (other input {})", op, arg, shape_str({B, S}),
                     shape_str(pos.shape()), shape_str(other.shape())));
}

}  // namespace

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
