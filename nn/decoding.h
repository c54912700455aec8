// nn/decoding.h: incremental decoding of a SeqBoat language model with
// constant work and memory per token, and the same numbers as the full
// forward.
//
// Per layer, the state of one sequence is
//   - the EMA's N-dimensional state per channel, (D, N): the SSM's step is
//     h_n = q_n h_n + x_t (- q_n^Lk x_{t-Lk} with a truncated kernel, for
//     which the last Lk inputs are kept in a ring) and y = sum_n coef_n h_n;
//   - a ring of the last `window` ACTIVE tokens' attention keys and values
//     (after the projection, gamma/beta and rotary) with their original
//     positions.
// A new token runs the EMA step and the router; an active token computes its
// q, k, v, attends over the ring and itself (the bias or rotary of original
// positions, the window counting active tokens) and is pushed into the ring;
// an inactive token's attention branch contributes 0, exactly as the
// compressed forward has it.
//
// The semantics are those of the causal layer on one sequence alone (a batch
// of one): the window counts that sequence's active tokens. (In a batch, the
// reference leaves every row uncompressed when some row is fully active, so
// there the window counts original positions; decoding reproduces the
// per-row definition, which equals the batched forward whenever no row of
// the batch is fully active.)
//
// Prefill runs the prompt through the normal parallel forward, which leaves
// the same state that stepping through it token by token would.
//
//   nn::LMDecoder dec(lm);                 // eval mode, no graph
//   Tensor logits = dec.prefill(prompt);   // (L, V), or step from the start
//   Tensor next = dec.step(token);         // (V), for each generated token
#pragma once

#include <memory>
#include <vector>

#include "nn/seqboat.h"

namespace seqboat::nn {

// One layer's decoding state for one sequence.
struct LayerCache {
  Tensor ema;                      // (1, D, N): the EMA recurrences' state
  Tensor ema_inputs;               // (Lk, D): ring of the last Lk EMA inputs (truncated kernel only)
  Tensor keys, values;             // (w, Z), (w, H): ring of the last w active tokens' k and v
  std::vector<int64_t> positions;  // (w): their original positions
  int64_t seen = 0;                // positions processed
  int64_t active = 0;              // active tokens so far
};

// The state before the first token: zero EMA state, empty rings.
LayerCache empty_layer_state(const SeqBoatLayer& layer, DType dtype, Device device);

// Fills `cache` with the state of `layer` after the sequence of one row
// (B = 1) whose layer-internal tensors are given: the EMA input x (1, L, D),
// and the attention unit's kv (1, S, Z), v (1, S, H) over the plan's slots
// (undefined when no token is active). Called by SeqBoatLayer::forward
// while a capture is set.
void capture_layer_state(const SeqBoatLayer& layer, const Tensor& ema_input, const Tensor& kv, const Tensor& v,
                         const SmaPlan& plan, LayerCache& cache);

// One token through `layer`: x (1, 1, D) -> y (1, 1, D), updating `cache`.
Tensor layer_step(SeqBoatLayer& layer, const Tensor& x, LayerCache& cache);

class LMDecoder {
 public:
  // Puts `lm` in eval mode and starts an empty sequence; refuses a
  // bidirectional model (decoding is causal).
  explicit LMDecoder(SeqBoatLM& lm);
  // Starts a new, empty sequence.
  void reset();
  // Starts a new sequence with a prompt (at least one token) through the
  // full forward; returns its logits (L, V) and keeps the state after it.
  Tensor prefill(const std::vector<int64_t>& tokens);
  // The next token of the sequence: its logits (V), the same as the full
  // forward's at this position.
  Tensor step(int64_t token);
  int64_t position() const { return position_; }
  // Bytes held by the state (constant once the rings are full).
  int64_t state_bytes() const;

 private:
  SeqBoatLM& lm_;
  std::vector<LayerCache> caches_;
  int64_t position_ = 0;
};

}  // namespace seqboat::nn
