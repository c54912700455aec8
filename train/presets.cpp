// train/presets.cpp: the preset table. Each value comes from the official
// SeqBoat repository's scripts (experiment/run_*.sh and
// examples/seqboat/README.{lra,sc,lm}.md: layers, chunk size, optimizer,
// learning rate and schedule, batch, weight decay, dropout, norm, attention
// function, router temperature, positions) and its architecture defaults
// (fairseq/models/lra/model.py, speech_commands/model.py, seqboat_lm.py:
// widths, z, n, truncation, max positions, classifier width). Shared by all:
// bidirectional layers (the LM: causal), hdim = 2 x d_model (every official
// configuration has it), mean pooling over real tokens, Adam betas (0.9,
// 0.98), eps 1e-8, linear decay to 0 after linear warmup.
#include "train/presets.h"

#include <fmt/format.h>

#include <cmath>

#include "tensor/safe_text.h"
#include "tensor/tensor.h"
#include "train/config.h"

namespace seqboat::train {

using nlohmann::json;

namespace {

// Deviations every classification preset shares.
const char* kWeightDecay =
    "weight decay applies to matrices only (seqboat's AdamW rule); fairseq's Adam decays every parameter";
const char* kWarmup =
    "warmup rises linearly from lr / warmup_steps (fairseq: from 1e-7, a negligible difference)";
const char* kGelu = "the classifier's GELU is the tanh form (fairseq: erf; they differ by less than 1e-3)";
const char* kPadding =
    "padded positions are not zeroed after the embedding (the EMA zeroes them and pooling skips them; batch norm "
    "statistics see them, as in the official code)";

json common(double lr, double wd, int64_t batch, int64_t steps, int64_t warmup) {
  return {{"optimizer", "adamw"},     {"lr", lr},           {"beta1", 0.9},         {"beta2", 0.98},
          {"weight_decay", wd},       {"batch_size", batch}, {"steps", steps},      {"warmup_steps", warmup},
          {"decay", "linear"},        {"min_lr_ratio", 0.0}, {"clip_norm", 1.0},    {"model.bidirectional", true},
          {"model.d_ema", 16},        {"eval_every", 5000},  {"log_every", 100}};
}

json merge(json a, const json& b) {
  for (auto it = b.begin(); it != b.end(); ++it) a[it.key()] = it.value();
  return a;
}

std::vector<Preset> make_presets() {
  std::vector<Preset> p;
  p.push_back({"lra-listops", "listops", "lra_release/listops-1000 (basic_{train,val,test}.tsv); without data.dir: "
               "generated with LRA's distribution",
               "experiment/run_lra_listop.sh, architecture slag_lra_listop",
               merge(common(0.004, 0.001, 64, 90000, 27000),
                     {{"model.n_layers", 6}, {"model.d_model", 80}, {"model.d_qk", 64}, {"model.mem_size", 128},
                      {"model.norm_type", "layernorm"}, {"model.prenorm", false}, {"model.attention_activation", "softmax"},
                      {"model.init_temp_scale", 0.3}, {"model.dropout", 0.1}, {"model.embedding_dropout", true},
                      {"model.truncation", 1024}, {"model.max_positions", 2002}, {"model.classifier_hidden", 160},
                      {"model.embed_std", 1 / std::sqrt(80.0)}, {"listops.distribution", "lra"},
                      {"listops.n_train", 96000}, {"listops.shuffle_args", false}, {"threads", 2}}),
               {kWeightDecay, kWarmup, kGelu, kPadding}});
  p.push_back({"lra-text", "text", "aclImdb (the IMDB release; LRA reads it from tfds)",
               "experiment/run_lra_text.sh, architecture slag_lra_imdb",
               merge(common(0.004, 0.01, 50, 25000, 10000),
                     {{"model.n_layers", 4}, {"model.d_model", 128}, {"model.d_qk", 64}, {"model.mem_size", 128},
                      {"model.norm_type", "scalenorm"}, {"model.prenorm", false}, {"model.attention_activation", "softmax"},
                      {"model.init_temp_scale", 0.3}, {"model.dropout", 0.1}, {"model.embedding_dropout", true},
                      {"model.truncation", 1024}, {"model.max_positions", 4002}, {"model.classifier_hidden", 256},
                      {"model.embed_std", 1 / std::sqrt(128.0)}, {"text.max_length", 4000}}),
               {"--local-pos (a relative-position bias indexed within the local attention blocks) is not implemented: "
                "the bias uses original positions",
                "validation is 10% of aclImdb/train held out by the seed (LRA validates on the test set)",
                "bytes are the tokens (vocabulary 256); LRA's byte vocabulary adds a few special ids",
                kWeightDecay, kWarmup, kGelu, kPadding}});
  p.push_back({"lra-retrieval", "retrieval", "lra_release/tsv_data (new_aan_pairs.{train,eval,test}.tsv)",
               "experiment/run_lra_aan.sh, architecture slag_lra_aan",
               merge(common(0.003, 0.04, 64, 91960, 10000),
                     {{"model.n_layers", 6}, {"model.d_model", 128}, {"model.d_qk", 64}, {"model.mem_size", 128},
                      {"model.norm_type", "scalenorm"}, {"model.prenorm", false}, {"model.attention_activation", "softmax"},
                      {"model.init_temp_scale", 0.3}, {"model.dropout", 0.1}, {"model.embedding_dropout", true},
                      {"model.truncation", 1024}, {"model.max_positions", 4002}, {"model.classifier_hidden", 256},
                      {"model.embed_std", 1 / std::sqrt(128.0)}, {"text.max_length", 4000}}),
               {"batch 64 in one step: the official 8 per GPU x update-freq 8 (gradient accumulation), which is the same "
                "gradient for every part but nothing of this model depends on batch statistics",
                "bytes are the tokens (vocabulary 256)", kWeightDecay, kWarmup, kGelu, kPadding}});
  p.push_back({"lra-image", "image", "cifar-10-batches-bin (CIFAR-10 binary version)",
               "experiment/run_lra_image.sh, architecture slag_lra_cifar10",
               merge(common(0.01, 0.02, 50, 180000, 9000),
                     {{"model.n_layers", 8}, {"model.d_model", 160}, {"model.d_qk", 96}, {"model.mem_size", 128},
                      {"model.norm_type", "batchnorm"}, {"model.prenorm", true}, {"model.attention_activation", "relu2"},
                      {"model.init_temp_scale", 0.4}, {"model.dropout", 0.0}, {"model.positions", "sinusoidal"},
                      {"model.truncation", 1024}, {"model.max_positions", 1024}, {"model.classifier_hidden", 320},
                      {"image.pixel_mean", 0.48}, {"image.pixel_std", 0.24}, {"data.val_fraction", 0.1}}),
               {"validation: 5000 training images chosen by the run seed (official: torch random_split with seed 42, "
                "which needs PyTorch's generator)",
                "gray = Pillow's integer luma of the binary release's RGB bytes, the official data's conversion; the "
                "official text files also round pixel / 255 * 255 through float32",
                kWeightDecay, kWarmup, kGelu}});
  p.push_back({"lra-pathfinder", "pathfinder", "lra_release/pathfinder32 (difficulty curv_contour_length_14)",
               "experiment/run_lra_path.sh, architecture slag_lra_pf32",
               merge(common(0.01, 0.01, 128, 250000, 50000),
                     {{"model.n_layers", 6}, {"model.d_model", 128}, {"model.d_qk", 64}, {"model.mem_size", 128},
                      {"model.norm_type", "batchnorm"}, {"model.prenorm", true}, {"model.attention_activation", "relu2"},
                      {"model.init_temp_scale", 1.0}, {"model.dropout", 0.0}, {"model.positions", "sinusoidal"},
                      {"model.truncation", 1024}, {"model.max_positions", 1024}, {"model.classifier_hidden", 256},
                      {"image.pixel_mean", 0.5}, {"image.pixel_std", 0.5}, {"pathfinder.difficulty", "curv_contour_length_14"}}),
               {"the 80/10/10 split is a permutation from the run seed (official: torch random_split with seed 42)",
                kWeightDecay, kWarmup, kGelu}});
  p.push_back({"lra-pathx", "pathfinder", "lra_release/pathfinder128 (difficulty curv_contour_length_14)",
               "experiment/run_lra_pathx.sh, architecture slag_lra_pf128_base",
               merge(common(0.01, 0.01, 128, 125000, 25000),
                     {{"model.n_layers", 4}, {"model.d_model", 128}, {"model.d_qk", 64}, {"model.mem_size", 256},
                      {"model.norm_type", "batchnorm"}, {"model.prenorm", true}, {"model.attention_activation", "relu2"},
                      {"model.init_temp_scale", 1.0}, {"model.dropout", 0.0}, {"model.positions", "sinusoidal"},
                      {"model.truncation", 16384}, {"model.max_positions", 16384}, {"model.classifier_hidden", 256},
                      {"image.pixel_mean", 0.5}, {"image.pixel_std", 0.5}, {"pathfinder.difficulty", "curv_contour_length_14"}}),
               {"4 layers, as experiment/run_lra_pathx.sh (the repository's README.lra.md later says 6)",
                "batch 128 in one step on one device: the official 2 per GPU x update-freq 8 x 8 GPUs with synchronised "
                "batch norm; here batch norm sees all 128 at once",
                "the warmup is linear (official: --warmup-power 2)",
                "the 80/10/10 split is a permutation from the run seed", kWeightDecay, kGelu}});
  p.push_back({"sc10", "speech", "speech_commands_v0.02 (the Speech Commands v0.02 release)",
               "experiment/run_sc.sh, architecture slag_sc_raw_base",
               merge(common(0.01, 0.01, 20, 250000, 10000),
                     {{"model.n_layers", 8}, {"model.d_model", 60}, {"model.d_qk", 30}, {"model.mem_size", 128},
                      {"model.norm_type", "batchnorm"}, {"model.prenorm", true}, {"model.attention_activation", "relu2"},
                      {"model.init_temp_scale", 1.0}, {"model.dropout", 0.0}, {"model.positions", "sinusoidal"},
                      {"model.truncation", 4000}, {"model.max_positions", 16000}, {"model.classifier_hidden", 120},
                      {"speech.short_clips", "drop"}, {"speech.split", "random"}}),
               {"--local-pos is not implemented: the relative-position bias uses original positions",
                "the 70/15/15 split is stratified per class from the run seed (official: sklearn train_test_split, "
                "random states 0 and 1)",
                "input mean and std from speech.norm_clips training clips (official: all training clips)", kWeightDecay,
                kWarmup, kGelu}});
  p.push_back({"enwik8", "enwik8", "the folder holding the file enwik8 (the 10^8-byte release)",
               "examples/seqboat/README.lm.md, architecture slag_lm_enwik8_base_v2",
               {{"optimizer", "radam"}, {"lr", 0.005}, {"beta1", 0.9}, {"beta2", 0.98}, {"weight_decay", 0.1},
                {"batch_size", 8}, {"steps", 400000}, {"warmup_steps", 24000}, {"decay", "linear"}, {"min_lr_ratio", 0.0},
                {"clip_norm", 0.25}, {"model.n_layers", 14}, {"model.d_model", 616}, {"model.d_qk", 128},
                {"model.d_ema", 16}, {"model.mem_size", 1024}, {"model.norm_type", "layernorm"}, {"model.prenorm", true},
                {"model.attention_activation", "softmax"}, {"model.rel_pos_bias", "rotary"}, {"model.init_temp_scale", 1.0},
                {"model.dropout", 0.15}, {"model.truncation", 2048}, {"model.max_positions", 8192},
                {"model.embed_std", 1 / std::sqrt(616.0)}, {"lm.seq_len", 8192}, {"lm.eval_windows", 0},
                {"eval_every", 5000}, {"log_every", 100}},
               {"batch 8 sequences of 8192 bytes in one step: the official 1 per GPU on 8 GPUs",
                "input and output embeddings are not tied (official: --share-decoder-input-output-embed), the "
                "embedding is not scaled by sqrt(d_model), and the final norm is affine (official: "
                "--no-affine-final-norm)",
                "the warmup rises from lr / warmup_steps (official: from 2e-3 to 5e-3)",
                "evaluation runs the split in consecutive 8192-byte windows, each from an empty history (official: "
                "fairseq-eval-lm with --context-window 7000)",
                "weight decay applies to matrices only (fairseq's RAdam decays every parameter)"}});
  return p;
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> p = make_presets();
  return p;
}

const Preset* find_preset(const std::string& name) {
  for (const Preset& p : presets())
    if (p.name == name) return &p;
  return nullptr;
}

std::string preset_names() {
  std::string out;
  for (const Preset& p : presets()) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

json resolve_preset_config(const std::string& name, const std::string& config_file,
                           const std::vector<std::string>& overrides) {
  const Preset* p = find_preset(name);
  if (!p) throw UsageError(fmt::format("unknown preset {}; valid presets: {}", quote_text(name), preset_names()));
  return resolve_config(p->task, config_file, overrides, p->values);
}

std::string preset_help(const std::string& name, const json& resolved) {
  const Preset* p = find_preset(name);
  if (!p) throw UsageError(fmt::format("unknown preset {}; valid presets: {}", quote_text(name), preset_names()));
  std::string out = fmt::format("preset {} (task {}): {}\n  data.dir: {}\n  deviations from the official configuration:\n",
                                p->name, p->task, p->source, p->released);
  for (const std::string& d : p->deviations) out += fmt::format("    - {}\n", d);
  out += "resolved configuration (preset, then --config, then --set):\n";
  for (auto it = resolved.begin(); it != resolved.end(); ++it) {
    std::string mark;
    if (p->values.contains(it.key()))
      mark = p->values.at(it.key()) == it.value() ? "  (preset)" : fmt::format("  (preset: {}, overridden)", p->values.at(it.key()).dump());
    out += fmt::format("  {:<26} {}{}\n", it.key(), it.value().dump(), mark);
  }
  return out;
}

}  // namespace seqboat::train
