// data/wav.h: a validating reader of RIFF/WAVE headers and 16-bit PCM
// samples (the format of the Speech Commands release). Every size in the
// header is checked against the bytes that are really there, so a hostile
// header is an error naming the file, never a read past the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seqboat::data {

struct WavInfo {
  int channels = 0;
  int sample_rate = 0;
  int bits_per_sample = 0;
  uint64_t data_offset = 0;  // where the samples start in the file
  uint64_t data_bytes = 0;   // size of the data chunk
  uint64_t frames() const { return channels > 0 && bits_per_sample > 0 ? data_bytes / (channels * (bits_per_sample / 8)) : 0; }
};

// Parses the header of a WAV file. `head` is the file's first bytes (the
// whole file, or a prefix that reaches the data chunk's header); file_size is
// the size of the whole file. Layout: "RIFF", u32 size, "WAVE", then chunks
// (4-byte id, u32 little-endian size, data, one pad byte when the size is
// odd); a "fmt " chunk (PCM: format 1, at least 16 bytes) must come before
// the "data" chunk; other chunks (LIST, fact, ...) are skipped. Checked:
// the RIFF size fits the file, every chunk fits the RIFF size, byte rate and
// block alignment agree with channels x bits, the data chunk holds whole
// frames and lies inside the file. Throws std::runtime_error
// "<name>: <problem>"; "<name>: header continues past the first N bytes"
// when `head` is a prefix too short to reach the data chunk.
WavInfo parse_wav_header(std::string_view head, uint64_t file_size, const std::string& name);

// The samples of a mono 16-bit PCM file at `rate` Hz (the whole file in
// `bytes`); any other format is an error naming the file and what it is.
std::vector<int16_t> read_wav_mono16(std::string_view bytes, int rate, const std::string& name);

// A valid mono 16-bit PCM WAV file (tests, examples).
std::string write_wav_mono16(const std::vector<int16_t>& samples, int rate);

}  // namespace seqboat::data
