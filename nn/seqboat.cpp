// nn/seqboat.cpp: SeqBoat modules, composed from the ops in ops/ (docs/semantics.md
// section 3 gives the steps numbered below).
#include "nn/seqboat.h"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <type_traits>

#include "nn/decoding.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/nn_ops.h"
#include "ops/position.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tensor/json_text.h"

namespace seqboat::nn {

using nlohmann::json;

namespace {

// Typed config access: a missing key or a wrong type names the key.
template <class T>
T get_key(const json& j, const char* where, const std::string& key) {
  if (!j.contains(key)) fail(fmt::format("{} config: missing key '{}'", where, key));
  const json& v = j.at(key);
  // JSON numbers are checked before conversion: an integer key takes an
  // integral JSON number that fits int64 (3.9 is not truncated, 1e300 is not
  // converted), a number key a finite one.
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
      fail(fmt::format("{} config: key '{}' must be an integer, got {}", where, key, json_excerpt(v)));
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      fail(fmt::format("{} config: key '{}' must be a finite number, got {}", where, key, json_excerpt(v)));
  }
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    fail(fmt::format("{} config: key '{}' has the wrong type (value {})", where, key, json_excerpt(j.at(key))));
  }
}

template <class T>
T get_or(const json& j, const char* where, const std::string& key, T fallback) {
  return j.contains(key) && !j.at(key).is_null() ? get_key<T>(j, where, key) : fallback;
}

std::optional<int64_t> get_optional_int(const json& j, const char* where, const std::string& key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return get_key<int64_t>(j, where, key);
}

void reject_unknown(const json& j, const char* where, const std::set<std::string>& known) {
  if (!j.is_object()) fail(fmt::format("{} config: expected a JSON object", where));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key()))
      fail(fmt::format("{} config: unknown key {}; valid keys: {}", where, quote_text(it.key()), fmt::join(known, ", ")));
}

// Sizes from a config file (a golden file's metadata): positive and at most
// 2^24, so that sums and products of a few of them (2 * max_positions - 1,
// window + 1, D * N) cannot overflow int64; a size the machine cannot hold
// still fails cleanly at allocation (tensor/checked.h).
constexpr int64_t kMaxModuleSize = int64_t{1} << 24;
void require_positive(const char* where, const char* key, int64_t v) {
  if (v <= 0 || v > kMaxModuleSize)
    fail(fmt::format("{} config: '{}' must be from 1 to {}, got {}", where, key, kMaxModuleSize, v));
}

// Rates and scales from a config file: a dropout probability in [0, 1), a
// temperature scale in (0, 1e6] (the router divides by it).
void require_rates(const char* where, std::initializer_list<std::pair<const char*, double>> rates, double scale) {
  for (auto [key, v] : rates)
    if (!(v >= 0 && v < 1))
      fail(fmt::format("{} config: '{}' must be from 0 to below 1, got {}", where, key, v));
  if (!(scale > 0 && scale <= 1e6))
    fail(fmt::format("{} config: 'init_temp_scale' must be above 0 and at most 1e6, got {}", where, scale));
}

class SimpleRelPosBias : public Module {
 public:
  explicit SimpleRelPosBias(Tensor* w) { register_parameter("rel_pos_bias", w); }
};

}  // namespace

AttnActivation parse_activation(const std::string& s) {
  AttnActivation a;
  if (!kernels::parse_activation(s, a))
    fail(fmt::format("attention_activation {} is not one of: {}", quote_text(s),
                     fmt::join(kernels::kAttnActivationNames, ", ")));
  return a;
}

RelPosType parse_rel_pos(const std::string& s) {
  if (s == "simple") return RelPosType::Simple;
  if (s == "rotary") return RelPosType::Rotary;
  fail(fmt::format("rel_pos_bias {} is not one of: simple, rotary", quote_text(s)));
}

// ---------------------------------------------------------------- MultiHeadEMA

EmaConfig EmaConfig::from_json(const json& j) {
  const char* w = "MultiHeadEMA";
  reject_unknown(j, w, {"embed_dim", "ndim", "bidirectional", "truncation"});
  EmaConfig c;
  c.embed_dim = get_key<int64_t>(j, w, "embed_dim");
  c.ndim = get_or<int64_t>(j, w, "ndim", 2);
  c.bidirectional = get_or<bool>(j, w, "bidirectional", false);
  c.truncation = get_optional_int(j, w, "truncation");
  require_positive(w, "embed_dim", c.embed_dim);
  require_positive(w, "ndim", c.ndim);
  if (c.truncation) require_positive(w, "truncation", *c.truncation);
  return c;
}

MultiHeadEMA::MultiHeadEMA(const EmaConfig& c, DType dt, Generator& gen) : cfg(c) {
  const int64_t K = c.bidirectional ? 2 * c.embed_dim : c.embed_dim, N = c.ndim;
  delta = rand_normal({K, N, 1}, 0.0, 0.2, dt, &gen);
  alpha = rand_normal({K, N, 1}, 0.0, 0.2, dt, &gen);
  // beta ~ N(0, 0.02) + (1, -1, 1, -1, ...) along N.
  beta = rand_normal({K, N, 1}, 0.0, 0.02, dt, &gen);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) beta.set({k, n, 0}, beta.at({k, n, 0}) + (n % 2 == 0 ? 1.0 : -1.0));
  gamma = rand_trunc_normal({K, N}, 0.0, 1.0, -2.0, 2.0, dt, &gen);
  omega = rand_trunc_normal({c.embed_dim}, 0.0, 1.0, -2.0, 2.0, dt, &gen);
  register_parameter("delta", &delta);
  register_parameter("alpha", &alpha);
  register_parameter("beta", &beta);
  register_parameter("gamma", &gamma);
  register_parameter("omega", &omega);
}

Tensor MultiHeadEMA::kernel(int64_t length) const {
  int64_t lk = cfg.truncation ? std::min(*cfg.truncation, length) : length;
  return ema_kernel(delta, alpha, beta, gamma, lk);
}

Tensor MultiHeadEMA::forward(const Tensor& x, const Tensor& padding_mask) const {
  if (x.dim() != 3 || x.size(2) != cfg.embed_dim)
    fail(fmt::format("MultiHeadEMA: input must be (B, L, {}), got {}", cfg.embed_dim, shape_str(x.shape())));
  Tensor y = method == Method::Scan
                 ? ema_conv(x, delta, alpha, beta, gamma, padding_mask, cfg.bidirectional, cfg.truncation.value_or(0))
                 : ssm_conv(x, kernel(x.size(1)), padding_mask, cfg.bidirectional, algo);
  return add(y, mul(x, omega));  // the residual uses the un-zeroed x
}

// ---------------------------------------------------------------- SeqBoatLayer

LayerConfig LayerConfig::from_json(const json& j) {
  const char* w = "SeqBoatLayer";
  reject_unknown(j, w,
                 {"embed_dim", "zdim", "hdim", "ndim", "dropout", "attention_dropout", "hidden_dropout",
                  "attention_activation", "bidirectional", "window_size", "truncation", "norm_type", "prenorm",
                  "norm_affine", "rel_pos_bias", "max_positions", "init_temp_scale", "local_pos"});
  LayerConfig c;
  c.embed_dim = get_key<int64_t>(j, w, "embed_dim");
  c.zdim = get_key<int64_t>(j, w, "zdim");
  c.hdim = get_key<int64_t>(j, w, "hdim");
  c.ndim = get_or<int64_t>(j, w, "ndim", 2);
  c.dropout = get_or<double>(j, w, "dropout", 0.0);
  c.attention_dropout = get_or<double>(j, w, "attention_dropout", 0.0);
  c.hidden_dropout = get_or<double>(j, w, "hidden_dropout", 0.0);
  c.attention_activation = parse_activation(get_or<std::string>(j, w, "attention_activation", "softmax"));
  c.bidirectional = get_or<bool>(j, w, "bidirectional", false);
  c.window_size = get_key<int64_t>(j, w, "window_size");
  c.truncation = get_optional_int(j, w, "truncation");
  c.norm_type = parse_norm_type(get_or<std::string>(j, w, "norm_type", "layernorm"));
  c.prenorm = get_or<bool>(j, w, "prenorm", true);
  c.norm_affine = get_or<bool>(j, w, "norm_affine", true);
  c.rel_pos_bias = parse_rel_pos(get_or<std::string>(j, w, "rel_pos_bias", "simple"));
  c.max_positions = get_or<int64_t>(j, w, "max_positions", 1024);
  c.init_temp_scale = get_or<double>(j, w, "init_temp_scale", 1.0);
  if (get_or<bool>(j, w, "local_pos", false))
    fail("SeqBoatLayer config: local_pos=true is not supported (positions are original ones)");
  for (auto [k, v] : {std::pair{"embed_dim", c.embed_dim},
                      {"zdim", c.zdim},
                      {"hdim", c.hdim},
                      {"ndim", c.ndim},
                      {"max_positions", c.max_positions}})
    require_positive(w, k, v);
  if (c.window_size < 0 || c.window_size > kMaxModuleSize)
    fail(fmt::format("SeqBoatLayer config: 'window_size' must be from 0 to {}", kMaxModuleSize));
  if (c.rel_pos_bias == RelPosType::Rotary && c.zdim % 2) fail("SeqBoatLayer config: rotary needs an even zdim");
  require_rates(
      w, {{"dropout", c.dropout}, {"attention_dropout", c.attention_dropout}, {"hidden_dropout", c.hidden_dropout}},
      c.init_temp_scale);
  return c;
}

LatentConfigurator::LatentConfigurator(int64_t embed_dim, double init_temp_scale, DType dt) {
  temp = full({1}, std::log(init_temp_scale * std::sqrt(static_cast<double>(embed_dim))), dt);
  register_parameter("temp", &temp);
}

SeqBoatLayer::SeqBoatLayer(const LayerConfig& c, DType dt, Generator& gen) : cfg(c) {
  const int64_t D = c.embed_dim, Z = c.zdim, H = c.hdim;
  norm = register_module("norm", std::make_shared<SequenceNorm>(c.norm_type, D, c.norm_affine, dt));
  EmaConfig ec;
  ec.embed_dim = D;
  ec.ndim = c.ndim;
  ec.bidirectional = c.bidirectional;
  ec.truncation = c.truncation;
  ssm = register_module("ssm", std::make_shared<MultiHeadEMA>(ec, dt, gen));
  q_router = register_module("q_router", std::make_shared<LatentConfigurator>(D, c.init_temp_scale, dt));
  mx_proj = register_module("mx_proj", std::make_shared<Linear>(D, Z + 2 * H, true, dt, gen));
  hx_proj = register_module("hx_proj", std::make_shared<Linear>(D, 2 + D, true, dt, gen));
  h_proj = register_module("h_proj", std::make_shared<Linear>(H, D, true, dt, gen));
  gamma = rand_normal({2, Z}, 0.0, 0.02, dt, &gen);
  beta = zeros({2, Z}, dt);
  register_parameter("gamma", &gamma);
  register_parameter("beta", &beta);
  if (c.rel_pos_bias == RelPosType::Simple) {
    rel_pos_w = rand_normal({2 * c.max_positions - 1}, 0.0, 0.02, dt, &gen);
    rel_pos_holder_ = register_module("rel_pos_bias", std::make_shared<SimpleRelPosBias>(&rel_pos_w));
  }
}

// Steps 6-8 on the (compressed) sequence; returns h at original positions.
Tensor SeqBoatLayer::attention_unit(const Tensor& mx, const SmaPlan& plan, DropoutRng& rng, Tensor* kv_out,
                                    Tensor* v_out) {
  const int64_t Z = cfg.zdim, H = cfg.hdim;
  Tensor c = sma_compress(mx, plan);  // (B, S, D)
  std::vector<Tensor> zrv = split(silu(mx_proj->forward(c)), {Z, H, H}, -1);
  const Tensor &z = zrv[0], &r = zrv[1], &v = zrv[2];
  Tensor qv = add(mul(z, narrow(gamma, 0, 0, 1)), narrow(beta, 0, 0, 1));
  Tensor kv = add(mul(z, narrow(gamma, 0, 1, 1)), narrow(beta, 0, 1, 1));
  Tensor bias;
  if (cfg.rel_pos_bias == RelPosType::Rotary) {
    qv = rotary(qv, plan.slot_index);
    kv = rotary(kv, plan.slot_index);
  } else {
    bias = rel_pos_w;
  }
  if (kv_out) *kv_out = kv.detach();
  if (v_out) *v_out = v.detach();
  LocalAttentionOptions opt{cfg.window_size, !cfg.bidirectional, cfg.attention_activation};
  Tensor o = local_attention(qv, kv, v, logical_not(plan.slot_valid), plan.slot_index, bias, opt);
  if (is_training() && cfg.attention_dropout > 0) o = dropout(o, cfg.attention_dropout, true, rng);
  Tensor h = h_proj->forward(mul(o, r));
  if (is_training() && cfg.hidden_dropout > 0) h = dropout(h, cfg.hidden_dropout, true, rng);
  return sma_extract(h, plan);
}

Tensor SeqBoatLayer::forward(const Tensor& input, const Tensor& padding_mask, DropoutRng& rng) {
  const int64_t D = cfg.embed_dim;
  if (input.dim() != 3 || input.size(2) != D)
    fail(fmt::format("SeqBoatLayer: input must be (B, L, {}), got {}", D, shape_str(input.shape())));
  if (padding_mask.defined() && padding_mask.shape() != Shape{input.size(0), input.size(1)})
    fail(fmt::format("SeqBoatLayer: padding mask {} does not match input {}", shape_str(padding_mask.shape()),
                     shape_str(input.shape())));
  // 1. residual and optional prenorm
  Tensor res = input;
  Tensor x = cfg.prenorm ? norm->forward(input) : input;
  // 2. the SSM over every token
  Tensor mx = silu(ssm->forward(x, padding_mask));
  if (is_training() && cfg.dropout > 0) mx = dropout(mx, cfg.dropout, true, rng);
  // 3. [u, hx] = hx_proj(mx)
  std::vector<Tensor> uhx = split(hx_proj->forward(mx), {2, D}, -1);
  // 4. the router (Sparse Modular Activation)
  RouterOutput route = sma_router(uhx[0], q_router->temp, padding_mask);
  // 5. compress the active tokens (or not), 6-8 attention, scatter back
  SmaPlan plan = sma_plan(route.active, is_training() ? batch_max_active : std::function<int64_t(int64_t)>());
  Tensor h, kv, v;
  if (plan.slots == 0) h = zeros(input.shape(), input.dtype(), input.device());
  else h = attention_unit(mx, plan, rng, capture ? &kv : nullptr, capture ? &v : nullptr);
  if (capture) capture_layer_state(*this, x, kv, v, plan, *capture);
  h = mul(h, unsqueeze(route.gate, -1));
  last_route = RouteInfo{route.prob, route.active, route.gate.detach(), plan};
  // 9. output
  Tensor y;
  if (cfg.bidirectional) {
    y = silu(add(add(uhx[1], h), res));
  } else {
    Tensor hh = add(uhx[1], h);
    if (is_training() && cfg.dropout > 0) hh = dropout(hh, cfg.dropout, true, rng);
    y = silu(add(hh, res));
  }
  return cfg.prenorm ? y : norm->forward(y);
}

// ---------------------------------------------------------------- models

ModelConfig ModelConfig::from_json(const json& j) {
  const char* w = "SeqBoatModel";
  reject_unknown(j, w,
                 {"d_input", "d_model", "d_output", "n_layers", "dropout", "prenorm", "max_positions", "d_qk", "d_ema",
                  "mem_size", "bidirectional", "init_temp_scale", "norm_type", "rel_pos_bias", "attention_activation",
                  "truncation", "vocab_size", "embed_std", "real_input_init", "positions", "embedding_dropout",
                  "classifier_hidden", "pair"});
  ModelConfig c;
  c.vocab_size = get_or<int64_t>(j, w, "vocab_size", 0);
  c.d_input = c.vocab_size > 0 ? get_or<int64_t>(j, w, "d_input", 0) : get_key<int64_t>(j, w, "d_input");
  c.d_model = get_key<int64_t>(j, w, "d_model");
  c.d_output = get_or<int64_t>(j, w, "d_output", 0);
  c.n_layers = get_key<int64_t>(j, w, "n_layers");
  c.dropout = get_or<double>(j, w, "dropout", 0.0);
  c.prenorm = get_or<bool>(j, w, "prenorm", true);
  c.max_positions = get_or<int64_t>(j, w, "max_positions", 1024);
  c.d_qk = get_key<int64_t>(j, w, "d_qk");
  c.d_ema = get_or<int64_t>(j, w, "d_ema", 2);
  c.mem_size = get_key<int64_t>(j, w, "mem_size");
  c.bidirectional = get_or<bool>(j, w, "bidirectional", false);
  c.init_temp_scale = get_or<double>(j, w, "init_temp_scale", 1.0);
  c.norm_type = parse_norm_type(get_or<std::string>(j, w, "norm_type", "layernorm"));
  c.rel_pos_bias = parse_rel_pos(get_or<std::string>(j, w, "rel_pos_bias", "simple"));
  c.attention_activation = parse_activation(get_or<std::string>(j, w, "attention_activation", "softmax"));
  c.truncation = get_optional_int(j, w, "truncation");
  c.embed_std = get_or<double>(j, w, "embed_std", 0.02);
  c.real_input_init = get_or<bool>(j, w, "real_input_init", false);
  c.positions = get_or<bool>(j, w, "positions", false);
  c.embedding_dropout = get_or<bool>(j, w, "embedding_dropout", false);
  c.classifier_hidden = get_or<int64_t>(j, w, "classifier_hidden", 0);
  c.pair = get_or<bool>(j, w, "pair", false);
  if (c.classifier_hidden < 0 || c.classifier_hidden > kMaxModuleSize)
    fail(fmt::format("{} config: 'classifier_hidden' must be from 0 to {}", w, kMaxModuleSize));
  if (!(c.embed_std > 0 && c.embed_std <= 100))
    fail(fmt::format("{} config: 'embed_std' must be in (0, 100]", w));
  require_positive(w, "d_model", c.d_model);
  require_positive(w, "n_layers", c.n_layers);
  require_positive(w, "d_qk", c.d_qk);
  require_positive(w, "d_ema", c.d_ema);
  require_positive(w, "max_positions", c.max_positions);
  if (c.truncation) require_positive(w, "truncation", *c.truncation);
  for (auto [k, v] : {std::pair{"d_input", c.d_input},
                      {"d_output", c.d_output},
                      {"vocab_size", c.vocab_size},
                      {"mem_size", c.mem_size}})
    if (v < 0 || v > kMaxModuleSize)
      fail(fmt::format("{} config: '{}' must be from 0 to {}, got {}", w, k, kMaxModuleSize, v));
  require_rates(w, {{"dropout", c.dropout}}, c.init_temp_scale);
  return c;
}

LayerConfig ModelConfig::layer_config() const {
  LayerConfig l;
  l.embed_dim = d_model;
  l.zdim = d_qk;
  l.hdim = 2 * d_model;
  l.ndim = d_ema;
  l.dropout = dropout;
  l.attention_activation = attention_activation;
  l.bidirectional = bidirectional;
  l.window_size = mem_size;
  l.truncation = truncation;
  l.norm_type = norm_type;
  l.prenorm = prenorm;
  l.rel_pos_bias = rel_pos_bias;
  l.max_positions = max_positions;
  l.init_temp_scale = init_temp_scale;
  return l;
}

SeqBoatModel::SeqBoatModel(const ModelConfig& c, DType dt, Generator& gen) : cfg(c) {
  if (c.d_output <= 0) fail("SeqBoatModel config: 'd_output' must be positive");
  if (c.vocab_size > 0) {
    embed = register_module("encoder", std::make_shared<Embedding>(c.vocab_size, c.d_model, dt, gen, c.embed_std));
  } else {
    encoder = register_module("encoder", std::make_shared<Linear>(c.d_input, c.d_model, true, dt, gen));
    if (c.real_input_init) {  // the reference's RealNumberEmbedding: x * w + b for a scalar x
      encoder->weight = rand_normal({c.d_model, c.d_input}, 0.0, 1.0, dt, &gen);
      encoder->bias = rand_normal({c.d_model}, 0.0, 0.1, dt, &gen);
    }
  }
  if (c.positions) pos_emb = register_module("pos_emb", std::make_shared<ScaledSinusoidal>(c.d_model, dt));
  LayerConfig lc = c.layer_config();
  for (int64_t i = 0; i < c.n_layers; ++i)
    seq_layers.push_back(register_module(fmt::format("seq_layers.{}", i), std::make_shared<SeqBoatLayer>(lc, dt, gen)));
  if (c.prenorm)
    final_norm = register_module("final_norm", std::make_shared<SequenceNorm>(c.norm_type, c.d_model, true, dt));
  const int64_t in = c.pair ? 4 * c.d_model : c.d_model;
  if (c.classifier_hidden > 0) {
    classifier = register_module("classifier", std::make_shared<Linear>(in, c.classifier_hidden, true, dt, gen));
    projection = register_module("projection", std::make_shared<Linear>(c.classifier_hidden, c.d_output, false, dt, gen));
  } else {
    decoder = register_module("decoder", std::make_shared<Linear>(in, c.d_output, true, dt, gen));
  }
}

Tensor SeqBoatModel::encode(const Tensor& x, const Tensor& padding_mask, DropoutRng& rng) {
  Tensor h = embed ? embed->forward(x) : encoder->forward(x);
  if (pos_emb) h = pos_emb->forward(h);
  if (cfg.embedding_dropout && is_training() && cfg.dropout > 0) h = dropout(h, cfg.dropout, true, rng);
  for (auto& layer : seq_layers) h = layer->forward(h, padding_mask, rng);
  if (final_norm) h = final_norm->forward(h);
  // Mean over real tokens: padded positions are excluded from the pool.
  if (!padding_mask.defined()) return mean(h, {1});
  Tensor keep = cast(logical_not(padding_mask), h.dtype());  // (B, L)
  Tensor count = sum(keep, {1}, true);                       // (B, 1)
  return div(sum(mul(h, unsqueeze(keep, -1)), {1}), count);
}

Tensor SeqBoatModel::head(const Tensor& features) const {
  if (decoder) return decoder->forward(features);
  return projection->forward(gelu_tanh(classifier->forward(features)));
}

Tensor SeqBoatModel::forward(const Tensor& x, const Tensor& padding_mask, DropoutRng& rng) {
  if (cfg.pair) fail("SeqBoatModel: a pair model is run with forward_pair");
  return head(encode(x, padding_mask, rng));
}

Tensor SeqBoatModel::forward_pair(const Tensor& x, const Tensor& padding_mask, DropoutRng& rng) {
  if (!cfg.pair) fail("SeqBoatModel: forward_pair needs a pair model (cfg.pair)");
  if (x.size(0) % 2) fail(fmt::format("SeqBoatModel: forward_pair needs an even number of rows, got {}", x.size(0)));
  const int64_t B = x.size(0) / 2;
  Tensor pooled = encode(x, padding_mask, rng);
  return head(pair_features(narrow(pooled, 0, 0, B), narrow(pooled, 0, B, B)));
}

SeqBoatLM::SeqBoatLM(const ModelConfig& c, DType dt, Generator& gen) : cfg(c) {
  if (c.vocab_size <= 0) fail("SeqBoatLM config: 'vocab_size' must be positive");
  if (c.bidirectional) fail("SeqBoatLM config: a language model must be causal (bidirectional=false)");
  embed = register_module("embed", std::make_shared<Embedding>(c.vocab_size, c.d_model, dt, gen, c.embed_std));
  LayerConfig lc = c.layer_config();
  for (int64_t i = 0; i < c.n_layers; ++i)
    seq_layers.push_back(register_module(fmt::format("seq_layers.{}", i), std::make_shared<SeqBoatLayer>(lc, dt, gen)));
  final_norm = register_module("final_norm", std::make_shared<SequenceNorm>(c.norm_type, c.d_model, true, dt));
  head = register_module("head", std::make_shared<Linear>(c.d_model, c.vocab_size, true, dt, gen));
}

Tensor SeqBoatLM::forward(const Tensor& tokens, DropoutRng& rng) {
  Tensor h = embed->forward(tokens);
  for (auto& layer : seq_layers) h = layer->forward(h, Tensor(), rng);
  return head->forward(final_norm->forward(h));
}

}  // namespace seqboat::nn
