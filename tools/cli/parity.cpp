// tools/cli/parity.cpp: `seqboat parity [--dtype float64|float32] [--tol T] FILE...`
//
// For each golden file (SPEC.md section 5): build the module named in the
// metadata from its config, load `param.*`, run forward and backward (train
// mode, cotangent `output_grad.y`), and compare every `output.*`, `grad.*`,
// `buffer_after.*` and `route.*` tensor. Error of a tensor:
// max|got - ref| / max(1, max|ref|). Prints `PASS name worst=...` or
// `FAIL name worst=...` plus the tensors that differ; exit 0 iff all pass.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "nn/seqboat.h"
#include "ops/elementwise.h"
#include "tensor/serialize.h"

namespace seqboat::cli {

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
    throw std::invalid_argument(
        fmt::format("unknown module '{}' (expected MultiHeadEMA, SeqBoatLayer or SeqBoatModel)", kind));
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

// Returns the worst error; fills `bad` with "name err=..." for failures.
double check_file(const std::string& path, DType dt, double tol, std::vector<std::string>& bad) {
  TensorFile f = load_tensors(path);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(require_meta(f, "config"));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("metadata 'config' is not valid JSON: {}", e.what()));
  }
  Generator gen(0);
  DropoutRng rng;  // the golden files use dropout 0: never drawn
  GoldenRun run = build(require_meta(f, "module"), config, dt, gen, rng);
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : f.tensors)
    if (name.rfind("param.", 0) == 0) state[name.substr(6)] = t;
  run.module->load_state_dict(state);
  run.module->train(true);

  Tensor x = require_tensor(f, "input.x").to(dt).requires_grad_(true);
  Tensor pad = f.tensors.count("input.padding_mask") ? f.tensors.at("input.padding_mask") : Tensor();
  Tensor y = run.forward(x, pad);
  y.backward(require_tensor(f, "output_grad.y").to(dt));

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
  return worst;
}

}  // namespace

int cmd_parity(const std::vector<std::string>& args) {
  DType dt = DType::Float64;
  double tol = -1;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--dtype" && i + 1 < args.size()) {
      std::string v = args[++i];
      if (v == "float64") dt = DType::Float64;
      else if (v == "float32") dt = DType::Float32;
      else return usage_error(fmt::format("--dtype must be float64 or float32, got '{}'", v));
    } else if (a == "--tol" && i + 1 < args.size()) {
      tol = std::stod(args[++i]);
    } else if (a == "-h" || a == "--help") {
      fmt::print("usage: seqboat parity [--dtype float64|float32] [--tol T] FILE.safetensors...\n");
      return 0;
    } else if (a.rfind("--", 0) == 0) {
      return usage_error(fmt::format("parity: unknown option '{}'", a));
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return usage_error("parity: no golden files given");
  if (tol < 0) tol = dt == DType::Float64 ? 1e-9 : 1e-3;
  int failed = 0;
  for (const std::string& path : files) {
    std::string name = std::filesystem::path(path).stem().string();
    std::vector<std::string> bad;
    double worst;
    try {
      worst = check_file(path, dt, tol, bad);
    } catch (const std::exception& e) {
      fmt::print("FAIL {} error: {}\n", name, e.what());
      ++failed;
      continue;
    }
    if (bad.empty()) {
      fmt::print("PASS {} worst={:.3e}\n", name, worst);
    } else {
      ++failed;
      fmt::print("FAIL {} worst={:.3e}\n", name, worst);
      for (const std::string& b : bad) fmt::print("    {}\n", b);
    }
  }
  fmt::print("{} passed, {} failed\n", files.size() - failed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace seqboat::cli
