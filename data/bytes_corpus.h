// Byte-level corpus for causal language modelling: token = byte (vocab 256).
// Loads files or a source tree, splits off a validation tail, and samples
// random windows with a portable, resumable RNG state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace seqboat::data {

constexpr int kByteVocab = 256;

class ByteCorpus {
 public:
  // Concatenates the files in the given order. Throws std::runtime_error on a
  // missing/unreadable file or an empty result.
  static ByteCorpus from_files(const std::vector<std::string>& paths);
  // All *.md, *.h, *.cpp, *.cu, *.txt, *.json under root, recursively,
  // skipping directories named build* and .git, concatenated in sorted path
  // order.
  static ByteCorpus from_source_tree(const std::string& root);
  // Throws std::invalid_argument if empty.
  static ByteCorpus from_bytes(std::vector<uint8_t> bytes);

  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  // (train, validation): the last round(size * val_fraction) bytes are the
  // validation part. Requires 0 < val_fraction < 1 and both parts non-empty.
  std::pair<ByteCorpus, ByteCorpus> split(double val_fraction) const;

  // Fills inputs/targets (each batch*seq_len, row-major [batch][seq_len])
  // with random windows: inputs = bytes[s, s+seq_len), targets shifted by
  // one. rng_state is a splitmix64 state advanced in place. Throws
  // std::invalid_argument if batch < 1, seq_len < 1 or seq_len + 1 > size().
  void sample_batch(int batch, int seq_len, uint64_t& rng_state, std::vector<int32_t>& inputs,
                    std::vector<int32_t>& targets) const;

 private:
  explicit ByteCorpus(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::vector<uint8_t> bytes_;
};

}  // namespace seqboat::data
