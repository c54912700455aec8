// data/imdb.cpp: the aclImdb tree (see imdb.h).
#include "data/imdb.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "data/data_file.h"
#include "tensor/json_text.h"

namespace seqboat::data {

namespace fs = std::filesystem;

bool parse_imdb_name(const std::string& name, int64_t& id, int& rating) {
  const size_t us = name.find('_');
  if (us == std::string::npos || us == 0 || us > 12 || name.size() < us + 6) return false;
  if (name.compare(name.size() - 4, 4, ".txt") != 0) return false;
  const std::string a = name.substr(0, us), b = name.substr(us + 1, name.size() - 4 - us - 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(a) || !digits(b) || b.size() > 2) return false;
  id = std::stoll(a);
  rating = std::stoi(b);
  return rating >= 1 && rating <= 10;
}

std::vector<TextDoc> index_imdb(const std::string& dir, const std::string& split) {
  fs::path root(dir);
  if (!fs::is_directory(root / "train") && fs::is_directory(root / "aclImdb")) root /= "aclImdb";
  std::vector<std::pair<int64_t, TextDoc>> found;
  for (int label = 0; label < 2; ++label) {
    const fs::path folder = root / split / (label ? "pos" : "neg");
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
      throw std::runtime_error(fmt::format("{}: not a folder (expected the aclImdb release: aclImdb/{}/pos and neg)",
                                           folder.string(), split));
    for (const auto& e : fs::directory_iterator(folder)) {
      const std::string name = e.path().filename().string();
      int64_t id = 0;
      int rating = 0;
      if (!parse_imdb_name(name, id, rating))
        throw std::runtime_error(fmt::format("{}: the name is not <id>_<rating>.txt (rating 1..10)", e.path().string()));
      if (label ? rating < 7 : rating > 4)
        throw std::runtime_error(fmt::format("{}: a {} review rated {} (IMDB's {} reviews are rated {})",
                                             e.path().string(), label ? "pos" : "neg", rating, label ? "pos" : "neg",
                                             label ? "7..10" : "1..4"));
      if (!e.is_regular_file()) throw std::runtime_error(fmt::format("{}: not a regular file", e.path().string()));
      found.push_back({id, TextDoc{e.path().string(), label, static_cast<uint64_t>(e.file_size())}});
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) {
    return x.second.label != y.second.label ? x.second.label < y.second.label : x.first < y.first;
  });
  std::vector<TextDoc> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::string read_text_prefix(const std::string& path, uint64_t max_bytes) {
  // Opened as the data indexes open a file: a FIFO put in place of a review
  // would block a plain open forever.
  const OpenFile f = open_data_file("text", path, "review file");
  std::string out(static_cast<size_t>(std::min(max_bytes, f.size())), '\0');
  out.resize(f.read_at(0, out.data(), out.size()));
  return out;
}

}  // namespace seqboat::data
