// train/presets.h: the official SeqBoat task configurations as named presets
// (`seqboat train --preset NAME`): the model and training hyperparameters of
// the official scripts for each task of the paper's suite, and, in words,
// where seqboat deviates from them and why.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seqboat::train {

struct Preset {
  std::string name;      // "lra-listops", ...
  std::string task;      // the --task it trains
  std::string released;  // the data folder as released, for data.dir
  std::string source;    // the official script and architecture it follows
  nlohmann::json values;  // flat config keys set over the task's defaults
  std::vector<std::string> deviations;  // where seqboat differs, and why
};

const std::vector<Preset>& presets();
const Preset* find_preset(const std::string& name);  // nullptr when unknown
std::string preset_names();                           // "lra-listops, lra-text, ..."

// The preset's values over the task's defaults, then the config file, then
// each --set override, then validate_config (train/config.h). Throws
// std::invalid_argument naming an unknown preset (and the valid ones).
nlohmann::json resolve_preset_config(const std::string& preset, const std::string& config_file,
                                     const std::vector<std::string>& overrides);

// What --preset NAME --help prints: the preset's source, released folder and
// deviations, then the resolved configuration, one key per line.
std::string preset_help(const std::string& preset, const nlohmann::json& resolved);

}  // namespace seqboat::train
