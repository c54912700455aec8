// python/src/seqboat_ops.cpp: the SeqBoat ops (ops/ssm.h, ops/attention.h,
// ops/sma.h) with keyword arguments and None for optional tensors, their
// result types (RouterOutput, SmaPlan), and gradcheck over a Python callable.
#include <fmt/format.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "ops/attention.h"
#include "ops/gradcheck.h"
#include "ops/sma.h"
#include "ops/ssm.h"
#include "tensor/safe_text.h"
#include "tensor/tensor.h"

namespace seqboat::python {

using namespace nb::literals;

static ConvAlgo parse_algo(const std::string& s) {
  ConvAlgo algo;
  if (!kernels::parse_conv_algo(s, algo))
    fail(
        fmt::format("ssm_conv: algo {} is not one of: {}", quote_text(s), fmt::join(kernels::kConvAlgoNames, ", ")));
  return algo;
}

static AttnActivation parse_attn_activation(const std::string& s) {
  AttnActivation a;
  if (!kernels::parse_activation(s, a))
    fail(fmt::format("local_attention: activation {} is not one of: {}", quote_text(s),
                                            fmt::join(kernels::kAttnActivationNames, ", ")));
  return a;
}

static void bind_ssm_and_attention(nb::module_& m) {
  m.def("ema_kernel", &ema_kernel, "delta"_a, "alpha"_a, "beta"_a, "gamma"_a, "length"_a,
        "The (K, length) EMA kernel from delta, alpha, beta (K, N, 1) and gamma (K, N).");
  m.def(
      "ssm_conv",
      [](const Tensor& x, const Tensor& kernel, const std::optional<Tensor>& pad, bool bidirectional,
         const std::string& algo) { return ssm_conv(x, kernel, or_undefined(pad), bidirectional, parse_algo(algo)); },
      "x"_a, "kernel"_a, "padding_mask"_a = nb::none(), "bidirectional"_a = false, "algo"_a = "auto",
      "The EMA convolution of x (B, L, D) with kernel (D or 2D, Lk); padding (uint8, 1 = pad) is zeroed first.");
  m.def(
      "local_attention",
      [](const Tensor& q, const Tensor& k, const Tensor& v, int64_t window, const std::optional<Tensor>& key_mask,
         const std::optional<Tensor>& positions, const std::optional<Tensor>& rel_bias, bool causal,
         const std::string& activation) {
        LocalAttentionOptions opt{window, causal, parse_attn_activation(activation)};
        return local_attention(q, k, v, or_undefined(key_mask), or_undefined(positions), or_undefined(rel_bias), opt);
      },
      "q"_a, "k"_a, "v"_a, nb::kw_only(), "window"_a, "key_mask"_a = nb::none(), "positions"_a = nb::none(),
      "rel_bias"_a = nb::none(), "causal"_a = false, "activation"_a = "softmax",
      "Windowed attention over slots: q, k (B, S, Z), v (B, S, H); key_mask uint8 (1 = invalid); positions int64 "
      "(original positions, for rel_bias).");
}

static void bind_sma(nb::module_& m) {
  nb::class_<RouterOutput>(m, "RouterOutput", "What sma_router decided: gate, active, prob, each (B, L).")
      .def_ro("gate", &RouterOutput::gate, "P1 at active tokens, 0 elsewhere (differentiable)")
      .def_ro("active", &RouterOutput::active, "uint8: 1 where P1 > P0 and not padding")
      .def_ro("prob", &RouterOutput::prob, "max(P0, P1), no gradient");
  nb::class_<SmaPlan>(m, "SmaPlan", "How sma_plan packs the active tokens into slots.")
      .def_ro("batch", &SmaPlan::batch)
      .def_ro("length", &SmaPlan::length)
      .def_ro("slots", &SmaPlan::slots)
      .def_ro("compressed", &SmaPlan::compressed)
      .def_ro("slot_index", &SmaPlan::slot_index, "(B, S) int64: each slot's original position")
      .def_ro("slot_valid", &SmaPlan::slot_valid, "(B, S) uint8: 1 where the slot holds an active token")
      .def("__repr__", [](const SmaPlan& p) {
        return fmt::format("SmaPlan(batch={}, length={}, slots={}, compressed={})", p.batch, p.length, p.slots,
                           p.compressed ? "True" : "False");
      });
  m.def(
      "sma_router",
      [](const Tensor& u, const Tensor& temp, const std::optional<Tensor>& pad) {
        return sma_router(u, temp, or_undefined(pad));
      },
      "u"_a, "temp"_a, "padding_mask"_a = nb::none(), "The SMA router: u (B, L, 2), temp (1) -> RouterOutput.");
  m.def(
      "sma_plan", [](const Tensor& active) { return sma_plan(active); }, "active"_a,
      "The slot plan for an active mask (B, L) uint8.");
  m.def("sma_compress", &sma_compress, "x"_a, "plan"_a, "(B, L, C) -> (B, S, C): the active tokens, in order.");
  m.def("sma_extract", &sma_extract, "y"_a, "plan"_a, "(B, S, C) -> (B, L, C): each slot back at its token.");
}

static void bind_gradcheck(nb::module_& m) {
  nb::class_<GradcheckResult>(m, "GradcheckResult")
      .def_ro("ok", &GradcheckResult::ok)
      .def_ro("message", &GradcheckResult::message)
      .def_ro("elements_checked", &GradcheckResult::elements_checked)
      .def_ro("max_abs_error", &GradcheckResult::max_abs_error)
      .def("__bool__", [](const GradcheckResult& r) { return r.ok; })
      .def("__repr__", [](const GradcheckResult& r) {
        return fmt::format("GradcheckResult(ok={}, elements_checked={}, max_abs_error={:.3g}{})",
                           r.ok ? "True" : "False", r.elements_checked, r.max_abs_error,
                           r.ok ? "" : ", message='" + r.message + "'");
      });
  m.def(
      "gradcheck",
      [](nb::callable fn, const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
        // fn(*inputs) -> Tensor; Python errors inside it propagate.
        GradcheckFn f = [fn](const std::vector<Tensor>& in) {
          nb::list args;
          for (const Tensor& t : in) args.append(nb::cast(t));
          nb::object out = fn(*nb::tuple(args));
          if (!nb::isinstance<Tensor>(out))
            throw nb::type_error(fmt::format("gradcheck: the function must return a seqboat.Tensor, got {}",
                                             nb::type_name(out.type()).c_str())
                                     .c_str());
          return nb::cast<Tensor>(out);
        };
        GradcheckOptions opt;
        opt.eps = eps;
        opt.atol = atol;
        opt.rtol = rtol;
        return gradcheck(f, inputs, opt);
      },
      "fn"_a, "inputs"_a, "eps"_a = 1e-6, "atol"_a = 1e-5, "rtol"_a = 1e-3,
      "Compares fn's analytic Jacobian with central differences at the float64 inputs that require grad.");
}

void bind_seqboat_ops(nb::module_& m) {
  bind_ssm_and_attention(m);
  bind_sma(m);
  bind_gradcheck(m);
}

}  // namespace seqboat::python
