// data/speech_commands.cpp: the Speech Commands release (see speech_commands.h).
#include "data/speech_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "data/data_file.h"
#include "data/wav.h"
#include "tensor/file_read.h"

namespace seqboat::data {

namespace fs = std::filesystem;

const std::vector<std::string>& sc10_classes() {
  static const std::vector<std::string> c = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
  return c;
}

bool valid_clip_name(const std::string& name) {
  const size_t mark = name.find("_nohash_");
  if (mark == std::string::npos || mark == 0 || name.size() < mark + 8 + 5) return false;
  if (name.compare(name.size() - 4, 4, ".wav") != 0) return false;
  for (size_t i = 0; i < mark; ++i)
    if (!std::isalnum(static_cast<unsigned char>(name[i]))) return false;
  for (size_t i = mark + 8; i + 4 < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  return true;
}

std::string speech_root(const std::string& dir) {
  if (fs::is_directory(fs::path(dir) / "yes")) return dir;
  const fs::path inner = fs::path(dir) / "speech_commands_v0.02";
  if (fs::is_directory(inner / "yes")) return inner.string();
  throw std::runtime_error(fmt::format(
      "{}: no Speech Commands release here (expected the class folders yes/, no/, ... in it or in "
      "speech_commands_v0.02/ under it)",
      dir));
}

namespace {

WavInfo read_header(const std::string& path, uint64_t size) {
  const OpenFile f = open_data_file("speech", path, "WAV file", size_t{64} << 20);
  std::string head(static_cast<size_t>(std::min<uint64_t>(f.size(), 4096)), '\0');
  head.resize(f.read_at(0, head.data(), head.size()));
  try {
    return parse_wav_header(head, size, path);
  } catch (const std::runtime_error&) {
    if (head.size() == size) throw;
  }
  // A header longer than 4 KiB (large LIST chunks): parse the whole file.
  const std::string all = read_file_limited(path, size_t{64} << 20, "WAV file");
  return parse_wav_header(all, all.size(), path);
}

}  // namespace

std::vector<Clip> index_speech_commands(const std::string& dir) {
  const fs::path root = speech_root(dir);
  std::vector<Clip> out;
  for (size_t label = 0; label < sc10_classes().size(); ++label) {
    const std::string cls = sc10_classes()[label];
    const fs::path folder = root / cls;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) throw std::runtime_error(fmt::format("{}: class folder missing", folder.string()));
    std::vector<Clip> clips;
    for (const auto& e : fs::directory_iterator(folder)) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() != ".wav") continue;
      if (!valid_clip_name(name))
        throw std::runtime_error(fmt::format("{}: the name is not <hash>_nohash_<n>.wav", e.path().string()));
      if (!e.is_regular_file())
        throw std::runtime_error(fmt::format("{}: not a regular file (a clip is read as a file)", e.path().string()));
      const uint64_t size = e.file_size();
      const WavInfo w = read_header(e.path().string(), size);
      if (w.channels != 1 || w.bits_per_sample != 16 || w.sample_rate != kSpeechRate)
        throw std::runtime_error(fmt::format("{}: {} channel(s), {} bits, {} Hz; expected mono 16-bit PCM at 16000 Hz",
                                             e.path().string(), w.channels, w.bits_per_sample, w.sample_rate));
      clips.push_back({e.path().string(), cls + "/" + name, static_cast<int>(label), w.frames()});
    }
    std::sort(clips.begin(), clips.end(), [](const Clip& a, const Clip& b) { return a.name < b.name; });
    out.insert(out.end(), clips.begin(), clips.end());
  }
  return out;
}

std::vector<int16_t> read_clip(const Clip& clip) {
  std::string bytes;
  try {
    bytes = read_file_limited(clip.path, size_t{64} << 20, "WAV file");
  } catch (const FileReadError& e) {
    throw std::runtime_error(std::string("speech: ") + e.what());
  }
  return read_wav_mono16(bytes, kSpeechRate, clip.path);
}

std::vector<std::string> read_clip_list(const std::string& root, const std::string& file) {
  const std::string path = (fs::path(root) / file).string();
  std::string text;
  try {
    text = read_file_limited(path, size_t{64} << 20, "clip list");
  } catch (const FileReadError& e) {
    throw std::runtime_error(std::string("speech: ") + e.what());
  }
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
    pos = nl + 1;
  }
  if (out.empty()) throw std::runtime_error(fmt::format("{}: no clip names", path));
  return out;
}

}  // namespace seqboat::data
