// tests/package/consumer.cpp: a program built outside the seqboat tree
// against the installed package. It builds a SeqBoat layer from a config by
// the reference's names, runs forward and backward, proves one op's backward
// with gradcheck, and checks that the CUDA kernels are linked exactly when
// the package exports seqboat::cuda. Prints "consumer: ok" and exits 0 when
// all hold.
#include <fmt/format.h>

#include "nn/seqboat.h"
#include "ops/backend.h"
#include "ops/gradcheck.h"
#include "ops/reduce.h"

using namespace seqboat;

int main() {
  Generator gen(1);
  auto layer = std::make_shared<nn::SeqBoatLayer>(
      nn::LayerConfig::from_json({{"embed_dim", 8}, {"zdim", 4}, {"hdim", 16}, {"window_size", 2}}), DType::Float64,
      gen);
  Tensor x = rand_normal({2, 10, 8}, 0, 1, DType::Float64, &gen).requires_grad_();
  DropoutRng rng;
  Tensor y = layer->forward(x, Tensor(), rng);
  sum(y).backward();
  bool shapes_ok = y.shape() == Shape{2, 10, 8} && x.grad().defined() && layer->ssm->delta.grad().defined();

  Tensor d = rand_normal({3, 2, 1}, 0, 0.2, DType::Float64, &gen).requires_grad_();
  Tensor a = rand_normal({3, 2, 1}, 0, 0.2, DType::Float64, &gen).requires_grad_();
  Tensor b = rand_normal({3, 2, 1}, 0, 1, DType::Float64, &gen).requires_grad_();
  Tensor g = rand_normal({3, 2}, 0, 1, DType::Float64, &gen).requires_grad_();
  GradcheckResult check =
      gradcheck([](const std::vector<Tensor>& in) { return ema_kernel(in[0], in[1], in[2], in[3], 5); }, {d, a, b, g});

  int cuda_kernels = 0;
  for (const KernelAvailability& k : kernel_availability())
    for (int t = 0; t < kNumDTypes; ++t) cuda_kernels += k.has[static_cast<int>(Device::CUDA)][t];
#ifdef CONSUMER_HAS_CUDA_TARGET
  const bool cuda_ok = cuda_kernels > 0;
#else
  const bool cuda_ok = cuda_kernels == 0;
#endif
  fmt::print("consumer: layer output {}, gradcheck of ema_kernel {} ({} entries), {} CUDA kernels linked\n",
             shape_str(y.shape()), check.ok ? "passed" : "FAILED", check.elements_checked, cuda_kernels);
  bool ok = shapes_ok && check.ok && cuda_ok;
  fmt::print("{}\n", ok ? "consumer: ok" : "consumer: FAILED");
  return ok ? 0 : 1;
}
