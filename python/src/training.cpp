// python/src/training.cpp: training runs from Python (train/trainer.h, the
// loop behind `seqboat train`), reopening a run from its checkpoint
// (train/run_loader.h) to study its model on its own data, and the
// process-wide settings (threads, seeds, devices).
#include <fmt/format.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "ops/backend.h"
#include "tensor/safe_text.h"
#include "tensor/tensor.h"
#include "train/config.h"
#include "train/run_loader.h"
#include "train/trainer.h"

namespace seqboat::python {

using namespace nb::literals;

// {"steps": 300, "model.d_model": 64} -> {"steps=300", "model.d_model=64"}
// (strings as they are, everything else as JSON, as `--set` reads them).
static std::vector<std::string> set_arguments(nb::handle overrides) {
  std::vector<std::string> out;
  if (overrides.is_none()) return out;
  nlohmann::json j = dict_to_json(overrides, "train: overrides");
  for (auto it = j.begin(); it != j.end(); ++it)
    out.push_back(it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump()));
  return out;
}

// A reopened run; the model it hands out keeps the whole run alive.
struct Run {
  std::shared_ptr<train::Task> task;
  nlohmann::json cfg;
  int64_t step = 0;
  std::string run_dir;
};

static nb::object run_model(const Run& r) {
  nn::Module* m = &r.task->model();
  if (auto* c = dynamic_cast<nn::SeqBoatModel*>(m)) return nb::cast(std::shared_ptr<nn::SeqBoatModel>(r.task, c));
  if (auto* lm = dynamic_cast<nn::SeqBoatLM*>(m)) return nb::cast(std::shared_ptr<nn::SeqBoatLM>(r.task, lm));
  throw std::logic_error("Run.model: the task's model is neither a SeqBoatModel nor a SeqBoatLM");
}

// Examples start .. start + n - 1 of a classification split as one padded batch.
static nb::dict run_batch(const Run& r, const std::string& split, int64_t n, int64_t start) {
  if (split != "train" && split != "val" && split != "test")
    fail(fmt::format("Run.batch: split {} is not one of: train, val, test", quote_text(split)));
  train::ClassificationData data = train::load_classification_data(r.cfg, r.run_dir, train::Splits::only(split));
  const auto& ex = split == "train" ? data.train : split == "val" ? data.val : data.test;
  if (n <= 0 || start < 0 || start + n > static_cast<int64_t>(ex.size()))
    fail(fmt::format("Run.batch: examples {}..{} are not in the {} split of {}", start,
                                            start + n - 1, split, ex.size()));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = start + i;
  train::Batch b = train::make_classification_batch(ex, idx);
  nb::dict d;
  d["tokens"] = b.tokens;
  d["padding"] = b.padding;
  d["labels"] = b.labels;
  return d;
}

static void bind_run(nb::module_& m) {
  nb::class_<Run>(m, "Run", "A training run reopened from its checkpoint (seqboat.load_run).")
      .def_prop_ro("config", [](const Run& r) { return json_to_python(r.cfg); })
      .def_ro("step", &Run::step)
      .def_ro("run_dir", &Run::run_dir)
      .def_prop_ro("model", &run_model, "the trained model (float32, eval mode)")
      .def("batch", &run_batch, "split"_a = "test", "n"_a = 8, "start"_a = 0,
           "{tokens, padding, labels} of n examples of a classification task's split, padded to one length.")
      .def(
          "evaluate",
          [](const Run& r, const std::string& split, int64_t max_batches) {
            train::EvalResult e = r.task->evaluate(split, max_batches);
            nb::dict d;
            d["loss"] = e.loss;
            d["accuracy"] = e.accuracy;
            d["examples"] = e.examples;
            return d;
          },
          "split"_a = "test", "max_batches"_a = 0)
      .def(
          "token_labels",
          [](const Run& r, const std::vector<int64_t>& ids) {
            std::vector<std::string> out;
            for (int64_t id : ids) out.push_back(train::token_label(r.cfg["task"], static_cast<int32_t>(id)));
            return out;
          },
          "ids"_a, "How the task prints these token ids.");
  m.def(
      "load_run",
      [](const std::string& checkpoint, const std::string& task, const std::string& data_dir) {
        train::LoadedRun lr = train::load_run(checkpoint, task, data_dir);
        return Run{std::shared_ptr<train::Task>(std::move(lr.task)), lr.cfg, lr.step, lr.run_dir};
      },
      "checkpoint"_a, "task"_a = "", "data_dir"_a = "");
}

void bind_training(nb::module_& m) {
  m.def(
      "train",
      [](const std::string& task, const std::string& out_dir, nb::handle overrides, const std::string& config_file,
         bool resume, bool overwrite) {
        nlohmann::json cfg = train::resolve_config(task, config_file, set_arguments(overrides));
        train::TrainOptions opt;
        opt.out_dir = out_dir;
        opt.resume = resume;
        opt.overwrite = overwrite;
        opt.progress_bar = false;
        train::TrainSummary s;
        {
          nb::gil_scoped_release no_gil;  // C++ only from here
          s = train::run_training(cfg, opt);
        }
        nb::dict d;
        d["test_accuracy"] = s.test_accuracy;
        d["test_loss"] = s.test_loss;
        d["steps"] = s.steps;
        d["train_seconds"] = s.train_seconds;
        d["checkpoint"] = s.checkpoint;
        return d;
      },
      "task"_a, "out_dir"_a, "overrides"_a = nb::none(), "config_file"_a = "", "resume"_a = false, "overwrite"_a = false,
      "Runs `seqboat train --task TASK --out OUT_DIR --set key=value...`; output files as there (metrics.jsonl, "
      "checkpoint.safetensors).");
  m.def("config_help", &train::config_help, "Every training config key with its default.");
  bind_run(m);
  m.def("set_num_threads", &set_cpu_threads, "n"_a, "Threads the CPU kernels use.");
  m.def("num_threads", &cpu_threads);
  m.def(
      "manual_seed",
      [](uint64_t seed) {
        manual_seed(seed);
        dropout_stream() = DropoutRng{seed, 0};
      },
      "seed"_a, "Seeds the default generator and restarts the dropout stream.");
  m.def(
      "device_available", [](const std::string& d) { return device_available(parse_device(d)); }, "device"_a);
}

}  // namespace seqboat::python
