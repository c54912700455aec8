// train/config_check.cpp: validate_config, the one validator every run
// configuration passes, whatever it came from: `train` (defaults, --config,
// --set), a checkpoint read by --resume, eval, inspect and generate, and the
// Python bindings. Every numeric key has a range here, checked before any
// code narrows the value (to int, to a size) or allocates with it: a value
// from a file gets exactly the checks a --set gets.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>

#include "tensor/json_text.h"
#include "train/config.h"

namespace seqboat::train {

using nlohmann::json;

namespace {

struct Range {
  double lo, hi;
};

// Bounds well beyond any sensible run but small enough that the code's
// int / int64 arithmetic on them cannot overflow (sizes are products of a
// few of these) and that the generators' memory stays bounded.
const std::map<std::string, Range>& ranges() {
  constexpr double kSteps = 1e9, kExamples = 1e7;
  static const std::map<std::string, Range> r = {
      {"seed", {0, 4294967295.0}},
      {"steps", {1, kSteps}},
      {"time_limit_s", {0, 1e9}},
      {"batch_size", {1, 65536}},
      {"lr", {0, 1e30}},  // any finite rate is safe: a divergent run stops, naming the step
      {"warmup_steps", {0, kSteps}},
      {"min_lr_ratio", {0, 1}},
      {"weight_decay", {0, 100}},
      {"beta1", {0, 0.999999}},
      {"beta2", {0, 0.999999}},
      {"momentum", {0, 1}},
      {"clip_norm", {0, 1e9}},
      {"log_every", {0, kSteps}},
      {"eval_every", {0, kSteps}},
      {"eval_batches", {0, kSteps}},
      {"threads", {0, 1024}},
      {"model.d_model", {1, 16384}},
      {"model.n_layers", {1, 256}},
      {"model.d_qk", {1, 16384}},
      {"model.d_ema", {1, 1024}},
      {"model.mem_size", {1, 1 << 20}},
      {"model.dropout", {0, 0.99}},
      {"model.max_positions", {1, 1 << 20}},
      {"model.init_temp_scale", {1e-6, 1e6}},
      {"model.truncation", {0, 1 << 24}},
      {"model.classifier_hidden", {0, 16384}},
      {"model.embed_std", {1e-6, 100}},
      {"data.val_fraction", {1e-6, 0.9}},
      {"text.max_length", {1, 1 << 22}},
      {"image.pixel_mean", {-1e6, 1e6}},
      {"image.pixel_std", {1e-6, 1e6}},
      {"speech.norm_clips", {0, kExamples}},
      {"listops.max_depth", {1, 32}},
      {"listops.max_args", {2, 64}},
      {"listops.min_length", {0, 1 << 20}},
      {"listops.max_length", {2, 1 << 20}},
      {"listops.n_train", {1, kExamples}},
      {"listops.n_val", {1, kExamples}},
      {"listops.n_test", {1, kExamples}},
      {"recall.n_pairs", {1, 4096}},
      {"recall.n_keys", {1, 1 << 20}},
      {"recall.n_values", {1, 1 << 20}},
      {"recall.n_train", {1, kExamples}},
      {"recall.n_test", {1, kExamples}},
      {"lm.seq_len", {1, 1 << 20}},
      {"lm.val_fraction", {1e-6, 0.999999}},
      {"lm.eval_windows", {0, kExamples}},
  };
  return r;
}

[[noreturn]] void bad(const std::string& key, const std::string& problem) {
  throw std::invalid_argument(fmt::format("config key '{}': {}", key, problem));
}

void check_range(const ConfigKey& k, const json& v) {
  const auto it = ranges().find(k.name);
  if (it == ranges().end()) bad(k.name, "has no range (a seqboat bug: every numeric key needs one)");
  const Range r = it->second;
  if (k.default_value.is_number_integer()) {
    // An integer key: compared as an integer, before anything narrows it.
    const bool ok = v.is_number_unsigned()
                        ? v.get<uint64_t>() <= static_cast<uint64_t>(r.hi) && static_cast<double>(v.get<uint64_t>()) >= r.lo
                        : v.get<int64_t>() >= static_cast<int64_t>(r.lo) && v.get<int64_t>() <= static_cast<int64_t>(r.hi);
    if (!ok)
      bad(k.name, fmt::format("{} is out of range (an integer from {} to {})", json_excerpt(v), static_cast<int64_t>(r.lo),
                              static_cast<int64_t>(r.hi)));
    return;
  }
  const double x = v.get<double>();
  if (!(x >= r.lo && x <= r.hi))  // also false for NaN
    bad(k.name, fmt::format("{} is out of range (a number from {} to {})", json_excerpt(v), r.lo, r.hi));
}

int64_t integer(const json& flat, const char* key) { return flat.at(key).get<int64_t>(); }

}  // namespace

bool config_key_has_range(const std::string& name) { return ranges().count(name) > 0; }

void validate_config(const json& flat) {
  if (!flat.is_object()) throw std::invalid_argument(fmt::format("config: expected a JSON object, got {}", json_excerpt(flat)));
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    const ConfigKey* k = find_config_key(it.key());
    if (!k)
      throw std::invalid_argument(
          fmt::format("unknown config key {}; valid keys: {}", quote_text(it.key()), config_key_list()));
    check_config_value(*k, it.value());
    if (it.value().is_number()) check_range(*k, it.value());
    if (it.value().is_array())
      for (const json& e : it.value())
        if (!e.is_string()) bad(k->name, fmt::format("expected an array of strings, got {} in it", json_excerpt(e)));
    // A --set string is raw bytes; config.json and checkpoints store JSON,
    // which must be UTF-8 (dump() of a string or a flat array is not recursive).
    try {
      (void)it.value().dump();
    } catch (const json::type_error&) {
      bad(k->name, "is not valid UTF-8 text");
    }
  }
  for (const ConfigKey& k : config_keys())
    if (!flat.contains(k.name)) bad(k.name, fmt::format("missing (its default is {})", k.default_value.dump()));
  // Consistency between keys, so that a bad combination fails here and not
  // in the middle of a run.
  if (integer(flat, "listops.min_length") + 1 >= integer(flat, "listops.max_length"))
    bad("listops.max_length", fmt::format("must be more than listops.min_length + 1 = {}",
                                          integer(flat, "listops.min_length") + 1));
  if (flat.at("decay") != "constant" && integer(flat, "steps") <= integer(flat, "warmup_steps"))
    bad("warmup_steps", fmt::format("must be less than steps ({}) for {} decay (or set decay=constant)",
                                    integer(flat, "steps"), flat.at("decay").get<std::string>()));
  {
    const std::string d = flat.at("pathfinder.difficulty");
    if (d.empty() || d == "." || d == ".." || d.find('/') != std::string::npos || d.find('\0') != std::string::npos)
      bad("pathfinder.difficulty", fmt::format("{} is not a folder name (no '/', not '.' or '..')", quote_text(d)));
  }
  if (integer(flat, "lm.eval_windows") == 0 && flat.at("task") != "enwik8")
    bad("lm.eval_windows", "0 (the whole split) is for task enwik8; the lm task needs at least 1 window");
  if (flat.at("model.positions") == "sinusoidal" && integer(flat, "model.d_model") % 2)
    bad("model.positions", fmt::format("sinusoidal positions need an even model.d_model, got {}", integer(flat, "model.d_model")));
  if (integer(flat, "recall.n_keys") < integer(flat, "recall.n_pairs"))
    bad("recall.n_keys", fmt::format("must be at least recall.n_pairs ({}): every pair needs its own key",
                                     integer(flat, "recall.n_pairs")));
}

json parse_run_config(const std::string& text, const std::string& origin) {
  json cfg;
  try {
    cfg = parse_json_text(text, origin + ": the config is not valid JSON");
  } catch (const JsonTextError& e) {
    throw std::runtime_error(e.what());
  }
  // Runs saved before the model's dtype was a key trained in float32.
  if (cfg.is_object() && !cfg.contains("dtype")) cfg["dtype"] = "float32";
  try {
    validate_config(cfg);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("{}: {}", origin, e.what()));
  }
  return cfg;
}

}  // namespace seqboat::train
