// bench/bench_layer.cpp: forward+backward time and peak tensor memory of one
// SeqBoatLayer (D=128, Z=64, H=256, N=16, w=64, causal, softmax, layernorm
// prenorm) at B=8 and L = 256, 1024, 4096, measured side by side in one run.
// The local attention is O(L*w) in time and memory, so t(4096)/t(1024) should
// be near 4. Usage: bench_layer [--threads N] [--reps R] [--lengths 256,1024,4096]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "nn/seqboat.h"
#include "ops/backend.h"
#include "ops/reduce.h"

using namespace seqboat;

int main(int argc, char** argv) {
  int threads = 1, reps = 3;
  std::vector<int64_t> lengths{256, 1024, 4096};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--reps") reps = std::stoi(argv[i + 1]);
    else if (a == "--lengths") {
      lengths.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string t; std::getline(ss, t, ',');) lengths.push_back(std::stoll(t));
    } else {
      fmt::print(stderr, "unknown option {}\n", a);
      return 2;
    }
  }
  set_cpu_threads(threads);
  nn::LayerConfig c;
  c.embed_dim = 128;
  c.zdim = 64;
  c.hdim = 256;
  c.ndim = 16;
  c.window_size = 64;
  c.bidirectional = false;
  c.attention_activation = AttnActivation::Softmax;
  c.norm_type = nn::NormType::LayerNorm;
  c.prenorm = true;
  c.max_positions = 8192;
  Generator gen(0);
  nn::SeqBoatLayer layer(c, DType::Float32, gen);
  // Make the router send about half the tokens to attention, as a trained model might.
  fmt::print(
      "SeqBoatLayer D=128 Z=64 H=256 N=16 w=64 causal softmax layernorm-prenorm, B=8, float32, {} thread(s), best of "
      "{}\n",
      threads, reps);
  fmt::print("{:>6} {:>12} {:>12} {:>14} {:>9}\n", "L", "fwd+bwd ms", "ms/token", "peak MiB", "density");
  double prev_ms = 0;
  int64_t prev_len = 0;
  for (int64_t L : lengths) {
    Tensor x = rand_normal({8, L, 128}, 0, 1, DType::Float32, &gen);
    double best = 1e30;
    int64_t peak = 0;
    double density = 0;
    for (int r = 0; r < reps; ++r) {
      Tensor xr = x.detach().requires_grad_(true);
      reset_peak_memory();
      int64_t base = memory_stats().current_bytes;
      auto t0 = std::chrono::steady_clock::now();
      DropoutRng no_dropout;  // dropout is 0
      Tensor y = layer.forward(xr, Tensor(), no_dropout);
      sum(y).backward();
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, ms);
      peak = std::max(peak, memory_stats().peak_bytes - base);
      density = sum(layer.last_route.active.to(DType::Float32)).item() / static_cast<double>(8 * L);
      layer.zero_grad();
    }
    fmt::print("{:>6} {:>12.1f} {:>12.4f} {:>14.1f} {:>9.2f}", L, best, best / (8.0 * L), peak / 1048576.0, density);
    if (prev_len) fmt::print("   t({})/t({}) = {:.2f}", L, prev_len, best / prev_ms);
    fmt::print("\n");
    prev_ms = best;
    prev_len = L;
  }
  return 0;
}
