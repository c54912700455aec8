// data/speech_commands.h: Speech Commands v0.02 as released
// (speech_commands_v0.02/<label>/<hash>_nohash_<n>.wav, 16 kHz mono 16-bit
// PCM), the ten SC10 classes in the order the official SeqBoat code numbers
// them: yes, no, up, down, left, right, on, off, stop, go. Every clip's WAV
// header is validated when the release is indexed; the samples are read when
// a batch needs them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seqboat::data {

constexpr int kSpeechRate = 16000;
const std::vector<std::string>& sc10_classes();

struct Clip {
  std::string path;  // full path
  std::string name;  // "<label>/<file>", as the release's list files write it
  int label = 0;
  uint64_t frames = 0;  // samples in the file
};

// "<hash>_nohash_<n>.wav" (hash: letters and digits, n: digits).
bool valid_clip_name(const std::string& name);

// The folder holding the class folders: dir or dir/speech_commands_v0.02.
std::string speech_root(const std::string& dir);

// The .wav files of the ten class folders, sorted by (label, name); other
// files are ignored. A .wav whose name is not of the form above, or whose
// header is invalid or not 16 kHz mono 16-bit PCM, is an error naming it.
std::vector<Clip> index_speech_commands(const std::string& dir);

// The clip's samples (header validated again).
std::vector<int16_t> read_clip(const Clip& clip);

// The release's list file (validation_list.txt / testing_list.txt) as
// "<label>/<file>" names; an empty list when the file is absent is an error
// naming it.
std::vector<std::string> read_clip_list(const std::string& root, const std::string& file);

}  // namespace seqboat::data
