"""Independent PyTorch reference of SeqBoat (see docs/semantics.md).

This is a DEVELOPMENT TOOL ONLY: it exists to check the C++ port against the
golden files, to produce more golden files and to dump intermediates.  Nothing
in the C++ library or its tests depends on it.

It is written from docs/semantics.md (and from what the golden files in tests/golden/
require, see README.md in this folder for where the two differ); it is not a
copy of the official SeqBoat / MEGA code.  Clarity beats speed here: the
convolution is a direct (Toeplitz) sum and the local attention is an L x L
masked product.

Conventions: batch-first tensors x[b, t, d]; a padding mask pad[b, t] is True
at padding.  Every module's forward returns the output and (for layers and
models) a list with one route dict per layer:
    {"prob": max(P0, P1) (B, L), "active": bool (B, L)}
Set `module.dump = {}` (a dict) on a SeqBoatLayer to have it record its
intermediates there (see SeqBoatLayer.forward).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------
# 1. MultiHeadEMA
# ----------------------------------------------------------------------------
class MultiHeadEMA(nn.Module):
    """Damped multi-dimensional EMA, computed as an exact convolution.

    Parameters (N = ndim, K = 2D if bidirectional else D):
        delta, alpha, beta: (K, N, 1); gamma: (K, N); omega: (D,)
    Kernel:
        p = sigmoid(delta), a = sigmoid(alpha), q = 1 - p*a
        k[c, l] = sum_n p[c,n] beta[c,n] exp(l * log q[c,n]) gamma[c,n] sqrt(1/N)
        l = 0 .. Lk-1, Lk = L or min(truncation, L)
    Output:
        causal: y[t] = sum_{i=0}^{Lk-1} k[d,i] x0[t-i] + omega x[t]
        bidir : y[t] = sum_i k1[d,i] x0[t-i] + sum_i k2[d,i] x0[t+i] + omega x[t]
    with x0 = x with padding positions set to 0 (the omega term uses raw x).
    """

    def __init__(self, embed_dim, ndim=2, bidirectional=False, truncation=None):
        super().__init__()
        self.embed_dim = embed_dim
        self.ndim = ndim
        self.bidirectional = bidirectional
        self.truncation = truncation
        K = 2 * embed_dim if bidirectional else embed_dim
        self.delta = nn.Parameter(torch.empty(K, ndim, 1))
        self.alpha = nn.Parameter(torch.empty(K, ndim, 1))
        self.beta = nn.Parameter(torch.empty(K, ndim, 1))
        self.gamma = nn.Parameter(torch.empty(K, ndim))
        self.omega = nn.Parameter(torch.empty(embed_dim))
        self.reset_parameters()

    def reset_parameters(self):
        # docs/semantics.md section 4 (training init; not needed for parity)
        with torch.no_grad():
            nn.init.normal_(self.delta, 0.0, 0.2)
            nn.init.normal_(self.alpha, 0.0, 0.2)
            sign = torch.ones(self.ndim, 1)
            sign[1::2] = -1.0  # (1, -1, 1, -1, ...) along N
            nn.init.normal_(self.beta, 0.0, 0.02)
            self.beta.add_(sign)
            nn.init.trunc_normal_(self.gamma, 0.0, 1.0, -2.0, 2.0)
            nn.init.trunc_normal_(self.omega, 0.0, 1.0, -2.0, 2.0)

    def kernel(self, Lk):
        """k: (K, Lk)."""
        p = torch.sigmoid(self.delta)                       # (K, N, 1)
        a = torch.sigmoid(self.alpha)
        q = 1.0 - p * a
        l = torch.arange(Lk, dtype=p.dtype, device=p.device).view(1, 1, Lk)
        qpow = torch.exp(l * torch.log(q))                  # q^l  (K, N, Lk)
        scale = math.sqrt(1.0 / self.ndim)
        return torch.einsum("knl,kn->kl", p * self.beta * qpow, self.gamma * scale)

    @staticmethod
    def _toeplitz(k, L):
        """T[d, t, s] = k[d, t - s] for 0 <= t - s < Lk, else 0.  (D, L, L)"""
        Lk = k.shape[-1]
        t = torch.arange(L, device=k.device)
        off = t.view(L, 1) - t.view(1, L)                   # t - s
        valid = (off >= 0) & (off < Lk)
        T = k[:, off.clamp(0, Lk - 1)]                      # (D, L, L)
        return T * valid.to(k.dtype)

    def forward(self, x, padding_mask=None):
        B, L, D = x.shape
        residual = x * self.omega                           # uses un-zeroed x
        if padding_mask is not None:
            x = x.masked_fill(padding_mask.unsqueeze(-1), 0.0)
        Lk = L if self.truncation is None else min(self.truncation, L)
        k = self.kernel(Lk)
        self.last_kernel = k.detach()  # (K, Lk), for --dump
        if self.bidirectional:
            k1, k2 = k[:D], k[D:]
            # forward part: T1[t, s] = k1[t - s];  backward part: T2[t, s] = k2[s - t]
            T = self._toeplitz(k1, L) + self._toeplitz(k2, L).transpose(1, 2)
        else:
            T = self._toeplitz(k, L)
        y = torch.einsum("dts,bsd->btd", T, x)
        return y + residual


# ----------------------------------------------------------------------------
# Norms.  Named `norm.norm.*` in the state, hence the wrapper.
# ----------------------------------------------------------------------------
class SequenceNorm(nn.Module):
    """layernorm over D (eps 1e-5), or batchnorm per channel over all B*L
    positions (padding included), eps 1e-5, momentum 0.1: exactly
    torch.nn.BatchNorm1d on (B, D, L) (biased variance to normalise, unbiased
    variance into running_var)."""

    def __init__(self, norm_type, dim, affine=True, eps=1e-5):
        super().__init__()
        self.norm_type = norm_type
        if norm_type == "layernorm":
            self.norm = nn.LayerNorm(dim, eps=eps, elementwise_affine=affine)
        elif norm_type == "batchnorm":
            self.norm = nn.BatchNorm1d(dim, eps=eps, affine=affine, momentum=0.1)
        else:
            raise ValueError(norm_type)

    def forward(self, x):  # x (B, L, D)
        if self.norm_type == "layernorm":
            return self.norm(x)
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


# ----------------------------------------------------------------------------
# 2. Relative position bias / rotary
# ----------------------------------------------------------------------------
class SimpleRelativePositionalBias(nn.Module):
    """bias(i, j) = w[clamp(M - 1 + (j - i), 0, 2M - 2)], positions 0-based."""

    def __init__(self, max_positions):
        super().__init__()
        self.max_positions = max_positions
        self.rel_pos_bias = nn.Parameter(torch.empty(2 * max_positions - 1))
        nn.init.normal_(self.rel_pos_bias, 0.0, 0.02)

    def forward(self, qpos, kpos):
        """qpos (B, Sq), kpos (B, Sk) integer positions -> bias (B, Sq, Sk)."""
        M = self.max_positions
        idx = (M - 1 + kpos.unsqueeze(1) - qpos.unsqueeze(2)).clamp(0, 2 * M - 2)
        return self.rel_pos_bias[idx]


class RotaryEmbedding(nn.Module):
    """No parameters.  freq[m] = 10000^(-2m/Z), m = 0..Z/2-1; the pair
    (v[2m], v[2m+1]) at position t is rotated by the angle t * freq[m]:
        out[2m]   = v[2m] cos(t f_m) - v[2m+1] sin(t f_m)
        out[2m+1] = v[2m+1] cos(t f_m) + v[2m] sin(t f_m)
    (Interleaved pairs, as docs/semantics.md section 2 says; the golden file
    layer_causal_softmax_rotary rejects the half-split pairing (v[m], v[m+Z/2]),
    though only at the 1e-9 level, see README.md.)
    """

    def __init__(self, dim, max_positions):
        super().__init__()
        assert dim % 2 == 0
        self.dim = dim
        self.max_positions = max_positions

    def forward(self, v, pos):
        """v (B, S, Z), pos (B, S) integer positions."""
        half = self.dim // 2
        m = torch.arange(half, dtype=v.dtype, device=v.device)
        freq = torch.exp(-math.log(10000.0) * (2.0 * m) / self.dim)  # 10000^(-2m/Z)
        ang = pos.to(v.dtype).unsqueeze(-1) * freq          # (B, S, Z/2)
        sin, cos = torch.sin(ang), torch.cos(ang)
        a, b = v[..., 0::2], v[..., 1::2]                   # v[2m], v[2m+1]
        out = torch.stack([a * cos - b * sin, b * cos + a * sin], dim=-1)
        return out.flatten(-2)


class Router(nn.Module):
    """`q_router.temp`: tau = exp(temp), P = softmax(u / tau)."""

    def __init__(self, embed_dim, init_temp_scale=1.0):
        super().__init__()
        self.temp = nn.Parameter(
            torch.full((1,), math.log(init_temp_scale * math.sqrt(embed_dim))))

    def forward(self, u):
        return torch.softmax(u / torch.exp(self.temp), dim=-1)


def _trunc_normal_linear(lin, std=0.02):
    nn.init.trunc_normal_(lin.weight, 0.0, std, -2 * std, 2 * std)
    nn.init.zeros_(lin.bias)


# ----------------------------------------------------------------------------
# 3. SeqBoatLayer
# ----------------------------------------------------------------------------
class SeqBoatLayer(nn.Module):
    def __init__(self, embed_dim, zdim, hdim, ndim=2, dropout=0.0,
                 attention_dropout=0.0, hidden_dropout=0.0,
                 attention_activation="relu2", bidirectional=False,
                 window_size=4, truncation=None, norm_type="layernorm",
                 prenorm=True, norm_affine=True, rel_pos_bias="simple",
                 max_positions=1024, init_temp_scale=1.0, local_pos=False):
        super().__init__()
        # Dropouts are accepted for config compatibility; golden files use 0
        # and this reference ignores them.
        assert attention_activation in ("relu2", "softmax")
        assert rel_pos_bias in ("simple", "rotary")
        self.embed_dim, self.zdim, self.hdim, self.ndim = embed_dim, zdim, hdim, ndim
        self.attention_activation = attention_activation
        self.bidirectional = bidirectional
        self.window_size = window_size
        self.prenorm = prenorm
        self.rel_pos_type = rel_pos_bias
        # local_pos=True is NOT covered by any golden file.  Here it means:
        # bias / rotary use slot indices of the compressed sequence instead of
        # original positions (an assumption, unverified).
        self.local_pos = local_pos
        self.dump = None  # set to {} to record intermediates

        self.gamma = nn.Parameter(torch.empty(2, zdim))
        self.beta = nn.Parameter(torch.empty(2, zdim))
        self.norm = SequenceNorm(norm_type, embed_dim, affine=norm_affine)
        self.ssm = MultiHeadEMA(embed_dim, ndim=ndim, bidirectional=bidirectional,
                                truncation=truncation)
        if rel_pos_bias == "simple":
            self.rel_pos_bias = SimpleRelativePositionalBias(max_positions)
        else:
            self.rel_pos_bias = RotaryEmbedding(zdim, max_positions)
        self.q_router = Router(embed_dim, init_temp_scale)
        self.mx_proj = nn.Linear(embed_dim, zdim + 2 * hdim)
        self.hx_proj = nn.Linear(embed_dim, 2 + embed_dim)
        self.h_proj = nn.Linear(hdim, embed_dim)
        with torch.no_grad():
            nn.init.normal_(self.gamma, 0.0, 0.02)
            nn.init.zeros_(self.beta)
            for lin in (self.mx_proj, self.hx_proj, self.h_proj):
                _trunc_normal_linear(lin)

    # -- local attention -------------------------------------------------------
    def _attention(self, c, key_valid, pos):
        """c (B, S, D): (compressed) mx; key_valid (B, S) bool: slot holds an
        active token; pos (B, S): positions for bias / rotary.
        Returns o * r (B, S, H) and a dict of intermediates."""
        B, S, _ = c.shape
        Z, H, w = self.zdim, self.hdim, self.window_size
        base = F.silu(self.mx_proj(c))
        z, r, v = torch.split(base, [Z, H, H], dim=-1)
        qv = z * self.gamma[0] + self.beta[0]
        kv = z * self.gamma[1] + self.beta[1]
        if self.rel_pos_type == "rotary":
            qv = self.rel_pos_bias(qv, pos)
            kv = self.rel_pos_bias(kv, pos)
            bias = 0.0
        else:
            bias = self.rel_pos_bias(pos, pos)              # (B, S, S)

        # window over SLOT indices: |i-j| <= w (bidir) or 0 <= i-j <= w (causal)
        i = torch.arange(S, device=c.device).view(S, 1)
        j = torch.arange(S, device=c.device).view(1, S)
        if self.bidirectional:
            win = (i - j).abs() <= w
        else:
            win = ((i - j) >= 0) & ((i - j) <= w)
        allowed = win.unsqueeze(0) & key_valid.unsqueeze(1)  # (B, S, S)

        qk = torch.bmm(qv, kv.transpose(1, 2))
        if self.attention_activation == "softmax":
            # attn_ij = softmax_j over allowed keys of (qv_i . kv_j / sqrt(Z) + bias_ij)
            logits = qk / math.sqrt(Z) + bias
            # docs/semantics.md section 3 step 7: a batch row with no active token at all is left unmasked.
            row_has_any = key_valid.any(dim=1).view(B, 1, 1)
            allowed_sm = allowed | (~row_has_any & win.unsqueeze(0))
            logits = logits.masked_fill(~allowed_sm, float("-inf"))
            # Query slots whose window holds no valid key (padding slots only;
            # their output is never used) would give NaN: give them 0 weights.
            dead = ~allowed_sm.any(dim=-1, keepdim=True)
            logits = logits.masked_fill(dead, 0.0)
            attn = torch.softmax(logits, dim=-1).masked_fill(dead, 0.0)
        else:
            # attn_ij = relu((qv_i / n) . kv_j + bias_ij)^2 on allowed keys, else 0
            n = 2 * w if self.bidirectional else w
            score = torch.relu(torch.bmm(qv / n, kv.transpose(1, 2)) + bias) ** 2
            attn = score * allowed.to(score.dtype)
        o = torch.bmm(attn, v)
        inter = dict(z=z, r=r, v=v, qv=qv, kv=kv, attn=attn, o=o)
        return o * r, inter

    def forward(self, x, padding_mask=None):
        B, L, D = x.shape
        dump = self.dump
        if padding_mask is not None:
            padding_mask = padding_mask.bool()
        res = x
        if self.prenorm:
            x = self.norm(x)
        xn = x
        mx = F.silu(self.ssm(x, padding_mask))
        uhx = self.hx_proj(mx)
        u, hx = uhx[..., :2], uhx[..., 2:]

        # router: P = softmax(u / exp(temp)); active iff P1 > P0 (strictly; a tie
        # is inactive) and not padding
        P = self.q_router(u)
        active = P[..., 1] > P[..., 0]
        if padding_mask is not None:
            active = active & ~padding_mask
        # gate: P1 at active tokens, 0 elsewhere; gradient only through P1
        g = P[..., 1] * active.to(P.dtype)
        prob = P.max(dim=-1).values

        counts = active.sum(dim=1)
        S = int(counts.max().item())
        inter = {}
        if S == 0:
            h = torch.zeros_like(x)
            idx = torch.zeros(B, 0, dtype=torch.long)
        else:
            if S < L:
                # compress: row b keeps its active tokens, in order, in slots
                # 0..counts[b]-1; the remaining slots are padding.
                slot = torch.arange(S, device=x.device).view(1, S)
                key_valid = slot < counts.view(B, 1)
                c = mx.new_zeros(B, S, D)
                c[key_valid] = mx[active]
                idx = torch.zeros(B, S, dtype=torch.long, device=x.device)
                idx[key_valid] = active.nonzero()[:, 1]     # original positions
            else:
                # some row is fully active: no compression; inactive tokens
                # (and padding) are masked keys.
                key_valid = active
                c = mx
                idx = torch.arange(L, device=x.device).view(1, L).expand(B, L)
            pos = idx
            if self.local_pos:
                pos = torch.arange(S, device=x.device).view(1, S).expand(B, S)
            orr, inter = self._attention(c, key_valid, pos)
            hc = self.h_proj(orr)                           # (B, S, D)
            # scatter back to the original positions (zeros elsewhere)
            h = x.new_zeros(B, L, D)
            h[active] = hc[key_valid]
            inter["key_valid"] = key_valid
        h = h * g.unsqueeze(-1)

        # bidirectional: silu(hx + h + res); causal: silu(dropout(hx + h) + res),
        # identical here since every dropout is 0.
        y = F.silu(hx + h + res)
        if not self.prenorm:
            y = self.norm(y)

        if dump is not None:
            dump.update(dict(xn=xn, ema_kernel=self.ssm.last_kernel, mx=mx,
                             u=u, hx=hx, P=P, gate=g, active=active, idx=idx,
                             h=h, y=y, S=S))
            for k, val in inter.items():
                dump[k] = val
        return y, [dict(prob=prob, active=active)]


# ----------------------------------------------------------------------------
# 4. SeqBoatModel (classifier)
# ----------------------------------------------------------------------------
class SeqBoatModel(nn.Module):
    def __init__(self, d_input, d_output, d_model, n_layers, d_qk, d_ema,
                 mem_size, dropout=0.0, prenorm=True, max_positions=1024,
                 bidirectional=False, init_temp_scale=1.0,
                 norm_type="layernorm", rel_pos_bias="simple",
                 attention_activation="relu2"):
        super().__init__()
        self.prenorm = prenorm
        self.encoder = nn.Linear(d_input, d_model)
        self.seq_layers = nn.ModuleList([
            SeqBoatLayer(embed_dim=d_model, zdim=d_qk, hdim=2 * d_model,
                         ndim=d_ema, dropout=dropout, attention_dropout=dropout,
                         hidden_dropout=dropout,
                         attention_activation=attention_activation,
                         bidirectional=bidirectional, window_size=mem_size,
                         norm_type=norm_type, prenorm=prenorm,
                         rel_pos_bias=rel_pos_bias, max_positions=max_positions,
                         init_temp_scale=init_temp_scale)
            for _ in range(n_layers)])
        if prenorm:
            self.final_norm = SequenceNorm(norm_type, d_model)
        self.decoder = nn.Linear(d_model, d_output)
        with torch.no_grad():
            _trunc_normal_linear(self.encoder)
            _trunc_normal_linear(self.decoder)

    def forward(self, x, padding_mask=None):
        routes = []
        x = self.encoder(x)
        for layer in self.seq_layers:
            x, r = layer(x, padding_mask)
            routes += r
        if self.prenorm:
            x = self.final_norm(x)
        if padding_mask is None:
            pooled = x.mean(dim=1)
        else:
            # NOT covered by the golden files: mean over non-padding positions.
            keep = (~padding_mask.bool()).to(x.dtype).unsqueeze(-1)
            pooled = (x * keep).sum(1) / keep.sum(1)
        return self.decoder(pooled), routes


MODULES = {"MultiHeadEMA": MultiHeadEMA, "SeqBoatLayer": SeqBoatLayer,
           "SeqBoatModel": SeqBoatModel}


def build(module_name, config):
    return MODULES[module_name](**config)


def run(module, x, padding_mask=None):
    """Uniform call: returns (y, routes) for every module type."""
    if isinstance(module, MultiHeadEMA):
        return module(x, padding_mask), []
    return module(x, padding_mask)
