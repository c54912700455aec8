// train/config.h: the training configuration. Every key is documented with
// its type and default in one table (config_keys()); `seqboat train --help`
// prints it. A config is a flat map of dotted keys ("model.d_model"); a JSON
// file may nest them ({"model": {"d_model": 64}}). An unknown key or a value of
// the wrong type is an error that lists the valid keys or values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seqboat::train {

struct ConfigKey {
  std::string name;
  nlohmann::json default_value;  // its JSON type is the key's type
  std::string doc;
  std::vector<std::string> choices;  // non-empty: the value must be one of these
};

const std::vector<ConfigKey>& config_keys();
std::string config_help();  // the table as text

// Defaults for a task, then the file, then each `key=value` override.
nlohmann::json resolve_config(const std::string& task, const std::string& config_file,
                              const std::vector<std::string>& overrides);
// Validates a flat config (every key known, types and choices right).
void validate_config(const nlohmann::json& flat);
// Task-specific defaults (the default ListOps model, the LM, recall).
nlohmann::json task_defaults(const std::string& task);

}  // namespace seqboat::train
