// data/pathfinder.h: LRA's Pathfinder and Path-X release as published:
// <dir>/<difficulty>/metadata/<n>.npy (despite the name, text: one line per
// image, whitespace-separated fields: image folder, file name, two more
// fields, the label 0/1 in the fourth) and the images
// <dir>/<difficulty>/<folder>/<file> (8-bit gray PNGs; imgs/<n>/sample_<k>.png).
// dir is pathfinder32 (Pathfinder, 1024 pixels) or pathfinder128 (Path-X,
// 16384 pixels): the same reader serves both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/png_gray.h"

namespace seqboat::data {

struct PathfinderEntry {
  std::string image;  // relative to the difficulty folder: "<folder>/<file>"
  int label = 0;
};

// Parses one metadata file held in `text` (named `path` in errors). Blank
// lines are skipped. Throws std::runtime_error "<path>: line N: <problem>"
// for a line with fewer than 4 fields, a label other than 0 or 1, or a folder
// or file name that could leave the difficulty folder (absolute, empty
// component, "." or "..").
std::vector<PathfinderEntry> parse_pathfinder_metadata(std::string_view text, const std::string& path);

struct PathfinderIndex {
  std::string root;  // the difficulty folder
  std::vector<PathfinderEntry> entries;  // images that exist and are not empty, in metadata order
  int64_t skipped_missing = 0, skipped_empty = 0;
};

// Reads every metadata/<n>.npy of <dir>/<difficulty> in increasing n (a
// file whose stem is not a number is an error naming it) and keeps the
// entries whose image exists and is not empty; the others are counted, not
// fatal (LRA's release has an empty image). Throws std::runtime_error naming
// the folder when there is no metadata.
PathfinderIndex index_pathfinder(const std::string& dir, const std::string& difficulty);

// Reads and decodes one image of the index (std::runtime_error naming the
// file when it cannot be read or decoded).
GrayImage read_pathfinder_image(const PathfinderIndex& index, size_t i);

}  // namespace seqboat::data
