// tests/attention_reference.h: local attention written the obvious way, the
// oracle the fused op (ops/attention.cpp) is tested against: the full masked
// (B, S, S) score matrix of every batch row from plain loops in double,
// forward only. Arguments and their meaning as local_attention's (checked
// there, not here: call the fused op on the same arguments first).
#pragma once

#include "ops/attention.h"

namespace seqboat::testing {

// The output (B, S, H) on the CPU in q's dtype.
Tensor local_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                                 const Tensor& positions, const Tensor& rel_bias, const LocalAttentionOptions& opt);

}  // namespace seqboat::testing
