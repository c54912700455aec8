#!/usr/bin/env bash
# bench/data_parallel.sh [STEPS] [BIN]: data-parallel ListOps training at N = 1
# and N = 2 ranks of 1 thread each, side by side in one run (alternating
# N = 1, 2, 1, 2 so that drift of the machine hits both), and with the
# gradients in one bucket (SEQBOAT_BUCKET_BYTES=1 GiB: no overlap with the
# backward) against the default 1 MiB buckets. Prints per run: tokens/s
# (global batch, rank 0's clock), step time, and the share of the training
# time rank 0 spent in reductions (waiting for the other rank included).
#   bash bench/data_parallel.sh 40            (as root it adds --allow-run-as-root)
set -eu
steps=${1:-40}
bin=$(realpath "${2:-build/bin/seqboat}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" data listops --out "$work/data" --n-val 64 --n-test 64 >/dev/null
root=(); [ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
run() {  # N BUCKET_BYTES
  local out="$work/n$1_b$2_$RANDOM"
  SEQBOAT_BUCKET_BYTES=$2 mpirun "${root[@]}" --oversubscribe --bind-to none -np "$1" "$bin" train --task listops \
    --set data.dir="$work/data" --set threads=1 --set steps="$steps" --set warmup_steps=5 --set eval_every=0 \
    --set log_every="$steps" --no-progress --out "$out" >/dev/null
  python3 - "$out/metrics.jsonl" "$1" "$2" "$steps" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
tr = [e for e in ev if e["event"] == "train"][-1]
fin = [e for e in ev if e["event"] == "final"][-1]
n, bucket, steps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
comm = fin.get("allreduce_s", 0.0)
print(f"N={n} bucket={'1 MiB' if bucket == 1 << 20 else 'one'}: {tr['tokens_per_s']:8.0f} tokens/s  "
      f"step {1e3 * fin['train_seconds'] / steps:7.1f} ms  communication {100 * comm / fin['train_seconds']:5.1f}% "
      f"(gradients {fin.get('gradient_allreduce_s', 0.0):.2f} s of {fin['train_seconds']:.2f} s)")
PY
}
echo "ListOps default model, $steps steps, 1 thread per rank, $(nproc) cores"
for rep in 1 2; do
  run 1 $((1 << 20))
  run 2 $((1 << 20))
  run 2 $((1 << 30))
done
