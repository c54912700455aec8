#!/usr/bin/env python3
"""Write extra golden files from the PyTorch reference (seqboat_ref.py).

    python3 tools/reference/make_golden.py --out tests/golden/extra [--only NAME...]

The files have exactly the format of tests/golden/*.safetensors (docs/semantics.md section 5):
metadata format / module / config / mode / dtype / layout / loss / seed / case,
plus `source` = "seqboat_ref" to say they were NOT made by the official code;
tensors param.*, input.x, input.padding_mask (U8, when there is padding),
output.y, output_grad.y, grad.input.x, grad.param.*, buffer_after.* (batchnorm
buffers, num_batches_tracked as an int64 0-d tensor), route.{i}.prob / .active.

They cover configurations that the official files do not (see CASES).  They
only encode this reference's reading of docs/semantics.md: where the official files do
not pin a behaviour down, neither do these (see README.md).

Unlike the official files (which use the training init: tiny attention
parameters, zero biases), the parameters here are drawn with O(1) scales so
that the attention path, the biases and the relative-position terms all matter
numerically.  Routing is made mixed by shifting hx_proj.bias[0:2] (the router
logits) so that a chosen fraction of the tokens is active, with a margin, and
by scanning seeds (deterministically, from the case's base seed) until the
case's routing requirement holds.  Everything is seeded; the output is
bit-for-bit reproducible on one machine.
"""

import argparse
import json
import math
import os
import sys

import struct

import torch

sys.dont_write_bytecode = True  # keep tools/reference free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seqboat_ref as R  # noqa: E402
import check_golden  # noqa: E402

LOSS = "sum(output.y * output_grad.y)"


def layer_config(**kw):
    """All SeqBoatLayer constructor keys, in the order the official files use."""
    cfg = {"dropout": 0.0, "attention_dropout": 0.0, "hidden_dropout": 0.0,
           "attention_activation": "relu2", "bidirectional": False,
           "window_size": 4, "truncation": None, "norm_type": "layernorm",
           "prenorm": True, "norm_affine": True, "rel_pos_bias": "simple",
           "max_positions": 32, "init_temp_scale": 1.0, "local_pos": False,
           "embed_dim": 8, "zdim": 4, "hdim": 8, "ndim": 2}
    for k in kw:
        assert k in cfg, k
    cfg.update(kw)
    return cfg


def model_config(**kw):
    cfg = {"d_output": 4, "d_model": 8, "n_layers": 2, "dropout": 0.0,
           "prenorm": True, "max_positions": 32, "d_qk": 4, "d_ema": 2,
           "mem_size": 3, "bidirectional": True, "init_temp_scale": 1.0,
           "norm_type": "layernorm", "rel_pos_bias": "simple",
           "attention_activation": "relu2", "d_input": 3}
    for k in kw:
        assert k in cfg, k
    cfg.update(kw)
    return cfg


def ema_config(**kw):
    cfg = {"ndim": 2, "bidirectional": False, "truncation": None, "embed_dim": 4}
    cfg.update(kw)
    return cfg


# Each case: name, module, config, B, L, lengths (valid length per row, None =
# no padding mask), route = routing requirement (see ROUTE_OK), frac = target
# fraction of active tokens per layer, seed = base seed.
CASES = [
    dict(name="ema_causal_trunc_gt_L", module="MultiHeadEMA",
         config=ema_config(ndim=3, truncation=16, embed_dim=4), B=2, L=10),
    dict(name="ema_bidir_trunc_pad", module="MultiHeadEMA",
         config=ema_config(ndim=2, bidirectional=True, truncation=4, embed_dim=5),
         B=3, L=11, lengths=[11, 7, 9]),
    dict(name="ema_bidir_trunc_gt_L_pad", module="MultiHeadEMA",
         config=ema_config(ndim=2, bidirectional=True, truncation=12, embed_dim=3),
         B=2, L=7, lengths=[7, 5]),
    dict(name="layer_bidir_softmax_simple_pad", module="SeqBoatLayer",
         config=layer_config(attention_activation="softmax", bidirectional=True,
                             window_size=3),
         B=3, L=12, lengths=[12, 9, 6], route="mixed", frac=0.5),
    dict(name="layer_bidir_relu2_rotary", module="SeqBoatLayer",
         config=layer_config(bidirectional=True, window_size=3,
                             rel_pos_bias="rotary", embed_dim=6, zdim=4, hdim=6),
         B=2, L=12, route="mixed", frac=0.5),
    dict(name="layer_causal_relu2_window1", module="SeqBoatLayer",
         config=layer_config(window_size=1, embed_dim=6, zdim=4, hdim=8),
         B=2, L=10, route="mixed", frac=0.6),
    dict(name="layer_bidir_softmax_window_gt_L", module="SeqBoatLayer",
         config=layer_config(attention_activation="softmax", bidirectional=True,
                             window_size=20, max_positions=16),
         B=2, L=9, route="mixed", frac=0.5),
    dict(name="layer_bidir_relu2_bn_prenorm_pad", module="SeqBoatLayer",
         config=layer_config(bidirectional=True, window_size=2,
                             norm_type="batchnorm", prenorm=True, zdim=6, hdim=12,
                             ndim=3),
         B=2, L=10, lengths=[10, 7], route="mixed", frac=0.5),
    dict(name="layer_causal_softmax_ln_postnorm", module="SeqBoatLayer",
         config=layer_config(attention_activation="softmax", window_size=3,
                             prenorm=False),
         B=2, L=11, route="mixed", frac=0.5),
    dict(name="layer_causal_softmax_pad_trunc", module="SeqBoatLayer",
         config=layer_config(attention_activation="softmax", window_size=2,
                             truncation=5, embed_dim=6, hdim=10),
         B=3, L=12, lengths=[12, 8, 10], route="mixed", frac=0.5),
    dict(name="layer_causal_relu2_zero_rows", module="SeqBoatLayer",
         config=layer_config(window_size=2),
         B=3, L=8, route="zero_row", frac=0.35),
    dict(name="layer_bidir_relu2_maxpos_lt_L", module="SeqBoatLayer",
         config=layer_config(bidirectional=True, window_size=4, max_positions=5),
         B=2, L=16, route="mixed_clamp", frac=0.5),
    dict(name="layer_bidir_softmax_uncompressed_pad", module="SeqBoatLayer",
         config=layer_config(attention_activation="softmax", bidirectional=True,
                             window_size=2),
         B=3, L=8, lengths=[8, 8, 6], route="uncompressed", frac=0.8),
    dict(name="layer_causal_relu2_rotary_uncompressed", module="SeqBoatLayer",
         config=layer_config(window_size=3, rel_pos_bias="rotary"),
         B=2, L=9, route="uncompressed", frac=0.8),
    dict(name="model_bidir_3layer_softmax_rotary", module="SeqBoatModel",
         config=model_config(n_layers=3, attention_activation="softmax",
                             rel_pos_bias="rotary", bidirectional=True,
                             prenorm=True, mem_size=3),
         B=2, L=10, route="mixed", frac=0.5),
]


_DTYPES = {torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}


def save_safetensors(tensors, path, metadata):
    """Byte-reproducible safetensors writer (the safetensors package orders
    the header keys differently from run to run): 8-byte little-endian header
    size, JSON header (__metadata__ first, tensors sorted by name, padded with
    spaces to a multiple of 8), then the raw little-endian data in that order."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------
# parameters and inputs
# ----------------------------------------------------------------------------
def randomize(module, gen):
    """O(1) random parameters (see module docstring)."""
    def normal(t, mean, std):
        t.copy_(torch.randn(t.shape, generator=gen, dtype=t.dtype) * std + mean)

    with torch.no_grad():
        for name, m in module.named_modules():
            if isinstance(m, R.MultiHeadEMA):
                normal(m.delta, 0.0, 0.5)
                normal(m.alpha, 0.0, 0.5)
                sign = torch.ones(m.ndim, 1, dtype=m.beta.dtype)
                sign[1::2] = -1.0
                normal(m.beta, 0.0, 0.3)
                m.beta.add_(sign)
                normal(m.gamma, 0.0, 1.0)
                normal(m.omega, 0.0, 1.0)
            elif isinstance(m, torch.nn.Linear):
                normal(m.weight, 0.0, 1.0 / math.sqrt(m.in_features))
                normal(m.bias, 0.0, 0.2)
            elif isinstance(m, (torch.nn.LayerNorm, torch.nn.BatchNorm1d)):
                normal(m.weight, 1.0, 0.2)
                normal(m.bias, 0.0, 0.2)
                if isinstance(m, torch.nn.BatchNorm1d):
                    normal(m.running_mean, 0.0, 0.2)
                    m.running_var.copy_(1.0 + 0.5 * torch.rand(
                        m.running_var.shape, generator=gen, dtype=m.running_var.dtype))
                    m.num_batches_tracked.zero_()
            elif isinstance(m, R.SimpleRelativePositionalBias):
                normal(m.rel_pos_bias, 0.0, 0.5)
            elif isinstance(m, R.Router):
                m.temp.add_(0.1 * torch.randn(1, generator=gen, dtype=m.temp.dtype))
            if isinstance(m, R.SeqBoatLayer):
                normal(m.gamma, 0.0, 1.0)
                normal(m.beta, 0.0, 0.5)


def layers_of(module):
    return [m for m in module.modules() if isinstance(m, R.SeqBoatLayer)]


def tune_router(module, x, pad, frac):
    """Shift each layer's router logit difference d = u1 - u0 so that a
    fraction `frac` of the non-padding tokens is active; the threshold is put
    in the middle of a gap between consecutive sorted d values, so no token is
    near a tie.  Layers are tuned in order (a layer's shift changes the input
    of the next ones).  Returns the smallest half-gap (the margin in u)."""
    margin = float("inf")
    valid = torch.ones(x.shape[:2], dtype=torch.bool) if pad is None else ~pad
    for layer in layers_of(module):
        layer.dump = {}
        with torch.no_grad():
            R.run(module, x, pad)
        u = layer.dump["u"]
        layer.dump = None
        d = (u[..., 1] - u[..., 0])[valid].sort().values
        n = d.numel()
        k = min(max(int(round(frac * n)), 1), n)         # number to activate
        if k == n:
            t = d[0] - 1.0
        else:
            t = 0.5 * (d[n - k - 1] + d[n - k])
            margin = min(margin, 0.5 * (d[n - k] - d[n - k - 1]).item())
        with torch.no_grad():
            layer.hx_proj.bias[0] += 0.5 * t
            layer.hx_proj.bias[1] -= 0.5 * t
    return margin


def route_ok(kind, routes, pad, L, config):
    """Routing requirement of a case.  routes: list of {'active': (B, L)}."""
    valid = None if pad is None else ~pad
    for r in routes:
        a = r["active"]
        cnt = a.sum(1)
        nvalid = torch.full_like(cnt, L) if valid is None else valid.sum(1)
        S = int(cnt.max())
        if kind in ("mixed", "mixed_clamp"):
            # every row has >= 2 active and >= 1 inactive non-padding token,
            # and the sequence is compressed (S < L)
            if not (bool((cnt >= 2).all()) and bool((cnt < nvalid).all()) and S < L):
                return False
        elif kind == "zero_row":
            if not (bool((cnt == 0).any()) and int(cnt.max()) >= 3 and S < L):
                return False
        elif kind == "uncompressed":
            # a fully active row (S == L) and another with >= 2 inactive tokens
            if not (S == L and bool(((nvalid - cnt) >= 2).any())):
                return False
        else:
            raise ValueError(kind)
    if kind == "mixed_clamp":
        # some query / key pair inside the slot window is >= M original
        # positions apart, so the bias index is clamped
        M, w = config["max_positions"], config["window_size"]
        hit = False
        for a in routes[0]["active"]:
            p = a.nonzero()[:, 0]
            for i in range(len(p)):
                for j in range(max(0, i - w), min(len(p), i + w + 1)):
                    hit |= abs(int(p[i] - p[j])) >= M
        if not hit:
            return False
    return True


def make_case(case, max_tries=2000):
    B, L = case["B"], case["L"]
    module_name, config = case["module"], case["config"]
    if module_name == "SeqBoatModel":
        d_in = config["d_input"]
    else:
        d_in = config["embed_dim"]
    lengths = case.get("lengths")
    pad = None
    if lengths is not None:
        pad = torch.arange(L).view(1, L) >= torch.tensor(lengths).view(B, 1)

    base = 1000 + 97 * CASES.index(case)
    for seed in range(base, base + max_tries):
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        module = R.build(module_name, config).to(torch.float64)
        randomize(module, gen)
        x = torch.randn(B, L, d_in, generator=gen, dtype=torch.float64)
        if module_name != "MultiHeadEMA":
            margin = tune_router(module, x, pad, case["frac"])
            if margin < 1e-3:
                continue
        state0 = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.train()
        xg = x.clone().requires_grad_(True)
        y, routes = R.run(module, xg, pad)
        if routes and not route_ok(case["route"], routes, pad, L, config):
            continue
        cot = torch.randn(y.shape, generator=gen, dtype=torch.float64)
        (y * cot).sum().backward()
        break
    else:
        raise RuntimeError(f"{case['name']}: no seed met the routing requirement")

    t = {}
    for k, v in state0.items():
        t["param." + k] = v.contiguous()
    t["input.x"] = x.contiguous()
    if pad is not None:
        t["input.padding_mask"] = pad.to(torch.uint8).contiguous()
    t["output.y"] = y.detach().contiguous()
    t["output_grad.y"] = cot.contiguous()
    t["grad.input.x"] = xg.grad.contiguous()
    for k, p in module.named_parameters():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        t["grad.param." + k] = g.detach().contiguous()
    for k, b in module.named_buffers():
        t["buffer_after." + k] = b.detach().clone().contiguous()
    for i, r in enumerate(routes):
        t[f"route.{i}.prob"] = r["prob"].detach().contiguous()
        t[f"route.{i}.active"] = r["active"].to(torch.uint8).contiguous()
    meta = {"format": "seqboat-golden/1", "module": module_name,
            "config": json.dumps(config), "mode": "train", "dtype": "float64",
            "layout": "batch-first", "loss": LOSS, "seed": str(seed),
            "case": case["name"], "source": "seqboat_ref"}
    return t, meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    os.makedirs(args.out, exist_ok=True)
    written = []
    for case in CASES:
        if args.only and case["name"] not in args.only:
            continue
        t, meta = make_case(case)
        path = os.path.join(args.out, case["name"] + ".safetensors")
        save_safetensors(t, path, meta)
        print(f"wrote {path} (seed {meta['seed']})")
        written.append(path)
    # verify: the reference reproduces what it wrote, and show the routing
    ok = True
    for path in written:
        name, worst, _ = check_golden.run_file(path)
        ok &= worst <= 1e-12
        print(f"{'PASS' if worst <= 1e-12 else 'FAIL'} {name} worst={worst:.3e}")
        for line in check_golden.route_lines(check_golden.load_file(path)):
            print("    " + line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
