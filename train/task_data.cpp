// train/task_data.cpp: batching, split permutations and evaluation shared by
// the classification tasks, and load_task_data (see task_data.h).
#include "train/task_data.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/autograd.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tensor/random.h"

namespace seqboat::train {

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  Tensor hits = eq(argmax(logits.detach(), -1), labels.to(logits.device()));
  return static_cast<int64_t>(sum(cast(hits, DType::Float64)).item());
}

std::vector<size_t> seeded_permutation(size_t n, uint64_t seed) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  Generator g(seed);
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[g.next_below(i)]);
  return p;
}

Batch make_batch(InputKind kind, std::vector<Sample>& samples) {
  const int64_t B = static_cast<int64_t>(samples.size());
  // Rows: the documents in batch order (a pair task: all first documents, then all second ones).
  std::vector<const std::vector<int32_t>*> rows;
  std::vector<const std::vector<float>*> value_rows;
  for (auto& s : samples) {
    if (kind == InputKind::Values) value_rows.push_back(&s.values);
    else rows.push_back(&s.tokens);
  }
  if (kind == InputKind::Pair)
    for (auto& s : samples) rows.push_back(&s.tokens2);
  const int64_t R = kind == InputKind::Values ? static_cast<int64_t>(value_rows.size()) : static_cast<int64_t>(rows.size());
  int64_t L = 1;
  for (int64_t r = 0; r < R; ++r)
    L = std::max<int64_t>(L, static_cast<int64_t>(kind == InputKind::Values ? value_rows[r]->size() : rows[r]->size()));
  Batch b;
  std::vector<uint8_t> padding(static_cast<size_t>(R * L), 1);
  std::vector<int64_t> labels(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) labels[i] = samples[i].label;
  // Row r's elements at [r, 0, len), the rest 0 and marked as padding.
  auto pad_rows = [&](const auto& rows_of, auto zero) {
    std::vector<decltype(zero)> out(static_cast<size_t>(R * L), zero);
    for (int64_t r = 0; r < R; ++r) {
      const auto& v = *rows_of[r];
      for (size_t t = 0; t < v.size(); ++t) {
        out[r * L + static_cast<int64_t>(t)] = v[t];
        padding[r * L + static_cast<int64_t>(t)] = 0;
      }
      b.real_tokens += static_cast<int64_t>(v.size());
    }
    return out;
  };
  if (kind == InputKind::Values) b.values = from_vector(pad_rows(value_rows, 0.0), {R, L, 1}, DType::Float32);
  else b.tokens = from_vector_i64(pad_rows(rows, int64_t{0}), {R, L});
  b.padding = from_vector_u8(padding, {R, L});
  b.labels = from_vector_i64(labels, {B});
  b.pair = kind == InputKind::Pair;
  return b;
}

namespace {

std::vector<bool> host_flags(const Tensor& t) {
  std::vector<bool> out;
  if (!t.defined()) return out;
  for (double v : t.to_vector()) out.push_back(v != 0);
  return out;
}

}  // namespace

EvalResult run_eval(Task& task, const std::string& split, const std::function<bool(Batch&)>& next) {
  NoGradGuard no_grad;
  nn::Module& m = task.model();
  bool was_training = m.is_training();
  m.eval();
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  DropoutRng unused;
  Batch b;
  std::vector<nn::SeqBoatLayer*> layers = task.layers();
  const int window = layers.empty() ? 0 : static_cast<int>(layers[0]->cfg.window_size);
  const bool causal = layers.empty() ? false : !layers[0]->cfg.bidirectional;
  RoutingStats routing(window, causal);
  while (next(b)) {
    int64_t c = 0, n = 0;
    Tensor l = task.loss(b, unused, &c, &n);
    loss_sum += l.item() * static_cast<double>(n);
    correct += c;
    r.examples += n;
    const std::vector<bool> pad = host_flags(b.padding);
    for (size_t li = 0; li < layers.size(); ++li) {
      const Tensor& a = layers[li]->last_route.active;
      if (!a.defined() || a.dim() != 2) continue;
      const std::vector<bool> act = host_flags(a);
      const int64_t rows = a.size(0), len = a.size(1);
      for (int64_t row = 0; row < rows; ++row) {
        std::vector<bool> real;
        for (int64_t t = 0; t < len; ++t)
          if (pad.empty() || !pad[static_cast<size_t>(row * len + t)]) real.push_back(act[static_cast<size_t>(row * len + t)]);
        routing.add(li, real);
      }
    }
  }
  m.train(was_training);
  // No examples would be a loss and accuracy of 0 that look like results.
  if (r.examples == 0) throw std::runtime_error(fmt::format("evaluation: the {} split has no examples", split));
  r.loss = loss_sum / static_cast<double>(r.examples);
  r.accuracy = static_cast<double>(correct) / static_cast<double>(r.examples);
  r.routing = routing.layer_stats();
  return r;
}

TaskData load_task_data(const nlohmann::json& cfg, const std::string& out_dir, Splits splits) {
  const std::string task = cfg.at("task");
  if (task == "text") return load_text_data(cfg, splits);
  if (task == "retrieval") return load_retrieval_data(cfg, splits);
  if (task == "image") return load_image_data(cfg, splits);
  if (task == "pathfinder") return load_pathfinder_data(cfg, splits);
  if (task == "speech") return load_speech_data(cfg, splits);
  if (task == "listops") return load_listops_data(cfg, out_dir, splits);
  ClassificationData d = load_classification_data(cfg, out_dir, splits);
  TaskData t;
  if (splits.train) t.train = std::make_unique<VectorSource>(std::move(d.train));
  if (splits.val) t.val = std::make_unique<VectorSource>(std::move(d.val));
  if (splits.test) t.test = std::make_unique<VectorSource>(std::move(d.test));
  t.kind = InputKind::Tokens;
  t.vocab = d.vocab;
  t.classes = d.classes;
  t.pending = std::move(d.pending);
  return t;
}

}  // namespace seqboat::train
