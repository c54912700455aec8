// Tests for tensor/atomic_file: a write replaces the file whole; a failed
// write names the path and the failed step, keeps the previous file and
// leaves no temporary file behind; concurrent writers do not collide.
#include "tensor/atomic_file.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;
using doctest::Contains;
using seqboat::write_file_atomic;
using seqboat::testing::read_all;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;

TEST_CASE("write_file_atomic writes and replaces a file, leaving nothing else") {
  TempDir dir;
  const std::string path = dir.file("out.bin");
  const std::string bytes("a\0b\nc", 5);  // binary-safe
  write_file_atomic(path, bytes);
  CHECK(read_all(path) == bytes);
  write_file_atomic(path, "second");
  CHECK(read_all(path) == "second");
  write_file_atomic(path, "");
  CHECK(fs::file_size(path) == 0);
  CHECK(dir.entries() == std::vector<std::string>{"out.bin"});
}

TEST_CASE("write_file_atomic failures name the path and step and keep the old file") {
  TempDir dir;
  const std::string path = dir.file("keep.txt");
  write_file_atomic(path, "old");

  SUBCASE("target is a directory: refused before anything is written") {
    const std::string occupied = dir.file("occupied");
    fs::create_directories(fs::path(occupied) / "child");
    CHECK_THROWS_WITH_AS(write_file_atomic(occupied, "new"),
                         Contains((occupied + ": cannot write: it is a directory").c_str()), std::runtime_error);
    CHECK(fs::is_directory(fs::path(occupied) / "child"));
    fs::remove_all(occupied);
  }
  SUBCASE("directory does not exist: open fails") {
    const std::string nowhere = dir.file("missing_dir/x.txt");
    CHECK_THROWS_WITH_AS(write_file_atomic(nowhere, "new"), Contains((nowhere + ": cannot write (open of").c_str()),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(write_file_atomic(nowhere, "new"), Contains("No such file or directory"), std::runtime_error);
  }
  SUBCASE("a failed rewrite keeps the previous file") {
    // A 250-byte name is valid, but its temporary name (+ ".tmp.<pid>.<n>")
    // exceeds NAME_MAX, so rewriting it fails at open, even for root.
    const std::string long_name(250, 'k');
    const std::string long_path = dir.file(long_name);
    write_all(long_path, "previous");
    // (The message quotes at most 300 bytes of the path: safe_text.)
    CHECK_THROWS_WITH_AS(write_file_atomic(long_path, "new"), Contains(long_path.substr(0, 250).c_str()),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(write_file_atomic(long_path, "new"), Contains(": cannot write (open of"), std::runtime_error);
    CHECK(read_all(long_path) == "previous");
    fs::remove(long_path);
  }
  CHECK(read_all(path) == "old");
  CHECK(dir.entries() == std::vector<std::string>{"keep.txt"});
}

TEST_CASE("write_file_atomic writes a special file in place and keeps a symbolic link") {
  TempDir dir;
  // /dev/full accepts the open and fails the write: an error naming it (and
  // the device stays a device: it is never renamed over, even as root).
  CHECK_THROWS_WITH_AS(write_file_atomic("/dev/full", "x"),
                       Contains("/dev/full: cannot write (write failed): No space left on device"), std::runtime_error);
  CHECK(fs::is_character_file("/dev/full"));
  CHECK_NOTHROW(write_file_atomic("/dev/null", "x"));
  CHECK(fs::is_character_file("/dev/null"));
  // A FIFO without a reader is an error at once, not a hang.
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(write_file_atomic(fifo, "x"), Contains("cannot write (open failed)"), std::runtime_error);
  CHECK(fs::is_fifo(fifo));
  // A link to a file: the file gets the bytes, the link stays a link.
  write_all(dir.path / "target.txt", "old");
  fs::create_symlink(dir.path / "target.txt", dir.path / "link.txt");
  write_file_atomic(dir.file("link.txt"), "new");
  CHECK(fs::is_symlink(dir.path / "link.txt"));
  CHECK(read_all(dir.path / "target.txt") == "new");
}

TEST_CASE("AppendFile checks every write") {
  TempDir dir;
  seqboat::AppendFile f(dir.file("log.jsonl"));
  f.append("a\n");
  f.append("b\n");
  f.close();
  CHECK(read_all(dir.path / "log.jsonl") == "a\nb\n");
  seqboat::AppendFile full("/dev/full");
  CHECK_THROWS_WITH_AS(full.append("x"), Contains("/dev/full: cannot write (write failed): No space left on device"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(seqboat::AppendFile(dir.file("no/such/dir.jsonl")), Contains("cannot write (open failed)"),
                       std::runtime_error);
}

TEST_CASE("write_file_atomic: concurrent writers to one path never tear the file") {
  TempDir dir;
  const std::string path = dir.file("shared.txt");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      const std::string text(1000 + t, static_cast<char>('a' + t));
      for (int i = 0; i < 20; ++i) write_file_atomic(path, text);
    });
  for (auto& th : threads) th.join();
  const std::string got = read_all(path);
  REQUIRE(got.size() >= 1000u);
  CHECK(got == std::string(got.size(), got[0]));  // one writer's complete text
  CHECK(got.size() == 1000u + static_cast<size_t>(got[0] - 'a'));
  CHECK(dir.entries() == std::vector<std::string>{"shared.txt"});
}
