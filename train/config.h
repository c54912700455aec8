// train/config.h: the training configuration. Every key is documented with
// its type and default in one table (config_keys()); `seqboat train --help`
// prints it. A config is a flat map of dotted keys ("model.d_model"); a JSON
// file may nest them ({"model": {"d_model": 64}}). An unknown key or a value of
// the wrong type is an error that lists the valid keys or values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/usage_error.h"

namespace seqboat::train {

// One documented key. Its type is the default's JSON type; a numeric key
// declares its range (inclusive, checked before any code narrows the value)
// and a string key may list its choices. A new key gets every check by being
// declared here: check_config_value needs nothing else.
struct ConfigKey {
  std::string name;
  nlohmann::json default_value;  // its JSON type is the key's type
  std::string doc;
  std::vector<std::string> choices;  // non-empty: the value must be one of these
  double lo = 0, hi = 0;             // numeric keys: the range, lo <= value <= hi
};

const std::vector<ConfigKey>& config_keys();
std::string config_help();  // the table as text

const ConfigKey* find_config_key(const std::string& name);  // nullptr when unknown
std::string config_key_list();                               // "task, seed, ..."
// The value's JSON type is the key's (an integer key takes only integral
// JSON numbers), a key with choices has one of them, a numeric key is in its
// range. Throws UsageError "config key 'k': ...".
void check_config_value(const ConfigKey& key, const nlohmann::json& value);
// "an integer from 1 to 65536", "a number from 0 to 1", "" for other keys.
std::string config_key_range_text(const ConfigKey& key);

// Defaults for a task, then the file, then each `key=value` override, then
// validate_config. Throws UsageError naming the file, the key or
// the --set argument and the rule broken.
// `preset` (flat keys, train/presets.h) is applied over the task's defaults,
// before the file.
nlohmann::json resolve_config(const std::string& task, const std::string& config_file,
                              const std::vector<std::string>& overrides,
                              const nlohmann::json& preset = nlohmann::json::object());
// The same with the file's text in memory (config_file only names it; empty:
// no file).
nlohmann::json resolve_config_text(const std::string& task, const std::string& file_text,
                                   const std::string& config_file, const std::vector<std::string>& overrides,
                                   const nlohmann::json& preset = nlohmann::json::object());

// THE validator of a run configuration (train/config_check.cpp), whatever its
// source: every key known and present, of its type, one of its choices, in
// its range (integers compared before any narrowing), and consistent across
// keys. Throws UsageError "config key 'k': <rule>".
void validate_config(const nlohmann::json& flat);
// A run's config as saved in a checkpoint: parsed (depth-limited) and
// validated. Throws std::runtime_error "<origin>: ..." (origin names the file).
nlohmann::json parse_run_config(const std::string& text, const std::string& origin);
// Task-specific defaults (the default ListOps model, the LM, recall).
nlohmann::json task_defaults(const std::string& task);
// The model's dtype, config key "dtype" (float32 or float64).
DType config_dtype(const nlohmann::json& cfg);

}  // namespace seqboat::train
