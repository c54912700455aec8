// python/src/convert.cpp: seqboat <-> Python conversions (see bindings.h).
#include <fmt/format.h>
#include <nanobind/stl/string.h>

#include <cmath>

#include "bindings.h"
#include "tensor/safe_text.h"
#include "tensor/tensor.h"

namespace seqboat::python {

DType parse_dtype(const std::string& name) {
  if (name == "float32") return DType::Float32;
  if (name == "float64") return DType::Float64;
  if (name == "int64") return DType::Int64;
  if (name == "uint8") return DType::UInt8;
  fail(
      fmt::format("unknown dtype {}; expected float32, float64, int64 or uint8", quote_text(name)));
}

static nb::dlpack::dtype dlpack_dtype(DType dt, bool as_bool) {
  switch (dt) {
    case DType::Float32: return nb::dtype<float>();
    case DType::Float64: return nb::dtype<double>();
    case DType::Int64: return nb::dtype<int64_t>();
    case DType::UInt8: return as_bool ? nb::dtype<bool>() : nb::dtype<uint8_t>();
  }
  throw std::logic_error("dlpack_dtype: unknown dtype");
}

nb::object to_numpy(const Tensor& t, bool as_bool) {
  // A CPU tensor is shared as it is; a device tensor is copied to the host.
  auto* held = new Tensor(t.device() == Device::CPU ? t.detach() : host_contiguous_copy(t));
  nb::capsule owner(held, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  std::vector<size_t> shape(held->shape().begin(), held->shape().end());
  const Shape& strides = held->strides();
  nb::ndarray<nb::numpy> array(held->raw_data(), shape.size(), shape.data(), owner, strides.data(),
                               dlpack_dtype(held->dtype(), as_bool));
  return array.cast();
}

static DType dtype_from_dlpack(const nb::dlpack::dtype& d) {
  if (d == nb::dtype<float>()) return DType::Float32;
  if (d == nb::dtype<double>()) return DType::Float64;
  if (d == nb::dtype<int64_t>()) return DType::Int64;
  if (d == nb::dtype<uint8_t>()) return DType::UInt8;
  throw nb::type_error("share_numpy: the array's dtype is not float32, float64, int64 or uint8");
}

Tensor share_numpy(nb::ndarray<nb::device::cpu> array) {
  const DType dt = dtype_from_dlpack(array.dtype());
  Shape shape(array.ndim()), strides(array.ndim());
  int64_t span = 1;  // elements from the first to one past the last
  for (size_t d = 0; d < array.ndim(); ++d) {
    shape[d] = static_cast<int64_t>(array.shape(d));
    strides[d] = array.stride(d);
    if (strides[d] < 0) throw nb::type_error("share_numpy: negative strides cannot be shared; copy the array");
    span += (shape[d] - 1) * strides[d];
  }
  if (shape_numel(shape) == 0) span = 0;
  // Storage always allocates a block of its own; point it at the array's
  // memory instead and put the block back before Storage frees it. The
  // array (a Python object) is released with the GIL held.
  auto* storage = new Storage(0, Device::CPU);
  void* own_block = storage->data;
  storage->data = array.data();
  storage->nbytes = static_cast<size_t>(span) * dtype_size(dt);
  auto* keep = new nb::ndarray<nb::device::cpu>(array);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::shared_ptr<Storage>(storage, [own_block, keep](Storage* s) {
    s->data = own_block;
    s->nbytes = 0;
    delete s;
    nb::gil_scoped_acquire gil;
    delete keep;
  });
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = dt;
  return Tensor(impl);
}

// One Python value as JSON; `where` names it ("SeqBoatLayer config: key
// 'dropout'") in the error. Integers must fit 64 bits and floats be finite
// (JSON has no NaN or infinity); numbers of other types (NumPy scalars)
// convert through __index__ / __float__.
static nlohmann::json value_to_json(nb::handle v, const std::string& where, int depth) {
  if (depth > 64) throw nb::value_error(fmt::format("{}: nested more than 64 levels deep", where).c_str());
  if (v.is_none()) return nullptr;
  if (PyBool_Check(v.ptr())) return v.ptr() == Py_True;
  if (nb::isinstance<nb::str>(v)) return nb::cast<std::string>(v);
  if (PyIndex_Check(v.ptr())) {
    nb::int_ i = nb::steal<nb::int_>(PyNumber_Index(v.ptr()));
    int64_t s;
    uint64_t u;
    if (nb::try_cast(i, s)) return s;
    if (nb::try_cast(i, u)) return u;
    throw nb::value_error(fmt::format("{}: the integer {} does not fit 64 bits", where,
                                      safe_text(nb::cast<std::string>(nb::str(i))))
                              .c_str());
  }
  if (nb::isinstance<nb::float_>(v) || nb::hasattr(v, "__float__")) {
    const double d = nb::cast<double>(nb::float_(v));
    if (!std::isfinite(d))
      throw nb::value_error(fmt::format("{}: {} is not a finite number (JSON has no NaN or infinity)", where, d).c_str());
    return d;
  }
  if (nb::isinstance<nb::list>(v) || nb::isinstance<nb::tuple>(v)) {
    nlohmann::json a = nlohmann::json::array();
    size_t i = 0;
    for (nb::handle x : v) a.push_back(value_to_json(x, fmt::format("{}[{}]", where, i++), depth + 1));
    return a;
  }
  if (nb::isinstance<nb::dict>(v)) {
    nlohmann::json o = nlohmann::json::object();
    for (auto [k, x] : nb::borrow<nb::dict>(v)) {
      if (!nb::isinstance<nb::str>(k))
        throw nb::type_error(
            fmt::format("{}: keys must be strings, got a key of type {}", where, nb::type_name(k.type()).c_str())
                .c_str());
      const std::string key = nb::cast<std::string>(k);
      o[key] = value_to_json(x, fmt::format("{}: key {}", where, quote_text(key)), depth + 1);
    }
    return o;
  }
  throw nb::type_error(fmt::format("{}: a value of type {} has no JSON form (expected a number, string, bool, None, "
                                   "list or dict)",
                                   where, safe_text(nb::type_name(v.type()).c_str()))
                           .c_str());
}

nlohmann::json dict_to_json(nb::handle obj, const char* what) {
  if (!nb::isinstance<nb::dict>(obj))
    throw nb::type_error(fmt::format("{} must be a dict, got {}", what, nb::type_name(obj.type()).c_str()).c_str());
  return value_to_json(obj, what, 0);
}

nb::object json_to_python(const nlohmann::json& j) { return nb::module_::import_("json").attr("loads")(j.dump()); }

DropoutRng& dropout_stream() {
  static DropoutRng rng{0, 0};
  return rng;
}

}  // namespace seqboat::python
