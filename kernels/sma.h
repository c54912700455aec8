// kernels/sma.h: kernels of ops/sma.cpp, Sparse Modular Activation: the
// router, the slot plan and the row movers (formulas in ops/sma.cpp).
#pragma once

#include "kernels/common.h"

namespace seqboat::kernels {

// Per token n < tokens of u (tokens, 2), with tau = exp(temp[0]):
// gate, active, prob (pad may be null).
template <class T>
using SmaRouterFn = void(int64_t tokens, const T* u, const T* temp, const uint8_t* pad, T* gate, uint8_t* active,
                         T* prob);
// du (tokens, 2) and dtemp (1) from G = d gate; either may be null.
template <class T>
using SmaRouterBackwardFn = void(int64_t tokens, const T* u, const T* temp, const uint8_t* active, const T* G, T* du,
                                 T* dtemp);

struct PlanShape {
  int64_t batch = 0, length = 0, slots = 0;
  bool compressed = false;
};
// counts[b] = number of active tokens of row b of active (B, L). UInt8.
template <class T>
using SmaCountActiveFn = void(int64_t B, int64_t L, const uint8_t* active, int64_t* counts);
// slot_index, slot_valid (B, S) of the plan (zeroed by the kernel). UInt8.
template <class T>
using SmaPlanFillFn = void(const PlanShape& plan, const uint8_t* active, int64_t* slot_index, uint8_t* slot_valid);

// Which token feeds slot s of row b: Compress (slot_index where compressed
// and valid, s when not compressed, none at unused slots) or Extract (slot
// index at valid slots, none elsewhere).
enum class SmaRoute { Compress, Extract };
// Copies rows of C between the token layout (B, L, C) and the slot layout
// (B, S, C): to_slots copies token -> slot, else slot -> token. dst is zeroed
// first, so rows nothing is copied to stay 0.
template <class T>
using SmaMoveRowsFn = void(const PlanShape& plan, int64_t C, SmaRoute route, bool to_slots, const int64_t* slot_index,
                           const uint8_t* slot_valid, const T* src, T* dst);

}  // namespace seqboat::kernels
