// tools/cli/bench_preset.cpp: `seqboat bench-preset NAME...`: one training
// step of each preset's model at its real sizes (batch and sequence length of
// the official configuration), on synthetic inputs of that shape (the step
// time does not depend on the data's content, only on how many tokens the
// routers activate: at initialisation here), and the time a full run of the
// preset's steps would take at that speed. A batch too large for the
// machine's memory is run as --micro-batch rows at a time (forward and
// backward of each part, gradients summed, one optimizer step), and the
// printed step time is that of the whole batch. Prints numbers; not a test.
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "autograd/autograd.h"
#include "cli.h"
#include "nn/optim.h"
#include "nn/radam.h"
#include "ops/backend.h"
#include "ops/elementwise.h"
#include "ops/nn_ops.h"
#include "ops/shape.h"
#include "tensor/atomic_file.h"
#include "tensor/random.h"
#include "train/presets.h"
#include "train/tasks.h"

namespace seqboat::cli {

using nlohmann::json;

namespace {

// The sequence length a preset trains on: its task's longest input.
int64_t preset_length(const json& cfg) {
  const std::string t = cfg.at("task");
  if (t == "listops") return 2000;  // LRA ListOps: lengths below 2000
  if (t == "text" || t == "retrieval") return cfg.at("text.max_length");
  if (t == "image") return 1024;
  // pathfinder32 images have 1024 pixels, pathfinder128 (Path-X) 16384; the
  // presets' max_positions say which.
  if (t == "pathfinder") return cfg.at("model.max_positions").get<int64_t>() >= 16384 ? 16384 : 1024;
  if (t == "speech") return 16000;
  return cfg.at("lm.seq_len");
}

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const CommandSpec& bench_preset_spec() {
  static const CommandSpec s{
      "bench-preset",
      "one training step of a preset at its real sizes, and the full run's time",
      "NAME...",
      1,
      100,
      [] {
        std::vector<std::string> names;
        for (const train::Preset& p : train::presets()) names.push_back(p.name);
        return names;
      }(),
      {integer_option("micro-batch", 0, 65536, 0,
                      "rows per forward/backward part, gradients summed over the parts (0 = the whole batch)"),
       integer_option("threads", 1, 1024, 2, "CPU threads"), device_option_spec(),
       repeatable(text_option("set", "KEY=VALUE", "one config key over the preset's")),
       text_option("json", "FILE", "also write the rows as a JSON array")},
      "one training step at the preset's real batch and length (synthetic inputs), and steps x that time\n"};
  return s;
}

int cmd_bench_preset(const ParsedArgs& a) {
  const Device device = device_option(a);
  if (!device_available(device)) return device_error("bench-preset", device);
  set_cpu_threads(static_cast<int>(a.integer("threads", 2)));
  const int64_t micro_opt = a.integer("micro-batch", 0);
  json rows = json::array();
  fmt::print("{:<15} {:>6} {:>6} {:>6} {:>11} {:>10} {:>9} {:>12}\n", "preset", "batch", "micro", "L", "parameters",
             "step s", "steps", "full run h");
  for (const std::string& name : a.positional()) {
    const json cfg = train::resolve_preset_config(name, "", a.all("set"));
    const std::string task = cfg.at("task");
    const int64_t B = cfg.at("batch_size"), L = preset_length(cfg);
    const int64_t micro = micro_opt > 0 ? std::min(micro_opt, B) : B;
    const bool lm = task == "enwik8", pair = task == "retrieval";
    const bool values = task == "image" || task == "pathfinder" || task == "speech";
    const int64_t vocab = task == "listops" ? 16 : values ? 0 : 256;
    const int64_t classes = lm ? 256 : task == "listops" || task == "image" || task == "speech" ? 10 : 2;
    Generator gen(1);
    nn::ModelConfig mc = train::model_config(cfg, lm ? 256 : vocab, classes);
    if (values) {
      mc.vocab_size = 0;
      mc.d_input = 1;
      mc.real_input_init = true;
    }
    mc.pair = pair;
    std::shared_ptr<nn::Module> model;
    std::shared_ptr<nn::SeqBoatModel> clf;
    std::shared_ptr<nn::SeqBoatLM> lmm;
    if (lm) model = lmm = std::make_shared<nn::SeqBoatLM>(mc, DType::Float32, gen);
    else model = clf = std::make_shared<nn::SeqBoatModel>(mc, DType::Float32, gen);
    model->to(device);
    model->train(true);
    auto params = model->named_parameters();
    std::unique_ptr<nn::Optimizer> opt;
    const std::array<double, 2> betas{cfg.at("beta1").get<double>(), cfg.at("beta2").get<double>()};
    if (cfg.at("optimizer") == "radam") opt = std::make_unique<nn::RAdam>(params, betas, 1e-8, cfg.at("weight_decay").get<double>());
    else opt = std::make_unique<nn::AdamW>(params, betas, 1e-8, cfg.at("weight_decay").get<double>());
    DropoutRng rng{7, 0};
    // One micro-batch of synthetic inputs: random tokens / standard-normal values.
    auto part = [&](int64_t rows_) {
      const int64_t R = pair ? 2 * rows_ : rows_;
      std::vector<int64_t> tok(static_cast<size_t>(R * L)), lab(static_cast<size_t>(lm ? rows_ * L : rows_));
      for (auto& t : tok) t = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(lm ? 256 : std::max<int64_t>(vocab, 1))));
      for (auto& l : lab) l = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(classes)));
      Tensor labels = from_vector_i64(lab, {static_cast<int64_t>(lab.size())});
      Tensor logits;
      if (lm) {
        logits = reshape(lmm->forward(from_vector_i64(tok, {R, L}).to(device), rng), {-1, 256});
      } else {
        Tensor pad = zeros({R, L}, DType::UInt8, device);
        if (values) logits = clf->forward(rand_normal({R, L, 1}, 0, 1, DType::Float32, &gen).to(device), pad, rng);
        else if (pair) logits = clf->forward_pair(from_vector_i64(tok, {R, L}).to(device), pad, rng);
        else logits = clf->forward(from_vector_i64(tok, {R, L}).to(device), pad, rng);
      }
      Tensor loss = mul_scalar(cross_entropy(logits, labels.to(device)), static_cast<double>(rows_) / static_cast<double>(B));
      loss.backward();
    };
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t done = 0; done < B; done += micro) part(std::min(micro, B - done));
    nn::clip_grad_norm(params, cfg.at("clip_norm").get<double>());
    opt->step(cfg.at("lr").get<double>() * 0.01);
    opt->zero_grad();
    (void)params.front().second->to_vector().size();  // wait for the device
    const double step_s = seconds(t0);
    const int64_t steps = cfg.at("steps");
    const double full_h = step_s * static_cast<double>(steps) / 3600.0;
    fmt::print("{:<15} {:>6} {:>6} {:>6} {:>11} {:>10.2f} {:>9} {:>12.0f}\n", name, B, micro, L,
               model->num_parameters(), step_s, steps, full_h);
    std::fflush(stdout);
    rows.push_back({{"preset", name}, {"task", task}, {"batch", B}, {"micro_batch", micro}, {"length", L},
                    {"parameters", model->num_parameters()}, {"step_s", step_s}, {"steps", steps},
                    {"full_run_h", full_h}, {"device", device_name(device)}, {"threads", cpu_threads()}});
  }
  if (a.has("json")) write_file_atomic(a.text("json"), rows.dump(2) + "\n");  // every step checked: a failure names the file
  return 0;
}

}  // namespace seqboat::cli
