// data/cifar10.cpp: CIFAR-10 binary batches, indexed and read by record as
// gray images (see cifar10.h).
#include "data/cifar10.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "data/data_file.h"

namespace seqboat::data {

namespace fs = std::filesystem;

namespace {

// A batch file is 30.7 MB as released; anything over 1 GiB is not one.
constexpr size_t kMaxBatchBytes = size_t{1} << 30;
// Records checked per read while indexing (768 KiB).
constexpr size_t kIndexRecords = 256;

}  // namespace

void check_cifar_batch_size(uint64_t bytes, const std::string& path) {
  if (bytes == 0) throw std::runtime_error(fmt::format("{}: empty file (a CIFAR-10 batch holds 3073-byte records)", path));
  if (bytes % kCifarRecordBytes != 0)
    throw std::runtime_error(fmt::format("{}: {} bytes is not a whole number of 3073-byte CIFAR-10 records ({} left over)",
                                         path, bytes, bytes % kCifarRecordBytes));
}

void check_cifar_labels(std::string_view records, uint64_t first_record, const std::string& path,
                        std::vector<uint8_t>& labels) {
  const size_t n = records.size() / kCifarRecordBytes;
  for (size_t r = 0; r < n; ++r) {
    const auto label = static_cast<uint8_t>(records[r * kCifarRecordBytes]);
    if (label >= kCifarClasses)
      throw std::runtime_error(fmt::format("{}: record {}: label {} is not 0..9", path, first_record + r + 1, label));
    labels.push_back(label);
  }
}

void cifar_record_gray(const uint8_t* record, uint8_t* gray) {
  const uint8_t *red = record + 1, *green = red + kCifarPixels, *blue = green + kCifarPixels;
  for (int p = 0; p < kCifarPixels; ++p) gray[p] = pil_luma(red[p], green[p], blue[p]);
}

std::string cifar_batch_dir(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "test_batch.bin")) return dir;
  const fs::path inner = fs::path(dir) / "cifar-10-batches-bin";
  if (fs::exists(inner / "test_batch.bin")) return inner.string();
  throw std::runtime_error(fmt::format(
      "{}: no CIFAR-10 binary release here (expected test_batch.bin in it or in cifar-10-batches-bin/ under it)", dir));
}

CifarSplit::CifarSplit(const std::string& dir, bool train) {
  const fs::path root = cifar_batch_dir(dir);
  std::vector<std::string> names;
  if (train)
    for (int i = 1; i <= 5; ++i) names.push_back(fmt::format("data_batch_{}.bin", i));
  else
    names.push_back("test_batch.bin");
  std::string block(kIndexRecords * kCifarRecordBytes, '\0');
  for (const std::string& n : names) {
    const std::string path = (root / n).string();
    files_.push_back(File{path, open_data_file("cifar10", path, "CIFAR-10 batch", kMaxBatchBytes), labels_.size(), 0});
    const OpenFile& f = files_.back().file;
    check_cifar_batch_size(f.size(), path);
    for (uint64_t at = 0; at < f.size(); at += block.size()) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), f.size() - at));
      if (f.read_at(at, block.data(), want) != want)
        throw std::runtime_error(fmt::format("cifar10: {}: cannot read: shorter than its {} bytes", path, f.size()));
      check_cifar_labels(std::string_view(block.data(), want), at / kCifarRecordBytes, path, labels_);
    }
    files_.back().records = labels_.size() - files_.back().first;
  }
}

void CifarSplit::read_gray(size_t k, uint8_t* gray) const {
  if (k >= labels_.size()) throw std::out_of_range(fmt::format("cifar10: image {} of {}", k, labels_.size()));
  size_t i = 0;
  while (k >= files_[i].first + files_[i].records) ++i;
  const File& f = files_[i];
  const uint64_t r = k - f.first;
  uint8_t rec[kCifarRecordBytes];
  if (f.file.read_at(r * kCifarRecordBytes, reinterpret_cast<char*>(rec), kCifarRecordBytes) != kCifarRecordBytes)
    throw std::runtime_error(fmt::format("{}: record {}: cannot read it again (the file changed?)", f.path, r + 1));
  if (rec[0] != labels_[k])
    throw std::runtime_error(fmt::format("{}: record {}: label {}, but {} when the file was indexed (the file changed?)",
                                         f.path, r + 1, rec[0], labels_[k]));
  cifar_record_gray(rec, gray);
}

}  // namespace seqboat::data
