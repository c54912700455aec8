// data/data_file.h: how a data reader opens a file it reads by offset
// (tensor/file_read.h's OpenFile: a FIFO or device refused, never waited on),
// with its errors as the data layer reports them: std::runtime_error
// "<reader>: <path>: <problem>", so that a message says which reader failed.
#pragma once

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

#include "tensor/file_read.h"

namespace seqboat::data {

// max_bytes: the file's size limit; a file read by offset and never held
// whole needs none (the default).
inline OpenFile open_data_file(const std::string& reader, const std::string& path, const std::string& kind,
                               size_t max_bytes = std::numeric_limits<size_t>::max()) {
  try {
    return OpenFile(path, max_bytes, kind);
  } catch (const FileReadError& e) {
    throw std::runtime_error(reader + ": " + e.what());
  }
}

}  // namespace seqboat::data
