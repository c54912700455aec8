// train/sources_lra.cpp: the Long Range Arena tasks read from their released
// files: text (aclImdb), retrieval (AAN pair TSVs), image (CIFAR-10 binary
// batches) and pathfinder (Pathfinder / Path-X PNGs). Each keeps an index in
// memory and reads an example from its file when a batch needs it. Split
// rules the releases leave open, all from the run seed (README "The paper's
// task suite"): text and image hold out data.val_fraction of the training
// split as the validation set; pathfinder splits its one pool 80/10/10.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "data/aan.h"
#include "data/cifar10.h"
#include "data/imdb.h"
#include "data/pathfinder.h"
#include "tensor/usage_error.h"
#include "train/task_data.h"

namespace seqboat::train {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<int32_t> byte_tokens(const std::string& bytes) {
  std::vector<int32_t> out(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<uint8_t>(bytes[i]);
  return out;
}

std::string required_dir(const json& cfg) {
  const std::string dir = cfg.at("data.dir");
  if (dir.empty())
    throw UsageError(fmt::format("task {}: set data.dir to the released data (see `seqboat train --help`)",
                                         cfg.at("task").get<std::string>()));
  return dir;
}

// Splits `n` training items into (train, val) by a seeded permutation: the
// first round(n * fraction) of the permutation (at least 1) are validation.
std::pair<std::vector<size_t>, std::vector<size_t>> carve_validation(size_t n, double fraction, uint64_t seed) {
  const std::vector<size_t> perm = seeded_permutation(n, seed);
  size_t nv = static_cast<size_t>(static_cast<double>(n) * fraction + 0.5);
  nv = std::max<size_t>(1, std::min(nv, n > 1 ? n - 1 : 0));
  std::vector<size_t> val(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(nv));
  std::vector<size_t> train(perm.begin() + static_cast<std::ptrdiff_t>(nv), perm.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {train, val};
}

// ---------------------------------------------------------------- text

class TextSource : public SplitSource {
 public:
  TextSource(std::shared_ptr<std::vector<data::TextDoc>> docs, std::vector<size_t> pick, uint64_t max_bytes)
      : docs_(std::move(docs)), pick_(std::move(pick)), max_(max_bytes) {}
  size_t size() const override { return pick_.size(); }
  int64_t length(size_t i) const override {
    return static_cast<int64_t>(std::min<uint64_t>(max_, (*docs_)[pick_[i]].bytes));
  }
  Sample get(size_t i) override {
    const data::TextDoc& d = (*docs_)[pick_[i]];
    Sample s;
    s.tokens = byte_tokens(data::read_text_prefix(d.path, max_));
    if (s.tokens.empty()) s.tokens.push_back(0);  // an empty review: one NUL byte, so the row has a real token
    s.label = d.label;
    return s;
  }

 private:
  std::shared_ptr<std::vector<data::TextDoc>> docs_;
  std::vector<size_t> pick_;
  uint64_t max_;
};

std::vector<size_t> all_of(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

}  // namespace

TaskData load_text_data(const json& cfg, Splits splits) {
  const std::string dir = required_dir(cfg);
  const uint64_t max_bytes = cfg.at("text.max_length").get<uint64_t>();
  TaskData t;
  t.kind = InputKind::Tokens;
  t.vocab = 256;
  t.classes = 2;
  if (splits.train || splits.val) {
    auto docs = std::make_shared<std::vector<data::TextDoc>>(data::index_imdb(dir, "train"));
    auto [tr, va] = carve_validation(docs->size(), cfg.at("data.val_fraction"), split_seed(cfg.at("seed"), 0x7e47));
    t.notes += fmt::format("text: aclImdb/train: {} reviews for training, {} held out for validation; ", tr.size(), va.size());
    if (splits.train) t.train = std::make_unique<TextSource>(docs, tr, max_bytes);
    if (splits.val) t.val = std::make_unique<TextSource>(docs, va, max_bytes);
  }
  if (splits.test) {
    auto docs = std::make_shared<std::vector<data::TextDoc>>(data::index_imdb(dir, "test"));
    t.notes += fmt::format("aclImdb/test: {} reviews; ", docs->size());
    t.test = std::make_unique<TextSource>(docs, all_of(docs->size()), max_bytes);
  }
  return t;
}

// ---------------------------------------------------------------- retrieval

namespace {

class AanSource : public SplitSource {
 public:
  AanSource(const std::string& path, uint64_t max_bytes) : file_(path), max_(max_bytes) {}
  size_t size() const override { return file_.size(); }
  int64_t length(size_t i) const override {
    const data::AanRow& r = file_.row(i);
    return static_cast<int64_t>(std::min<uint64_t>(max_, std::max(r.len1, r.len2)));
  }
  Sample get(size_t i) override {
    std::string a, b;
    file_.read_pair(i, max_, a, b);
    Sample s;
    s.tokens = byte_tokens(a);
    s.tokens2 = byte_tokens(b);
    if (s.tokens.empty()) s.tokens.push_back(0);
    if (s.tokens2.empty()) s.tokens2.push_back(0);
    s.label = file_.row(i).label;
    return s;
  }

 private:
  data::AanFile file_;
  uint64_t max_;
};

}  // namespace

TaskData load_retrieval_data(const json& cfg, Splits splits) {
  const std::string dir = data::aan_dir(required_dir(cfg));
  const uint64_t max_bytes = cfg.at("text.max_length").get<uint64_t>();
  TaskData t;
  t.kind = InputKind::Pair;
  t.vocab = 256;
  t.classes = 2;
  auto open = [&](const char* name) {
    return std::make_unique<AanSource>((fs::path(dir) / fmt::format("new_aan_pairs.{}.tsv", name)).string(), max_bytes);
  };
  if (splits.train) t.train = open("train");
  if (splits.val) t.val = open("eval");
  if (splits.test) t.test = open("test");
  return t;
}

// ---------------------------------------------------------------- image

namespace {

// CIFAR-10 images read from their batch file when fetched (only the index is
// in memory), converted to gray and normalised: value = (pixel / 255 - mean) / std.
class ImageSource : public SplitSource {
 public:
  ImageSource(std::shared_ptr<data::CifarSplit> images, std::vector<size_t> pick, double mean, double std)
      : im_(std::move(images)), pick_(std::move(pick)), mean_(mean), std_(std) {}
  size_t size() const override { return pick_.size(); }
  int64_t length(size_t) const override { return data::kCifarPixels; }
  Sample get(size_t i) override {
    const size_t k = pick_[i];
    uint8_t gray[data::kCifarPixels];
    im_->read_gray(k, gray);
    Sample s;
    s.values.resize(data::kCifarPixels);
    for (size_t j = 0; j < s.values.size(); ++j) s.values[j] = static_cast<float>((gray[j] / 255.0 - mean_) / std_);
    s.label = im_->label(k);
    return s;
  }

 private:
  std::shared_ptr<data::CifarSplit> im_;
  std::vector<size_t> pick_;
  double mean_, std_;
};

}  // namespace

TaskData load_image_data(const json& cfg, Splits splits) {
  const std::string dir = required_dir(cfg);
  const double mean = cfg.at("image.pixel_mean"), std = cfg.at("image.pixel_std");
  TaskData t;
  t.kind = InputKind::Values;
  t.classes = data::kCifarClasses;
  if (splits.train || splits.val) {
    auto im = std::make_shared<data::CifarSplit>(dir, true);
    auto [tr, va] = carve_validation(im->size(), cfg.at("data.val_fraction"), split_seed(cfg.at("seed"), 0xc1fa));
    t.notes += fmt::format("image: {} training images, {} held out for validation; ", tr.size(), va.size());
    if (splits.train) t.train = std::make_unique<ImageSource>(im, tr, mean, std);
    if (splits.val) t.val = std::make_unique<ImageSource>(im, va, mean, std);
  }
  if (splits.test) {
    auto im = std::make_shared<data::CifarSplit>(dir, false);
    t.test = std::make_unique<ImageSource>(im, all_of(im->size()), mean, std);
  }
  return t;
}

// ---------------------------------------------------------------- pathfinder

namespace {

// Images read from disk when a batch needs them. One that cannot be decoded,
// or whose size differs from the first image's, is skipped: the next
// readable image of the pool takes its place (deterministic), it is counted,
// and its name is printed once.
class PathfinderSource : public SplitSource {
 public:
  PathfinderSource(std::shared_ptr<data::PathfinderIndex> idx, std::vector<size_t> pick, int64_t pixels, double mean,
                   double std, std::shared_ptr<int64_t> skipped)
      : idx_(std::move(idx)), pick_(std::move(pick)), pixels_(pixels), mean_(mean), std_(std), skipped_(std::move(skipped)) {}
  size_t size() const override { return pick_.size(); }
  int64_t length(size_t) const override { return pixels_; }
  Sample get(size_t i) override {
    for (size_t attempt = 0; attempt < pick_.size(); ++attempt) {
      const size_t k = pick_[(i + attempt) % pick_.size()];
      std::string why;
      try {
        const data::GrayImage img = data::read_pathfinder_image(*idx_, k);
        if (static_cast<int64_t>(img.pixels.size()) == pixels_) {
          Sample s;
          s.values.resize(img.pixels.size());
          for (size_t j = 0; j < img.pixels.size(); ++j)
            s.values[j] = static_cast<float>((img.pixels[j] / 255.0 - mean_) / std_);
          s.label = idx_->entries[k].label;
          return s;
        }
        why = fmt::format("{} x {} pixels, not {}", img.width, img.height, pixels_);
      } catch (const std::runtime_error& e) {
        if (!data::png_available()) throw;
        why = e.what();
      }
      if (bad_.insert(k).second) {
        ++*skipped_;
        std::fprintf(stderr, "pathfinder: skipping an unreadable image: %s\n", why.c_str());
      }
    }
    throw std::runtime_error("pathfinder: no readable image in this split");
  }

 private:
  std::shared_ptr<data::PathfinderIndex> idx_;
  std::vector<size_t> pick_;
  int64_t pixels_;
  double mean_, std_;
  std::shared_ptr<int64_t> skipped_;
  std::set<size_t> bad_;
};

}  // namespace

TaskData load_pathfinder_data(const json& cfg, Splits splits) {
  if (!data::png_available())
    throw std::runtime_error(fmt::format("task pathfinder is unavailable: {}", data::png_library_description()));
  const std::string dir = required_dir(cfg);
  auto idx = std::make_shared<data::PathfinderIndex>(data::index_pathfinder(dir, cfg.at("pathfinder.difficulty")));
  const size_t n = idx->entries.size();
  if (n < 3) throw std::runtime_error(fmt::format("{}: {} readable images; the 80/10/10 split needs at least 3", idx->root, n));
  // The sequence length comes from the first image that decodes.
  int64_t pixels = 0;
  for (size_t k = 0; k < n && pixels == 0; ++k) try {
      pixels = static_cast<int64_t>(data::read_pathfinder_image(*idx, k).pixels.size());
    } catch (const std::runtime_error&) {
    }
  if (pixels == 0) throw std::runtime_error(fmt::format("{}: no image decodes", idx->root));
  // 80/10/10 of one seeded permutation: validation floor(n / 10), test floor(n / 10), the rest training.
  const std::vector<size_t> perm = seeded_permutation(n, split_seed(cfg.at("seed"), 0x9a7f));
  const size_t nv = std::max<size_t>(1, n / 10), nt = std::max<size_t>(1, n / 10);
  auto part = [&](size_t from, size_t count) {
    std::vector<size_t> v(perm.begin() + static_cast<std::ptrdiff_t>(from), perm.begin() + static_cast<std::ptrdiff_t>(from + count));
    std::sort(v.begin(), v.end());
    return v;
  };
  const double mean = cfg.at("image.pixel_mean"), std = cfg.at("image.pixel_std");
  auto skipped = std::make_shared<int64_t>(0);
  TaskData t;
  t.kind = InputKind::Values;
  t.classes = 2;
  t.notes = fmt::format("pathfinder: {} images of {} pixels ({} missing and {} empty skipped); {} train, {} val, {} test",
                        n, pixels, idx->skipped_missing, idx->skipped_empty, n - nv - nt, nv, nt);
  if (splits.train) t.train = std::make_unique<PathfinderSource>(idx, part(nv + nt, n - nv - nt), pixels, mean, std, skipped);
  if (splits.val) t.val = std::make_unique<PathfinderSource>(idx, part(0, nv), pixels, mean, std, skipped);
  if (splits.test) t.test = std::make_unique<PathfinderSource>(idx, part(nv, nt), pixels, mean, std, skipped);
  return t;
}

}  // namespace seqboat::train
