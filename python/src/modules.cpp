// python/src/modules.cpp: nn::Module (parameters, state dicts, train/eval)
// and the SeqBoat modules, built from config dicts by the reference's names
// (LayerConfig / ModelConfig::from_json take exactly those), with a forward
// that also returns each layer's SMA trace as NumPy arrays.
#include <fmt/format.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "nn/seqboat.h"

namespace seqboat::python {

using namespace nb::literals;

static const char* norm_name(nn::NormType t) {
  return t == nn::NormType::LayerNorm ? "layernorm" : t == nn::NormType::ScaleNorm ? "scalenorm" : "batchnorm";
}
static const char* rel_pos_name(nn::RelPosType t) { return t == nn::RelPosType::Simple ? "simple" : "rotary"; }
static nlohmann::json optional_int(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

static nlohmann::json layer_config_json(const nn::LayerConfig& c) {
  return {{"embed_dim", c.embed_dim},
          {"zdim", c.zdim},
          {"hdim", c.hdim},
          {"ndim", c.ndim},
          {"dropout", c.dropout},
          {"attention_dropout", c.attention_dropout},
          {"hidden_dropout", c.hidden_dropout},
          {"attention_activation", kernels::activation_name(c.attention_activation)},
          {"bidirectional", c.bidirectional},
          {"window_size", c.window_size},
          {"truncation", optional_int(c.truncation)},
          {"norm_type", norm_name(c.norm_type)},
          {"prenorm", c.prenorm},
          {"norm_affine", c.norm_affine},
          {"rel_pos_bias", rel_pos_name(c.rel_pos_bias)},
          {"max_positions", c.max_positions},
          {"init_temp_scale", c.init_temp_scale}};
}

static nlohmann::json model_config_json(const nn::ModelConfig& c) {
  return {{"d_input", c.d_input},
          {"d_model", c.d_model},
          {"d_output", c.d_output},
          {"n_layers", c.n_layers},
          {"dropout", c.dropout},
          {"prenorm", c.prenorm},
          {"max_positions", c.max_positions},
          {"d_qk", c.d_qk},
          {"d_ema", c.d_ema},
          {"mem_size", c.mem_size},
          {"bidirectional", c.bidirectional},
          {"init_temp_scale", c.init_temp_scale},
          {"norm_type", norm_name(c.norm_type)},
          {"rel_pos_bias", rel_pos_name(c.rel_pos_bias)},
          {"attention_activation", kernels::activation_name(c.attention_activation)},
          {"truncation", optional_int(c.truncation)},
          {"vocab_size", c.vocab_size}};
}

// A layer's last routing decision as NumPy arrays (None before any forward).
static nb::object route_trace(const nn::RouteInfo& r) {
  if (!r.active.defined()) return nb::none();
  nb::dict d;
  d["prob"] = to_numpy(r.prob);                         // (B, L) max(P0, P1)
  d["active"] = to_numpy(r.active, true);               // (B, L) bool
  d["gate"] = to_numpy(r.gate);                         // (B, L) P1 at active tokens, else 0
  d["slot_index"] = to_numpy(r.plan.slot_index);        // (B, S) original position per slot
  d["slot_valid"] = to_numpy(r.plan.slot_valid, true);  // (B, S) bool
  d["slots"] = r.plan.slots;
  d["compressed"] = r.plan.compressed;
  return d;
}

static nb::list layer_traces(const std::vector<std::shared_ptr<nn::SeqBoatLayer>>& layers) {
  nb::list out;
  for (const auto& l : layers) out.append(route_trace(l->last_route));
  return out;
}

static nb::dict named(const std::vector<std::pair<std::string, Tensor*>>& entries) {
  nb::dict d;
  for (const auto& [name, t] : entries) d[name.c_str()] = *t;  // shares the module's tensor
  return d;
}

static void bind_module_base(nb::module_& m) {
  nb::class_<nn::Module>(m, "Module", "Named parameters and buffers by the reference's names.")
      .def("named_parameters", [](nn::Module& mod) { return named(mod.named_parameters()); })
      .def("named_buffers", [](nn::Module& mod) { return named(mod.named_buffers()); })
      .def("parameters", &nn::Module::parameters)
      .def("num_parameters", &nn::Module::num_parameters)
      .def("state_dict", &nn::Module::state_dict, "Parameters and buffers by name, sharing the module's memory.")
      .def("load_state_dict", &nn::Module::load_state_dict, "state"_a, "strict"_a = true,
           "Copies values in; strict: the names must be exactly the module's. Shapes must match.")
      .def(
          "train", [](nn::Module& mod, bool on) { mod.train(on); }, "mode"_a = true)
      .def("eval", &nn::Module::eval)
      .def_prop_ro("training", &nn::Module::is_training)
      .def("zero_grad", &nn::Module::zero_grad)
      .def(
          "to", [](nn::Module& mod, const std::string& dt) { mod.to(parse_dtype(dt)); }, "dtype"_a);
}

// __init__(config, dtype="float32", seed=0) for module M whose config type C
// parses the reference's names.
template <class M, class C>
void bind_init(nb::class_<M, nn::Module>& cls, const char* what) {
  cls.def(
      "__init__",
      [what](M* self, nb::handle config, const std::string& dtype, uint64_t seed) {
        C c = C::from_json(dict_to_json(config, what));
        Generator gen(seed);
        new (self) M(c, parse_dtype(dtype), gen);
      },
      "config"_a, "dtype"_a = "float32", "seed"_a = 0);
}

static Tensor layer_forward(nn::SeqBoatLayer& l, const Tensor& x, const std::optional<Tensor>& pad) {
  return l.forward(x, or_undefined(pad), dropout_stream());
}
static Tensor model_forward(nn::SeqBoatModel& mod, const Tensor& x, const std::optional<Tensor>& pad) {
  return mod.forward(x, or_undefined(pad), dropout_stream());
}
static Tensor lm_forward(nn::SeqBoatLM& mod, const Tensor& tokens) { return mod.forward(tokens, dropout_stream()); }

static void bind_layer(nb::module_& m) {
  nb::class_<nn::SeqBoatLayer, nn::Module> cls(m, "SeqBoatLayer", "One SeqBoat layer (docs/semantics.md section 3).");
  bind_init<nn::SeqBoatLayer, nn::LayerConfig>(cls, "SeqBoatLayer config");
  cls.def_prop_ro("config", [](const nn::SeqBoatLayer& l) { return json_to_python(layer_config_json(l.cfg)); })
      .def("forward", &layer_forward, "x"_a, "padding_mask"_a = nb::none(),
           "x (B, L, D) -> (B, L, D); padding_mask uint8 (B, L), 1 = pad.")
      .def("__call__", &layer_forward, "x"_a, "padding_mask"_a = nb::none())
      .def(
          "forward_trace",
          [](nn::SeqBoatLayer& l, const Tensor& x, const std::optional<Tensor>& pad) {
            Tensor y = layer_forward(l, x, pad);
            return nb::make_tuple(y, route_trace(l.last_route));
          },
          "x"_a, "padding_mask"_a = nb::none(),
          "(y, trace): trace holds prob, active, gate (B, L), slot_index, slot_valid (B, S), slots, compressed.")
      .def_prop_ro(
          "last_route", [](const nn::SeqBoatLayer& l) { return route_trace(l.last_route); },
          "the SMA trace of the last forward, or None");
}

static void bind_models(nb::module_& m) {
  nb::class_<nn::SeqBoatModel, nn::Module> model(m, "SeqBoatModel", "The SeqBoat classifier (docs/semantics.md section 4).");
  bind_init<nn::SeqBoatModel, nn::ModelConfig>(model, "SeqBoatModel config");
  model.def_prop_ro("config", [](const nn::SeqBoatModel& mod) { return json_to_python(model_config_json(mod.cfg)); })
      .def_ro("layers", &nn::SeqBoatModel::seq_layers)
      .def("forward", &model_forward, "x"_a, "padding_mask"_a = nb::none(),
           "x (B, L, d_input) features, or (B, L) int64 token ids when vocab_size > 0 -> logits (B, d_output).")
      .def("__call__", &model_forward, "x"_a, "padding_mask"_a = nb::none())
      .def(
          "forward_trace",
          [](nn::SeqBoatModel& mod, const Tensor& x, const std::optional<Tensor>& pad) {
            Tensor y = model_forward(mod, x, pad);
            return nb::make_tuple(y, layer_traces(mod.seq_layers));
          },
          "x"_a, "padding_mask"_a = nb::none(), "(logits, [trace per layer]).");

  nb::class_<nn::SeqBoatLM, nn::Module> lm(m, "SeqBoatLM", "The causal SeqBoat language model.");
  bind_init<nn::SeqBoatLM, nn::ModelConfig>(lm, "SeqBoatLM config");
  lm.def_prop_ro("config", [](const nn::SeqBoatLM& mod) { return json_to_python(model_config_json(mod.cfg)); })
      .def_ro("layers", &nn::SeqBoatLM::seq_layers)
      .def("forward", &lm_forward, "tokens"_a, "tokens (B, L) int64 -> logits (B, L, vocab_size).")
      .def("__call__", &lm_forward, "tokens"_a)
      .def(
          "forward_trace",
          [](nn::SeqBoatLM& mod, const Tensor& tokens) {
            Tensor y = lm_forward(mod, tokens);
            return nb::make_tuple(y, layer_traces(mod.seq_layers));
          },
          "tokens"_a, "(logits, [trace per layer]).");
}

void bind_modules(nb::module_& m) {
  bind_module_base(m);
  bind_layer(m);
  bind_models(m);
}

}  // namespace seqboat::python
