// train/trainer.cpp: see trainer.h.
#include "train/trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "nn/radam.h"
#include "nn/schedule.h"
#include "ops/backend.h"
#include "tensor/atomic_file.h"
#include "tensor/json_text.h"
#include "train/config.h"
#include "train/metrics.h"
#include "train/routing_stats.h"
#include "train/tasks.h"

namespace seqboat::train {

using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::unique_ptr<nn::Optimizer> make_optimizer(const json& cfg, nn::Module& model) {
  auto params = model.named_parameters();
  if (cfg.at("optimizer") == "sgd")
    return std::make_unique<nn::SGD>(params, cfg.at("momentum").get<double>(), cfg.at("weight_decay").get<double>(), false);
  if (cfg.at("optimizer") == "radam")
    return std::make_unique<nn::RAdam>(params,
                                       std::array<double, 2>{cfg.at("beta1").get<double>(), cfg.at("beta2").get<double>()},
                                       1e-8, cfg.at("weight_decay").get<double>());
  return std::make_unique<nn::AdamW>(params,
                                     std::array<double, 2>{cfg.at("beta1").get<double>(), cfg.at("beta2").get<double>()},
                                     1e-8, cfg.at("weight_decay").get<double>());
}

// A mask tensor as host flags (nonzero = true), read through to_vector() so
// it works whatever device the tensor lives on; undefined gives {}.
std::vector<bool> host_mask(const Tensor& mask) {
  if (!mask.defined()) return {};
  const std::vector<double> v = mask.to_vector();
  return std::vector<bool>(v.begin(), v.end());
}

// Per layer: share of the batch's real tokens that the router made active.
std::vector<double> densities(Task& task, const Tensor& padding) {
  const std::vector<bool> pad = host_mask(padding);
  std::vector<double> out;
  for (nn::SeqBoatLayer* l : task.layers()) {
    const Tensor& a = l->last_route.active;
    out.push_back(a.defined() ? count_active(host_mask(a), pad).density() : 0);
  }
  return out;
}

std::string format_eta(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int t = static_cast<int>(s + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60) : fmt::format("{}m{:02}s", t / 60, t % 60);
}

class Progress {
 public:
  Progress(int64_t total, bool tty) : total_(total), tty_(tty) {}
  void update(int64_t step, double loss, double acc, double lr, double tok_s, double eta, bool log_line) {
    if (tty_) {
      auto now = Clock::now();
      if (step + 1 < total_ && std::chrono::duration<double>(now - last_).count() < 0.1) return;
      last_ = now;
      int width = 24, fill = static_cast<int>(width * (step + 1) / std::max<int64_t>(total_, 1));
      fmt::print("\r[{}{}] {}/{} loss {:.4f} acc {:.3f} lr {:.2e} {:.0f} tok/s ETA {}   ", std::string(fill, '#'),
                 std::string(width - fill, '-'), step + 1, total_, loss, acc, lr, tok_s, format_eta(eta));
      std::fflush(stdout);
    } else if (log_line) {
      fmt::print("step {}/{} loss {:.4f} acc {:.3f} lr {:.2e} {:.0f} tok/s ETA {}\n", step + 1, total_, loss, acc, lr,
                 tok_s, format_eta(eta));
      std::fflush(stdout);
    }
  }
  void message(const std::string& m) {
    if (tty_) fmt::print("\r{:<100}\n", m);
    else fmt::print("{}\n", m);
    std::fflush(stdout);
  }
  void finish() {
    if (tty_) fmt::print("\n");
  }

 private:
  int64_t total_;
  bool tty_;
  Clock::time_point last_{};
};

}  // namespace

// The files of a run in its directory; a directory holding any of them holds a
// run that a new one would destroy.
constexpr const char* kRunFiles[] = {"checkpoint.safetensors", "metrics.jsonl", "config.json"};

TrainSummary run_training(const json& cfg, const TrainOptions& opt) {
  // Everything that can be checked is checked before the output directory is
  // touched: a failed command must not destroy the run that is already there.
  validate_config(cfg);
  const Device device = parse_device(cfg.value("device", "cpu"));
  if (!device_available(device))
    throw std::runtime_error(fmt::format("device {}: {}", device_name(device), device_unavailable_reason(device)));
  const fs::path out(opt.out_dir);
  const fs::path ckpt_path = out / "checkpoint.safetensors";
  const int64_t total = cfg.at("steps");

  std::optional<nn::Checkpoint> resumed;
  if (opt.resume) {
    if (!fs::exists(ckpt_path))
      throw std::runtime_error(fmt::format("--resume: no checkpoint at '{}'", ckpt_path.string()));
    resumed = nn::load_checkpoint(ckpt_path.string());
    const json saved = parse_run_config(resumed->config_json, fmt::format("checkpoint '{}'", ckpt_path.string()));
    for (auto it = cfg.begin(); it != cfg.end(); ++it)
      if (it.key() != "time_limit_s" && it.key() != "threads" && it.key() != "device" && saved.contains(it.key()) &&
          saved.at(it.key()) != it.value())
        throw std::runtime_error(fmt::format("--resume: config key '{}' is {} in the checkpoint but {} now", it.key(),
                                             json_excerpt(saved.at(it.key())), json_excerpt(it.value())));
    if (resumed->step > total)
      throw std::runtime_error(fmt::format("{}: checkpoint step {} is beyond the run's {} steps", ckpt_path.string(),
                                           resumed->step, total));
    if (resumed->rng_states.size() != 2)
      throw std::runtime_error(fmt::format("{}: 'rng' metadata holds {} generator states, expected 2",
                                           ckpt_path.string(), resumed->rng_states.size()));
  } else if (!opt.overwrite) {
    for (const char* f : kRunFiles)
      if (fs::exists(out / f))
        throw std::invalid_argument(fmt::format(
            "output directory '{}' already holds a run ({} exists); use --resume to continue it, --overwrite to "
            "replace it, or another --out",
            out.string(), f));
  }

  fs::create_directories(out);
  int threads = cfg.at("threads");
  if (threads > 0) set_cpu_threads(threads);

  const uint64_t seed = cfg.at("seed");
  Generator init_gen(seed);
  DropoutRng dropout_rng{seed + 1, 0};
  std::unique_ptr<Task> task = make_task(cfg, out.string(), DType::Float32, init_gen, device);
  nn::Module& model = task->model();
  std::unique_ptr<nn::Optimizer> optimizer = make_optimizer(cfg, model);
  nn::LrSchedule schedule{cfg.at("lr"), cfg.at("warmup_steps"), total, nn::parse_decay(cfg.at("decay")),
                          cfg.at("min_lr_ratio")};

  int64_t start = 0;
  if (resumed) {
    model.load_state_dict(resumed->model);
    optimizer->load_state_dict(resumed->optimizer);
    start = resumed->step;
    dropout_rng = DropoutRng{resumed->rng_states[0][0], resumed->rng_states[0][1]};
    task->set_sampler_state(resumed->rng_states[1]);
    resumed.reset();
  }
  write_file_atomic((out / "config.json").string(), cfg.dump(2) + "\n");
  MetricsLog metrics(out / "metrics.jsonl", opt.resume, start);
  if (opt.resume) metrics.write({{"event", "resume"}, {"step", start}});

  auto save = [&](int64_t step) {
    nn::Checkpoint c;
    c.model = model.state_dict();
    c.optimizer = optimizer->state_dict();
    c.step = step;
    // rng[0]: the dropout stream (seed, calls drawn); rng[1]: the task's sampler.
    c.rng_states = {{dropout_rng.seed, dropout_rng.offset, 0, 0}, task->sampler_state()};
    c.config_json = cfg.dump();
    c.extra["task"] = cfg.at("task").get<std::string>();
    nn::save_checkpoint(ckpt_path.string(), c);
  };

  const bool tty = opt.progress_bar && isatty(STDOUT_FILENO);
  Progress progress(total, tty);
  const int64_t log_every = std::max<int64_t>(1, cfg.at("log_every").get<int64_t>());
  const int64_t eval_every = cfg.at("eval_every"), eval_batches = cfg.at("eval_batches");
  const double time_limit = cfg.at("time_limit_s"), clip = cfg.at("clip_norm");
  progress.message(fmt::format(
      "training {} ({} parameters) for {} steps on {}, output in {}", cfg.at("task").get<std::string>(),
      model.num_parameters(), total,
      device == Device::CPU ? fmt::format("the cpu ({} threads)", cpu_threads()) : std::string("cuda"), out.string()));

  if (!task->notes().empty()) progress.message(task->notes());
  model.train(true);
  auto t0 = Clock::now();
  double window_loss = 0, window_correct = 0, window_count = 0, window_tokens = 0;
  auto window_t0 = Clock::now();
  int64_t step = start;
  for (; step < total; ++step) {
    Batch b = task->train_batch(step);
    int64_t correct = 0, counted = 0;
    Tensor loss = task->loss(b, dropout_rng, &correct, &counted);
    double lv = loss.item();
    if (!std::isfinite(lv))
      throw std::runtime_error(fmt::format("non-finite loss ({}) at step {}; the last good checkpoint is kept at {}",
                                           lv, step, ckpt_path.string()));
    loss.backward();
    auto params = model.named_parameters();
    double gnorm = nn::clip_grad_norm(params, clip);
    if (!std::isfinite(gnorm) || !nn::grads_finite(params))
      throw std::runtime_error(fmt::format("non-finite gradient at step {}; the last good checkpoint is kept at {}",
                                           step, ckpt_path.string()));
    double lr = schedule.at(step);
    optimizer->step(lr);
    optimizer->zero_grad();

    window_loss += lv * static_cast<double>(counted);
    window_correct += static_cast<double>(correct);
    window_count += static_cast<double>(counted);
    window_tokens += static_cast<double>(b.real_tokens);
    double elapsed = seconds_since(t0);
    double tok_s = window_tokens / std::max(1e-9, seconds_since(window_t0));
    double eta = elapsed / static_cast<double>(step + 1 - start) * static_cast<double>(total - step - 1);
    bool log_now = (step + 1) % log_every == 0 || step + 1 == total;
    progress.update(step, window_loss / window_count, window_correct / window_count, lr, tok_s, eta, log_now);
    if (log_now) {
      metrics.write({{"event", "train"},
                     {"step", step + 1},
                     {"loss", window_loss / window_count},
                     {"accuracy", window_correct / window_count},
                     {"lr", lr},
                     {"grad_norm", gnorm},
                     {"tokens_per_s", tok_s},
                     {"density", densities(*task, b.padding)},
                     {"elapsed_s", elapsed}});
      window_loss = window_correct = window_count = window_tokens = 0;
      window_t0 = Clock::now();
    }
    bool out_of_time = (time_limit > 0 && elapsed >= time_limit) || (opt.stop_after > 0 && step + 1 >= opt.stop_after);
    if ((eval_every > 0 && (step + 1) % eval_every == 0 && step + 1 < total) || out_of_time) {
      EvalResult v = task->evaluate("val", eval_batches);
      json e = {{"event", "eval"}, {"step", step + 1}, {"val_loss", v.loss}, {"val_accuracy", v.accuracy}};
      if (task->reports_bits_per_byte()) e["val_bits_per_byte"] = v.loss / std::log(2.0);
      metrics.write(e);
      progress.message(fmt::format("step {}: val loss {:.4f}, val accuracy {:.4f}", step + 1, v.loss, v.accuracy));
      save(step + 1);
    }
    if (out_of_time) {
      progress.message(fmt::format("stopping at step {} ({})", step + 1,
                                   opt.stop_after > 0 && step + 1 >= opt.stop_after ? "--stop-after" : "time limit"));
      ++step;
      break;
    }
  }
  progress.finish();
  double train_seconds = seconds_since(t0);
  save(step);

  TrainSummary s;
  EvalResult test = task->evaluate("test", 0);
  s.test_loss = test.loss;
  s.test_accuracy = test.accuracy;
  s.steps = step;
  s.train_seconds = train_seconds;
  s.checkpoint = ckpt_path.string();
  json fin = {{"event", "final"},
              {"test_accuracy", test.accuracy},
              {"test_loss", test.loss},
              {"steps", step},
              {"train_seconds", train_seconds}};
  if (task->reports_bits_per_byte()) {
    s.bits_per_byte = test.loss / std::log(2.0);
    fin["bits_per_byte"] = s.bits_per_byte;
  }
  metrics.write(fin);
  // SMA over the test split, for `seqboat compare`: per layer the share of
  // real tokens routed to attention and the mean attention span.
  json layers = json::array();
  for (size_t l = 0; l < test.routing.size(); ++l)
    layers.push_back({{"layer", l}, {"density", test.routing[l].density}, {"mean_span", test.routing[l].mean_span}});
  json routing = {{"task", cfg.at("task")},
                  {"split", "test"},
                  {"examples", test.examples},
                  {"window", cfg.at("model.mem_size")},
                  {"test_accuracy", test.accuracy},
                  {"layers", layers}};
  if (task->reports_bits_per_byte()) routing["bits_per_byte"] = s.bits_per_byte;
  write_file_atomic((out / "routing.json").string(), routing.dump(2) + "\n");
  return s;
}

}  // namespace seqboat::train
