// tests/test_file_index.cpp: the files read by offset (tensor/file_read.h's
// OpenFile), which the data indexes read their examples from.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "tensor/file_read.h"
#include "test_util.h"

using namespace seqboat;
using doctest::Contains;
using seqboat::testing::TempDir;
using seqboat::testing::write_all;

TEST_CASE("OpenFile: reads by offset, short only at the end; refuses what read_file_limited refuses, and pipes") {
  TempDir dir;
  const std::string p = dir.file("f.bin");
  write_all(p, "0123456789");
  const OpenFile f(p, 100, "test file");
  CHECK(f.size() == 10);
  char buf[8] = {};
  CHECK(f.read_at(3, buf, 4) == 4);
  CHECK(std::string(buf, 4) == "3456");
  CHECK(f.read_at(8, buf, 4) == 2);
  CHECK(std::string(buf, 2) == "89");
  CHECK(f.read_at(20, buf, 4) == 0);
  OpenFile moved(OpenFile(p, 100, "test file"));
  CHECK(moved.read_at(0, buf, 1) == 1);
  CHECK(buf[0] == '0');

  CHECK_THROWS_WITH_AS(OpenFile(p, 9, "test file"), Contains("f.bin: test file is 10 bytes, more than the 9-byte limit"),
                       FileReadError);
  CHECK_THROWS_WITH_AS(OpenFile(dir.file("none"), 100, "test file"), Contains("none: cannot open"), FileReadError);
  CHECK_THROWS_WITH_AS(OpenFile(dir.path.string(), 100, "test file"), Contains("the test file is a directory"),
                       FileReadError);
  CHECK_THROWS_WITH_AS(OpenFile("/dev/zero", 100, "test file"), Contains("the test file is a character device"),
                       FileReadError);
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(OpenFile(fifo, 100, "test file"), Contains("fifo: cannot read: the test file is a pipe"),
                       FileReadError);
}
