// data/cifar10.cpp: CIFAR-10 binary batches -> gray images (see cifar10.h).
#include "data/cifar10.h"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

#include "tensor/file_read.h"

namespace seqboat::data {

namespace fs = std::filesystem;

void parse_cifar_batch(std::string_view bytes, const std::string& path, GrayImages& out) {
  if (bytes.empty()) throw std::runtime_error(fmt::format("{}: empty file (a CIFAR-10 batch holds 3073-byte records)", path));
  if (bytes.size() % kCifarRecordBytes != 0)
    throw std::runtime_error(fmt::format("{}: {} bytes is not a whole number of 3073-byte CIFAR-10 records ({} left over)",
                                         path, bytes.size(), bytes.size() % kCifarRecordBytes));
  if (out.pixels_per_image == 0) out.pixels_per_image = kCifarPixels;
  const size_t n = bytes.size() / kCifarRecordBytes;
  const size_t base = out.pixels.size();
  out.pixels.resize(base + n * kCifarPixels);
  out.labels.reserve(out.labels.size() + n);
  for (size_t r = 0; r < n; ++r) {
    const auto* rec = reinterpret_cast<const uint8_t*>(bytes.data()) + r * kCifarRecordBytes;
    if (rec[0] >= kCifarClasses)
      throw std::runtime_error(fmt::format("{}: record {}: label {} is not 0..9", path, r + 1, rec[0]));
    out.labels.push_back(rec[0]);
    const uint8_t *red = rec + 1, *green = red + kCifarPixels, *blue = green + kCifarPixels;
    uint8_t* dst = out.pixels.data() + base + r * kCifarPixels;
    for (int p = 0; p < kCifarPixels; ++p) dst[p] = pil_luma(red[p], green[p], blue[p]);
  }
}

std::string cifar_batch_dir(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "test_batch.bin")) return dir;
  const fs::path inner = fs::path(dir) / "cifar-10-batches-bin";
  if (fs::exists(inner / "test_batch.bin")) return inner.string();
  throw std::runtime_error(fmt::format(
      "{}: no CIFAR-10 binary release here (expected test_batch.bin in it or in cifar-10-batches-bin/ under it)", dir));
}

GrayImages read_cifar_split(const std::string& dir, bool train) {
  const fs::path root = cifar_batch_dir(dir);
  std::vector<std::string> names;
  if (train)
    for (int i = 1; i <= 5; ++i) names.push_back(fmt::format("data_batch_{}.bin", i));
  else
    names.push_back("test_batch.bin");
  GrayImages out;
  for (const std::string& n : names) {
    const std::string path = (root / n).string();
    std::string bytes;
    try {
      bytes = read_file_limited(path, size_t{1} << 30, "CIFAR-10 batch");
    } catch (const FileReadError& e) {
      throw std::runtime_error(std::string("cifar10: ") + e.what());
    }
    parse_cifar_batch(bytes, path, out);
  }
  return out;
}

}  // namespace seqboat::data
