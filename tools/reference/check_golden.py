#!/usr/bin/env python3
"""Check the PyTorch reference (seqboat_ref.py) against golden files.

    python3 tools/reference/check_golden.py [--tol 1e-9] [--dump DIR] FILE...

For each file: build the module from the metadata config, load `param.*`,
run forward in train mode in float64 with the stored input / padding mask,
loss = sum(output.y * output_grad.y), backward, and compare
    output.y, grad.input.x, grad.param.*, buffer_after.*,
    route.{i}.active, route.{i}.prob
with  err = max|got - ref| / max(1, max|ref|).
Prints `PASS name worst=...` or `FAIL name worst=...` plus the failing tensors.
Exit status 1 if any file fails.

--dump DIR writes DIR/<name>.safetensors with the intermediates of each layer
(`layer{i}.<what>`, float64 / int64 / uint8), see SeqBoatLayer.forward:
  xn         (B,L,D)  layer input after the prenorm (= x when not prenorm)
  ema_kernel (K,Lk)   EMA kernel k (rows D..2D-1: backward half when bidirectional)
  mx         (B,L,D)  silu(EMA(xn))
  u, hx      (B,L,2), (B,L,D)  hx_proj(mx) split
  P          (B,L,2)  router probabilities;  gate (B,L): g = P1 * active
  active     (B,L)    U8 activity mask;  S (0-d int64): max active per row
  idx        (B,S)    original position of each slot (0 where key_valid is 0);
                      arange(L) when not compressed
  key_valid  (B,S)    U8, slot holds an active token (the attention key mask)
  z, r, v    (B,S,Z|H|H)  silu(mx_proj(c)) split, c = compressed mx
  qv, kv     (B,S,Z)  after the gamma/beta offsets (and rotary, if any)
  attn       (B,S,S)  attention weights (softmax) / masked relu2 scores
  o          (B,S,H)  attn @ v  (before * r)
  h          (B,L,D)  h_proj(o * r) scattered back to positions, times gate
  y          (B,L,D)  layer output
Slot tensors are absent when S = 0.  For MultiHeadEMA files `ema.y` and
`ema.kernel` are written.
"""

import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

sys.dont_write_bytecode = True  # keep tools/reference free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seqboat_ref  # noqa: E402


def rel_err(got, ref):
    got = got.detach().to(torch.float64)
    ref = ref.to(torch.float64)
    if got.shape != ref.shape:
        return float("inf")
    if ref.numel() == 0:
        return 0.0
    return ((got - ref).abs().max() / max(1.0, ref.abs().max().item())).item()


def route_lines(tensors):
    """One line per route.{i}.active of a golden dict: rows separated by '|',
    1 = active, 0 = inactive, . = padding."""
    pad = tensors.get("input.padding_mask")
    lines = []
    i = 0
    while f"route.{i}.active" in tensors:
        a = tensors[f"route.{i}.active"].tolist()
        p = pad.tolist() if pad is not None else [[0] * len(a[0])] * len(a)
        rows = ["".join("." if pm else str(int(v)) for v, pm in zip(ra, rp))
                for ra, rp in zip(a, p)]
        lines.append(f"route.{i}.active: {' | '.join(rows)}")
        i += 1
    return lines


def load_golden(path):
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    return meta, load_file(path)


def run_file(path, dump_dir=None):
    """Returns (name, worst, list of (tensor name, err)) for one file."""
    meta, t = load_golden(path)
    torch.manual_seed(0)
    config = json.loads(meta["config"])
    model = seqboat_ref.build(meta["module"], config).to(torch.float64)
    state = {k[len("param."):]: v for k, v in t.items() if k.startswith("param.")}
    model.load_state_dict(state, strict=True)
    model.train()

    layers = [m for m in model.modules() if isinstance(m, seqboat_ref.SeqBoatLayer)]
    for layer in layers:
        layer.dump = {} if dump_dir else None

    x = t["input.x"].clone().requires_grad_(True)
    pad = t.get("input.padding_mask")
    pad = pad.bool() if pad is not None else None
    y, routes = seqboat_ref.run(model, x, pad)
    loss = (y * t["output_grad.y"]).sum()
    loss.backward()

    got = {"output.y": y, "grad.input.x": x.grad}
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    for k in t:
        if k.startswith("grad.param."):
            g = params[k[len("grad.param."):]].grad
            got[k] = g if g is not None else torch.zeros_like(t[k])
        elif k.startswith("buffer_after."):
            got[k] = buffers[k[len("buffer_after."):]]
    for i, r in enumerate(routes):
        got[f"route.{i}.active"] = r["active"].to(torch.uint8)
        got[f"route.{i}.prob"] = r["prob"]

    errs = []
    expected = [k for k in t if k.startswith(("output.", "grad.", "buffer_after.", "route."))]
    for k in sorted(set(expected) | {k for k in got if k.startswith("route.")}):
        if k not in t:
            errs.append((k + " (not in golden)", float("inf")))
        elif k not in got:
            errs.append((k + " (not produced)", float("inf")))
        else:
            errs.append((k, rel_err(got[k], t[k])))

    if dump_dir:
        os.makedirs(dump_dir, exist_ok=True)
        out = {}
        if not layers:
            out["ema.y"] = y.detach().contiguous()
            out["ema.kernel"] = model.last_kernel.contiguous()
        for i, layer in enumerate(layers):
            for k, v in layer.dump.items():
                if isinstance(v, int):
                    v = torch.tensor(v, dtype=torch.int64)
                v = v.detach()
                if v.dtype == torch.bool:
                    v = v.to(torch.uint8)
                out[f"layer{i}.{k}"] = v.contiguous()
        name = os.path.basename(path).rsplit(".safetensors", 1)[0]
        save_file(out, os.path.join(dump_dir, name + ".safetensors"),
                  metadata={"source": os.path.basename(path)})
    worst = max((e for _, e in errs), default=0.0)
    return os.path.basename(path), worst, errs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--dump", metavar="DIR", default=None,
                    help="write per-layer intermediates to DIR/<name>.safetensors")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every tensor's error")
    ap.add_argument("--routes", action="store_true",
                    help="print each file's activation pattern "
                         "(1 active, 0 inactive, . padding)")
    args = ap.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    n_fail = 0
    for path in args.files:
        name, worst, errs = run_file(path, args.dump)
        ok = worst <= args.tol
        n_fail += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name} worst={worst:.3e}")
        for k, e in errs:
            if args.verbose or e > args.tol:
                print(f"    {k}: {e:.3e}")
        if args.routes:
            for line in route_lines(load_file(path)):
                print("    " + line)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
