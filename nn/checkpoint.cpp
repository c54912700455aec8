// nn/checkpoint.cpp: Checkpoint <-> one safetensors file (layout in checkpoint.h).
#include "nn/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tensor/json_text.h"
#include "tensor/serialize.h"

namespace seqboat::nn {

namespace {

const char* const kReservedKeys[] = {"format", "step", "rng", "config"};
const std::string kOptimPrefix = "optim.";

bool is_optim_name(const std::string& name) { return name.rfind(kOptimPrefix, 0) == 0; }

std::string rng_to_json(const std::vector<std::array<uint64_t, 4>>& states) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : states)
    out.push_back({std::to_string(s[0]), std::to_string(s[1]), std::to_string(s[2]), std::to_string(s[3])});
  return out.dump();
}

// Whole-string decimal parse; false on anything else (sign, spaces, overflow).
template <class Int>
bool parse_decimal(const std::string& text, Int& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return !text.empty() && ec == std::errc() && ptr == end;
}

[[noreturn]] void bad_file(const std::string& path, const std::string& problem) {
  throw std::runtime_error(safe_text(path) + ": " + problem);
}

std::vector<std::array<uint64_t, 4>> rng_from_json(const std::string& path, const std::string& text) {
  const std::string expected = "expected a JSON array of [4 decimal strings] per generator";
  nlohmann::json j;
  try {
    j = parse_json_text(text, "malformed 'rng' metadata");
  } catch (const JsonTextError& e) {
    bad_file(path, fmt::format("{}; {}", e.what(), expected));
  }
  if (!j.is_array()) bad_file(path, fmt::format("malformed 'rng' metadata {}: {}", quote_text(text), expected));
  std::vector<std::array<uint64_t, 4>> states;
  for (const auto& entry : j) {
    std::array<uint64_t, 4> s{};
    bool ok = entry.is_array() && entry.size() == 4;
    for (size_t i = 0; ok && i < 4; ++i) ok = entry[i].is_string() && parse_decimal(entry[i].get<std::string>(), s[i]);
    if (!ok) bad_file(path, fmt::format("malformed 'rng' metadata entry ({}): {}", json_excerpt(entry), expected));
    states.push_back(s);
  }
  return states;
}

const std::string& required(const std::string& path, const std::map<std::string, std::string>& metadata,
                            const std::string& key) {
  auto it = metadata.find(key);
  if (it == metadata.end()) bad_file(path, fmt::format("checkpoint metadata has no '{}' entry", key));
  return it->second;
}

void check_saveable(const Checkpoint& ckpt) {
  for (const auto& [name, t] : ckpt.model)
    if (is_optim_name(name))
      fail(fmt::format("save_checkpoint: model tensor '{}' uses the reserved prefix '{}'", name, kOptimPrefix));
  for (const auto& [name, t] : ckpt.optimizer)
    if (!is_optim_name(name))
      fail(fmt::format("save_checkpoint: optimizer tensor '{}' must start with '{}'", name, kOptimPrefix));
  for (const char* key : kReservedKeys)
    if (ckpt.extra.count(key)) fail(fmt::format("save_checkpoint: extra metadata key '{}' is reserved", key));
  if (!nlohmann::json::accept(ckpt.config_json))
    fail(fmt::format("save_checkpoint: config is not valid JSON: '{}'", ckpt.config_json));
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  check_saveable(ckpt);
  TensorFile file;
  file.tensors = ckpt.model;
  file.tensors.insert(ckpt.optimizer.begin(), ckpt.optimizer.end());
  file.metadata = ckpt.extra;
  file.metadata["format"] = kCheckpointFormat;
  file.metadata["step"] = std::to_string(ckpt.step);
  file.metadata["rng"] = rng_to_json(ckpt.rng_states);
  file.metadata["config"] = ckpt.config_json;
  save_tensors(path, file);
}

namespace {

Checkpoint checkpoint_from_file(const std::string& path, TensorFile file) {
  const auto& meta = file.metadata;
  auto format = meta.find("format");
  if (format == meta.end() || format->second != kCheckpointFormat)
    bad_file(path, fmt::format("not a seqboat checkpoint (metadata 'format' is {}, expected '{}')",
                               format == meta.end() ? "missing" : quote_text(format->second), kCheckpointFormat));
  Checkpoint ckpt;
  const std::string& step = required(path, meta, "step");
  // Digits only: a sign ("-5") or anything else is refused, and the value
  // must fit int64 (from_chars reports overflow).
  if (step.empty() || step.find_first_not_of("0123456789") != std::string::npos || !parse_decimal(step, ckpt.step))
    bad_file(path, fmt::format("malformed 'step' metadata {} (expected a non-negative decimal integer)",
                               quote_text(step)));
  ckpt.rng_states = rng_from_json(path, required(path, meta, "rng"));
  ckpt.config_json = required(path, meta, "config");
  try {
    if (!parse_json_text(ckpt.config_json, "'config' metadata is not valid JSON").is_object())
      bad_file(path, "'config' metadata is not a JSON object");
  } catch (const JsonTextError& e) {
    bad_file(path, e.what());
  }
  for (const auto& [key, value] : meta)
    if (std::find(std::begin(kReservedKeys), std::end(kReservedKeys), key) == std::end(kReservedKeys))
      ckpt.extra[key] = value;
  for (auto& [name, t] : file.tensors) (is_optim_name(name) ? ckpt.optimizer : ckpt.model)[name] = t;
  return ckpt;
}

}  // namespace

std::string first_nonfinite(const std::map<std::string, Tensor>& tensors) {
  for (const auto& [name, t] : tensors) {
    if (!t.defined() || !is_floating(t.dtype())) continue;
    const std::vector<double> v = t.to_vector();  // any device, any strides (float -> double keeps NaN and inf)
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        return fmt::format("tensor {} holds {} at index {} (of {})", quote_text(name), v[i], i, v.size());
  }
  return "";
}

Checkpoint load_checkpoint(const std::string& path) { return checkpoint_from_file(path, load_tensors(path)); }

Checkpoint parse_checkpoint(const uint8_t* bytes, size_t size, const std::string& name) {
  return checkpoint_from_file(name, parse_tensors(bytes, size, name));
}

}  // namespace seqboat::nn
