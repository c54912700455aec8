// train/sources_speech.cpp: SC10 (Speech Commands v0.02, ten classes) as
// raw 16 kHz audio, a continuous input sequence of 16000 samples.
//   - A clip shorter than 16000 samples is dropped (speech.short_clips=drop,
//     the official code's rule) or zero-padded at the end (pad); a longer
//     one (none in the release) is cut to 16000.
//   - Split (speech.split): random = per class, a seeded permutation of its
//     clips, the first floor(0.7 n) training, the next floor(0.15 n)
//     validation, the rest test (the official code's 70/15/15, stratified);
//     lists = the release's validation_list.txt and testing_list.txt, every
//     other clip training.
//   - Input: x = sample / 32768, then (x - mean) / (std + 1e-5) with the mean
//     and standard deviation (unbiased) of the samples of the first
//     speech.norm_clips training clips in the split's seeded order (0 = all).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/speech_commands.h"
#include "tensor/usage_error.h"
#include "train/task_data.h"

namespace seqboat::train {

using nlohmann::json;

namespace {

constexpr int64_t kClipLength = data::kSpeechRate;

class SpeechSource : public SplitSource {
 public:
  SpeechSource(std::shared_ptr<std::vector<data::Clip>> clips, std::vector<size_t> pick, double mean, double std)
      : clips_(std::move(clips)), pick_(std::move(pick)), mean_(mean), std_(std) {}
  size_t size() const override { return pick_.size(); }
  int64_t length(size_t) const override { return kClipLength; }
  Sample get(size_t i) override {
    const data::Clip& c = (*clips_)[pick_[i]];
    const std::vector<int16_t> raw = data::read_clip(c);
    Sample s;
    s.values.assign(kClipLength, static_cast<float>((0.0 - mean_) / (std_ + 1e-5)));
    for (size_t t = 0; t < raw.size() && t < static_cast<size_t>(kClipLength); ++t)
      s.values[t] = static_cast<float>((raw[t] / 32768.0 - mean_) / (std_ + 1e-5));
    s.label = c.label;
    return s;
  }

 private:
  std::shared_ptr<std::vector<data::Clip>> clips_;
  std::vector<size_t> pick_;
  double mean_, std_;
};

}  // namespace

TaskData load_speech_data(const json& cfg, Splits splits) {
  const std::string dir = cfg.at("data.dir");
  if (dir.empty()) throw UsageError("task speech: set data.dir to the Speech Commands v0.02 release");
  const std::string root = data::speech_root(dir);
  auto all = data::index_speech_commands(dir);
  const bool pad = cfg.at("speech.short_clips") == "pad";
  auto clips = std::make_shared<std::vector<data::Clip>>();
  int64_t dropped = 0;
  for (auto& c : all) {
    if (c.frames < static_cast<uint64_t>(kClipLength) && !pad) ++dropped;
    else clips->push_back(std::move(c));
  }
  std::vector<size_t> train, val, test;
  const uint64_t seed = split_seed(cfg.at("seed"), 0x5c10);
  if (cfg.at("speech.split") == "lists") {
    std::set<std::string> vlist, tlist;
    for (auto& n : data::read_clip_list(root, "validation_list.txt")) vlist.insert(n);
    for (auto& n : data::read_clip_list(root, "testing_list.txt")) tlist.insert(n);
    for (size_t i = 0; i < clips->size(); ++i) {
      const std::string& n = (*clips)[i].name;
      (tlist.count(n) ? test : vlist.count(n) ? val : train).push_back(i);
    }
  } else {
    for (int label = 0; label < static_cast<int>(data::sc10_classes().size()); ++label) {
      std::vector<size_t> mine;
      for (size_t i = 0; i < clips->size(); ++i)
        if ((*clips)[i].label == label) mine.push_back(i);
      const std::vector<size_t> perm = seeded_permutation(mine.size(), seed + static_cast<uint64_t>(label));
      const size_t ntr = mine.size() * 7 / 10, nva = mine.size() * 15 / 100;
      for (size_t j = 0; j < perm.size(); ++j) (j < ntr ? train : j < ntr + nva ? val : test).push_back(mine[perm[j]]);
    }
  }
  for (auto* v : {&train, &val, &test}) std::sort(v->begin(), v->end());
  if (train.empty()) throw std::runtime_error(fmt::format("{}: no training clips after the split", root));
  // Input statistics from training clips in a seeded order.
  const std::vector<size_t> order = seeded_permutation(train.size(), seed ^ 0x57a7);
  const int64_t want = cfg.at("speech.norm_clips");
  const size_t use = want == 0 ? train.size() : std::min<size_t>(train.size(), static_cast<size_t>(want));
  double sum = 0, sum_sq = 0;
  int64_t count = 0;
  for (size_t j = 0; j < use; ++j) {
    const std::vector<int16_t> raw = data::read_clip((*clips)[train[order[j]]]);
    for (size_t t = 0; t < static_cast<size_t>(kClipLength); ++t) {
      const double x = t < raw.size() ? raw[t] / 32768.0 : 0.0;
      sum += x;
      sum_sq += x * x;
    }
    count += kClipLength;
  }
  const double mean = sum / static_cast<double>(count);
  const double var = count > 1 ? (sum_sq - sum * mean) / static_cast<double>(count - 1) : 0.0;
  const double std = std::sqrt(std::max(0.0, var));
  TaskData t;
  t.kind = InputKind::Values;
  t.classes = static_cast<int64_t>(data::sc10_classes().size());
  t.notes = fmt::format("speech: {} clips kept ({}); {} train, {} val, {} test; input mean {:.3g}, std {:.3g} from {} "
                        "training clips",
                        clips->size(), pad ? "clips shorter than 1 s zero-padded" : fmt::format("{} shorter than 1 s dropped", dropped),
                        train.size(), val.size(), test.size(), mean, std, use);
  if (splits.train) t.train = std::make_unique<SpeechSource>(clips, train, mean, std);
  if (splits.val) t.val = std::make_unique<SpeechSource>(clips, val, mean, std);
  if (splits.test) t.test = std::make_unique<SpeechSource>(clips, test, mean, std);
  return t;
}

}  // namespace seqboat::train
