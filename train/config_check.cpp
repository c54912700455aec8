// train/config_check.cpp: validate_config, the one validator every run
// configuration passes, whatever it came from: `train` (defaults, --config,
// --set), a checkpoint read by --resume, eval, inspect and generate, and the
// Python bindings. Every key is checked against its declaration in the key
// table (train/config.cpp: type, choices, range, checked before any code
// narrows the value or allocates with it), then against the other keys: a
// value from a file gets exactly the checks a --set gets.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>

#include "data/listops.h"
#include "tensor/checked.h"
#include "tensor/json_text.h"
#include "train/config.h"

namespace seqboat::train {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& problem) {
  throw UsageError(fmt::format("config key '{}': {}", key, problem));
}

int64_t integer(const json& flat, const char* key) { return flat.at(key).get<int64_t>(); }

}  // namespace

void validate_config(const json& flat) {
  if (!flat.is_object()) throw UsageError(fmt::format("config: expected a JSON object, got {}", json_excerpt(flat)));
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    const ConfigKey* k = find_config_key(it.key());
    if (!k)
      throw UsageError(fmt::format("unknown config key {}; valid keys: {}", quote_text(it.key()), config_key_list()));
    check_config_value(*k, it.value());  // type, choices, range
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
  // Rotary positions rotate pairs of query/key channels (2m, 2m+1).
  if (flat.at("model.rel_pos_bias") == "rotary" && integer(flat, "model.d_qk") % 2 != 0)
    bad("model.d_qk", fmt::format("must be even with model.rel_pos_bias=rotary (it rotates channel pairs), got {}",
                                  integer(flat, "model.d_qk")));
  if (flat.at("model.positions") == "sinusoidal" && integer(flat, "model.d_model") % 2)
    bad("model.positions", fmt::format("sinusoidal positions need an even model.d_model, got {}", integer(flat, "model.d_model")));
  {
    const std::string d = flat.at("pathfinder.difficulty");
    if (d.empty() || d == "." || d == ".." || d.find('/') != std::string::npos || d.find('\0') != std::string::npos)
      bad("pathfinder.difficulty", fmt::format("{} is not a folder name (no '/', not '.' or '..')", quote_text(d)));
  }
  const std::string task = flat.at("task");
  if (integer(flat, "lm.eval_windows") == 0 && task != "enwik8")
    bad("lm.eval_windows", "0 (the whole split) is for task enwik8; the lm task needs at least 1 window");
  if (task == "listops" && flat.at("data.dir").get_ref<const std::string&>().empty()) {
    // The generator's settings together (a tree longer than min_length must
    // be possible; the examples must fit in memory), as the generator will
    // use them (listops.distribution=lra replaces the shape keys).
    data::ListOpsGenConfig g;
    const bool lra = flat.at("listops.distribution") == "lra";
    g.max_depth = lra ? data::kLraListOps.max_depth : static_cast<int>(integer(flat, "listops.max_depth"));
    g.max_args = lra ? data::kLraListOps.max_args : static_cast<int>(integer(flat, "listops.max_args"));
    g.min_length = lra ? data::kLraListOps.min_length : static_cast<int>(integer(flat, "listops.min_length"));
    g.max_length = lra ? data::kLraListOps.max_length : static_cast<int>(integer(flat, "listops.max_length"));
    g.n_train = static_cast<int>(integer(flat, "listops.n_train"));  // ranges checked above: all fit int
    g.n_val = static_cast<int>(integer(flat, "listops.n_val"));
    g.n_test = static_cast<int>(integer(flat, "listops.n_test"));
    try {
      data::check_listops_gen_config(g);
    } catch (const UsageError& e) {
      throw UsageError(fmt::format("config keys listops.*: {}", e.what()));
    }
  }
  if (task == "recall") {
    // The sequences the task holds: n_train + 2 n_test of 2 n_pairs + 2
    // tokens (4 bytes each, and a vector's 32).
    const double bytes = (static_cast<double>(integer(flat, "recall.n_train")) + 2.0 * integer(flat, "recall.n_test")) *
                         ((2.0 * integer(flat, "recall.n_pairs") + 2) * 4 + 32);
    if (bytes > static_cast<double>(max_allocation_bytes()))
      bad("recall.n_train", fmt::format("the recall sequences (recall.n_train + 2 recall.n_test of 2 recall.n_pairs + "
                                        "2 tokens) would need {}, more than this machine's {}",
                                        bytes_text(bytes), bytes_text(static_cast<double>(max_allocation_bytes()))));
  }
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
  } catch (const UsageError& e) {  // the checkpoint's config: a bad file, not a bad option
    throw std::runtime_error(fmt::format("{}: {}", origin, e.what()));
  }
  return cfg;
}

}  // namespace seqboat::train
