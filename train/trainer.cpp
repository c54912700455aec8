// train/trainer.cpp: see trainer.h.
#include "train/trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <new>
#include <optional>
#include <stdexcept>

#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "nn/radam.h"
#include "nn/schedule.h"
#include "ops/backend.h"
#include "tensor/atomic_file.h"
#include "tensor/json_text.h"
#include "tensor/safe_text.h"
#include "dist/communicator.h"
#include "dist/termination.h"
#include "ops/elementwise.h"
#include "train/config.h"
#include "train/data_parallel.h"
#include "train/metrics.h"
#include "train/routing_stats.h"
#include "train/run_dir.h"
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

// Per layer: share of the batch's real tokens that the router made active
// (over every rank's rows: a collective when there are several).
std::vector<double> densities(Task& task, const Tensor& padding, dist::Communicator& comm) {
  const std::vector<bool> pad = host_mask(padding);
  std::vector<double> counts;  // active, real per layer
  for (nn::SeqBoatLayer* l : task.layers()) {
    const Tensor& a = l->last_route.active;
    ActiveCount c = a.defined() ? count_active(host_mask(a), pad) : ActiveCount{};
    counts.push_back(c.active);
    counts.push_back(c.real);
  }
  comm.allreduce_sum(counts.data(), static_cast<int64_t>(counts.size()));
  std::vector<double> out;
  for (size_t k = 0; k + 1 < counts.size(); k += 2) out.push_back(ActiveCount{counts[k], counts[k + 1]}.density());
  return out;
}

// An error every rank raises alike (a non-finite loss or gradient, seen by
// all through the step's sums): it ends each rank normally, not the job.
struct AgreedStop : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A fault for the tests (CTest mpi_nonfinite_stops_all): SEQBOAT_TEST_NAN_AT=
// "RANK:STEP" makes that rank's loss NaN at that step; {-1, -1} when unset.
std::pair<int64_t, int64_t> injected_nan() {
  const char* v = std::getenv("SEQBOAT_TEST_NAN_AT");
  long long r = -1, st = -1;
  if (v && *v && std::sscanf(v, "%lld:%lld", &r, &st) != 2)
    throw UsageError(fmt::format("SEQBOAT_TEST_NAN_AT must be RANK:STEP, got {}", quote_text(v)));
  return {r, st};
}

// Gradient bucket size: SEQBOAT_BUCKET_BYTES (for measurements), else 1 MiB.
int64_t bucket_bytes() {
  const char* v = std::getenv("SEQBOAT_BUCKET_BYTES");
  if (!v || !*v) return int64_t{1} << 20;
  char* end = nullptr;
  const long long b = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || b < 1)
    throw UsageError(fmt::format("SEQBOAT_BUCKET_BYTES must be a whole number of bytes >= 1, got {}", quote_text(v)));
  return b;
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

// What --resume continues from, checked against the run's config before
// anything is written.
nn::Checkpoint load_resume_checkpoint(const json& cfg, const fs::path& ckpt_path, int64_t total) {
  const std::string where = quote_text(ckpt_path.string());
  nn::Checkpoint c = nn::load_checkpoint(ckpt_path.string());
  const json saved = parse_run_config(c.config_json, fmt::format("checkpoint {}", where));
  for (auto it = cfg.begin(); it != cfg.end(); ++it)
    if (it.key() != "time_limit_s" && it.key() != "threads" && it.key() != "device" && saved.contains(it.key()) &&
        saved.at(it.key()) != it.value())
      throw std::runtime_error(fmt::format("--resume: config key '{}' is {} in the checkpoint but {} now", it.key(),
                                           json_excerpt(saved.at(it.key())), json_excerpt(it.value())));
  if (c.step > total)
    throw std::runtime_error(fmt::format("{}: checkpoint step {} is beyond the run's {} steps", where, c.step, total));
  if (c.rng_states.size() != 2)
    throw std::runtime_error(
        fmt::format("{}: 'rng' metadata holds {} generator states, expected 2", where, c.rng_states.size()));
  // Training on from weights or optimizer moments that are not finite is
  // pointless: the first step's loss would be NaN.
  for (const auto* part : {&c.model, &c.optimizer}) {
    const std::string bad = nn::first_nonfinite(*part);
    if (!bad.empty()) throw std::runtime_error(fmt::format("{}: not finite, cannot resume: {}", where, bad));
  }
  return c;
}

// Loads a resumed checkpoint's tensors into the model and the optimizer; a
// mismatch is the file's fault (exit code 1), named.
void load_resumed_state(const nn::Checkpoint& c, const fs::path& ckpt_path, nn::Module& model, nn::Optimizer& opt) {
  try {
    model.load_state_dict(c.model);
    opt.load_state_dict(c.optimizer);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: its tensors do not fit the model its config describes: {}",
                                         quote_text(ckpt_path.string()), e.what()));
  }
}

// The task's model run once on a dummy batch (Task::probe). A value the
// model's code refuses (fail(): std::invalid_argument) is a config the checks
// let through: exit code 2. Anything else (a memory limit, a device failure)
// is a runtime failure: exit code 1.
void probe_model(Task& task) {
  try {
    task.probe();
  } catch (const std::bad_alloc&) {
    throw std::runtime_error("the model this config describes cannot run: out of memory on one dummy batch");
  } catch (const std::exception& e) {
    const std::string what = fmt::format(
        "the model this config describes cannot run (one forward pass on a dummy batch failed): {}", e.what());
    if (dynamic_cast<const std::invalid_argument*>(&e)) throw UsageError(what);
    throw std::runtime_error(what);
  }
}

// `local` is true while this rank works on its own (a step), false where
// every rank agrees on success or failure (run_agreed). `dir`: rank 0's open
// run-directory transaction, rolled back by the caller when this throws.
TrainSummary train(const json& cfg, const TrainOptions& opt, dist::Communicator& comm, bool& local,
                   std::optional<RunDirTransaction>& dir) {
  const int ranks = comm.size();
  const bool primary = comm.rank() == 0;
  // 1. Everything that can be checked is checked before the output directory
  // is touched: a failed command must not change the run that is already
  // there, nor leave a half-made one. With several ranks every rank checks,
  // and all agree before anything is written.
  const fs::path out(opt.out_dir);
  const fs::path ckpt_path = out / "checkpoint.safetensors";
  const int64_t total = cfg.at("steps");
  Device device = Device::CPU;
  std::optional<nn::Checkpoint> resumed;
  run_agreed(comm, true, [&] {
    validate_config(cfg);
    check_data_parallel_config(cfg, ranks);
    device = parse_device(cfg.value("device", "cpu"));
    if (!device_available(device))
      throw std::runtime_error(fmt::format("device {}: {}", device_name(device), device_unavailable_reason(device)));
    check_run_dir(out, opt.resume, opt.overwrite);
    if (opt.resume) resumed = load_resume_checkpoint(cfg, ckpt_path, total);
  });

  // GPU ranks: one GPU each (by local rank), gradients summed by NCCL; chosen
  // before the first CUDA allocation. SEQBOAT_NCCL=1 takes the NCCL path with
  // one process too (a communicator of one rank: the wiring and its cost).
  std::unique_ptr<dist::NcclComm> nccl;
  const char* force_nccl = std::getenv("SEQBOAT_NCCL");
  if (device == Device::CUDA && (ranks > 1 || (force_nccl && std::string(force_nccl) == "1")))
    run_agreed(comm, true, [&] { nccl = dist::NcclComm::create(comm); });

  int threads = cfg.at("threads");
  if (threads > 0) set_cpu_threads(threads);

  const uint64_t seed = cfg.at("seed");
  Generator init_gen(seed);
  DropoutRng dropout_rng{seed + 1, 0};
  // The data (read, or generated in memory: building a task writes nothing)
  // and the model, built on every rank and run once on a dummy batch below:
  // what only building or running it reveals fails before the directory
  // changes.
  std::unique_ptr<Task> task;
  run_agreed(comm, true, [&] { task = make_task(cfg, out.string(), config_dtype(cfg), init_gen, device); });
  nn::Module& model = task->model();
  std::unique_ptr<nn::Optimizer> optimizer = make_optimizer(cfg, model);
  nn::LrSchedule schedule{cfg.at("lr"), cfg.at("warmup_steps"), total, nn::parse_decay(cfg.at("decay")),
                          cfg.at("min_lr_ratio")};

  int64_t start = 0;
  if (resumed) {
    run_agreed(comm, true, [&] { load_resumed_state(*resumed, ckpt_path, model, *optimizer); });
    start = resumed->step;
    dropout_rng = DropoutRng{resumed->rng_states[0][0], resumed->rng_states[0][1]};
    task->set_sampler_state(resumed->rng_states[1]);
    resumed.reset();
  }
  run_agreed(comm, true, [&] { probe_model(*task); });

  // 2. The directory, as a transaction (train/run_dir.h), by rank 0: until
  // the first checkpoint, a failure puts back what was there.
  std::optional<MetricsLog> metrics;
  run_agreed(comm, primary, [&] {
    dir.emplace(out,
                opt.resume      ? RunDirTransaction::Mode::Resume
                : opt.overwrite ? RunDirTransaction::Mode::Overwrite
                                : RunDirTransaction::Mode::Fresh,
                !task->pending_files().empty());
    write_pending_files(task->pending_files());
    write_file_atomic((out / "config.json").string(), cfg.dump(2) + "\n");
    metrics.emplace(out / "metrics.jsonl", opt.resume, start);
    if (opt.resume) metrics->write({{"event", "resume"}, {"step", start}});
  });
  if (ranks > 1) dist::set_termination_note(fmt::format("the last checkpoint written is {}", ckpt_path.string()));

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
    dir->commit();  // the new run stands on its own from here
  };

  const bool tty = opt.progress_bar && isatty(STDOUT_FILENO);
  Progress progress(total, tty && primary);
  auto say = [&](const std::string& m) {
    if (primary) progress.message(m);
  };
  const int64_t log_every = std::max<int64_t>(1, cfg.at("log_every").get<int64_t>());
  const int64_t eval_every = cfg.at("eval_every"), eval_batches = cfg.at("eval_batches");
  const double time_limit = cfg.at("time_limit_s"), clip = cfg.at("clip_norm");
  say(fmt::format("training {} ({} parameters) for {} steps on {}{}, output in {}", cfg.at("task").get<std::string>(),
                  model.num_parameters(), total,
                  device == Device::CPU ? fmt::format("the cpu ({} threads)", cpu_threads())
                  : nccl                ? fmt::format("cuda (GPU {} of this rank, gradients summed by NCCL)", nccl->device())
                                        : std::string("cuda"),
                  ranks > 1 ? fmt::format(", {} ranks ({} rows of {} per rank at most)", ranks,
                                          batch_share(cfg.at("batch_size"), 0, ranks).rows(),
                                          cfg.at("batch_size").get<int64_t>())
                            : std::string(),
                  out.string()));

  // This rank's rows of every global batch, and the gradient sum over ranks.
  const Share share = batch_share(cfg.at("batch_size"), comm.rank(), ranks);
  GradientSync sync(comm, model.named_parameters(), bucket_bytes(), nccl.get());
  const std::pair<int64_t, int64_t> nan_at = injected_nan();
  // Seconds in the step's small sums (loss and counts, SMA plans), waiting
  // for the other ranks included; the gradients' are sync.comm_seconds().
  double sums_seconds = 0;
  // The SMA plan of a layer depends on every row of the batch (ops/sma.h).
  if (ranks > 1)
    for (nn::SeqBoatLayer* l : task->layers())
      l->batch_max_active = [&comm, &sums_seconds](int64_t v) {
        auto t = Clock::now();
        v = comm.allreduce_max(v);
        sums_seconds += seconds_since(t);
        return v;
      };

  if (!task->notes().empty()) progress.message(task->notes());
  model.train(true);
  auto t0 = Clock::now();
  double window_loss = 0, window_correct = 0, window_count = 0, window_tokens = 0;
  auto window_t0 = Clock::now();
  int64_t step = start;
  for (; step < total; ++step) {
    local = true;
    Batch global = task->train_batch(step);
    Batch b = ranks > 1 ? take_rows(global, share, dropout_rng) : global;
    int64_t correct = 0, counted = 0;
    Tensor loss = task->loss(b, dropout_rng, &correct, &counted);
    double lv = loss.item();
    if (nan_at.first == comm.rank() && nan_at.second == step) lv = std::nan("");
    // Several ranks: sum the loss, the counts, the non-finite flags and rank
    // 0's clock decision, so every rank sees the same numbers.
    double loss_sum = lv * static_cast<double>(counted), n = static_cast<double>(counted),
           n_correct = static_cast<double>(correct);
    bool rank0_out_of_time = false;
    if (ranks > 1) {
      auto tc = Clock::now();
      double stats[5] = {loss_sum, n_correct, n, std::isfinite(lv) ? 0.0 : 1.0,
                         primary && time_limit > 0 && seconds_since(t0) >= time_limit ? 1.0 : 0.0};
      comm.allreduce_sum(stats, 5);
      sums_seconds += seconds_since(tc);
      loss_sum = stats[0];
      n_correct = stats[1];
      n = stats[2];
      if (stats[3] > 0)
        throw AgreedStop(fmt::format(
            "non-finite loss on {} of {} ranks at step {}; the last good checkpoint is kept at {}",
            static_cast<int64_t>(stats[3]), ranks, step, ckpt_path.string()));
      rank0_out_of_time = stats[4] > 0;
      lv = loss_sum / n;
      // d(global mean)/d(rank's mean) = n_r / n: the gradients summed over
      // ranks are then those of the global batch's mean.
      loss = mul_scalar(loss, static_cast<double>(counted) / n);
    } else if (!std::isfinite(lv)) {
      throw std::runtime_error(fmt::format("non-finite loss ({}) at step {}; the last good checkpoint is kept at {}",
                                           lv, step, ckpt_path.string()));
    }
    loss.backward();
    sync.all_reduce();
    auto params = model.named_parameters();
    double gnorm = nn::clip_grad_norm(params, clip);
    if (!std::isfinite(gnorm) || !nn::grads_finite(params)) {
      const std::string m = fmt::format("non-finite gradient at step {}; the last good checkpoint is kept at {}",
                                        step, ckpt_path.string());
      if (ranks > 1) throw AgreedStop(m);  // the summed gradients are the same on every rank
      throw std::runtime_error(m);
    }
    double lr = schedule.at(step);
    optimizer->step(lr);
    optimizer->zero_grad();
    if (opt.check_replicas_every > 0 && (step + 1) % opt.check_replicas_every == 0) try {
        check_replicas(comm, model, *optimizer, step + 1);
      } catch (const std::runtime_error& e) {
        throw AgreedStop(e.what());  // every rank received the same comparison
      }

    window_loss += loss_sum;
    window_correct += n_correct;
    window_count += n;
    window_tokens += static_cast<double>(global.real_tokens);
    double elapsed = seconds_since(t0);
    double tok_s = window_tokens / std::max(1e-9, seconds_since(window_t0));
    double eta = elapsed / static_cast<double>(step + 1 - start) * static_cast<double>(total - step - 1);
    bool log_now = (step + 1) % log_every == 0 || step + 1 == total;
    if (primary)
      progress.update(step, window_loss / window_count, window_correct / window_count, lr, tok_s, eta, log_now);
    if (log_now) {
      const std::vector<double> density = densities(*task, b.padding, comm);
      json e = {{"event", "train"},
                {"step", step + 1},
                {"loss", window_loss / window_count},
                {"accuracy", window_correct / window_count},
                {"lr", lr},
                {"grad_norm", gnorm},
                {"tokens_per_s", tok_s},
                {"density", density},
                {"elapsed_s", elapsed}};
      if (ranks > 1 || nccl) {
        const double comm_s = sync.comm_seconds() + sums_seconds;
        e["ranks"] = ranks;
        e["allreduce_s"] = comm_s;  // rank 0's time in reductions since the start, waiting for others included
      }
      if (primary) metrics->write(e);
      window_loss = window_correct = window_count = window_tokens = 0;
      window_t0 = Clock::now();
    }
    bool out_of_time = (ranks > 1 ? rank0_out_of_time : time_limit > 0 && elapsed >= time_limit) ||
                       (opt.stop_after > 0 && step + 1 >= opt.stop_after);
    local = false;
    if ((eval_every > 0 && (step + 1) % eval_every == 0 && step + 1 < total) || out_of_time) {
      run_agreed(comm, primary, [&] {
        EvalResult v = task->evaluate("val", eval_batches);
        json e = {{"event", "eval"}, {"step", step + 1}, {"val_loss", v.loss}, {"val_accuracy", v.accuracy}};
        if (task->reports_bits_per_byte()) e["val_bits_per_byte"] = v.loss / std::log(2.0);
        metrics->write(e);
        progress.message(fmt::format("step {}: val loss {:.4f}, val accuracy {:.4f}", step + 1, v.loss, v.accuracy));
        save(step + 1);
      });
    }
    if (out_of_time) {
      say(fmt::format("stopping at step {} ({})", step + 1,
                      opt.stop_after > 0 && step + 1 >= opt.stop_after ? "--stop-after" : "time limit"));
      ++step;
      break;
    }
  }
  if (primary) progress.finish();
  double train_seconds = seconds_since(t0);

  TrainSummary s;
  s.steps = step;
  s.train_seconds = train_seconds;
  s.checkpoint = ckpt_path.string();
  s.primary = primary;
  s.ranks = ranks;
  run_agreed(comm, primary, [&] {
    save(step);
    EvalResult test = task->evaluate("test", 0);
    s.test_loss = test.loss;
    s.test_accuracy = test.accuracy;
    json fin = {{"event", "final"},
                {"test_accuracy", test.accuracy},
                {"test_loss", test.loss},
                {"steps", step},
                {"train_seconds", train_seconds}};
    if (task->reports_bits_per_byte()) {
      s.bits_per_byte = test.loss / std::log(2.0);
      fin["bits_per_byte"] = s.bits_per_byte;
    }
    if (ranks > 1 || nccl) {
      fin["ranks"] = ranks;
      fin["allreduce_s"] = sync.comm_seconds() + sums_seconds;
      fin["gradient_allreduce_s"] = sync.comm_seconds();  // the rest: the step's sums (loss, counts, SMA plans)
      fin["gradient_pack_s"] = sync.pack_seconds();
      fin["gradient_buckets"] = sync.buckets();
    }
    metrics->write(fin);
    // SMA over the test split, for `seqboat compare`: per layer the share of
    // real tokens routed to attention and the mean attention span.
    json layers = json::array();
    for (size_t l = 0; l < test.routing.size(); ++l)
      layers.push_back(
          {{"layer", l}, {"density", test.routing[l].density}, {"mean_span", test.routing[l].mean_span}});
    json routing = {{"task", cfg.at("task")},
                    {"split", "test"},
                    {"examples", test.examples},
                    {"window", cfg.at("model.mem_size")},
                    {"test_accuracy", test.accuracy},
                    {"layers", layers}};
    if (task->reports_bits_per_byte()) routing["bits_per_byte"] = s.bits_per_byte;
    write_file_atomic((out / "routing.json").string(), routing.dump(2) + "\n");
  });
  return s;
}

}  // namespace

// Rank 0 puts back what the run directory held when the run fails before
// its first checkpoint (RunDirTransaction::rollback; a no-op after it).
TrainSummary train_with_rollback(const json& cfg, const TrainOptions& opt, dist::Communicator& comm, bool& local) {
  std::optional<RunDirTransaction> dir;
  try {
    return train(cfg, opt, comm, local, dir);
  } catch (const std::exception& e) {
    const std::string problem = dir ? dir->rollback() : std::string();
    if (!problem.empty())
      throw std::runtime_error(
          fmt::format("{}; and putting back what {} held failed: {}", e.what(), quote_text(opt.out_dir), problem));
    throw;
  }
}

TrainSummary run_training(const json& cfg, const TrainOptions& opt) {
  dist::Communicator& comm = dist::world();
  bool local = false;
  if (comm.size() == 1) return train_with_rollback(cfg, opt, comm, local);
  try {
    return train_with_rollback(cfg, opt, comm, local);
  } catch (const AgreedStop&) {
    throw;  // every rank stops with it
  } catch (const std::exception& e) {
    if (!local) throw;  // raised through run_agreed: every rank throws
    // This rank alone failed inside a step; the others wait in a collective
    // for it, so the whole job ends here (rank 0's directory is left as the
    // killed process leaves it: see train/run_dir.h).
    fmt::print(stderr, "seqboat train (rank {} of {}): error: {}; ending every rank of the job\n", comm.rank(),
               comm.size(), safe_message(e.what()));
    comm.abort(1);
    throw;  // not reached: abort() ends the process
  }
}

}  // namespace seqboat::train
