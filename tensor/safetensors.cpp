// Reads, validates and atomically writes safetensors files (see safetensors.h).
// The reader treats its input as untrusted: every size and offset is checked
// before use, and every problem becomes a SafetensorsError naming the file.
#include "safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tensor/atomic_file.h"
#include "tensor/checked.h"
#include "tensor/file_read.h"
#include "tensor/json_text.h"

namespace seqboat {
namespace {

using nlohmann::json;

// Same limit as the reference implementation; checked before the header is
// parsed so a corrupt size cannot make us parse gigabytes of garbage.
constexpr uint64_t kMaxHeaderSize = 100'000'000;

struct DtypeInfo {
  StDtype dtype;
  const char* name;
  size_t size;
};
constexpr DtypeInfo kDtypes[] = {
    {StDtype::F32, "F32", 4}, {StDtype::F64, "F64", 8},   {StDtype::I64, "I64", 8},
    {StDtype::U8, "U8", 1},   {StDtype::BOOL, "BOOL", 1},
};

const DtypeInfo& dtype_info(StDtype dtype) {
  for (const auto& info : kDtypes)
    if (info.dtype == dtype) return info;
  throw SafetensorsError(fmt::format("invalid StDtype value {}", static_cast<int>(dtype)));
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Checks that nbytes of data is exactly what shape and dtype call for.
// Returns "" when consistent, else the problem (to follow "tensor 'x' ").
// Shared by reader and writer so neither can produce what the other rejects.
std::string layout_problem(StDtype dtype, const std::vector<int64_t>& shape, uint64_t nbytes) {
  for (int64_t dim : shape)
    if (dim < 0) return fmt::format("has negative dimension {} in shape {}", dim, shape_str(shape));
  // The same rule as a Tensor's (tensor/checked.h): the product of the dims,
  // a 0 counted as 1, must fit 64 bits with 8-byte elements, so that no
  // stride or later size computed from the shape overflows, even for a
  // tensor with no elements such as [0, 2^61, 6].
  int64_t numel = 0;
  try {
    numel = checked_numel(shape, "shape");
  } catch (const SizeError&) {
    return fmt::format("has shape {}, too large for 64-bit sizes", shape_str(shape));
  }
  const uint64_t need = static_cast<uint64_t>(numel) * dtype_info(dtype).size;  // <= 2^63: no overflow
  if (need != nbytes)
    return fmt::format("has {} data bytes but shape {} of dtype {} needs {}", nbytes, shape_str(shape),
                       dtype_info(dtype).name, need);
  return "";
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

size_t st_dtype_size(StDtype dtype) { return dtype_info(dtype).size; }
const char* st_dtype_name(StDtype dtype) { return dtype_info(dtype).name; }

StDtype st_dtype_from_name(const std::string& name) {
  std::string known;
  for (const auto& info : kDtypes) {
    if (name == info.name) return info.dtype;
    known += (known.empty() ? "" : ", ") + std::string(info.name);
  }
  throw SafetensorsError(fmt::format("unknown dtype {} (known: {})", quote_text(name), known));
}

StFile parse_safetensors(const std::vector<uint8_t>& bytes, const std::string& name) {
  return parse_safetensors(bytes.data(), bytes.size(), name);
}

StFile parse_safetensors(const uint8_t* bytes, size_t size, const std::string& name) {
  auto fail = [&](const std::string& problem) { return SafetensorsError(safe_text(name) + ": " + problem); };

  if (size < 8) throw fail(fmt::format("file is too short ({} bytes) to hold the 8-byte header size", size));
  const uint64_t header_size = read_u64_le(bytes);
  if (header_size > kMaxHeaderSize) throw fail(fmt::format("header size {} exceeds the 100 MB limit", header_size));
  if (header_size > size - 8)
    throw fail(fmt::format("header size {} is larger than the {} bytes that follow it", header_size, size - 8));

  json header;
  try {
    // Depth-limited: error messages and the checks below walk the tree.
    header = parse_json_text(std::string_view(reinterpret_cast<const char*>(bytes) + 8, header_size),
                             "malformed JSON header");
  } catch (const JsonTextError& e) {
    throw fail(e.what());
  }
  if (!header.is_object()) throw fail(fmt::format("header is not a JSON object (got {})", header.type_name()));

  const uint8_t* data = bytes + 8 + header_size;
  const uint64_t data_size = size - 8 - header_size;

  StFile file;
  struct Span {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Span> spans;

  for (const auto& item : header.get_ref<const json::object_t&>()) {
    // Plain references, not structured bindings: C++17 lambdas can't capture those.
    const std::string& key = item.first;
    const json& entry = item.second;
    if (key == "__metadata__") {
      if (!entry.is_object())
        throw fail(fmt::format("__metadata__ must be a JSON object of strings (got {})", entry.type_name()));
      for (const auto& [mkey, mvalue] : entry.get_ref<const json::object_t&>()) {
        if (!mvalue.is_string())
          throw fail(fmt::format("__metadata__ value for {} must be a string (got {})", quote_text(mkey),
                                 mvalue.type_name()));
        file.metadata[mkey] = mvalue.get<std::string>();
      }
      continue;
    }

    const std::string what = "tensor " + quote_text(key);
    if (!entry.is_object()) throw fail(fmt::format("{} entry must be a JSON object (got {})", what, entry.type_name()));
    auto field = [&](const char* field_name) -> const json& {
      auto it = entry.find(field_name);
      if (it == entry.end()) throw fail(fmt::format("{} is missing '{}'", what, field_name));
      return *it;
    };
    const json& jdtype = field("dtype");
    const json& jshape = field("shape");
    const json& joffsets = field("data_offsets");

    StTensor t;
    if (!jdtype.is_string()) throw fail(fmt::format("{} dtype must be a string (got {})", what, jdtype.type_name()));
    try {
      t.dtype = st_dtype_from_name(jdtype.get<std::string>());
    } catch (const SafetensorsError& e) {
      throw fail(what + " has " + e.what());
    }

    // JSON integers >= 0 parse as unsigned, negative ones as signed;
    // floats, bools etc. are rejected. Negative dims are reported by
    // layout_problem below.
    if (!jshape.is_array())
      throw fail(fmt::format("{} shape must be an array of integers (got {})", what, jshape.type_name()));
    for (const json& dim : jshape) {
      const bool fits =
          dim.is_number_integer() &&
          (!dim.is_number_unsigned() || dim.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()));
      if (!fits) throw fail(fmt::format("{} shape must be an array of 64-bit integers (got {} among them)", what,
                                        json_excerpt(dim)));
      t.shape.push_back(dim.get<int64_t>());
    }

    if (!joffsets.is_array() || joffsets.size() != 2 || !joffsets[0].is_number_unsigned() ||
        !joffsets[1].is_number_unsigned())
      throw fail(fmt::format("{} data_offsets must be two non-negative integers (got {})", what, json_excerpt(joffsets)));
    const uint64_t begin = joffsets[0].get<uint64_t>();
    const uint64_t end = joffsets[1].get<uint64_t>();
    if (end < begin) throw fail(fmt::format("{} data_offsets [{}, {}] have end before begin", what, begin, end));
    if (end > data_size)
      throw fail(fmt::format("{} data_offsets [{}, {}] exceed the data buffer size {}", what, begin, end, data_size));
    const std::string problem = layout_problem(t.dtype, t.shape, end - begin);
    if (!problem.empty()) throw fail(what + " " + problem);

    t.data.assign(data + begin, data + end);
    spans.push_back({begin, end, &key});
    file.tensors.emplace(key, std::move(t));
  }

  // Overlap check: sorted by begin, each non-empty span must start at or
  // after the end of the previous non-empty one. Empty spans occupy no bytes.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  const Span* prev = nullptr;
  for (const Span& s : spans) {
    if (s.begin == s.end) continue;
    if (prev && s.begin < prev->end)
      throw fail(fmt::format("tensors {} [{}, {}] and {} [{}, {}] overlap", quote_text(*prev->name), prev->begin,
                             prev->end, quote_text(*s.name), s.begin, s.end));
    prev = &s;
  }
  return file;
}

StFile read_safetensors(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file_limited(path, max_allocation_bytes(), "safetensors file");
  } catch (const FileReadError& e) {
    throw SafetensorsError(e.what());
  }
  return parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

std::vector<uint8_t> serialize_safetensors(const StFile& file) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : file.tensors) {  // std::map: already sorted by name
    if (name == "__metadata__") throw SafetensorsError("a tensor cannot be named '__metadata__' (reserved)");
    const std::string problem = layout_problem(t.dtype, t.shape, t.data.size());
    if (!problem.empty()) throw SafetensorsError("tensor '" + name + "' " + problem);
    header[name] = {
        {"dtype", st_dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;

  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // e.g. a name that is not valid UTF-8
    throw SafetensorsError(std::string("cannot encode header: ") + e.what());
  }
  // Padding keeps the data buffer 8-byte aligned (relative to file start).
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<uint8_t> out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& entry : file.tensors) out.insert(out.end(), entry.second.data.begin(), entry.second.data.end());
  return out;
}

void write_safetensors(const std::string& path, const StFile& file) {
  std::vector<uint8_t> bytes;
  try {
    bytes = serialize_safetensors(file);
  } catch (const SafetensorsError& e) {
    throw SafetensorsError(path + ": " + e.what());
  }

  try {
    write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const std::runtime_error& e) {
    throw SafetensorsError(e.what());  // already "<path>: cannot write (<step> of <tmp> failed): ..."
  }
}

}  // namespace seqboat
