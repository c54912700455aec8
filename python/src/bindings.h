// python/src/bindings.h: what the binding files share: the conversions
// between seqboat and Python (NumPy arrays, dtype names, JSON-like dicts)
// and one bind_* function per file, called by module.cpp.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace seqboat::python {

namespace nb = nanobind;

// "float32", "float64", "int64" or "uint8"; anything else is a ValueError listing them.
DType parse_dtype(const std::string& name);

// A NumPy array over the tensor's memory (no copy) for a CPU tensor, of any
// strides; a device tensor is copied to the host first. The array keeps the
// storage alive; masks (uint8) stay uint8 unless as_bool (0/1 read as bool).
nb::object to_numpy(const Tensor& t, bool as_bool = false);

// A Tensor over the array's memory (no copy): the array must be writeable,
// on the CPU, of one of the four dtypes, with non-negative strides (the
// Python side, seqboat.from_numpy, copies what does not qualify). The tensor
// keeps the array alive.
Tensor share_numpy(nb::ndarray<nb::device::cpu> array);

// Python dict -> JSON: string keys; values None, bool, str, integers that
// fit 64 bits, finite floats, lists, tuples and dicts; anything else is a
// TypeError or ValueError naming `what` and the key. JSON -> Python through
// Python's json module.
nlohmann::json dict_to_json(nb::handle obj, const char* what);
nb::object json_to_python(const nlohmann::json& j);

// The stream every module's dropout draws from (seqboat.manual_seed resets it).
DropoutRng& dropout_stream();

// An optional tensor argument: None -> an undefined Tensor.
inline Tensor or_undefined(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }

void bind_tensor(nb::module_& m);
void bind_seqboat_ops(nb::module_& m);
void bind_modules(nb::module_& m);
void bind_files(nb::module_& m);
void bind_training(nb::module_& m);

}  // namespace seqboat::python
