// data/png_gray.h: 8-bit grayscale images from PNG files through libpng
// (Debian's libpng-dev; its "simplified" API), for the Pathfinder / Path-X
// tasks. A build without libpng still compiles: png_available() is false and
// decoding throws, saying that the library is missing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seqboat::data {

struct GrayImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // row-major, width * height
};

// Whether this build has libpng (CMake found it).
bool png_available();
// "libpng" with its version, or why it is missing.
std::string png_library_description();

// Images larger than this (pixels) are refused before decoding (Path-X's are
// 128 x 128; the limit keeps a hostile header from asking for gigabytes).
constexpr int64_t kMaxPngPixels = int64_t{4096} * 4096;

// Decodes a PNG held in memory to 8-bit gray (colour images are converted by
// libpng; 16-bit samples are reduced to 8; an alpha channel is composed on
// black). Throws std::runtime_error "<name>: <libpng's message>".
GrayImage decode_png_gray(std::string_view bytes, const std::string& name);

// Encodes an 8-bit gray image as PNG through libpng (tests write real files
// with it). Throws std::runtime_error without libpng.
std::string encode_png_gray(const GrayImage& image);

}  // namespace seqboat::data
