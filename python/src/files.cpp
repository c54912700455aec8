// python/src/files.cpp: safetensors files, training checkpoints
// (nn/checkpoint.h) and the golden-file check (train/golden.h).
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "nn/checkpoint.h"
#include "tensor/serialize.h"
#include "train/golden.h"

namespace seqboat::python {

using namespace nb::literals;
using TensorMap = std::map<std::string, Tensor>;
using StringMap = std::map<std::string, std::string>;

static nb::dict checkpoint_dict(const nn::Checkpoint& c) {
  nb::dict d;
  d["model"] = c.model;
  d["optimizer"] = c.optimizer;
  d["step"] = c.step;
  d["config"] = json_to_python(nlohmann::json::parse(c.config_json));
  d["extra"] = c.extra;
  return d;
}

void bind_files(nb::module_& m) {
  m.def(
      "load_safetensors",
      [](const std::string& path) {
        TensorFile f = load_tensors(path);
        return nb::make_tuple(f.tensors, f.metadata);
      },
      "path"_a, "(tensors, metadata) of a safetensors file; BOOL loads as uint8.");
  m.def(
      "save_safetensors",
      [](const std::string& path, const TensorMap& tensors, const StringMap& metadata) {
        save_tensors(path, TensorFile{tensors, metadata});
      },
      "path"_a, "tensors"_a, "metadata"_a = StringMap{}, "Writes atomically (temporary file, then rename).");
  m.def(
      "load_checkpoint", [](const std::string& path) { return checkpoint_dict(nn::load_checkpoint(path)); }, "path"_a,
      "A training checkpoint as {model, optimizer, step, config, extra}.");
  m.def(
      "save_checkpoint",
      [](const std::string& path, const TensorMap& model, int64_t step, nb::handle config,
         const std::optional<TensorMap>& optimizer, const StringMap& extra) {
        nn::Checkpoint c;
        c.model = model;
        c.optimizer = optimizer.value_or(TensorMap{});
        c.step = step;
        c.config_json = config.is_none() ? "{}" : dict_to_json(config, "save_checkpoint: config").dump();
        c.extra = extra;
        nn::save_checkpoint(path, c);
      },
      "path"_a, "model"_a, "step"_a = 0, "config"_a = nb::none(), "optimizer"_a = nb::none(), "extra"_a = StringMap{},
      "Writes a seqboat checkpoint (model state dict, optional optimizer state, step, config).");
  m.def(
      "check_golden_file",
      [](const std::string& path, const std::string& dtype, double tol) {
        train::GoldenCheck c = train::check_golden_file(path, parse_dtype(dtype), Device::CPU, tol);
        nb::dict d;
        d["passed"] = c.passed();
        d["worst"] = c.worst;
        d["failures"] = c.failures;
        return d;
      },
      "path"_a, "dtype"_a = "float64", "tol"_a = 1e-9,
      "The C++ parity check of `seqboat parity`: {passed, worst, failures}.");
}

}  // namespace seqboat::python
