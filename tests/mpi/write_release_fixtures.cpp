// tests/mpi/write_release_fixtures.cpp: writes the tiny releases of
// tests/release_fixtures.h (the formats their publishers release) into a
// folder, for the shell checks that train each task under mpirun:
//   DIR/text (aclImdb/), DIR/retrieval (tsv_data/), DIR/image
//   (cifar-10-batches-bin/), DIR/pathfinder (curv_contour_length_14/; only
//   when libpng is present), DIR/speech (speech_commands_v0.02/),
//   DIR/enwik8 (a 30,000-byte enwik8).
// Usage: write_release_fixtures DIR. Exit 1 (with the reason) when a file
// cannot be written.
// release_fixtures.h comes with the doctest helpers of test_util.h, which
// need doctest's implementation (compiled in here; this program's own main
// runs, no test).
#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdio>
#include <exception>
#include <filesystem>

#include "release_fixtures.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_release_fixtures DIR\n");
    return 2;
  }
  namespace fs = std::filesystem;
  namespace t = seqboat::testing;
  const fs::path dir = argv[1];
  try {
    t::write_imdb(dir / "text");
    t::write_aan(dir / "retrieval");
    t::write_cifar(dir / "image");
    if (seqboat::data::png_available()) t::write_pathfinder(dir / "pathfinder");
    t::write_speech(dir / "speech", 7);
    t::write_enwik8(dir / "enwik8", 30000);
    // write_all does not report errors: check that the last file is whole.
    if (fs::file_size(dir / "enwik8" / "enwik8") != 30000) throw std::runtime_error("enwik8: short write");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_release_fixtures: %s: %s\n", dir.string().c_str(), e.what());
    return 1;
  }
  std::printf("release fixtures written to %s\n", dir.string().c_str());
  return 0;
}
