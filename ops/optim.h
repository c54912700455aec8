// ops/optim.h: the in-place updates and gradient utilities that nn/optim.h's
// optimizers are made of, as device-independent ops over whole tensors (the
// arithmetic is in the adamw_step / sgd_step / sum_of_squares / scale_inplace
// / all_finite kernels). Not recorded by autograd: they change their
// arguments in place. Every tensor must be contiguous, of one dtype and device.
#pragma once

#include "kernels/optim.h"
#include "tensor/tensor.h"

namespace seqboat {

using kernels::AdamScalars;
using kernels::SgdScalars;

// AdamW step on p with gradient g and moments m, v (formula in nn/optim.h).
void adamw_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamScalars& s);
// SGD step; buf undefined when momentum is 0.
void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, const SgdScalars& s);
// sum of t_i^2 in double.
double sum_of_squares(const Tensor& t);
// t = t * s in place.
void scale_(const Tensor& t, double s);
// Every element finite.
bool all_finite(const Tensor& t);

}  // namespace seqboat
