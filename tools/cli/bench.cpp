// tools/cli/bench.cpp: `seqboat bench`: benchmarks that print numbers (never
// timed tests). Each case runs once to warm up, then --reps times; it reports
// the median and the minimum time, the peak tensor memory and the peak
// process RSS of the timed runs, and the achieved GFLOP/s of the FLOP count
// below. --json FILE writes the rows as a JSON array.
//
// Cases (defaults in brackets):
//   layer_fwd_bwd, layer_fwd   SeqBoatLayer D=128 Z=64 H=256 N=16 w=64, causal, softmax,
//                              layernorm prenorm, B=8, float32, forward+backward (train
//                              mode) or forward only (eval mode, no graph), at each --L
//                              [256,1024,4096,16384] and --density [own]: `own` leaves
//                              the router as initialised; a number forces that share of
//                              tokens active by biasing the router (hx_proj.bias[1]).
//   gemm_bound                 the layer's three projection GEMMs at L=--L (first value),
//                              forward and both backward products: the machine's GEMM
//                              speed in the same run, to compare the layer against.
//   train_step_listops         one optimizer step (forward, backward, clipping, AdamW) of
//                              the default ListOps model on a batch of 32.
//   conv                       ssm_conv forward+backward with each algorithm (Direct,
//                              Toeplitz, FFT) side by side, and what Auto picks.
//   decode                     the default `--task lm` model (float32, as initialised)
//                              generating one long sequence token by token with the
//                              incremental decoder (nn/decoding.h): the time per token
//                              over 512 steps at positions 512, 8192 and 32768 [--L], the
//                              decoder state and the process RSS there; then the full
//                              recompute (`generate --no-cache`: the forward over the
//                              whole history for one token) at positions 512 and 2048.
//
// FLOP count of the layer forward (B rows, L tokens, S slots per row after
// SMA compression, width = min(w, S - 1) + 1 keys per query; multiply-add = 2):
//   hx_proj      2 B L D (D + 2)
//   EMA          4 B L D N      (the recurrence, the cheapest exact method)
//   mx_proj      2 B S D (Z + 2H)
//   attention    2 B S width (Z + H)
//   h_proj       2 B S H D
// forward+backward counts 3x the forward (each product has two backward
// products of the same size). Norms and pointwise ops are not counted.
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "autograd/autograd.h"
#include "cli.h"
#include "device/memory.h"
#include "data/listops.h"
#include "nn/decoding.h"
#include "nn/optim.h"
#include "nn/sampling.h"
#include "nn/seqboat.h"
#include "ops/backend.h"
#include "ops/kernel_profile.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/ssm.h"
#include "tensor/atomic_file.h"
#include "tensor/host_allocator.h"
#include "tensor/random.h"
#include "train/config.h"
#include "train/tasks.h"

namespace seqboat::cli {

using nlohmann::json;

namespace {

constexpr int64_t kB = 8, kD = 128, kZ = 64, kH = 256, kN = 16, kW = 64;

struct Row {
  std::string name;
  int64_t L = 0, B = 0;
  double density = 0;             // measured active share (layer cases)
  json forced_density = nullptr;  // null or the forced value
  double median_ms = 0, min_ms = 0, peak_mib = 0, rss_mib = 0, gflops = 0;
  std::string note;
};

// Peak resident set size of the process since the last reset, in MiB
// (VmHWM; writing 5 to clear_refs resets it, Linux 4.0+).
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (f) f << "5";
}
double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Peak tensor memory of `device` since the last reset, in bytes.
void reset_peak(Device device) {
  if (device == Device::CPU) reset_peak_memory();
  else cuda::reset_peak_device_memory();
}
int64_t peak_bytes(Device device) {
  return device == Device::CPU ? memory_stats().peak_bytes : static_cast<int64_t>(cuda::peak_device_memory());
}
int64_t current_bytes(Device device) {
  return device == Device::CPU ? memory_stats().current_bytes : static_cast<int64_t>(cuda::current_device_memory());
}

// Runs `body` once to warm up and `reps` times timed; fills the timing and
// memory fields of `row`. `body` returns when its work is done on the device.
void measure(Row& row, Device device, int reps, const std::function<void()>& body) {
  // Give back what earlier cases left cached, so that each row's RSS is its
  // own case's (the allocator keeps freed blocks up to the process's peak).
  host_release_cache();
  malloc_trim(0);
  body();
  std::vector<double> ms;
  reset_peak_rss();
  reset_peak(device);
  const int64_t base = current_bytes(device);
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_ms();
    body();
    synchronize_device(device);
    ms.push_back(now_ms() - t0);
  }
  std::sort(ms.begin(), ms.end());
  row.min_ms = ms.front();
  row.median_ms = ms[ms.size() / 2];
  row.peak_mib = static_cast<double>(peak_bytes(device) - base) / 1048576.0;
  row.rss_mib = peak_rss_mib();
}

nn::LayerConfig layer_config() {
  nn::LayerConfig c;
  c.embed_dim = kD;
  c.zdim = kZ;
  c.hdim = kH;
  c.ndim = kN;
  c.window_size = kW;
  c.bidirectional = false;
  c.attention_activation = AttnActivation::Softmax;
  c.norm_type = nn::NormType::LayerNorm;
  c.prenorm = true;
  c.max_positions = 16384;
  return c;
}

// Biases the router so that about `share` of the tokens of x are active:
// from one forward, the router margin d = u1 - u0 of every token follows from
// its probability (P1 = sigmoid(d / tau)), and adding b to u1 activates the
// tokens with d > -b.
void force_density(nn::SeqBoatLayer& layer, const Tensor& x, double share) {
  NoGradGuard no_grad;
  DropoutRng none;
  layer.forward(x, Tensor(), none);
  const double tau = std::exp(layer.q_router->temp.item());
  std::vector<double> prob = layer.last_route.prob.to_vector(), active = layer.last_route.active.to_vector();
  std::vector<double> margin(prob.size());
  for (size_t i = 0; i < prob.size(); ++i) {
    const double p = std::clamp(prob[i], 1e-12, 1 - 1e-12), logit = std::log(p / (1 - p));
    margin[i] = tau * (active[i] ? logit : -logit);
  }
  std::sort(margin.begin(), margin.end());
  double b;
  if (share >= 1) b = 1e4;
  else if (share <= 0) b = -1e4;
  else b = -margin[static_cast<size_t>((1 - share) * static_cast<double>(margin.size()))];
  Tensor& bias = layer.hx_proj->bias;
  bias.set({1}, bias.at({1}) + b);
}

double layer_flops(int64_t L, int64_t S, bool backward) {
  const double B = kB, D = kD, Z = kZ, H = kH, N = kN;
  const double width = S > 0 ? static_cast<double>(std::min<int64_t>(kW, S - 1) + 1) : 0;
  const double fwd = 2 * B * L * D * (D + 2) + 4 * B * L * D * N + 2 * B * S * D * (Z + 2 * H) +
                     2 * B * S * width * (Z + H) + 2 * B * S * H * D;
  return backward ? 3 * fwd : fwd;
}

Row layer_case(bool backward, int64_t L, const std::string& density, Device device, int reps) {
  Generator gen(0);
  nn::SeqBoatLayer layer(layer_config(), DType::Float32, gen);
  Tensor x = rand_normal({kB, L, kD}, 0, 1, DType::Float32, &gen);
  layer.to(device);
  x = x.to(device);
  Row row;
  row.name = backward ? "layer_fwd_bwd" : "layer_fwd";
  row.L = L;
  row.B = kB;
  if (density != "own") {
    const double share = std::stod(density);
    row.forced_density = share;
    force_density(layer, x, share);
  }
  layer.train(backward);
  DropoutRng none;  // dropout is 0
  measure(row, device, reps, [&] {
    if (backward) {
      Tensor xr = x.detach().requires_grad_(true);
      sum(layer.forward(xr, Tensor(), none)).backward();
      layer.zero_grad();
    } else {
      NoGradGuard no_grad;
      layer.forward(x, Tensor(), none);
    }
  });
  row.density = mean(layer.last_route.active.to(DType::Float64)).item();
  row.gflops = layer_flops(L, layer.last_route.plan.slots, backward) / (row.min_ms * 1e6);
  return row;
}

Row gemm_case(int64_t L, Device device, int reps) {
  Generator gen(1);
  auto rn = [&](Shape s) { return rand_normal(s, 0, 1, DType::Float32, &gen).to(device); };
  const int64_t rows = kB * L;
  struct Gemm {
    Tensor x, w;
  };
  std::vector<Gemm> gemms{
      {rn({rows, kD}), rn({kD + 2, kD})}, {rn({rows, kD}), rn({kZ + 2 * kH, kD})}, {rn({rows, kH}), rn({kD, kH})}};
  double flops = 0;
  for (const Gemm& g : gemms) flops += 3 * 2.0 * rows * g.x.size(1) * g.w.size(0);
  Row row;
  row.name = "gemm_bound";
  row.L = L;
  row.B = kB;
  measure(row, device, reps, [&] {
    for (const Gemm& g : gemms) {
      Tensor gy = linear(g.x, g.w);                  // y = x W^T
      Tensor gx = matmul(gy, g.w);                   // dx = g W
      Tensor gw = matmul(transpose(gy, 0, 1), g.x);  // dW = g^T x
      (void)gx;
      (void)gw;
    }
  });
  row.gflops = flops / (row.min_ms * 1e6);
  row.note = "projection GEMMs of the layer (x W^T, g W, g^T x)";
  return row;
}

Row train_step_case(Device device, int reps) {
  char tmpl[] = "/tmp/seqboat_bench_XXXXXX";
  const std::string dir = mkdtemp(tmpl) ? tmpl : "/tmp";
  data::ListOpsGenConfig g;
  g.n_train = 256;
  g.n_val = 32;
  g.n_test = 32;
  data::write_listops_splits(dir, g);
  json cfg = train::resolve_config("listops", "", {"data.dir=" + dir});
  cfg["device"] = device_name(device);
  Generator init(1);
  std::unique_ptr<train::Task> task = train::make_task(cfg, dir, DType::Float32, init, device);
  nn::AdamW opt(task->model().named_parameters(), {0.9, 0.98}, 1e-8, 0.3);
  DropoutRng rng{2, 0};
  int64_t step = 0;
  Row row;
  row.name = "train_step_listops";
  row.B = cfg["batch_size"];
  measure(row, device, reps, [&] {
    train::Batch b = task->train_batch(step++);
    Tensor loss = task->loss(b, rng, nullptr, nullptr);
    loss.backward();
    nn::clip_grad_norm(task->model().named_parameters(), 1.0);
    opt.step(3e-3);
    opt.zero_grad();
  });
  row.L = 0;
  row.note = fmt::format("default ListOps model (2 layers, d_model 128), batch {}, dropout {}",
                         cfg.at("batch_size").get<int64_t>(), cfg.at("model.dropout").get<double>());
  std::filesystem::remove_all(dir);
  return row;
}

void conv_case(Device device, int reps, std::vector<Row>& rows) {
  const int64_t B = 32, D = 128;
  Generator g(1);
  struct Shape2 {
    int64_t L, Lk;
  };
  for (bool bidir : {false, true})
    for (Shape2 s :
         {Shape2{32, 32}, {128, 128}, {128, 32}, {256, 256}, {512, 512}, {1024, 1024}, {1024, 128}, {2048, 256}}) {
      Tensor x = rand_normal({B, s.L, D}, 0, 1, DType::Float32, &g).to(device);
      Tensor k = rand_normal({bidir ? 2 * D : D, s.Lk}, 0, 1, DType::Float32, &g).to(device);
      Tensor c = rand_normal({B, s.L, D}, 0, 1, DType::Float32, &g).to(device);
      const ConvAlgo picked = ssm_conv_auto_algo(B, s.L, D, s.Lk, bidir, device);
      for (ConvAlgo algo : {ConvAlgo::Direct, ConvAlgo::Toeplitz, ConvAlgo::FFT}) {
        if (algo == ConvAlgo::Toeplitz && s.L > 1024) continue;
        Row row;
        const char* name = kernels::conv_algo_name(algo);
        row.name = fmt::format("conv_{}_{}", bidir ? "bidir" : "causal", name);
        row.L = s.L;
        row.B = B;
        measure(row, device, reps, [&] {
          Tensor xr = x.detach().requires_grad_(true), kr = k.detach().requires_grad_(true);
          ssm_conv(xr, kr, Tensor(), bidir, algo).backward(c);
        });
        row.note = fmt::format("Lk={}{}", s.Lk, picked == algo ? ", Auto picks it" : "");
        rows.push_back(row);
      }
    }
}

// Milliseconds with three decimals below 10 ms (decode steps), else one.
std::string ms_text(double ms) { return ms < 10 ? fmt::format("{:.3f}", ms) : fmt::format("{:.1f}", ms); }

void print_row(const Row& r) {
  fmt::print(
      "{:<20} {:>6} {:>3} {:>8} {:>8} {:>10} {:>10} {:>9.1f} {:>9.1f} {:>8.1f}  {}\n", r.name, r.L, r.B,
      r.forced_density.is_null() ? std::string("own") : fmt::format("{:.2f}", r.forced_density.get<double>()),
      r.name.rfind("layer", 0) == 0 || r.name == "decode_cached" ? fmt::format("{:.3f}", r.density) : std::string("-"),
      ms_text(r.median_ms), ms_text(r.min_ms), r.peak_mib, r.rss_mib, r.gflops, r.note);
  std::fflush(stdout);
}

// One generation to the last of `positions` (ascending); at each, `steps`
// timed steps with the incremental decoder; then the full recompute.
void decode_case(Device device, const std::vector<int64_t>& positions, std::vector<Row>& rows) {
  constexpr int64_t kSteps = 512, kFullReps = 5, kKeep = 2048;
  json cfg = train::resolve_config("lm", "", {});
  Generator init(1);
  nn::SeqBoatLM lm(train::model_config(cfg, 256, 256), DType::Float32, init);
  lm.to(device);
  lm.eval();
  Generator sampler(2);
  std::vector<int64_t> history;
  nn::LMDecoder dec(lm);
  // Feeds the next token (sampled at temperature 1 from the last logits).
  std::vector<double> logits(256, 0.0);
  auto step = [&] {
    const int64_t token = nn::sample_next_token(logits, 1.0, 0, sampler);
    if (static_cast<int64_t>(history.size()) < kKeep) history.push_back(token);  // for the full recompute
    logits = dec.step(token).to_vector();  // (copies to the host: the step is done)
  };
  const std::string model =
      fmt::format("lm d_model {} layers {} w {}", lm.cfg.d_model, lm.cfg.n_layers, lm.cfg.mem_size);
  for (int64_t p : positions) {
    while (dec.position() < p) step();
    Row row;
    row.name = "decode_cached";
    row.L = p;
    row.B = 1;
    reset_peak_rss();
    reset_peak(device);
    const int64_t base = current_bytes(device);
    std::vector<double> ms;
    double active = 0;  // tokens the layers routed to attention
    for (int64_t i = 0; i < kSteps; ++i) {
      const double t0 = now_ms();
      step();
      ms.push_back(now_ms() - t0);
      for (const auto& layer : lm.seq_layers) active += layer->last_route.active.item();
    }
    row.density = active / static_cast<double>(kSteps * static_cast<int64_t>(lm.seq_layers.size()));
    std::sort(ms.begin(), ms.end());
    row.median_ms = ms[ms.size() / 2];
    row.min_ms = ms.front();
    row.peak_mib = static_cast<double>(peak_bytes(device) - base) / 1048576.0;
    row.rss_mib = peak_rss_mib();
    row.note = fmt::format("per token; state {:.1f} KiB; {}", static_cast<double>(dec.state_bytes()) / 1024.0, model);
    rows.push_back(row);
    print_row(rows.back());
  }
  for (int64_t p : {int64_t{512}, int64_t{2048}}) {
    if (static_cast<int64_t>(history.size()) < p) break;
    const std::vector<int64_t> prefix(history.begin(), history.begin() + p);
    Row row;
    row.name = "decode_full";
    row.L = p;
    row.B = 1;
    measure(row, device, kFullReps, [&] {
      NoGradGuard no_grad;
      DropoutRng none;
      Tensor out = lm.forward(from_vector_i64(prefix, {1, p}).to(device), none);
      (void)out.narrow(1, p - 1, 1).to_vector();
    });
    row.note = "per token: the forward over the whole history (--no-cache)";
    rows.push_back(row);
    print_row(rows.back());
  }
}

}  // namespace

const CommandSpec& bench_spec() {
  static const CommandSpec s{
      "bench",
      "benchmarks: the layer, the GEMM bound, a ListOps step, ssm_conv, decoding",
      "",
      0,
      0,
      {},
      {device_option_spec(),
       list_option(
           choice_option("case", {"layer_fwd_bwd", "layer_fwd", "gemm_bound", "train_step_listops", "conv", "decode"},
                         "", "the cases to run"),
           "layer_fwd_bwd,layer_fwd,gemm_bound,train_step_listops"),
       [] {
         OptionSpec o = list_option(integer_option("L", 1, int64_t{1} << 24, 0,
                                                   "sequence lengths (layer cases; gemm_bound takes the first) or "
                                                   "decoder positions (decode)"),
                                    "256,1024,4096,16384; decode: 512,8192,32768");
         return o;
       }(),
       [] {
         OptionSpec o = list_option(number_option("density", 0, 1, 0,
                                                  "layer cases: the share of active tokens to force (own: the "
                                                  "router's own)"),
                                    "own");
         o.choices = {"own"};
         return o;
       }(),
       integer_option("threads", 1, 1024, 2, "CPU threads"), integer_option("reps", 1, 1'000'000, 5, "timed runs"),
       text_option("json", "FILE", "also write the rows as a JSON array"),
       flag_option("profile", "after each case, the time of each kernel over its runs (warm-up included)")},
      ""};
  return s;
}

int cmd_bench(const ParsedArgs& a) {
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("bench", device);
  const int threads = static_cast<int>(a.integer("threads", 2));
  const int reps = static_cast<int>(a.integer("reps", 5));
  set_cpu_threads(threads);
  const std::vector<std::string> cases = a.items("case", "layer_fwd_bwd,layer_fwd,gemm_bound,train_step_listops");
  const std::vector<int64_t> lengths = a.integers("L", "256,1024,4096,16384");
  std::vector<int64_t> positions = a.integers("L", "512,8192,32768");
  std::sort(positions.begin(), positions.end());
  const std::vector<std::string> densities = a.items("density", "own");
  fmt::print("seqboat bench on {} ({}), {} CPU thread(s), warm-up + {} timed runs\n", device_name(device),
             device == Device::CPU ? "cpu" : cuda::device_description(), threads, reps);
  fmt::print("{:<20} {:>6} {:>3} {:>8} {:>8} {:>10} {:>10} {:>9} {:>9} {:>8}\n", "case", "L", "B", "forced", "density",
             "median ms", "min ms", "peak MiB", "RSS MiB", "GFLOP/s");
  std::vector<Row> rows;
  const bool profile = a.has("profile");
  set_kernel_profiling(profile);
  // Prints and clears the kernel times gathered since the last call.
  auto print_profile = [&] {
    if (!profile) return;
    fmt::print("{}\n", kernel_profile_report());
    reset_kernel_profile();
  };
  for (const std::string& c : cases) {
    if (c == "layer_fwd_bwd" || c == "layer_fwd")
      for (int64_t L : lengths)
        for (const std::string& d : densities) {
          rows.push_back(layer_case(c == "layer_fwd_bwd", L, d, device, reps));
          print_row(rows.back());
          print_profile();
        }
    if (c == "gemm_bound") {
      rows.push_back(gemm_case(lengths.front(), device, reps));
      print_row(rows.back());
      print_profile();
    }
    if (c == "train_step_listops") {
      rows.push_back(train_step_case(device, reps));
      print_row(rows.back());
      print_profile();
    }
    if (c == "decode") decode_case(device, positions, rows);
    print_profile();
    if (c == "conv") {
      const size_t before = rows.size();
      conv_case(device, reps, rows);
      for (size_t i = before; i < rows.size(); ++i) print_row(rows[i]);
      print_profile();
    }
  }
  if (a.has("json")) {
    json out = json::array();
    for (const Row& r : rows)
      out.push_back({{"name", r.name},
                     {"L", r.L},
                     {"B", r.B},
                     {"density", r.density},
                     {"forced_density", r.forced_density},
                     {"median_ms", r.median_ms},
                     {"min_ms", r.min_ms},
                     {"peak_mib", r.peak_mib},
                     {"rss_mib", r.rss_mib},
                     {"gflops", r.gflops},
                     {"device", device_name(device)},
                     {"threads", threads},
                     {"note", r.note}});
    write_file_atomic(a.text("json"), out.dump(2) + "\n");  // every step checked: a failure names the file
  }
  return 0;
}

}  // namespace seqboat::cli
