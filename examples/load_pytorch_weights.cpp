// examples/load_pytorch_weights.cpp: load a state dict that PyTorch saved
// with `safetensors` under the reference's parameter names, run the model,
// and print its outputs. In Python the file would come from
//   safetensors.torch.save_file(model.state_dict(), "model.safetensors",
//                               metadata={"config": json.dumps(config)})
// A golden file (tests/golden/model_*.safetensors) is such a file, with its
// names prefixed by "param." and the reference's input and output stored
// beside the weights; this program also prints how far our output is from
// PyTorch's.
//
// Run:   build/examples/load_pytorch_weights tests/golden/model_causal_ln_prenorm.safetensors
// Exits non-zero when the file cannot be used or the output differs from output.y (tolerance 1e-9).
#include <fmt/format.h>

#include <cmath>

#include "nn/seqboat.h"
#include "tensor/serialize.h"

using namespace seqboat;

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: load_pytorch_weights FILE.safetensors (a SeqBoatModel state dict with a 'config')\n");
    return 2;
  }
  try {
    TensorFile file = load_tensors(argv[1]);
    if (!file.metadata.count("config")) throw std::invalid_argument("the file's metadata has no 'config'");
    nlohmann::json config = nlohmann::json::parse(file.metadata.at("config"));
    fmt::print("config: {}\n", config.dump());

    // The constructor takes the reference's config names; the initial values
    // are overwritten by the state dict below.
    Generator gen(0);
    auto model = std::make_shared<nn::SeqBoatModel>(nn::ModelConfig::from_json(config), DType::Float64, gen);
    // A golden file prefixes the weights with "param."; a plain state dict holds only weights.
    bool golden = file.tensors.count("input.x") > 0;
    std::map<std::string, Tensor> state;
    for (auto& [name, t] : file.tensors)
      if (!golden) state[name] = t;
      else if (name.rfind("param.", 0) == 0) state[name.substr(6)] = t;
    model->load_state_dict(state);  // strict: every name must match, shapes too
    fmt::print("loaded {} tensors ({} parameters) by their PyTorch names, e.g. {}\n", state.size(),
               model->num_parameters(), state.begin()->first);

    if (!file.tensors.count("input.x")) {
      fmt::print("no input.x in the file: nothing to run\n");
      return 0;
    }
    // The golden files were made in training mode with every dropout 0.
    model->train(true);
    Tensor x = file.tensors.at("input.x");
    Tensor pad = file.tensors.count("input.padding_mask") ? file.tensors.at("input.padding_mask") : Tensor();
    DropoutRng rng;
    Tensor y = model->forward(x, pad, rng);
    fmt::print("input {} -> output {}:\n{}\n", shape_str(x.shape()), shape_str(y.shape()), y.to_string());
    for (size_t i = 0; i < model->seq_layers.size(); ++i) {
      std::vector<double> a = model->seq_layers[i]->last_route.active.to_vector();
      double on = 0;
      for (double v : a) on += v;
      fmt::print("layer {}: {} of {} tokens active\n", i, on, a.size());
    }
    if (!file.tensors.count("output.y")) return 0;
    std::vector<double> ours = y.to_vector(), theirs = file.tensors.at("output.y").to_vector();
    double diff = 0;
    for (size_t i = 0; i < ours.size(); ++i) diff = std::max(diff, std::fabs(ours[i] - theirs[i]));
    fmt::print("max |ours - PyTorch's output.y| = {:.2e}\n", diff);
    return diff <= 1e-9 ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "load_pytorch_weights: {}: {}\n", argv[1], e.what());
    return 1;
  }
}
