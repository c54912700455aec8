// Standalone reader/writer for the safetensors file format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// size N, N bytes of JSON describing each tensor, then the raw data buffer.
// It knows nothing about seqboat's Tensor type; tensors are plain byte blobs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqboat {

enum class StDtype { F32, F64, I64, U8, BOOL };

struct StTensor {
  StDtype dtype = StDtype::F32;
  std::vector<int64_t> shape;  // [] is a 0-d tensor with one element
  std::vector<uint8_t> data;   // little-endian raw bytes, row-major
};

struct StFile {
  std::map<std::string, StTensor> tensors;
  std::map<std::string, std::string> metadata;  // the "__metadata__" entry
};

// Every failure (I/O, malformed or inconsistent file) is reported as this,
// with a message that starts with the file name.
struct SafetensorsError : std::runtime_error {
  using runtime_error::runtime_error;
};

// Reads and fully validates a file.
StFile read_safetensors(const std::string& path);
// Same, from bytes already in memory; name_for_errors prefixes error messages.
StFile parse_safetensors(const std::vector<uint8_t>& bytes, const std::string& name_for_errors);
StFile parse_safetensors(const uint8_t* bytes, size_t size, const std::string& name_for_errors);

// Writes to a temporary file in the same directory, fsyncs it and renames it
// over path (write_file_atomic), so path holds either the old or the new
// complete file; an I/O failure names the failed step.
void write_safetensors(const std::string& path, const StFile& file);
// Tensors sorted by name and packed contiguously; header padded to 8 bytes.
std::vector<uint8_t> serialize_safetensors(const StFile& file);

size_t st_dtype_size(StDtype dtype);
const char* st_dtype_name(StDtype dtype);             // "F32", "F64", ...
StDtype st_dtype_from_name(const std::string& name);  // throws SafetensorsError

}  // namespace seqboat
