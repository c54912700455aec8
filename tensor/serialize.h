// tensor/serialize.h: Tensor <-> safetensors (tensor/safetensors.h does the
// file format; this converts between its byte blobs and Tensors).
#pragma once

#include <map>
#include <string>

#include "tensor/safetensors.h"
#include "tensor/tensor.h"

namespace seqboat {

struct TensorFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

Tensor tensor_from_st(const StTensor& st);  // BOOL loads as UInt8
StTensor tensor_to_st(const Tensor& t);
TensorFile load_tensors(const std::string& path);
// The same from bytes in memory (name_for_errors prefixes the messages).
TensorFile parse_tensors(const uint8_t* bytes, size_t size, const std::string& name_for_errors);
// Atomic: written to a temporary file and renamed over `path`.
void save_tensors(const std::string& path, const TensorFile& file);

}  // namespace seqboat
