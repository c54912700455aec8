// nn/seqboat.h: the SeqBoat modules (docs/semantics.md sections 1, 3, 4):
// MultiHeadEMA (the SSM), LatentConfigurator (the SMA router), SeqBoatLayer,
// SeqBoatModel (classifier) and SeqBoatLM (byte/token language model).
// Parameter names are the reference's, so PyTorch state dicts load as they are.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "nn/layers.h"
#include "nn/task_heads.h"
#include "ops/attention.h"
#include "ops/ema_scan.h"
#include "ops/sma.h"
#include "ops/ssm.h"

namespace seqboat::nn {

struct EmaConfig {
  int64_t embed_dim = 0;
  int64_t ndim = 2;
  bool bidirectional = false;
  std::optional<int64_t> truncation;
  static EmaConfig from_json(const nlohmann::json& j);
};

// y = conv(x with padding zeroed, the EMA kernel) + omega * x, computed by
// ema_conv (N recurrences per channel) or, with method = Kernel, as
// ssm_conv(x, ema_kernel(...)) with ssm_conv's algorithm `algo`: the same
// numbers to rounding.
class MultiHeadEMA : public Module {
 public:
  MultiHeadEMA(const EmaConfig& cfg, DType dt, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& padding_mask) const;
  Tensor kernel(int64_t length) const;  // (K, Lk)
  EmaConfig cfg;
  Tensor delta, alpha, beta, gamma, omega;
  enum class Method { Scan, Kernel };
  Method method = Method::Scan;
  ConvAlgo algo = ConvAlgo::Auto;  // for Method::Kernel
};

enum class RelPosType { Simple, Rotary };

struct LayerConfig {
  int64_t embed_dim = 0, zdim = 0, hdim = 0, ndim = 2;
  double dropout = 0, attention_dropout = 0, hidden_dropout = 0;
  AttnActivation attention_activation = AttnActivation::Softmax;
  bool bidirectional = false;
  int64_t window_size = 0;
  std::optional<int64_t> truncation;
  NormType norm_type = NormType::LayerNorm;
  bool prenorm = true;
  bool norm_affine = true;
  RelPosType rel_pos_bias = RelPosType::Simple;
  int64_t max_positions = 1024;
  double init_temp_scale = 1.0;
  static LayerConfig from_json(const nlohmann::json& j);
};

// The router's parameter: tau = exp(temp), P = softmax(u / tau).
class LatentConfigurator : public Module {
 public:
  LatentConfigurator(int64_t embed_dim, double init_temp_scale, DType dt);
  Tensor temp;
};

// What a layer's router decided in its last forward (for inspection).
struct RouteInfo {
  Tensor prob;    // (B, L) max(P0, P1)
  Tensor active;  // (B, L) UInt8
  Tensor gate;    // (B, L) P1 at active tokens, 0 elsewhere
  SmaPlan plan;
};

struct LayerCache;  // nn/decoding.h

class SeqBoatLayer : public Module {
 public:
  SeqBoatLayer(const LayerConfig& cfg, DType dt, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& padding_mask, DropoutRng& dropout);
  LayerConfig cfg;
  std::shared_ptr<SequenceNorm> norm;
  std::shared_ptr<MultiHeadEMA> ssm;
  std::shared_ptr<LatentConfigurator> q_router;
  std::shared_ptr<Linear> mx_proj, hx_proj, h_proj;
  Tensor gamma, beta;  // (2, Z)
  Tensor rel_pos_w;    // rel_pos_bias.rel_pos_bias (2M - 1), simple bias only
  RouteInfo last_route;
  // While set (nn/decoding.h), forward (on one row) leaves its decoding state here.
  LayerCache* capture = nullptr;
  // Data-parallel training (train/data_parallel.h): this process holds some
  // rows of the batch, and the SMA plan depends on all of them (ops/sma.h).
  // When set, returns the maximum of a value over every rank (a collective);
  // used in training mode only, where every rank runs the same forward.
  std::function<int64_t(int64_t)> batch_max_active;

 private:
  // kv_out, v_out (when not null) receive the keys and values of the slots.
  Tensor attention_unit(const Tensor& mx, const SmaPlan& plan, DropoutRng& dropout, Tensor* kv_out = nullptr,
                        Tensor* v_out = nullptr);
  std::shared_ptr<Module> rel_pos_holder_;
};

struct ModelConfig {
  int64_t d_input = 0, d_model = 0, d_output = 0, n_layers = 1;
  double dropout = 0;
  bool prenorm = true;
  int64_t max_positions = 1024, d_qk = 0, d_ema = 2, mem_size = 0;
  bool bidirectional = false;
  double init_temp_scale = 1.0;
  NormType norm_type = NormType::LayerNorm;
  RelPosType rel_pos_bias = RelPosType::Simple;
  AttnActivation attention_activation = AttnActivation::Softmax;
  std::optional<int64_t> truncation;
  int64_t vocab_size = 0;  // > 0: the input is token ids through an embedding (classifier on tokens / LM)
  // The task configurations' extras (SeqBoatModel only; defaults = the plain model):
  double embed_std = 0.02;          // token embedding init N(0, embed_std^2)
  bool real_input_init = false;     // continuous input: encoder weight ~ N(0, 1), bias ~ N(0, 0.1^2)
  bool positions = false;           // add ScaledSinusoidal positions after the encoder
  bool embedding_dropout = false;   // dropout (rate `dropout`) on the embedded input
  int64_t classifier_hidden = 0;    // > 0: Linear(-> hidden), GELU, Linear(-> classes, no bias)
  bool pair = false;                // the head reads pair_features of two pooled vectors (4 D inputs)
  static ModelConfig from_json(const nlohmann::json& j);
  LayerConfig layer_config() const;
};

// Classifier: encoder (Linear on features, or an embedding on token ids),
// optional positions and embedding dropout, layers, final_norm (prenorm
// only), mean over real tokens, then the head: decoder (one Linear), or
// classifier + GELU + projection when classifier_hidden > 0.
class SeqBoatModel : public Module {
 public:
  SeqBoatModel(const ModelConfig& cfg, DType dt, Generator& gen);
  // x: (B, L, d_input) features, or (B, L) Int64 token ids when vocab_size > 0.
  Tensor forward(const Tensor& x, const Tensor& padding_mask, DropoutRng& dropout);
  // The pooled (B, D) representation, before the head.
  Tensor encode(const Tensor& x, const Tensor& padding_mask, DropoutRng& dropout);
  // cfg.pair: x holds 2B sequences, the first documents in rows 0..B-1 and
  // the second in rows B..2B-1; logits (B, classes) of pair_features(u, v).
  Tensor forward_pair(const Tensor& x, const Tensor& padding_mask, DropoutRng& dropout);
  Tensor head(const Tensor& features) const;
  ModelConfig cfg;
  std::shared_ptr<Linear> encoder, decoder, classifier, projection;
  std::shared_ptr<ScaledSinusoidal> pos_emb;
  std::shared_ptr<Embedding> embed;
  std::vector<std::shared_ptr<SeqBoatLayer>> seq_layers;
  std::shared_ptr<SequenceNorm> final_norm;
};

// Causal LM: embedding, causal layers, final norm, vocabulary head.
class SeqBoatLM : public Module {
 public:
  SeqBoatLM(const ModelConfig& cfg, DType dt, Generator& gen);
  Tensor forward(const Tensor& tokens, DropoutRng& dropout);  // (B, L) -> logits (B, L, V)
  ModelConfig cfg;
  std::shared_ptr<Embedding> embed;
  std::vector<std::shared_ptr<SeqBoatLayer>> seq_layers;
  std::shared_ptr<SequenceNorm> final_norm;
  std::shared_ptr<Linear> head;
};

AttnActivation parse_activation(const std::string& s);
RelPosType parse_rel_pos(const std::string& s);

}  // namespace seqboat::nn
