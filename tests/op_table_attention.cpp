// tests/op_table_attention.cpp: op-table cases of the attention family
// (ops/attention.h): local_attention over {softmax, relu2} x {causal, bidirectional}
// x windows {1, 2, longer than S} x key masks {none, some invalid keys, a
// batch row without any valid key} x {simple bias with positions spanning more
// than M, no bias} (window-2 cases take a non-contiguous q).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "op_table.h"
#include "ops/attention.h"
#include "ops/shape.h"

namespace seqboat::testing {

using V = std::vector<Tensor>;

namespace {

constexpr int64_t kB = 2, kS = 5, kZ = 3, kH = 2;
constexpr int64_t kM = 3;  // bias length 2M - 1 = 5: offsets beyond +-2 clamp

enum class KeyMaskKind { None, SomeInvalid, RowWithoutValidKey };

const char* mask_name(KeyMaskKind kind) {
  switch (kind) {
    case KeyMaskKind::None: return "no_mask";
    case KeyMaskKind::SomeInvalid: return "some_invalid";
    case KeyMaskKind::RowWithoutValidKey: return "row_without_valid_key";
  }
  return "?";
}

// (B, S) UInt8 key mask, 1 = invalid. SomeInvalid: in row 0 keys 1 and 2 are
// invalid, so the causal window-1 query 2 sees no key at all (outputs 0).
Tensor key_mask_of(KeyMaskKind kind) {
  if (kind == KeyMaskKind::None) return Tensor();
  const std::vector<int64_t> rows = kind == KeyMaskKind::SomeInvalid
                                        ? std::vector<int64_t>{0, 1, 1, 0, 1, /**/ 1, 0, 0, 0, 0}
                                        : std::vector<int64_t>{0, 0, 1, 0, 0, /**/ 1, 1, 1, 1, 1};
  Tensor m = zeros({kB, kS}, DType::UInt8);
  for (int64_t n = 0; n < kB * kS; ++n) m.data<uint8_t>()[n] = static_cast<uint8_t>(rows[static_cast<size_t>(n)]);
  return m;
}

// Increasing original positions with gaps of 1 to 3: neighbouring slots can be
// further apart than M - 1, so the bias index clamps.
Tensor slot_positions(Generator& g) {
  Tensor pos = empty({kB, kS}, DType::Int64);
  for (int64_t b = 0; b < kB; ++b) {
    int64_t p = static_cast<int64_t>(g.next_below(3));
    for (int64_t s = 0; s < kS; ++s) {
      pos.data<int64_t>()[b * kS + s] = p;
      p += 1 + static_cast<int64_t>(g.next_below(3));
    }
  }
  return pos;
}

// Smallest |(q_i / n) . k_j + bias(i, j)| over all slot pairs: relu2 cases
// keep it away from 0 so central differences never straddle the kink.
double min_abs_relu2_pre(const Tensor& q, const Tensor& k, const Tensor& w, const Tensor& pos, double n) {
  double smallest = INFINITY;
  for (int64_t b = 0; b < kB; ++b)
    for (int64_t i = 0; i < kS; ++i)
      for (int64_t j = 0; j < kS; ++j) {
        double pre = 0;
        for (int64_t z = 0; z < kZ; ++z) pre += q.at({b, i, z}) / n * k.at({b, j, z});
        if (w.defined()) pre += w.at({std::clamp<int64_t>(kM - 1 + pos.at({b, j}) - pos.at({b, i}), 0, 2 * kM - 2)});
        smallest = std::min(smallest, std::abs(pre));
      }
  return smallest;
}

struct AttnCase {
  AttnActivation activation;
  bool causal;
  int64_t window;
  KeyMaskKind mask;
  bool bias;
  bool q_transposed;  // q is made (B, Z, S) and transposed inside the case
};

// Inputs {q, k, v, w, key_mask, positions}; w and key_mask may be undefined.
V attention_inputs(const AttnCase& c, Generator& g) {
  const double n = static_cast<double>(c.causal ? c.window : 2 * c.window);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    // relu2: q is drawn n times larger so that q / n is O(1).
    const double q_scale = c.activation == AttnActivation::Relu2 ? n : 1.0;
    Tensor q = c.q_transposed ? randn({kB, kZ, kS}, g, q_scale) : randn({kB, kS, kZ}, g, q_scale);
    Tensor k = randn({kB, kS, kZ}, g), v = randn({kB, kS, kH}, g);
    Tensor w = c.bias ? randn({2 * kM - 1}, g, 0.7) : Tensor();
    Tensor pos = slot_positions(g);
    Tensor q_bsz = c.q_transposed ? transpose(q.detach(), 1, 2) : q.detach();
    if (c.activation == AttnActivation::Relu2 && min_abs_relu2_pre(q_bsz, k, w, pos, n) < 0.05) continue;
    return V{q, k, v, w, key_mask_of(c.mask), pos};
  }
  throw std::logic_error("attention_inputs: could not draw relu2 inputs away from the kink");
}

}  // namespace

SEQBOAT_OP_CASES(local_attention_cases) {
  for (AttnActivation act : {AttnActivation::Softmax, AttnActivation::Relu2})
    for (bool causal : {true, false})
      for (int64_t window : {int64_t{1}, int64_t{2}, kS + 2})
        for (KeyMaskKind mask : {KeyMaskKind::None, KeyMaskKind::SomeInvalid, KeyMaskKind::RowWithoutValidKey})
          for (bool bias : {true, false}) {
            AttnCase c{act, causal, window, mask, bias, /*q_transposed=*/window == 2};
            std::string name =
                fmt::format("local_attention/{}/{}/{}/{}/{}", act == AttnActivation::Softmax ? "softmax" : "relu2",
                            causal ? "causal" : "bidirectional",
                            window > kS ? "window_longer_than_S" : fmt::format("window{}", window), mask_name(mask),
                            bias ? "simple_bias" : "no_bias");
            if (c.q_transposed) name += "/q_non_contiguous";
            table.add(
                name, [c](Generator& g) { return attention_inputs(c, g); },
                [c](const V& x) {
                  Tensor q = c.q_transposed ? transpose(x[0], 1, 2) : x[0];
                  return local_attention(q, x[1], x[2], x[4], x[5], x[3], {c.window, c.causal, c.activation});
                });
          }
  // q, k and v as narrow views of one wider tensor (as the layer's split makes
  // them): the kernels read them in place, rows kZ + kZ + kH apart.
  for (bool causal : {true, false})
    table.add(
        fmt::format("local_attention/softmax/{}/window2/qkv_views_of_one_tensor", causal ? "causal" : "bidirectional"),
        [](Generator& g) {
          return V{randn({kB, kS, 2 * kZ + kH}, g), key_mask_of(KeyMaskKind::SomeInvalid)};
        },
        [causal](const V& x) {
          std::vector<Tensor> qkv = split(x[0], {kZ, kZ, kH}, -1);
          return local_attention(qkv[0], qkv[1], qkv[2], x[1], Tensor(), Tensor(),
                                 {2, causal, AttnActivation::Softmax});
        });
  // v without channels: the output is empty and dq, dk, dw are 0.
  table.add(
      "local_attention/softmax/causal/window2/v_without_channels",
      [](Generator& g) {
        Tensor pos = empty({kB, kS}, DType::Int64);
        for (int64_t n = 0; n < kB * kS; ++n) pos.data<int64_t>()[n] = n % kS;
        return V{randn({kB, kS, kZ}, g), randn({kB, kS, kZ}, g), randn({kB, kS, 0}, g), randn({2 * kM - 1}, g), pos};
      },
      [](const V& x) {
        return local_attention(x[0], x[1], x[2], Tensor(), x[4], x[3], {2, true, AttnActivation::Softmax});
      });
  // Longer than one shared-memory tile of the CUDA kernels (32 query rows,
  // cuda/attention_impl.h) and wider than one step of 32 channels of v: the
  // second tile and the second step are partial.
  for (bool causal : {true, false})
    table.add(
        fmt::format("local_attention/softmax/{}/window3/S37_H35_simple_bias", causal ? "causal" : "bidirectional"),
        [](Generator& g) {
          const int64_t S = 37, H = 35;
          Tensor pos = empty({1, S}, DType::Int64);
          for (int64_t s = 0; s < S; ++s) pos.data<int64_t>()[s] = 2 * s;
          return V{randn({1, S, kZ}, g), randn({1, S, kZ}, g), randn({1, S, H}, g), randn({2 * kM - 1}, g, 0.7),
                   pos};
        },
        [causal](const V& x) {
          return local_attention(x[0], x[1], x[2], Tensor(), x[4], x[3], {3, causal, AttnActivation::Softmax});
        });
}

}  // namespace seqboat::testing
