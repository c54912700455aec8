// data/png_gray.cpp: PNG decoding and encoding through libpng's simplified
// API (png_image_*), which does its own error recovery: every failure comes
// back as a return value and a message, never a longjmp through our frames.
#include "data/png_gray.h"

#include <fmt/format.h>

#include <stdexcept>

#include "tensor/tensor.h"

#ifdef SEQBOAT_WITH_PNG
#include <png.h>
#endif

namespace seqboat::data {

#ifdef SEQBOAT_WITH_PNG

bool png_available() { return true; }
std::string png_library_description() { return fmt::format("libpng {}", png_get_libpng_ver(nullptr)); }

GrayImage decode_png_gray(std::string_view bytes, const std::string& name) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    throw std::runtime_error(fmt::format("{}: not a readable PNG ({})", name, image.message));
  const int64_t pixels = int64_t{image.width} * int64_t{image.height};
  if (image.width == 0 || image.height == 0 || pixels > kMaxPngPixels) {
    png_image_free(&image);
    throw std::runtime_error(fmt::format("{}: PNG of {} x {} pixels (at most {} pixels are read)", name, image.width,
                                         image.height, kMaxPngPixels));
  }
  image.format = PNG_FORMAT_GRAY;
  GrayImage out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.pixels.resize(static_cast<size_t>(pixels));
  png_color black{0, 0, 0};
  if (!png_image_finish_read(&image, &black, out.pixels.data(), 0, nullptr))
    throw std::runtime_error(fmt::format("{}: PNG decoding failed ({})", name, image.message));
  return out;
}

std::string encode_png_gray(const GrayImage& img) {
  if (img.width <= 0 || img.height <= 0 || img.pixels.size() != static_cast<size_t>(img.width) * img.height)
    fail("encode_png_gray: pixels do not match width x height");
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(img.width);
  image.height = static_cast<png_uint_32>(img.height);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(image, size, 0, img.pixels.data(), 0, nullptr))
    throw std::runtime_error(fmt::format("encode_png_gray: {}", image.message));
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, img.pixels.data(), 0, nullptr))
    throw std::runtime_error(fmt::format("encode_png_gray: {}", image.message));
  out.resize(size);
  return out;
}

#else

bool png_available() { return false; }
std::string png_library_description() {
  return "no PNG library: this seqboat was built without libpng (install libpng-dev, e.g. bash tools/setup.sh, and "
         "configure again)";
}
GrayImage decode_png_gray(std::string_view, const std::string& name) {
  throw std::runtime_error(fmt::format("{}: cannot read PNG images: {}", name, png_library_description()));
}
std::string encode_png_gray(const GrayImage&) {
  throw std::runtime_error(fmt::format("cannot write PNG images: {}", png_library_description()));
}

#endif

}  // namespace seqboat::data
