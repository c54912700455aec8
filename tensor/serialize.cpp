// tensor/serialize.cpp: conversion between Tensors and safetensors blobs.
#include "tensor/serialize.h"

#include <cstring>

namespace seqboat {

static DType dtype_from_st(StDtype d) {
  switch (d) {
    case StDtype::F32: return DType::Float32;
    case StDtype::F64: return DType::Float64;
    case StDtype::I64: return DType::Int64;
    case StDtype::U8:
    case StDtype::BOOL: return DType::UInt8;
  }
  return DType::Float32;
}

static StDtype dtype_to_st(DType d) {
  switch (d) {
    case DType::Float32: return StDtype::F32;
    case DType::Float64: return StDtype::F64;
    case DType::Int64: return StDtype::I64;
    case DType::UInt8: return StDtype::U8;
  }
  return StDtype::F32;
}

// Bytes are little-endian in the file and in memory on every platform we build for.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "seqboat assumes a little-endian host");

Tensor tensor_from_st(const StTensor& st) {
  Tensor t = empty(st.shape, dtype_from_st(st.dtype));
  if (st.data.size() != static_cast<size_t>(t.numel()) * dtype_size(t.dtype()))
    throw SafetensorsError("tensor_from_st: byte count does not match the shape");
  if (!st.data.empty()) std::memcpy(t.raw_data(), st.data.data(), st.data.size());
  return t;
}

StTensor tensor_to_st(const Tensor& t) {
  Tensor c = host_contiguous_copy(t);
  StTensor st;
  st.dtype = dtype_to_st(c.dtype());
  st.shape = c.shape();
  st.data.resize(static_cast<size_t>(c.numel()) * dtype_size(c.dtype()));
  if (!st.data.empty()) std::memcpy(st.data.data(), c.raw_data(), st.data.size());
  return st;
}

static TensorFile to_tensor_file(StFile f) {
  TensorFile out;
  out.metadata = f.metadata;
  for (auto& [name, st] : f.tensors) out.tensors[name] = tensor_from_st(st);
  return out;
}

TensorFile load_tensors(const std::string& path) { return to_tensor_file(read_safetensors(path)); }

TensorFile parse_tensors(const uint8_t* bytes, size_t size, const std::string& name) {
  return to_tensor_file(parse_safetensors(bytes, size, name));
}

void save_tensors(const std::string& path, const TensorFile& file) {
  StFile f;
  f.metadata = file.metadata;
  for (auto& [name, t] : file.tensors) f.tensors[name] = tensor_to_st(t);
  write_safetensors(path, f);
}

}  // namespace seqboat
