// train/run_loader.cpp: load_run (see run_loader.h).
#include "train/run_loader.h"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

#include "nn/checkpoint.h"
#include "tensor/json_text.h"
#include "train/config.h"

namespace seqboat::train {

LoadedRun load_run(const std::string& checkpoint, const std::string& task_name, const std::string& data_dir,
                   Device device, Splits splits, bool allow_nonfinite) {
  nn::Checkpoint c = nn::load_checkpoint(checkpoint);
  const std::string where = fmt::format("checkpoint {}", quote_text(checkpoint));
  LoadedRun r;
  // The checkpoint's config gets the checks a --set gets (validate_config),
  // before anything reads a key from it.
  r.cfg = parse_run_config(c.config_json, where);
  r.step = c.step;
  r.run_dir = std::filesystem::path(checkpoint).parent_path().string();
  const std::string trained = r.cfg.at("task");
  if (!task_name.empty() && task_name != trained)
    throw UsageError(
        fmt::format("{} was trained on task {}, not {}", where, quote_text(trained), quote_text(task_name)));
  if (!allow_nonfinite) {
    const std::string bad = nn::first_nonfinite(c.model);
    if (!bad.empty())
      throw std::runtime_error(fmt::format(
          "{}: the weights are not finite: {} (eval, inspect and generate take --allow-nonfinite to look at it anyway)",
          where, bad));
  }
  if (!data_dir.empty()) r.cfg["data.dir"] = data_dir;
  else if (trained == "listops" && r.cfg.at("data.dir").get<std::string>().empty())
    r.cfg["data.dir"] = (std::filesystem::path(r.run_dir) / "data").string();
  Generator gen(0);
  r.cfg["device"] = device_name(device);
  r.task = make_task(r.cfg, r.run_dir, config_dtype(r.cfg), gen, device, splits);
  try {
    r.task->model().load_state_dict(c.model);
  } catch (const std::exception& e) {  // the file does not fit its own config: a bad file
    throw std::runtime_error(
        fmt::format("{}: its tensors do not fit the model its config describes: {}", where, e.what()));
  }
  r.task->model().eval();
  return r;
}

}  // namespace seqboat::train
