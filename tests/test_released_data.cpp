// tests/test_released_data.cpp: the readers of the released data formats
// (data/wav, cifar10, png_gray, pathfinder, aan, imdb, speech_commands,
// enwik8): what each reads from a real file of its format, and the clear
// error (file, line or record) each gives for a malformed one.
#include <doctest/doctest.h>

#include <algorithm>

#include "data/aan.h"
#include "data/cifar10.h"
#include "data/enwik8.h"
#include "data/imdb.h"
#include "data/pathfinder.h"
#include "data/png_gray.h"
#include "data/speech_commands.h"
#include "data/wav.h"
#include "release_fixtures.h"

using namespace seqboat;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;
namespace fs = std::filesystem;

namespace {
void put32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
}  // namespace

TEST_CASE("WAV: a valid mono 16-bit file round-trips; hostile headers are errors naming the file") {
  const std::vector<int16_t> s = {0, 1, -1, 32767, -32768, 1234};
  const std::string wav = data::write_wav_mono16(s, 16000);
  CHECK(data::read_wav_mono16(wav, 16000, "a.wav") == s);
  const data::WavInfo info = data::parse_wav_header(wav, wav.size(), "a.wav");
  CHECK(info.frames() == s.size());
  CHECK(info.data_offset == 44);
  // A LIST chunk before the data is skipped (odd size: padded).
  std::string with_list = wav.substr(0, 36) + std::string("LIST\x03\0\0\0abc\0", 12) + wav.substr(36);
  put32(with_list, 4, static_cast<uint32_t>(with_list.size() - 8));
  CHECK(data::read_wav_mono16(with_list, 16000, "b.wav") == s);

  auto fails = [](std::string bytes, const std::string& needle) {
    CHECK_THROWS_WITH_AS(data::read_wav_mono16(bytes, 16000, "bad.wav"), doctest::Contains(needle.c_str()), std::runtime_error);
    CHECK_THROWS_WITH_AS(data::read_wav_mono16(bytes, 16000, "bad.wav"), doctest::Contains("bad.wav"), std::runtime_error);
  };
  fails("", "too short");
  fails("RIFX" + wav.substr(4), "not a RIFF file");
  std::string big = wav;
  put32(big, 4, 0xFFFFFFF0u);  // a RIFF size far past the end of the file
  fails(big, "truncated");
  std::string chunk = wav;
  put32(chunk, 40, 0x7FFFFFFF);  // a data chunk that claims 2 GB
  fails(chunk, "past the end");
  std::string stereo = wav;
  stereo[22] = 2;  // channels = 2 but block align still 2
  fails(stereo, "block align");
  std::string rate = wav;
  put32(rate, 24, 8000);  // 8 kHz with a 16 kHz byte rate
  fails(rate, "byte rate");
  std::string pcm = wav;
  pcm[20] = 3;  // IEEE float
  fails(pcm, "not PCM");
  fails(wav.substr(0, 30), "truncated");
  std::string odd = wav;
  put32(odd, 40, 11);  // 11 bytes: not whole 16-bit frames
  fails(odd, "whole frames");
  // A valid file of another format is refused by the speech reader's rule.
  std::string eight_k = data::write_wav_mono16(s, 8000);
  CHECK_THROWS_WITH_AS(data::read_wav_mono16(eight_k, 16000, "c.wav"),
                       doctest::Contains("expected mono 16-bit PCM at 16000"), std::runtime_error);
}

TEST_CASE("CIFAR-10 records: Pillow's luma, sizes and labels checked by record, images read from the files by record") {
  CHECK(data::pil_luma(255, 0, 0) == 76);  // 0.299 * 255 = 76.2
  CHECK(data::pil_luma(0, 255, 0) == 150);
  CHECK(data::pil_luma(0, 0, 255) == 29);
  CHECK(data::pil_luma(255, 255, 255) == 255);
  CHECK(data::pil_luma(10, 200, 77) == 129);  // 2.99 + 117.4 + 8.78 = 129.17
  std::string rec(data::kCifarRecordBytes, '\0');
  rec[0] = 3;
  rec[1] = static_cast<char>(255);             // red of pixel 0
  rec[1 + 1024 + 5] = static_cast<char>(255);  // green of pixel 5
  std::string rec2 = rec;
  rec2[0] = 7;
  rec2[1 + 2048 + 9] = static_cast<char>(255);  // blue of pixel 9
  TempDir tmp;
  const fs::path dir = tmp.path / "cifar-10-batches-bin";
  fs::create_directories(dir);
  const fs::path test_file = dir / "test_batch.bin";
  write_all(test_file, rec + rec2);
  uint8_t gray[data::kCifarPixels];
  {
    const data::CifarSplit test(tmp.path.string(), false);
    REQUIRE(test.size() == 2);
    CHECK(test.label(0) == 3);
    CHECK(test.label(1) == 7);
    test.read_gray(1, gray);
    CHECK(gray[0] == 76);
    CHECK(gray[5] == 150);
    CHECK(gray[9] == 29);
    CHECK(gray[1] == 0);
    test.read_gray(0, gray);
    CHECK(gray[9] == 0);
  }
  // A split of several files: image k is record k - (records before its file)
  // of its file, converted as one record alone is.
  seqboat::testing::write_cifar(tmp.path, 3);
  {
    const data::CifarSplit train(dir.string(), true);
    REQUIRE(train.size() == 15);
    uint8_t expect[data::kCifarPixels];
    for (size_t k = 0; k < 15; ++k) {
      const std::string file = seqboat::testing::cifar_records(3, static_cast<int>(k / 3) + 1);
      const auto* record = reinterpret_cast<const uint8_t*>(file.data()) + (k % 3) * data::kCifarRecordBytes;
      data::cifar_record_gray(record, expect);
      train.read_gray(k, gray);
      CHECK(std::equal(gray, gray + data::kCifarPixels, expect));
      CHECK(train.label(k) == record[0]);
    }
    CHECK(data::CifarSplit(tmp.path.string(), false).size() == 6);
  }
  // Each malformed file is named, with the record where there is one.
  auto test_split_fails = [&](const std::string& bytes, const char* needle) {
    write_all(test_file, bytes);
    CHECK_THROWS_WITH_AS(data::CifarSplit(tmp.path.string(), false), doctest::Contains(needle), std::runtime_error);
  };
  std::string bad = rec + rec;
  bad[data::kCifarRecordBytes] = 10;
  test_split_fails(bad, "test_batch.bin: record 2: label 10 is not 0..9");
  std::string late;  // a bad label after the first block of records the index reads at once
  for (int r = 0; r < 300; ++r) late += rec;
  late[299 * static_cast<size_t>(data::kCifarRecordBytes)] = 11;
  test_split_fails(late, "test_batch.bin: record 300: label 11 is not 0..9");
  test_split_fails(rec + "x", "test_batch.bin: 3074 bytes is not a whole number");
  test_split_fails("", "test_batch.bin: empty");
  fs::remove(dir / "data_batch_4.bin");
  CHECK_THROWS_WITH_AS(data::CifarSplit(tmp.path.string(), true),
                       doctest::Contains(("cifar10: " + (dir / "data_batch_4.bin").string() + ": cannot open").c_str()),
                       std::runtime_error);
  fs::create_directories(dir / "data_batch_4.bin");
  CHECK_THROWS_WITH_AS(data::CifarSplit(tmp.path.string(), true),
                       doctest::Contains("data_batch_4.bin: cannot read: the CIFAR-10 batch is a directory"),
                       std::runtime_error);
  // A file changed after it was indexed: the read names the file and record.
  write_all(test_file, rec + rec2);
  const data::CifarSplit test(tmp.path.string(), false);
  write_all(test_file, rec2 + rec);
  CHECK_THROWS_WITH_AS(test.read_gray(1, gray),
                       doctest::Contains("test_batch.bin: record 2: label 3, but 7 when the file was indexed"),
                       std::runtime_error);
  write_all(test_file, rec);
  CHECK_THROWS_WITH_AS(test.read_gray(1, gray), doctest::Contains("test_batch.bin: record 2: cannot read it again"),
                       std::runtime_error);
  test.read_gray(0, gray);  // record 1 is still whole
  CHECK(gray[0] == 76);
}

TEST_CASE("PNG through libpng: a written gray image decodes to the same pixels; garbage is an error naming the file") {
  if (!data::png_available()) {
    CHECK_THROWS_WITH_AS(data::decode_png_gray("\x89PNG", "x.png"), doctest::Contains("libpng"), std::runtime_error);
    return;
  }
  data::GrayImage img;
  img.width = 5;
  img.height = 3;
  for (int i = 0; i < 15; ++i) img.pixels.push_back(static_cast<uint8_t>(i * 17));
  const std::string png = data::encode_png_gray(img);
  CHECK(png.substr(1, 3) == "PNG");
  const data::GrayImage back = data::decode_png_gray(png, "x.png");
  CHECK(back.width == 5);
  CHECK(back.height == 3);
  CHECK(back.pixels == img.pixels);
  CHECK_THROWS_WITH_AS(data::decode_png_gray("not a png at all", "y.png"), doctest::Contains("y.png: not a readable PNG"),
                       std::runtime_error);
  std::string cut = png.substr(0, png.size() / 2);
  CHECK_THROWS_WITH_AS(data::decode_png_gray(cut, "z.png"), doctest::Contains("z.png"), std::runtime_error);
  std::string corrupt = png;
  corrupt[corrupt.size() - 20] ^= 0x55;  // inside the image data: a CRC or inflate error
  CHECK_THROWS_WITH_AS(data::decode_png_gray(corrupt, "w.png"), doctest::Contains("w.png"), std::runtime_error);
}

TEST_CASE("Pathfinder metadata: fields, labels, safe paths; the index skips and counts empty and missing images") {
  auto rows = data::parse_pathfinder_metadata("imgs/0 sample_0.png 0 1 6 1.5\n\nimgs/0 sample_1.png 0 0\n", "m.npy");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].image == "imgs/0/sample_0.png");
  CHECK(rows[0].label == 1);
  CHECK(rows[1].label == 0);
  CHECK_THROWS_WITH_AS(data::parse_pathfinder_metadata("a b c\n", "m.npy"), doctest::Contains("m.npy: line 1: 3 fields"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(data::parse_pathfinder_metadata("ok x.png 0 1\nimgs x.png 0 2\n", "m.npy"),
                       doctest::Contains("m.npy: line 2: label '2'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::parse_pathfinder_metadata("../.. passwd 0 1\n", "m.npy"), doctest::Contains("leaves the folder"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(data::parse_pathfinder_metadata("/etc passwd 0 1\n", "m.npy"), doctest::Contains("leaves the folder"),
                       std::runtime_error);
  if (!data::png_available()) return;
  TempDir tmp;
  seqboat::testing::write_pathfinder(tmp.path, 6, 4);
  const data::PathfinderIndex idx = data::index_pathfinder(tmp.path.string(), "curv_contour_length_14");
  CHECK(idx.entries.size() == 6);
  CHECK(idx.skipped_empty == 1);
  CHECK(idx.skipped_missing == 1);
  CHECK(data::read_pathfinder_image(idx, 1).pixels[8] == 250);
  CHECK_THROWS_WITH_AS(data::index_pathfinder(tmp.path.string(), "curv_baseline"),
                       doctest::Contains("curv_contour_length_14"), std::runtime_error);  // lists what is there
  write_all(tmp.path / "curv_contour_length_14" / "metadata" / "x.npy", "");
  CHECK_THROWS_WITH_AS(data::index_pathfinder(tmp.path.string(), "curv_contour_length_14"),
                       doctest::Contains("x.npy: a metadata file's name must be <number>.npy"), std::runtime_error);
}

TEST_CASE("AAN pair TSV: labels 1 and 1.0, literal quotes, CRLF; malformed lines name the file and line") {
  const data::AanPair p = data::parse_aan_line("1.0\ta\tb\t\"quoted\" text\tsecond\r", "f.tsv", 1);
  CHECK(p.label == 1);
  CHECK(p.text1 == "\"quoted\" text");
  CHECK(p.text2 == "second");
  CHECK(data::parse_aan_line("0\ta\tb\t\t", "f.tsv", 1).text1.empty());
  CHECK_THROWS_WITH_AS(data::parse_aan_line("1\ta\tb\tonly four", "f.tsv", 7), doctest::Contains("f.tsv: line 7: 4 TAB"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(data::parse_aan_line("yes\ta\tb\tx\ty", "f.tsv", 2), doctest::Contains("label 'yes'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(data::parse_aan_line("1\ta\tb\tx\ty\tz", "f.tsv", 2), doctest::Contains("more than 5"),
                       std::runtime_error);
  TempDir tmp;
  seqboat::testing::write_aan(tmp.path, 6);
  data::AanFile f((tmp.path / "tsv_data" / "new_aan_pairs.train.tsv").string());
  REQUIRE(f.size() == 6);
  std::string a, b;
  f.read_pair(5, 4, a, b);
  CHECK(a == "\"tag");  // pair 5: topics 5 % 4 = 1 and (5 / 2) % 4 = 2
  CHECK(b == "spee");
  CHECK(data::aan_dir(tmp.path.string()) == (tmp.path / "tsv_data").string());
  write_all(tmp.path / "bad.tsv", "1\ta\tb\tx\ty\n\n0\ta\tb\tx\ty\n");
  CHECK_THROWS_WITH_AS(data::AanFile((tmp.path / "bad.tsv").string()), doctest::Contains("bad.tsv: line 2: empty line"),
                       std::runtime_error);
  write_all(tmp.path / "end.tsv", "1\ta\tb\tx\ty\n\n");  // a blank line at the end is fine
  CHECK(data::AanFile((tmp.path / "end.tsv").string()).size() == 1);
}

TEST_CASE("aclImdb: names and ratings checked, unsup ignored, documents read as raw bytes") {
  int64_t id = 0;
  int rating = 0;
  CHECK(data::parse_imdb_name("123_8.txt", id, rating));
  CHECK(id == 123);
  CHECK(rating == 8);
  CHECK_FALSE(data::parse_imdb_name("123_11.txt", id, rating));
  CHECK_FALSE(data::parse_imdb_name("abc_1.txt", id, rating));
  CHECK_FALSE(data::parse_imdb_name("1_1.text", id, rating));
  TempDir tmp;
  seqboat::testing::write_imdb(tmp.path, 4);
  auto docs = data::index_imdb(tmp.path.string(), "train");
  REQUIRE(docs.size() == 8);
  CHECK(docs[0].label == 0);
  CHECK(docs[7].label == 1);
  CHECK(data::read_text_prefix(docs[0].path, 6) == "a dull");
  write_all(tmp.path / "aclImdb" / "test" / "pos" / "9_2.txt", "rated 2 but filed as positive");
  CHECK_THROWS_WITH_AS(data::index_imdb(tmp.path.string(), "test"), doctest::Contains("9_2.txt: a pos review rated 2"),
                       std::runtime_error);
  write_all(tmp.path / "aclImdb" / "train" / "neg" / "notes.txt", "x");
  CHECK_THROWS_WITH_AS(data::index_imdb(tmp.path.string(), "train"), doctest::Contains("notes.txt: the name is not"),
                       std::runtime_error);
}

TEST_CASE("Speech Commands: the ten classes, names and headers validated, list files read") {
  TempDir tmp;
  seqboat::testing::write_speech(tmp.path, 2);
  auto clips = data::index_speech_commands(tmp.path.string());
  CHECK(clips.size() == 21);  // 10 classes x 2, plus the short clip; marvin/ is not an SC10 class
  CHECK(clips[0].label == 0);
  CHECK(clips[0].name.rfind("yes/", 0) == 0);
  int short_clips = 0;
  for (const auto& c : clips) short_clips += c.frames < 16000;
  CHECK(short_clips == 1);
  CHECK(data::read_clip(clips[0]).size() == 16000);
  CHECK(data::read_clip_list(data::speech_root(tmp.path.string()), "validation_list.txt").size() == 10);
  CHECK(data::valid_clip_name("0a2b1f_nohash_3.wav"));
  CHECK_FALSE(data::valid_clip_name("0a2b1f_hash_3.wav"));
  CHECK_FALSE(data::valid_clip_name("_nohash_3.wav"));
  const fs::path bad = tmp.path / "speech_commands_v0.02" / "no" / "deadbeef_nohash_0.wav";
  std::string wav = data::write_wav_mono16(std::vector<int16_t>(100, 1), 16000);
  put32(wav, 40, 0x7FFFFFF0u);
  write_all(bad, wav);
  CHECK_THROWS_WITH_AS(data::index_speech_commands(tmp.path.string()), doctest::Contains("deadbeef_nohash_0.wav"),
                       std::runtime_error);
  write_all(bad, data::write_wav_mono16(std::vector<int16_t>(100, 1), 44100));
  CHECK_THROWS_WITH_AS(data::index_speech_commands(tmp.path.string()), doctest::Contains("44100 Hz"), std::runtime_error);
}

TEST_CASE("enwik8: the standard split needs 10^8 bytes, the proportional one any size; windows are read from disk") {
  TempDir tmp;
  seqboat::testing::write_enwik8(tmp.path, 1000);
  CHECK_THROWS_WITH_AS(data::open_enwik8(tmp.path.string(), false), doctest::Contains("1000 bytes"), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::open_enwik8(tmp.path.string(), false), doctest::Contains("enwik8.split=proportional"),
                       std::runtime_error);
  const data::Enwik8Splits s = data::open_enwik8(tmp.path.string(), true);
  CHECK(s.train.size == 900);
  CHECK(s.val.begin == 900);
  CHECK(s.val.size == 50);
  CHECK(s.test.begin == 950);
  CHECK(s.test.size == 50);
  uint8_t buf[6];
  s.file->read(1, 5, buf);
  CHECK(std::string(reinterpret_cast<char*>(buf), 5) == "page>");
  CHECK_THROWS_WITH_AS(s.file->read(998, 5, buf), doctest::Contains("outside the file"), std::runtime_error);
  CHECK_THROWS_WITH_AS(data::open_enwik8((tmp.path / "nowhere").string(), true), doctest::Contains("cannot open"),
                       std::runtime_error);
}
