// data/pathfinder.cpp: Pathfinder / Path-X metadata and images (see pathfinder.h).
#include "data/pathfinder.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "tensor/file_read.h"
#include "tensor/json_text.h"
#include "tensor/safe_text.h"

namespace seqboat::data {

namespace fs = std::filesystem;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// A relative path whose every '/'-separated component is a plain name.
bool safe_relative(std::string_view p) {
  if (p.empty() || p.front() == '/') return false;
  size_t start = 0;
  for (;;) {
    const size_t slash = p.find('/', start);
    const std::string_view c = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (c.empty() || c == "." || c == ".." || c.find('\0') != std::string_view::npos) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

std::vector<PathfinderEntry> parse_pathfinder_metadata(std::string_view text, const std::string& path) {
  std::vector<PathfinderEntry> out;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    std::vector<std::string_view> fields;
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && is_space(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      if (j > i) fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (fields.empty()) continue;
    auto fail = [&](const std::string& what) {
      return std::runtime_error(fmt::format("{}: line {}: {}", path, line_no, what));
    };
    if (fields.size() < 4) throw fail(fmt::format("{} fields, expected at least 4 (folder, file, _, label)", fields.size()));
    if (fields[3] != "0" && fields[3] != "1") throw fail(fmt::format("label {} is not 0 or 1", quote_text(fields[3])));
    const std::string image = std::string(fields[0]) + "/" + std::string(fields[1]);
    if (!safe_relative(image)) throw fail(fmt::format("image path {} leaves the folder", quote_text(image)));
    out.push_back({image, fields[3] == "1" ? 1 : 0});
  }
  return out;
}

PathfinderIndex index_pathfinder(const std::string& dir, const std::string& difficulty) {
  PathfinderIndex idx;
  const fs::path root = fs::path(dir) / difficulty;
  const fs::path meta = root / "metadata";
  std::error_code ec;
  if (!fs::is_directory(meta, ec)) {
    std::vector<std::string> have;  // listed clipped: a folder may hold many
    if (fs::is_directory(dir, ec))
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory()) have.push_back(e.path().filename().string());
    std::sort(have.begin(), have.end());
    throw std::runtime_error(fmt::format("{}: no metadata folder (difficulty {}; folders here: {})",
                                         safe_text(meta.string()), quote_text(difficulty),
                                         have.empty() ? "none" : quoted_list(have)));
  }
  std::vector<std::pair<int64_t, fs::path>> files;
  for (const auto& e : fs::directory_iterator(meta)) {
    if (e.path().extension() != ".npy") continue;
    const std::string stem = e.path().stem().string();
    if (stem.empty() || stem.size() > 12 || !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw std::runtime_error(fmt::format("{}: a metadata file's name must be <number>.npy", e.path().string()));
    files.emplace_back(std::stoll(stem), e.path());
  }
  if (files.empty()) throw std::runtime_error(fmt::format("{}: no <n>.npy metadata files", meta.string()));
  std::sort(files.begin(), files.end());
  idx.root = root.string();
  for (const auto& [n, path] : files) {
    std::string text;
    try {
      text = read_file_limited(path.string(), size_t{256} << 20, "pathfinder metadata");
    } catch (const FileReadError& e) {
      throw std::runtime_error(std::string("pathfinder: ") + e.what());
    }
    for (PathfinderEntry& entry : parse_pathfinder_metadata(text, path.string())) {
      const fs::path image = root / entry.image;
      const auto size = fs::file_size(image, ec);
      if (ec) ++idx.skipped_missing;
      else if (size == 0) ++idx.skipped_empty;
      else idx.entries.push_back(std::move(entry));
    }
  }
  return idx;
}

GrayImage read_pathfinder_image(const PathfinderIndex& index, size_t i) {
  const std::string path = (fs::path(index.root) / index.entries.at(i).image).string();
  std::string bytes;
  try {
    bytes = read_file_limited(path, size_t{64} << 20, "PNG image");
  } catch (const FileReadError& e) {
    throw std::runtime_error(std::string("pathfinder: ") + e.what());
  }
  return decode_png_gray(bytes, path);
}

}  // namespace seqboat::data
