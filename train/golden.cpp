// train/golden.cpp: see golden.h.
#include "train/golden.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "nn/seqboat.h"
#include "ops/elementwise.h"
#include "tensor/json_text.h"
#include "tensor/serialize.h"

namespace seqboat::train {

namespace {

struct GoldenRun {
  std::shared_ptr<nn::Module> module;
  std::function<Tensor(const Tensor&, const Tensor&)> forward;
  std::function<std::vector<nn::RouteInfo>()> routes;
};

GoldenRun build(const std::string& kind, const nlohmann::json& config, DType dt, Generator& gen, DropoutRng& rng) {
  GoldenRun r;
  if (kind == "MultiHeadEMA") {
    auto m = std::make_shared<nn::MultiHeadEMA>(nn::EmaConfig::from_json(config), dt, gen);
    r.module = m;
    r.forward = [m](const Tensor& x, const Tensor& pad) { return m->forward(x, pad); };
    r.routes = [] { return std::vector<nn::RouteInfo>{}; };
  } else if (kind == "SeqBoatLayer") {
    auto m = std::make_shared<nn::SeqBoatLayer>(nn::LayerConfig::from_json(config), dt, gen);
    r.module = m;
    r.forward = [m, &rng](const Tensor& x, const Tensor& pad) { return m->forward(x, pad, rng); };
    r.routes = [m] { return std::vector<nn::RouteInfo>{m->last_route}; };
  } else if (kind == "SeqBoatModel") {
    auto m = std::make_shared<nn::SeqBoatModel>(nn::ModelConfig::from_json(config), dt, gen);
    r.module = m;
    r.forward = [m, &rng](const Tensor& x, const Tensor& pad) { return m->forward(x, pad, rng); };
    r.routes = [m] {
      std::vector<nn::RouteInfo> out;
      for (auto& l : m->seq_layers) out.push_back(l->last_route);
      return out;
    };
  } else {
    fail(
        fmt::format("unknown module {} (expected MultiHeadEMA, SeqBoatLayer or SeqBoatModel)", quote_text(kind)));
  }
  return r;
}

double rel_error(const Tensor& got, const Tensor& ref) {
  if (got.shape() != ref.shape())
    throw std::runtime_error(fmt::format("shape {} vs reference {}", shape_str(got.shape()), shape_str(ref.shape())));
  std::vector<double> a = got.to_vector(), b = ref.to_vector();
  double diff = 0, scale = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(a[i] - b[i]);
    diff = std::isnan(d) ? INFINITY : std::max(diff, d);
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff / scale;
}

std::string require_meta(const TensorFile& f, const std::string& key) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw std::runtime_error(fmt::format("metadata has no '{}'", key));
  return it->second;
}

const Tensor& require_tensor(const TensorFile& f, const std::string& key) {
  auto it = f.tensors.find(key);
  if (it == f.tensors.end()) throw std::runtime_error(fmt::format("file has no tensor '{}'", key));
  return it->second;
}

}  // namespace

GoldenCheck check_golden_file(const std::string& path, DType dt, Device device, double tol) {
  GoldenCheck result;
  std::vector<std::string>& bad = result.failures;
  TensorFile f = load_tensors(path);
  nlohmann::json config;
  try {
    config = parse_json_text(require_meta(f, "config"), "metadata 'config' is not valid JSON");
  } catch (const JsonTextError& e) {
    throw std::runtime_error(e.what());
  }
  Generator gen(0);
  DropoutRng rng;  // the golden files use dropout 0: never drawn
  GoldenRun run = build(require_meta(f, "module"), config, dt, gen, rng);
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : f.tensors)
    if (name.rfind("param.", 0) == 0) state[name.substr(6)] = t;
  run.module->load_state_dict(state);
  run.module->to(device);
  run.module->train(true);

  Tensor x = require_tensor(f, "input.x").to(dt).to(device).requires_grad_(true);
  Tensor pad = f.tensors.count("input.padding_mask") ? f.tensors.at("input.padding_mask").to(device) : Tensor();
  Tensor y = run.forward(x, pad);
  y.backward(require_tensor(f, "output_grad.y").to(dt).to(device));

  std::map<std::string, Tensor> got;
  got["output.y"] = y.detach();
  got["grad.input.x"] = x.grad();
  for (auto& [name, t] : run.module->named_parameters()) got["grad.param." + name] = t->grad();
  for (auto& [name, t] : run.module->named_buffers()) got["buffer_after." + name] = t->detach();
  std::vector<nn::RouteInfo> routes = run.routes();
  for (size_t i = 0; i < routes.size(); ++i) {
    got[fmt::format("route.{}.active", i)] = routes[i].active;
    got[fmt::format("route.{}.prob", i)] = routes[i].prob;
  }

  double worst = 0;
  int compared = 0;
  for (auto& [name, ref] : f.tensors) {
    bool checked = name.rfind("output.", 0) == 0 || name.rfind("grad.", 0) == 0 ||
                   name.rfind("buffer_after.", 0) == 0 || name.rfind("route.", 0) == 0;
    if (!checked) continue;
    auto it = got.find(name);
    if (it == got.end()) {
      bad.push_back(fmt::format("{} (not produced)", name));
      worst = INFINITY;
      continue;
    }
    // A parameter the forward never used has no gradient: it is zero.
    Tensor g = it->second.defined() ? it->second : zeros(ref.shape(), DType::Float64);
    double err;
    try {
      err = rel_error(g, ref);
    } catch (const std::exception& e) {
      bad.push_back(fmt::format("{} ({})", name, e.what()));
      worst = INFINITY;
      continue;
    }
    ++compared;
    worst = std::max(worst, err);
    if (!(err <= tol)) bad.push_back(fmt::format("{} err={:.3e}", name, err));
  }
  if (compared == 0) bad.push_back("no output/grad/buffer_after/route tensors to compare");
  result.worst = worst;
  return result;
}

}  // namespace seqboat::train
