#!/usr/bin/env python3
"""seqboat's SeqBoatLayer against a PyTorch one, side by side in one run.

    python3 bench/compare_pytorch.py [--seqboat build/bin/seqboat] [--device cpu|cuda]
                                     [--threads 2] [--L 256,1024,4096] [--reps 5] [--json FILE]

A tool, not a test. For each L it times forward+backward of the layer
D=128 Z=64 H=256 N=16 w=64, causal, softmax, layernorm prenorm, B=8, float32,
at the router's own density, in PyTorch and then in `seqboat bench`
(--case layer_fwd_bwd plus gemm_bound), alternating, with the same thread
count, and prints both and the ratios seqboat / PyTorch.

The PyTorch layer is tools/reference/seqboat_ref.py's SeqBoatLayer with its
EMA computed as the official code computes it, by FFT of size 2L (the
reference's direct Toeplitz sum is O(L^2 D) in time and memory: 8 GiB at
L=4096), and its local attention as a masked (S x S) product over the
compressed slots. It stands in for the official SeqBoat code, which needs
fairseq; `--official-ms` prints the official figures measured elsewhere
next to it, for reference only (they are not from this run).

PyTorch's time is the median and the minimum of --reps runs after one
warm-up (synchronised on CUDA); its memory is the process's peak RSS
(ru_maxrss, after all runs of an L; L ascending) on the CPU and the peak of
torch.cuda.max_memory_allocated on CUDA, next to seqboat's peak RSS or peak
device memory.
"""

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))

import torch  # noqa: E402

import seqboat_ref  # noqa: E402


class FftEMA(seqboat_ref.MultiHeadEMA):
    """The causal EMA by FFT of size 2L, as the official code computes it."""

    def forward(self, x, padding_mask=None):
        B, L, D = x.shape
        residual = x * self.omega
        if padding_mask is not None:
            x = x.masked_fill(padding_mask.unsqueeze(-1), 0.0)
        k = self.kernel(L)                                   # (D, L)
        kf = torch.fft.rfft(k, n=2 * L)                      # (D, L + 1)
        xf = torch.fft.rfft(x.transpose(1, 2), n=2 * L)      # (B, D, L + 1)
        y = torch.fft.irfft(xf * kf, n=2 * L)[..., :L]       # (B, D, L)
        return y.transpose(1, 2) + residual


def pytorch_layer():
    layer = seqboat_ref.SeqBoatLayer(
        128, 64, 256, ndim=16, attention_activation="softmax", bidirectional=False,
        window_size=64, norm_type="layernorm", prenorm=True, rel_pos_bias="simple",
        max_positions=16384)
    old = layer.ssm
    layer.ssm = FftEMA(128, ndim=16, bidirectional=False)
    layer.ssm.load_state_dict(old.state_dict())
    return layer


def time_pytorch(L, reps, device):
    torch.manual_seed(0)
    layer = pytorch_layer().train().to(device)
    x = torch.randn(8, L, 128).to(device)
    cuda = device == "cuda"

    def run():
        xr = x.detach().requires_grad_(True)
        y, routes = layer(xr)
        y.sum().backward()
        layer.zero_grad(set_to_none=True)
        density = routes[0]["active"].float().mean().item()  # (waits for the forward)
        if cuda:
            torch.cuda.synchronize()
        return density

    run()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        density = run()
        ms.append((time.perf_counter() - t0) * 1e3)
    if cuda:
        mem = torch.cuda.max_memory_allocated() / 1048576.0
    else:
        mem = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return dict(median_ms=statistics.median(ms), min_ms=min(ms), mem_mib=mem, density=density)


def time_seqboat(binary, L, reps, threads, device):
    out = os.path.join("/tmp", f"seqboat_compare_{os.getpid()}.json")
    subprocess.run([binary, "bench", "--device", device, "--case", "layer_fwd_bwd,gemm_bound", "--L", str(L),
                    "--reps", str(reps), "--threads", str(threads), "--json", out], check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        rows = json.load(f)
    os.remove(out)
    return {r["name"]: r for r in rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seqboat", default=os.path.join(ROOT, "build", "bin", "seqboat"))
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--L", default="256,1024,4096")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--official-ms", default="256:154/63,1024:502/458,4096:3184/3158",
                    help="official SeqBoat median/min ms per L, measured elsewhere (printed only)")
    args = ap.parse_args()
    if not os.access(args.seqboat, os.X_OK):
        sys.exit(f"compare_pytorch: no seqboat binary at {args.seqboat} (build it first, or pass --seqboat)")
    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("compare_pytorch: --device cuda but torch sees no GPU")
    mem_name = "peak MiB" if args.device == "cuda" else "RSS MiB"
    official = {}
    for item in filter(None, args.official_ms.split(",")):
        L, v = item.split(":")
        official[int(L)] = v
    print(f"torch {torch.__version__} on {args.device}, {args.threads} CPU thread(s), {args.reps} timed runs after a warm-up; "
          "layer D=128 Z=64 H=256 N=16 w=64 B=8 causal softmax float32, fwd+bwd")
    head = (f"{'L':>6} {'torch med/min ms':>18} {'torch ' + mem_name:>14} {'seqboat med/min ms':>19} "
            f"{'seqboat ' + mem_name:>16} "
            f"{'ratio med':>9} {'ratio min':>9} {'gemm-bound ms':>13} {'x bound':>8} {'official med/min':>17}")
    print(head)
    rows = []
    for L in [int(v) for v in args.L.split(",")]:
        pt = time_pytorch(L, args.reps, args.device)
        sb = time_seqboat(args.seqboat, L, args.reps, args.threads, args.device)
        lay, gemm = sb["layer_fwd_bwd"], sb["gemm_bound"]
        # The FLOP count's time at the measured GEMM speed (bench.cpp documents the count).
        bound_ms = lay["gflops"] * lay["min_ms"] / gemm["gflops"]
        row = dict(L=L, torch=pt, seqboat=lay, gemm_bound=gemm, bound_ms=bound_ms,
                   ratio_median=lay["median_ms"] / pt["median_ms"], ratio_min=lay["min_ms"] / pt["min_ms"],
                   over_bound=lay["min_ms"] / bound_ms, threads=args.threads, device=args.device)
        rows.append(row)
        sb_mem = lay["peak_mib"] if args.device == "cuda" else lay["rss_mib"]
        print(f"{L:>6} {pt['median_ms']:>8.1f} /{pt['min_ms']:>8.1f} {pt['mem_mib']:>14.0f} "
              f"{lay['median_ms']:>8.1f} /{lay['min_ms']:>8.1f} {sb_mem:>16.0f} "
              f"{row['ratio_median']:>9.3f} {row['ratio_min']:>9.3f} {bound_ms:>13.1f} {row['over_bound']:>8.2f} "
              f"{official.get(L, '-'):>17}", flush=True)
        print(f"{'':>6} densities: torch {pt['density']:.3f}, seqboat {lay['density']:.3f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
