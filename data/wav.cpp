// data/wav.cpp: RIFF/WAVE header parsing and 16-bit PCM reading (see wav.h).
#include "data/wav.h"

#include <fmt/format.h>

#include <stdexcept>

#include "tensor/json_text.h"

namespace seqboat::data {

namespace {

uint32_t u32(std::string_view b, uint64_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[at])) | static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}
uint16_t u16(std::string_view b, uint64_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}

}  // namespace

WavInfo parse_wav_header(std::string_view head, uint64_t file_size, const std::string& name) {
  auto fail = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", name, what)); };
  if (head.size() > file_size) throw fail("more bytes than the file size given (a seqboat bug)");
  if (file_size < 12) throw fail(fmt::format("{} bytes: too short for a RIFF/WAVE header (12 bytes)", file_size));
  if (head.size() < 12) throw fail(fmt::format("header continues past the first {} bytes", head.size()));
  if (head.substr(0, 4) != "RIFF") throw fail("not a RIFF file (no 'RIFF' at the start)");
  if (head.substr(8, 4) != "WAVE") throw fail("a RIFF file but not WAVE (no 'WAVE' at byte 8)");
  const uint64_t riff_end = uint64_t{u32(head, 4)} + 8;  // end of the RIFF chunk, in file bytes
  if (riff_end > file_size)
    throw fail(fmt::format("the RIFF header says {} bytes but the file has {} (truncated?)", riff_end, file_size));
  WavInfo info;
  bool have_fmt = false;
  uint64_t at = 12;
  for (;;) {
    if (at + 8 > riff_end) throw fail(have_fmt ? "no 'data' chunk" : "no 'fmt ' chunk");
    if (at + 8 > head.size()) throw fail(fmt::format("header continues past the first {} bytes", head.size()));
    const std::string_view id = head.substr(at, 4);
    const uint64_t size = u32(head, at + 4), body = at + 8;
    if (body + size > riff_end)
      throw fail(fmt::format("chunk {} at byte {} claims {} bytes, past the end of the RIFF data ({})",
                             quote_text(std::string(id)), at, size, riff_end));
    if (id == "fmt ") {
      if (have_fmt) throw fail("two 'fmt ' chunks");
      if (size < 16) throw fail(fmt::format("'fmt ' chunk of {} bytes (at least 16)", size));
      if (body + 16 > head.size()) throw fail(fmt::format("header continues past the first {} bytes", head.size()));
      const int format = u16(head, body);
      info.channels = u16(head, body + 2);
      info.sample_rate = static_cast<int>(u32(head, body + 4));
      const uint32_t byte_rate = u32(head, body + 8);
      const int block_align = u16(head, body + 12);
      info.bits_per_sample = u16(head, body + 14);
      if (format != 1) throw fail(fmt::format("audio format {} is not PCM (1)", format));
      if (info.channels < 1) throw fail("0 channels");
      if (info.sample_rate < 1 || info.sample_rate > 1'000'000)
        throw fail(fmt::format("sample rate {} Hz out of range (1 to 1000000)", u32(head, body + 4)));
      if (info.bits_per_sample != 8 && info.bits_per_sample != 16 && info.bits_per_sample != 24 &&
          info.bits_per_sample != 32)
        throw fail(fmt::format("{} bits per sample (8, 16, 24 or 32 for PCM)", info.bits_per_sample));
      const int expect_align = info.channels * info.bits_per_sample / 8;
      if (block_align != expect_align)
        throw fail(fmt::format("block align {} but {} channels x {} bits need {}", block_align, info.channels,
                               info.bits_per_sample, expect_align));
      if (byte_rate != static_cast<uint64_t>(info.sample_rate) * static_cast<uint64_t>(expect_align))
        throw fail(fmt::format("byte rate {} but {} Hz x {} bytes per frame = {}", byte_rate, info.sample_rate,
                               expect_align, static_cast<uint64_t>(info.sample_rate) * expect_align));
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) throw fail("'data' chunk before the 'fmt ' chunk");
      const uint64_t frame = static_cast<uint64_t>(info.channels) * (info.bits_per_sample / 8);
      if (size % frame != 0) throw fail(fmt::format("data chunk of {} bytes is not whole frames of {} bytes", size, frame));
      info.data_offset = body;
      info.data_bytes = size;
      return info;
    }
    at = body + size + (size & 1);  // chunks are padded to an even size
  }
}

std::vector<int16_t> read_wav_mono16(std::string_view bytes, int rate, const std::string& name) {
  const WavInfo w = parse_wav_header(bytes, bytes.size(), name);
  if (w.channels != 1 || w.bits_per_sample != 16 || w.sample_rate != rate)
    throw std::runtime_error(fmt::format("{}: {} channel(s), {} bits, {} Hz; expected mono 16-bit PCM at {} Hz", name,
                                         w.channels, w.bits_per_sample, w.sample_rate, rate));
  std::vector<int16_t> out(static_cast<size_t>(w.data_bytes / 2));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int16_t>(u16(bytes, w.data_offset + 2 * i));
  return out;
}

std::string write_wav_mono16(const std::vector<int16_t>& samples, int rate) {
  std::string out;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto put16 = [&](uint32_t v) {
    for (int i = 0; i < 2; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  const uint32_t data = static_cast<uint32_t>(samples.size() * 2);
  out += "RIFF";
  put32(36 + data);
  out += "WAVEfmt ";
  put32(16);
  put16(1);
  put16(1);
  put32(static_cast<uint32_t>(rate));
  put32(static_cast<uint32_t>(rate) * 2);
  put16(2);
  put16(16);
  out += "data";
  put32(data);
  for (int16_t s : samples) put16(static_cast<uint16_t>(s));
  return out;
}

}  // namespace seqboat::data
