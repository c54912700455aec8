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
                   Device device, Splits splits) {
  nn::Checkpoint c = nn::load_checkpoint(checkpoint);
  LoadedRun r;
  // The checkpoint's config gets the checks a --set gets (validate_config),
  // before anything reads a key from it.
  r.cfg = parse_run_config(c.config_json, fmt::format("checkpoint {}", quote_text(checkpoint, 200)));
  r.step = c.step;
  r.run_dir = std::filesystem::path(checkpoint).parent_path().string();
  const std::string trained = r.cfg.at("task");
  if (!task_name.empty() && task_name != trained)
    throw std::invalid_argument(
        fmt::format("checkpoint '{}' was trained on task '{}', not '{}'", checkpoint, trained, task_name));
  if (!data_dir.empty()) r.cfg["data.dir"] = data_dir;
  else if (trained == "listops" && r.cfg.at("data.dir").get<std::string>().empty())
    r.cfg["data.dir"] = (std::filesystem::path(r.run_dir) / "data").string();
  Generator gen(0);
  r.cfg["device"] = device_name(device);
  r.task = make_task(r.cfg, r.run_dir, config_dtype(r.cfg), gen, device, splits);
  r.task->model().load_state_dict(c.model);
  r.task->model().eval();
  return r;
}

}  // namespace seqboat::train
