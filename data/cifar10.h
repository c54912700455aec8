// data/cifar10.h: CIFAR-10's binary release (cifar-10-batches-bin/
// data_batch_1..5.bin, test_batch.bin) as grayscale images for LRA's Image
// task. A record is 3073 bytes: the label (0..9), then 1024 red, 1024 green
// and 1024 blue bytes (row-major 32 x 32). Each pixel becomes one gray byte
// by Pillow's "L" conversion (ITU-R 601-2 luma, 299/587/114 per mille, in
// Pillow's 16-bit fixed point with rounding):
//   gray = (19595 R + 38470 G + 7471 B + 32768) >> 16
// because the official SeqBoat data was made with torchvision's Grayscale,
// which is Pillow's convert("L"). (LRA's own pipeline used TensorFlow's
// rgb_to_grayscale, weights 0.2989/0.5870/0.1140 in floating point; the two
// differ by at most one gray level.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seqboat::data {

constexpr int kCifarPixels = 1024;
constexpr int kCifarRecordBytes = 1 + 3 * kCifarPixels;
constexpr int kCifarClasses = 10;

inline uint8_t pil_luma(uint8_t r, uint8_t g, uint8_t b) {
  return static_cast<uint8_t>((19595u * r + 38470u * g + 7471u * b + 32768u) >> 16);
}

// Gray images of one size: pixels[i * pixels_per_image + p].
struct GrayImages {
  int64_t pixels_per_image = 0;
  std::vector<uint8_t> pixels;
  std::vector<int32_t> labels;
  size_t size() const { return labels.size(); }
};

// Appends the records of one batch file held in `bytes` (named `path` in
// errors) to `out`. Throws std::runtime_error "<path>: ..." when the size is
// not a whole number of records or is empty, or "<path>: record N: label L is
// not 0..9" (N 1-based).
void parse_cifar_batch(std::string_view bytes, const std::string& path, GrayImages& out);

// Reads the named batch files of `dir` (the folder cifar-10-batches-bin, or
// one holding it): train = data_batch_1..5.bin, test = test_batch.bin.
// Throws std::runtime_error naming the missing or malformed file.
GrayImages read_cifar_split(const std::string& dir, bool train);
std::string cifar_batch_dir(const std::string& dir);  // resolves the folder as above

}  // namespace seqboat::data
