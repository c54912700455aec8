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
//
// The files are indexed, not held: one streaming pass checks every file and
// keeps each record's label (1 byte per image); an image is read from its
// file and converted when a batch needs it, so a process holds 50 KB for the
// 50,000 training images instead of their 51 MB of gray pixels.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/file_read.h"

namespace seqboat::data {

constexpr int kCifarPixels = 1024;
constexpr int kCifarRecordBytes = 1 + 3 * kCifarPixels;
constexpr int kCifarClasses = 10;

inline uint8_t pil_luma(uint8_t r, uint8_t g, uint8_t b) {
  return static_cast<uint8_t>((19595u * r + 38470u * g + 7471u * b + 32768u) >> 16);
}

// The checks of one batch file, shared by the index and the fuzz harness.
// check_cifar_batch_size throws std::runtime_error "<path>: ..." when `bytes`
// is 0 or not a whole number of records. check_cifar_labels appends the
// labels of the whole records in `records` (the first is the file's record
// first_record, 0-based) to `labels`, or throws "<path>: record N: label L is
// not 0..9" (N 1-based in the file).
void check_cifar_batch_size(uint64_t bytes, const std::string& path);
void check_cifar_labels(std::string_view records, uint64_t first_record, const std::string& path,
                        std::vector<uint8_t>& labels);
// The 1024 gray pixels of one record (its 3073 bytes) into `gray`.
void cifar_record_gray(const uint8_t* record, uint8_t* gray);

// The batch files of one split, indexed.
class CifarSplit {
 public:
  // Indexes the named batch files of `dir` (the folder cifar-10-batches-bin,
  // or one holding it): train = data_batch_1..5.bin, test = test_batch.bin,
  // in that order. Throws std::runtime_error naming the missing or malformed
  // file (and record): "cifar10: <path>: cannot open: ...", a directory or
  // anything but a regular file, a file over 1 GiB (tensor/file_read.h's
  // OpenFile), and the checks above.
  CifarSplit(const std::string& dir, bool train);

  size_t size() const { return labels_.size(); }
  int label(size_t k) const { return labels_.at(k); }
  // Image k (0-based over the split's files in order) as 1024 gray bytes,
  // read from its file. Throws std::runtime_error "<path>: record N: ..."
  // when the record can no longer be read or its label is not the indexed
  // one (the file changed since it was indexed).
  void read_gray(size_t k, uint8_t* gray) const;

 private:
  struct File {
    std::string path;
    OpenFile file;
    uint64_t first = 0, records = 0;  // the split's images [first, first + records)
  };
  std::vector<File> files_;
  std::vector<uint8_t> labels_;
};

std::string cifar_batch_dir(const std::string& dir);  // resolves the folder as above

}  // namespace seqboat::data
