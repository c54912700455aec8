// tests/release_fixtures.h: tiny data sets written in the exact formats
// their publishers release (an aclImdb tree, AAN pair TSVs, CIFAR-10 binary
// batches, Pathfinder PNGs written through libpng with their metadata,
// Speech Commands WAVs, an enwik8-like byte file), for the reader and task
// tests. Each is learnable by a tiny model (the label shows in the data), so
// a few training steps are meaningful and fast.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/cifar10.h"
#include "data/png_gray.h"
#include "data/speech_commands.h"
#include "data/wav.h"
#include "test_util.h"

namespace seqboat::testing {

namespace fs = std::filesystem;

// aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt, n reviews per class and split, plus unsup/.
inline void write_imdb(const fs::path& root, int n = 8) {
  for (const char* split : {"train", "test"})
    for (int label = 0; label < 2; ++label) {
      const fs::path d = root / "aclImdb" / split / (label ? "pos" : "neg");
      fs::create_directories(d);
      for (int i = 0; i < n; ++i) {
        std::string text = label ? "a fine film, I loved it. " : "a dull film, I hated it. ";
        for (int k = 0; k < i % 3; ++k) text += label ? "great! " : "awful. ";
        text += "caf\xC3\xA9";  // a UTF-8 character, cut or not by text.max_length
        write_all(d / (std::to_string(i) + "_" + std::to_string(label ? 7 + i % 4 : 1 + i % 4) + ".txt"), text);
      }
    }
  fs::create_directories(root / "aclImdb" / "train" / "unsup");
  write_all(root / "aclImdb" / "train" / "unsup" / "0_0.txt", "ignored");
}

// tsv_data/new_aan_pairs.{train,eval,test}.tsv: label 1 when both texts cite the same topic.
inline void write_aan(const fs::path& root, int n = 16) {
  const fs::path d = root / "tsv_data";
  fs::create_directories(d);
  const char* topics[] = {"parsing", "tagging", "speech", "vision"};
  for (const char* split : {"train", "eval", "test"}) {
    std::string text;
    for (int i = 0; i < n; ++i) {
      const int a = i % 4, b = (i / 2) % 4;
      const bool same = a == b;
      text += std::string(same ? (i % 2 ? "1.0" : "1") : (i % 2 ? "0.0" : "0")) + "\tP" + std::to_string(i) + "\tQ" +
              std::to_string(i) + "\t\"" + topics[a] + "\" with a quote\t" + topics[b] + " paper\n";
    }
    write_all(d / (std::string("new_aan_pairs.") + split + ".tsv"), text);
  }
}

// cifar-10-batches-bin/data_batch_1..5.bin (n records each) and test_batch.bin:
// a bright image is class 1, a dark one class 0.
inline std::string cifar_records(int n, int offset) {
  std::string out;
  for (int r = 0; r < n; ++r) {
    const int label = (r + offset) % 2;
    out.push_back(static_cast<char>(label));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < data::kCifarPixels; ++p)
        out.push_back(static_cast<char>(label ? 200 + (p + c) % 50 : (p * 7 + c) % 50));
  }
  return out;
}
inline void write_cifar(const fs::path& root, int n = 4) {
  const fs::path d = root / "cifar-10-batches-bin";
  fs::create_directories(d);
  for (int i = 1; i <= 5; ++i) write_all(d / ("data_batch_" + std::to_string(i) + ".bin"), cifar_records(n, i));
  write_all(d / "test_batch.bin", cifar_records(2 * n, 0));
}

// pathfinder32/<difficulty>/{metadata/0.npy, imgs/0/sample_<k>.png}: side x side
// gray PNGs (a bright line = label 1), one empty image and one missing one.
inline void write_pathfinder(const fs::path& root, int n = 20, int side = 8,
                             const std::string& difficulty = "curv_contour_length_14") {
  const fs::path d = root / difficulty;
  fs::create_directories(d / "metadata");
  fs::create_directories(d / "imgs" / "0");
  std::string meta;
  for (int k = 0; k < n; ++k) {
    const int label = k % 2;
    data::GrayImage img;
    img.width = img.height = side;
    img.pixels.assign(static_cast<size_t>(side * side), 10);
    if (label)
      for (int x = 0; x < side; ++x) img.pixels[static_cast<size_t>((side / 2) * side + x)] = 250;
    write_all(d / "imgs" / "0" / ("sample_" + std::to_string(k) + ".png"), data::encode_png_gray(img));
    meta += "imgs/0 sample_" + std::to_string(k) + ".png 0 " + std::to_string(label) + " 6 1.5\n";
  }
  write_all(d / "imgs" / "0" / "sample_empty.png", "");
  meta += "imgs/0 sample_empty.png 0 1 6 1.5\nimgs/0 sample_missing.png 0 0 6 1.5\n";
  write_all(d / "metadata" / "0.npy", meta);
}

// speech_commands_v0.02/<class>/<hash>_nohash_<n>.wav: `per_class` one-second
// clips per SC10 class (a tone whose pitch is the class), one short clip, an
// unrelated class folder and the release's list files.
inline void write_speech(const fs::path& root, int per_class = 3) {
  const fs::path d = root / "speech_commands_v0.02";
  std::string vlist, tlist;
  for (size_t c = 0; c < data::sc10_classes().size(); ++c) {
    const fs::path folder = d / data::sc10_classes()[c];
    fs::create_directories(folder);
    for (int i = 0; i < per_class; ++i) {
      std::vector<int16_t> s(data::kSpeechRate);
      for (size_t t = 0; t < s.size(); ++t) s[t] = static_cast<int16_t>(((t * (c + 1) / 40) % 2 ? 1 : -1) * (3000 + 500 * i));
      const std::string name = "0a" + std::to_string(c) + "b" + std::to_string(i) + "f_nohash_0.wav";
      write_all(folder / name, data::write_wav_mono16(s, data::kSpeechRate));
      if (i == 1) vlist += data::sc10_classes()[c] + "/" + name + "\n";
      if (i == 2) tlist += data::sc10_classes()[c] + "/" + name + "\n";
    }
  }
  write_all(d / "yes" / "ffff0000_nohash_1.wav", data::write_wav_mono16(std::vector<int16_t>(8000, 100), data::kSpeechRate));
  fs::create_directories(d / "marvin");
  write_all(d / "marvin" / "00000000_nohash_0.wav", "not read");
  write_all(d / "validation_list.txt", vlist);
  write_all(d / "testing_list.txt", tlist);
}

// A byte file named enwik8 (a repeating, predictable text) of `bytes` bytes.
inline void write_enwik8(const fs::path& dir, size_t bytes) {
  fs::create_directories(dir);
  std::string s;
  const std::string unit = "<page><title>Boat</title><text>A boat [[floats]] on water.</text></page>\n";
  while (s.size() < bytes) s += unit;
  s.resize(bytes);
  write_all(dir / "enwik8", s);
}

}  // namespace seqboat::testing
