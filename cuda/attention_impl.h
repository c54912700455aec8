// cuda/attention_impl.h: CUDA kernels of ops/attention.cpp, the fused local
// attention (kernels/attention.h), over an executor (cuda/exec.h). The
// window geometry and every formula are at the top of ops/attention.cpp; the
// memory is O(B S window), never an S x S matrix.
//
// The scores and their gradients run in shared-memory tiles (ex.for_blocks):
// a block takes up to 32 consecutive query rows and the keys their windows
// cover; the forward loads q and k there, the backward G and v, 32 channels
// per step. The rest is work items: the output per element (b, i, h), dq,
// dk and dv per element (each summing its window in order), and the bias
// gradient per block of query rows, then per bias entry over the blocks in
// order. Where no tile fits in shared memory (a very wide window), the
// scores fall back to a work item per query row that reads q and k from
// global memory.
#pragma once

#include "cuda/exec.h"
#include "kernels/attention.h"
#include "kernels/ssm.h"
#include "kernels/table.h"

namespace seqboat::cuda::impl {

using kernels::AttnActivation;
using kernels::AttnGeometry;
using kernels::AttnInputs;

using kernels::bias_slot;
using kernels::coef_of;
using kernels::dpre_from_dcoef;
using kernels::key_visible;
using kernels::masked_pre;
using kernels::normalize_row;
using kernels::pre_from_dot;

// pre_t of (b, i, key j), the dot summed over z in order.
template <class T>
SEQBOAT_HOST_DEVICE inline T pre_activation(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i,
                                            int64_t j) {
  const T* q = in.q + (b * a.slots + i) * in.q_row;
  const T* k = in.k + (b * a.slots + j) * in.k_row;
  T dot = 0;
  for (int64_t z = 0; z < a.zdim; ++z) dot += q[z] * k[z];
  return pre_from_dot(a, in, b, i, j, dot);
}

// The weights of query row (b, i): softmax p over the visible keys (all 0 when
// none is visible), or relu(pre) for relu2 (0 where not visible).
template <class T>
SEQBOAT_HOST_DEVICE inline void weights_row(const AttnGeometry& a, const AttnInputs<T>& in, int64_t b, int64_t i,
                                            T* p) {
  for (int64_t t = 0; t < a.width; ++t) {
    const int64_t j = a.key_of(i, t);
    const bool visible = key_visible(a, in, b, j);
    p[t] = masked_pre(a, visible, visible ? pre_activation(a, in, b, i, j) : T(0));
  }
  normalize_row(a, p);
}

// The shared-memory tiles: a block takes TQ consecutive query rows of one
// batch row; their keys are the TQ + width - 1 consecutive slots from
// q0 - reach, so query row qi of the tile meets key t at span row qi + t.
// Rows of q, k, G and v in shared memory have an odd stride (cols | 1): the
// threads of a warp read span rows qi + t, qi + t + 1, ... at the same
// column, which an even stride such as Z = 64 or 32 channels would put in
// a few banks (an odd stride spreads 4- and 8-byte elements over all).
struct AttnTile {
  int64_t rows = 0;    // TQ, 0 when no tile fits: the kernels without shared memory run
  int64_t span = 0;    // TQ + width - 1
  int64_t tiles = 0;   // ceil(S / TQ) per batch row
  int64_t chunk = 0;   // backward: channels of G and v per step
  int64_t stride = 0;  // elements per row of q and k (forward) or G and v (backward): Z or chunk, made odd
  size_t bytes = 0;    // shared memory per block
};

// The largest TQ (a power of two up to 32) whose tile fits in `limit`
// bytes: rows of `cols` channels for the TQ queries and the span, and the
// TQ x width scores.
template <class T>
AttnTile fit_tile(const AttnGeometry& a, int64_t cols, size_t limit) {
  AttnTile tile;
  const int64_t stride = cols | 1;  // odd
  for (int64_t tq = 32; tq >= 1; tq /= 2) {
    const int64_t span = tq + a.width - 1;
    const size_t bytes = sizeof(T) * static_cast<size_t>((tq + span) * stride + tq * a.width);
    if (bytes <= limit) {
      tile.rows = tq;
      tile.span = span;
      tile.tiles = (a.slots + tq - 1) / tq;
      tile.chunk = cols;
      tile.stride = stride;
      tile.bytes = bytes;
      return tile;
    }
  }
  return tile;
}

// Shared rows r = 0 .. rows - 1 (stride elements apart) from slots first + r
// of batch row b of `src` (slot s at (b S + s) * row_step), channels col0 ..
// col0 + cols - 1; 0 for slots outside [0, S) and channels from col_end on.
// Thread th of the block takes elements th, th + kBlockThreads, ...
template <class T>
SEQBOAT_HOST_DEVICE inline void load_tile_rows(T* dst, int64_t stride, int64_t rows, int64_t cols, const T* src,
                                               int64_t row_step, int64_t b, int64_t S, int64_t first, int64_t col0,
                                               int64_t col_end, int th) {
  for (int64_t e = th; e < rows * cols; e += kBlockThreads) {
    const int64_t r = e / cols, c = e % cols, j = first + r, h = col0 + c;
    dst[r * stride + c] = j >= 0 && j < S && h < col_end ? src[(b * S + j) * row_step + h] : T(0);
  }
}

// A tile's shared memory: TQ query rows, then span rows (both `stride`
// elements apart), then the TQ x width (query, key) pairs.
template <class T>
struct TileMemory {
  T* query_rows;
  T* span_rows;
  T* pairs;
};
template <class T>
SEQBOAT_HOST_DEVICE inline TileMemory<T> tile_memory(unsigned char* raw, const AttnTile& tile) {
  T* base = reinterpret_cast<T*>(raw);
  return {base, base + tile.rows * tile.stride, base + (tile.rows + tile.span) * tile.stride};
}

// Query row qi of the tile . span row qi + t (where query qi meets key t),
// over the first n channels, in channel order.
template <class T>
SEQBOAT_HOST_DEVICE inline T pair_dot(const TileMemory<T>& m, const AttnTile& tile, int64_t qi, int64_t t, int64_t n) {
  const T* x = m.query_rows + qi * tile.stride;
  const T* y = m.span_rows + (qi + t) * tile.stride;
  T dot = 0;
  for (int64_t z = 0; z < n; ++z) dot += x[z] * y[z];
  return dot;
}

// Forward: q and k, Z channels. Backward (dpre): G and v, 32 channels per step.
template <class T>
AttnTile forward_tile(const AttnGeometry& a, size_t limit) {
  return fit_tile<T>(a, a.zdim, limit);
}
template <class T>
AttnTile backward_tile(const AttnGeometry& a, size_t limit) {
  return fit_tile<T>(a, a.hdim < 32 ? (a.hdim > 0 ? a.hdim : 1) : 32, limit);
}

template <class Exec>
void attention_valid_keys(Exec& ex, const AttnGeometry& a, const uint8_t* m, uint8_t* ok) {
  ex.for_each(a.batch, [=] SEQBOAT_HOST_DEVICE(int64_t b) { kernels::valid_keys_row(a, m, ok, b); });
}

// Phases per tile: (1) load q and k into shared memory; (2) the scores, one
// (query, key) pair per thread, z in order as pre_activation sums; (3) each
// row normalised by one thread; (4) the weights saved, one element per
// thread (the tile's rows are contiguous in `weights`); (5) out = sum_t
// coef_t v_j, one (query, channel) per thread, v read straight from global
// memory (consecutive threads read consecutive channels).
template <class Exec, class T>
void local_attention_forward_tiled(Exec& ex, const AttnGeometry& a, const AttnInputs<T>& in, const AttnTile& tile,
                                   T* weights, T* out) {
  const int64_t S = a.slots, Z = a.zdim, H = a.hdim, W = a.width, TQ = tile.rows, KS = tile.span,
                tiles = tile.tiles, ZP = tile.stride;
  // shared: q (TQ x ZP) | k (KS x ZP) | scores (TQ x W)
  auto load = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t, int th, unsigned char* raw) {
    const TileMemory<T> m = tile_memory<T>(raw, tile);
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ;
    load_tile_rows(m.query_rows, ZP, TQ, Z, in.q, in.q_row, b, S, q0, 0, Z, th);
    load_tile_rows(m.span_rows, ZP, KS, Z, in.k, in.k_row, b, S, q0 - a.reach, 0, Z, th);
  };
  auto scores = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t, int th, unsigned char* raw) {
    const TileMemory<T> m = tile_memory<T>(raw, tile);
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ;
    for (int64_t e = th; e < TQ * W; e += kBlockThreads) {
      const int64_t qi = e / W, t = e % W, i = q0 + qi, j = a.key_of(i, t);
      if (i >= S) continue;
      const bool visible = key_visible(a, in, b, j);
      const T pre = visible ? pre_from_dot(a, in, b, i, j, pair_dot(m, tile, qi, t, Z)) : T(0);
      m.pairs[e] = masked_pre(a, visible, pre);
    }
  };
  auto normalize = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t, int th, unsigned char* raw) {
    T* ps = tile_memory<T>(raw, tile).pairs;
    const int64_t q0 = (blk % tiles) * TQ;
    for (int64_t qi = th; qi < TQ; qi += kBlockThreads)
      if (q0 + qi < S) normalize_row(a, ps + qi * W);
  };
  auto store = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t, int th, unsigned char* raw) {
    const T* ps = tile_memory<T>(raw, tile).pairs;
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ, rows = math_min(TQ, S - q0);
    for (int64_t e = th; e < rows * W; e += kBlockThreads) weights[(b * S + q0) * W + e] = ps[e];
  };
  auto output = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t, int th, unsigned char* raw) {
    const T* ps = tile_memory<T>(raw, tile).pairs;
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ;
    for (int64_t e = th; e < TQ * H; e += kBlockThreads) {
      const int64_t qi = e / H, h = e % H, i = q0 + qi;
      if (i >= S) continue;
      T acc = 0;
      for (int64_t t = 0; t < W; ++t) {
        const T coef = coef_of(a, ps[qi * W + t]);
        if (coef != T(0)) acc += coef * in.v[(b * S + a.key_of(i, t)) * in.v_row + h];
      }
      out[(b * S + i) * H + h] = acc;
    }
  };
  ex.for_blocks(a.batch * tiles, 1, tile.bytes, load, scores, normalize, store, output);
}

template <class Exec, class T>
void local_attention_forward(Exec& ex, const AttnGeometry& a, const AttnInputs<T>& in, T* weights, T* out) {
  const int64_t S = a.slots, H = a.hdim, width = a.width;
  const AttnTile tile = forward_tile<T>(a, Exec::shared_limit());
  if (tile.rows > 0) {
    local_attention_forward_tiled(ex, a, in, tile, weights, out);
    return;
  }
  // Without a tile that fits: a work item per query row, then per output element.
  ex.for_each(a.batch * S,
              [=] SEQBOAT_HOST_DEVICE(int64_t bi) { weights_row(a, in, bi / S, bi % S, weights + bi * width); });
  ex.for_each(a.batch * S * H, [=] SEQBOAT_HOST_DEVICE(int64_t e) {  // o_i = sum_t coef_t v_j
    const int64_t h = e % H, bi = e / H, b = bi / S, i = bi % S;
    const T* wrow = weights + bi * width;
    T acc = 0;
    for (int64_t t = 0; t < width; ++t) {
      const T coef = coef_of(a, wrow[t]);
      if (coef != T(0)) acc += coef * in.v[(b * S + a.key_of(i, t)) * in.v_row + h];
    }
    out[e] = acc;
  });
}

// Query rows per partial vector of the bias gradient.
constexpr int64_t kDwRows = 128;

// dpre per tile, over H in steps of tile.chunk channels: (1) load G and v for
// the step (zero the accumulators at step 0); (2) dcoef_t += G_i . v_j over the
// step's channels, one (query, key) pair per thread, where the weight is
// nonzero; after the last step (3) each row's Jacobian (dpre_from_dcoef) by
// one thread and (4) dpre written, one element per thread (the tile's rows
// are contiguous). With H = 0 there is one step of zeros: dpre is 0.
template <class Exec, class T>
void dpre_tiled(Exec& ex, const AttnGeometry& a, const AttnInputs<T>& in, const AttnTile& tile, const T* weights,
                const T* G, T* dpre) {
  const int64_t S = a.slots, H = a.hdim, W = a.width, TQ = tile.rows, KS = tile.span, tiles = tile.tiles,
                HC = tile.chunk, HP = tile.stride;
  const int64_t steps = H > 0 ? (H + HC - 1) / HC : 1;
  // shared: G (TQ x HP) | v (KS x HP) | dcoef (TQ x W)
  auto load = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t step, int th, unsigned char* raw) {
    const TileMemory<T> m = tile_memory<T>(raw, tile);
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ, h0 = step * HC;
    if (step == 0)
      for (int64_t e = th; e < TQ * W; e += kBlockThreads) m.pairs[e] = T(0);
    load_tile_rows(m.query_rows, HP, TQ, HC, G, H, b, S, q0, h0, H, th);
    load_tile_rows(m.span_rows, HP, KS, HC, in.v, in.v_row, b, S, q0 - a.reach, h0, H, th);
  };
  auto accumulate = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t, int th, unsigned char* raw) {
    const TileMemory<T> m = tile_memory<T>(raw, tile);
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ;
    for (int64_t e = th; e < TQ * W; e += kBlockThreads) {
      const int64_t qi = e / W, i = q0 + qi;
      if (i < S && weights[(b * S + i) * W + e % W] != T(0)) m.pairs[e] += pair_dot(m, tile, qi, e % W, HC);
    }
  };
  auto jacobian = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t step, int th, unsigned char* raw) {
    if (step != steps - 1) return;
    T* ds = tile_memory<T>(raw, tile).pairs;
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ;
    for (int64_t qi = th; qi < TQ; qi += kBlockThreads)
      if (q0 + qi < S) dpre_from_dcoef(a, weights + (b * S + q0 + qi) * W, ds + qi * W);
  };
  auto store = [=] SEQBOAT_HOST_DEVICE(int64_t blk, int64_t step, int th, unsigned char* raw) {
    if (step != steps - 1) return;
    const T* ds = tile_memory<T>(raw, tile).pairs;
    const int64_t b = blk / tiles, q0 = (blk % tiles) * TQ, rows = math_min(TQ, S - q0);
    for (int64_t e = th; e < rows * W; e += kBlockThreads) dpre[(b * S + q0) * W + e] = ds[e];
  };
  ex.for_blocks(a.batch * tiles, steps, tile.bytes, load, accumulate, jacobian, store);
}

template <class Exec, class T>
void local_attention_backward(Exec& ex, const AttnGeometry& a, const AttnInputs<T>& in, const T* weights, const T* G,
                              T* dpre, T* dq, T* dk, T* dv, T* dw) {
  const int64_t B = a.batch, S = a.slots, Z = a.zdim, H = a.hdim, width = a.width, reach = a.reach;
  const T c = static_cast<T>(a.q_scale);
  const AttnTile tile = backward_tile<T>(a, Exec::shared_limit());
  if (dpre && tile.rows > 0) {
    dpre_tiled(ex, a, in, tile, weights, G, dpre);
  } else if (dpre) {
    ex.for_each(B * S, [=] SEQBOAT_HOST_DEVICE(int64_t bi) {
      const int64_t b = bi / S, i = bi % S;
      const T* wrow = weights + bi * width;
      T* drow = dpre + bi * width;
      const T* g = G + bi * H;
      for (int64_t t = 0; t < width; ++t) {  // dcoef_t = G_i . v_j where the weight is nonzero
        T dot = 0;
        if (wrow[t] != T(0)) {
          const T* v = in.v + (b * S + a.key_of(i, t)) * in.v_row;
          for (int64_t h = 0; h < H; ++h) dot += g[h] * v[h];
        }
        drow[t] = dot;
      }
      dpre_from_dcoef(a, wrow, drow);  // terms 1 and 2
    });
  }
  if (dq)  // term 3: dq_i = c sum_t dpre_t k_j
    ex.for_each(B * S * Z, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t z = e % Z, bi = e / Z, b = bi / S, i = bi % S;
      T acc = 0;
      for (int64_t t = 0; t < width; ++t) {
        const T d = dpre[bi * width + t];
        if (d != T(0)) acc += c * d * in.k[(b * S + a.key_of(i, t)) * in.k_row + z];
      }
      dq[e] = acc;
    });
  if (dk)  // term 4: dk_j = c sum over queries i = j + reach - t of dpre_t q_i
    ex.for_each(B * S * Z, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t z = e % Z, bj = e / Z, b = bj / S, j = bj % S;
      T acc = 0;
      for (int64_t t = 0; t < width; ++t) {
        const int64_t i = j + reach - t;
        if (i < 0 || i >= S) continue;
        const T d = dpre[(b * S + i) * width + t];
        if (d != T(0)) acc += c * d * in.q[(b * S + i) * in.q_row + z];
      }
      dk[e] = acc;
    });
  if (dv)  // term 5: dv_j = sum over the same (i, t) of coef_t G_i
    ex.for_each(B * S * H, [=] SEQBOAT_HOST_DEVICE(int64_t e) {
      const int64_t h = e % H, bj = e / H, b = bj / S, j = bj % S;
      T acc = 0;
      for (int64_t t = 0; t < width; ++t) {
        const int64_t i = j + reach - t;
        if (i < 0 || i >= S) continue;
        const T coef = coef_of(a, weights[(b * S + i) * width + t]);
        if (coef != T(0)) acc += coef * G[(b * S + i) * H + h];
      }
      dv[e] = acc;
    });
  if (dw) {  // term 6: dw[r] += dpre_t for r = r(i, j): per block of kDwRows query rows in (i, t) order, then
             // the blocks' partial vectors summed column by column (ex.reduce_cols)
    const int64_t R = 2 * a.bias_m - 1;
    const int64_t per_row = (S + kDwRows - 1) / kDwRows, parts = B * per_row;
    auto partial = ex.template scratch<T>(parts * R);
    T* part = partial.get();
    ex.for_each(parts, [=] SEQBOAT_HOST_DEVICE(int64_t p) {
      const int64_t b = p / per_row, i0 = (p % per_row) * kDwRows, i1 = math_min(i0 + kDwRows, S);
      T* pb = part + p * R;
      for (int64_t r = 0; r < R; ++r) pb[r] = T(0);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t t = 0; t < width; ++t) {
          const int64_t j = a.key_of(i, t);
          const T d = dpre[(b * S + i) * width + t];
          if (j >= 0 && j < S && d != T(0)) pb[bias_slot(a, in, b, i, j)] += d;
        }
    });
    ex.template reduce_cols<T>(
        R, parts, [=] SEQBOAT_HOST_DEVICE(int64_t r, int64_t q) { return part[q * R + r]; },
        [=] SEQBOAT_HOST_DEVICE(int64_t r, T total) { dw[r] = total; });
  }
}

// The attention kernels of executor Exec, for the kernel table.
template <class Exec>
void add_attention_kernels(kernels::BackendKernels& k) {
  k.fill_floats([](auto& t, auto tag) {
    using T = decltype(tag);
    t.local_attention_forward = &Bound<&local_attention_forward<Exec, T>>::call;
    t.local_attention_backward = &Bound<&local_attention_backward<Exec, T>>::call;
  });
  k.untyped.attention_valid_keys = &Bound<&attention_valid_keys<Exec>>::call;
}

}  // namespace seqboat::cuda::impl
