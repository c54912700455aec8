// ByteCorpus: loading, train/validation split and batch sampling.
#include "data/bytes_corpus.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "data/example.h"
#include "tensor/file_read.h"
#include "tensor/safe_text.h"
#include "tensor/tensor.h"

namespace seqboat::data {

namespace fs = std::filesystem;

namespace {

// Appends one file, read whole; the corpus as a whole is limited to
// kMaxTextDataBytes (it is held in memory twice: whole and split).
void append_file(const std::string& path, std::vector<uint8_t>& out) {
  std::string bytes;
  try {
    bytes = read_file_limited(path, kMaxTextDataBytes - std::min(out.size(), kMaxTextDataBytes), "corpus file");
  } catch (const FileReadError& e) {
    throw std::runtime_error(std::string("byte corpus: ") + e.what());
  }
  out.insert(out.end(), bytes.begin(), bytes.end());
}

bool wanted_extension(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".md" || e == ".h" || e == ".cpp" || e == ".cu" || e == ".txt" || e == ".json";
}

}  // namespace

ByteCorpus ByteCorpus::from_bytes(std::vector<uint8_t> bytes) {
  if (bytes.empty()) fail("byte corpus: empty corpus");
  return ByteCorpus(std::move(bytes));
}

ByteCorpus ByteCorpus::from_files(const std::vector<std::string>& paths) {
  if (paths.empty()) throw std::runtime_error("byte corpus: empty corpus (no files given)");
  std::vector<uint8_t> bytes;
  for (const auto& p : paths) append_file(p, bytes);
  if (bytes.empty())
    throw std::runtime_error(fmt::format("byte corpus: empty corpus ({} file(s), all empty)", paths.size()));
  return ByteCorpus(std::move(bytes));
}

ByteCorpus ByteCorpus::from_source_tree(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw std::runtime_error(fmt::format("byte corpus: {} is not a directory", quote_text(root)));
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) throw std::runtime_error(fmt::format("byte corpus: cannot list {}: {}", quote_text(root), ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) throw std::runtime_error(fmt::format("byte corpus: cannot list {}: {}", quote_text(root), ec.message()));
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (it->is_directory(ec)) {
      if (name == ".git" || name.rfind("build", 0) == 0) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && wanted_extension(p)) files.push_back(p.generic_string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw std::runtime_error(
        fmt::format("byte corpus: empty corpus (no .md/.h/.cpp/.cu/.txt/.json under {})", quote_text(root)));
  std::vector<uint8_t> bytes;
  for (const auto& f : files) append_file(f, bytes);
  if (bytes.empty())
    throw std::runtime_error(fmt::format("byte corpus: empty corpus (all files under {} empty)", quote_text(root)));
  return ByteCorpus(std::move(bytes));
}

std::pair<ByteCorpus, ByteCorpus> ByteCorpus::split(double val_fraction) const {
  if (!(val_fraction > 0.0 && val_fraction < 1.0))
    fail(fmt::format("byte corpus: val_fraction must be in (0, 1) (got {})", val_fraction));
  const size_t n_val = static_cast<size_t>(std::llround(static_cast<double>(bytes_.size()) * val_fraction));
  if (n_val == 0 || n_val >= bytes_.size())
    fail(fmt::format("byte corpus: split of {} bytes with val_fraction {} leaves an empty part",
                                            bytes_.size(), val_fraction));
  const auto cut = bytes_.begin() + static_cast<std::ptrdiff_t>(bytes_.size() - n_val);
  return {ByteCorpus(std::vector<uint8_t>(bytes_.begin(), cut)), ByteCorpus(std::vector<uint8_t>(cut, bytes_.end()))};
}

void ByteCorpus::sample_batch(int batch, int seq_len, uint64_t& rng_state, std::vector<int32_t>& inputs,
                              std::vector<int32_t>& targets) const {
  if (batch < 1) fail(fmt::format("byte corpus: batch must be >= 1 (got {})", batch));
  if (seq_len < 1) fail(fmt::format("byte corpus: seq_len must be >= 1 (got {})", seq_len));
  if (static_cast<size_t>(seq_len) + 1 > bytes_.size())
    fail(fmt::format("byte corpus: seq_len + 1 = {} exceeds the corpus size {}",
                                            static_cast<size_t>(seq_len) + 1, bytes_.size()));
  const size_t L = static_cast<size_t>(seq_len);
  const uint64_t n_starts = bytes_.size() - L;  // starts 0 .. size-L-1
  inputs.resize(static_cast<size_t>(batch) * L);
  targets.resize(static_cast<size_t>(batch) * L);
  for (size_t b = 0; b < static_cast<size_t>(batch); ++b) {
    const size_t s = static_cast<size_t>(bounded_u64([&rng_state]() { return splitmix64(rng_state); }, n_starts));
    const uint8_t* src = bytes_.data() + s;
    int32_t* in = inputs.data() + b * L;
    int32_t* tg = targets.data() + b * L;
    for (size_t t = 0; t < L; ++t) {
      in[t] = src[t];
      tg[t] = src[t + 1];
    }
  }
}

}  // namespace seqboat::data
