// bench/bench_conv.cpp: forward+backward time of ssm_conv with each algorithm
// (Direct, Toeplitz, FFT) side by side, and what Auto picks: the data behind
// the cost model in ops/ssm.cpp. float32, B=32, D=128 unless given.
// Usage: bench_conv [--threads N] [--reps R] [--batch B] [--channels D]
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

#include "ops/backend.h"
#include "ops/reduce.h"
#include "ops/ssm.h"
#include "tensor/random.h"

using namespace seqboat;

namespace {

double time_ms(const Tensor& x, const Tensor& k, const Tensor& c, bool bidirectional, ConvAlgo algo, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    Tensor xr = x.detach().requires_grad_(true), kr = k.detach().requires_grad_(true);
    auto t0 = std::chrono::steady_clock::now();
    Tensor y = ssm_conv(xr, kr, Tensor(), bidirectional, algo);
    y.backward(c);
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 5;
  int64_t B = 32, D = 128;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--reps") reps = std::stoi(argv[i + 1]);
    else if (a == "--batch") B = std::stoll(argv[i + 1]);
    else if (a == "--channels") D = std::stoll(argv[i + 1]);
    else {
      fmt::print(stderr, "unknown option {}\n", a);
      return 2;
    }
  }
  set_cpu_threads(threads);
  fmt::print("ssm_conv fwd+bwd, float32, B={} D={}, {} thread(s), best of {} (ms)\n", B, D, threads, reps);
  fmt::print("{:>6} {:>6} {:>6} {:>9} {:>9} {:>9}  {}\n", "dir", "L", "Lk", "Direct", "Toeplitz", "FFT", "Auto picks");
  Generator g(1);
  struct Case {
    int64_t L, Lk;
  };
  const std::vector<Case> cases{{32, 32},   {64, 64},   {128, 128},   {128, 32},   {256, 256}, {256, 64},
                                {512, 512}, {512, 128}, {1024, 1024}, {1024, 128}, {2048, 256}};
  for (bool bidirectional : {false, true})
    for (Case cs : cases) {
      Tensor x = rand_normal({B, cs.L, D}, 0, 1, DType::Float32, &g);
      Tensor k = rand_normal({bidirectional ? 2 * D : D, cs.Lk}, 0, 1, DType::Float32, &g);
      Tensor c = rand_normal({B, cs.L, D}, 0, 1, DType::Float32, &g);
      double td = time_ms(x, k, c, bidirectional, ConvAlgo::Direct, reps);
      double tt = cs.L <= 1024 ? time_ms(x, k, c, bidirectional, ConvAlgo::Toeplitz, reps) : 0.0;
      double tf = time_ms(x, k, c, bidirectional, ConvAlgo::FFT, reps);
      ConvAlgo picked = ssm_conv_auto_algo(B, cs.L, D, cs.Lk, bidirectional);
      fmt::print("{:>6} {:>6} {:>6} {:>9.2f} {:>9} {:>9.2f}  {}\n", bidirectional ? "bidir" : "causal", cs.L, cs.Lk, td,
                 tt > 0 ? fmt::format("{:.2f}", tt) : std::string("-"), tf,
                 picked == ConvAlgo::Direct     ? "Direct"
                 : picked == ConvAlgo::Toeplitz ? "Toeplitz"
                                                : "FFT");
    }
  return 0;
}
