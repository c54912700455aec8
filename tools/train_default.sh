#!/usr/bin/env bash
# tools/train_default.sh: the main job, from a fresh machine: install what is
# missing, build, train the default ListOps model (data generated on the way),
# write the SMA report, and print the test accuracy and where the report is.
# Usage: bash tools/train_default.sh [OUT_DIR]   (default runs/listops)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/listops}
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target seqboat
start=$(date +%s)
# --overwrite: rerunning the script replaces its previous run (seqboat train refuses that otherwise).
build/bin/seqboat train --task listops --out "$out" --overwrite
echo "training wall time (data generation included): $(( $(date +%s) - start )) s"
build/bin/seqboat inspect --checkpoint "$out/checkpoint.safetensors" --task listops --n 8 --out "$out/report"
acc=$(grep '"event":"final"' "$out/metrics.jsonl" | sed -E 's/.*"test_accuracy":([0-9.eE+-]+).*/\1/')
echo
echo "final test accuracy: $acc"
echo "report: $out/report/report.html"
