#!/usr/bin/env bash
# tests/cli/bad_inputs.sh SEQBOAT WORKDIR: the command line on hostile inputs.
# Every case must end with exit code 1 or 2 and a message naming
# the problem: no signal, no hang (each command has a time limit), no NUL
# bytes on stdout, and the files of an existing run untouched. CTest runs it
# as cli_bad_inputs; it prints "bad inputs: ok" when every case passed.
set -u
seqboat=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
edit="python3 $here/st_edit.py"
rm -rf "$work" && mkdir -p "$work"
failures=0

# expect CODES REGEX CMD...: CMD exits with one of CODES (e.g. "12") and its
# stdout+stderr match REGEX (grep -E).
expect() {
  local codes=$1 regex=$2
  shift 2
  timeout 300 "$@" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$?
  local text
  text=$(cat "$work/out.txt" "$work/err.txt" | tr -d '\000')
  local why=""
  if [ "$rc" -eq 124 ]; then why="hung (killed after 300 s)"
  elif [ "$rc" -gt 128 ]; then why="killed by signal $((rc - 128))"
  elif [[ "$codes" != *"$rc"* ]]; then why="exit code $rc, expected one of $codes"
  elif ! grep -Eq -- "$regex" <<<"$text"; then why="output does not match /$regex/"
  elif [ "$(tr -d '\000' <"$work/out.txt" | wc -c)" != "$(wc -c <"$work/out.txt")" ]; then why="NUL bytes on stdout"
  fi
  if [ -n "$why" ]; then
    echo "FAIL: $*"
    echo "      $why"
    head -c 600 <<<"$text" | sed 's/^/      | /'
    failures=$((failures + 1))
  else
    echo "ok:   $(head -c 150 <<<"$*") -> $rc"
  fi
}

tiny="--no-progress --set steps=2 --set eval_every=0 --set warmup_steps=1 --set batch_size=4 --set model.d_model=8
      --set model.d_qk=4 --set model.d_ema=2 --set model.mem_size=4"
# shellcheck disable=SC2086  # $tiny holds several arguments
"$seqboat" train --task recall --out "$work/recall" $tiny --set recall.n_train=16 --set recall.n_test=8 \
  --set recall.n_pairs=2 --set recall.n_keys=4 --set recall.n_values=4 >/dev/null || { echo "FAIL: setup (recall)"; exit 1; }
# shellcheck disable=SC2086
"$seqboat" train --task listops --out "$work/listops" $tiny --set listops.n_train=16 --set listops.n_val=8 \
  --set listops.n_test=8 >/dev/null || { echo "FAIL: setup (listops)"; exit 1; }
# shellcheck disable=SC2086
"$seqboat" train --task lm --out "$work/lm" $tiny --set lm.seq_len=16 --set lm.eval_windows=4 >/dev/null \
  || { echo "FAIL: setup (lm)"; exit 1; }
R=$work/recall/checkpoint.safetensors L=$work/listops/checkpoint.safetensors M=$work/lm/checkpoint.safetensors

echo "-- class 1: sizes that overflow 64-bit arithmetic"
expect 2 "model.d_model.*out of range" "$seqboat" train --task recall --out "$work/x1" --set steps=2 \
  --set model.d_model=2305843009213693953
expect 2 "model.n_layers.*out of range" "$seqboat" train --task recall --out "$work/x1" --set model.n_layers=4294967297
python3 - "$work/maxpos.safetensors" <<'PY'
import json, struct, sys
cfg = {"embed_dim": 4, "zdim": 2, "hdim": 8, "window_size": 2, "max_positions": 2**62}
x = {"dtype": "F64", "shape": [1, 2, 4], "data_offsets": [0, 64]}
g = {"dtype": "F64", "shape": [1, 2, 4], "data_offsets": [64, 128]}
h = json.dumps({"__metadata__": {"module": "SeqBoatLayer", "config": json.dumps(cfg)}, "input.x": x, "output_grad.y": g}).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + bytes(128))
PY
expect 1 "max_positions' must be from 1 to" "$seqboat" parity "$work/maxpos.safetensors"
# Every tensor fits alone, all of them together do not (here: a 256 MB
# limit stands for the machine): an error, not the OOM killer's signal.
expect 1 "already live and together they would exceed" env SEQBOAT_MAX_ALLOC_BYTES=268435456 "$seqboat" train \
  --task recall --out "$work/x1big" --no-progress --set model.d_model=2048 --set model.n_layers=16
python3 - "$work/zero.safetensors" <<'PY'
import json, struct, sys
cfg = {"embed_dim": 6, "ndim": 2}
h = json.dumps({"__metadata__": {"module": "MultiHeadEMA", "config": json.dumps(cfg)},
                "input.x": {"dtype": "F64", "shape": [0, 2**61, 6], "data_offsets": [0, 0]},
                "output_grad.y": {"dtype": "F64", "shape": [0, 2**61, 6], "data_offsets": [0, 0]}}).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h)
PY
expect 1 "too large for 64-bit sizes" "$seqboat" parity "$work/zero.safetensors"
python3 - "$work/big.safetensors" <<'PY'
import json, struct, sys
cfg = {"embed_dim": 6, "ndim": 2}
h = json.dumps({"__metadata__": {"module": "MultiHeadEMA", "config": json.dumps(cfg)},
                "input.x": {"dtype": "F64", "shape": [0, 2**40, 6], "data_offsets": [0, 0]},
                "output_grad.y": {"dtype": "F64", "shape": [0, 2**40, 6], "data_offsets": [0, 0]}}).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h)
PY
expect 01 "PASS|FAIL big" "$seqboat" parity "$work/big.safetensors"

echo "-- class 2: deeply nested JSON"
python3 -c "import sys; sys.stdout.write('{\"a\": ' * 200000 + '1' + '}' * 200000)" >"$work/deep.json"
expect 2 "deep.json' is not valid JSON: nested deeper than 64" "$seqboat" train --task listops --config "$work/deep.json"
python3 - "$work/deep.safetensors" <<'PY'
import struct, sys
h = ('{"x": {"dtype": "U8", "shape": ' + "[" * 150000 + "1" + "]" * 150000 + ', "data_offsets": [0, 1]}}').encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + b"\0")
PY
expect 1 "deep.safetensors: malformed JSON header: nested deeper" "$seqboat" eval --checkpoint "$work/deep.safetensors" --task recall
$edit "$R" "$work/deepcfg.safetensors" 'meta["config"] = "[" * 100000 + "]" * 100000; cfg.clear()'
expect 1 "nested deeper" "$seqboat" eval --checkpoint "$work/deepcfg.safetensors" --task recall

echo "-- class 3: a training expression nested 40k deep"
mkdir -p "$work/deepdata"
python3 - "$work/deepdata" <<'PY'
import sys
d = sys.argv[1]
deep = "[MAX " * 40000 + "3" + " 4 ]" * 40000
rows = "Source\tTarget\n" + deep + "\t4\n" + "[MIN 1 2 ]\t1\n"
for s in ("train", "val", "test"):
    open(f"{d}/basic_{s}.tsv", "w").write(rows)
PY
expect 0 "test accuracy" "$seqboat" train --task listops --out "$work/deeprun" --no-progress --set data.dir="$work/deepdata" \
  --set steps=1 --set warmup_steps=0 --set batch_size=2 --set eval_every=0 --set model.d_model=8 --set model.d_qk=4 --set model.d_ema=2 \
  --set model.mem_size=4 --set model.n_layers=1

echo "-- class 4: checkpoint metadata and config"
$edit "$R" "$work/recall/checkpoint.safetensors.neg" 'meta["step"] = "-5"'
mkdir -p "$work/neg" && cp "$work/recall/config.json" "$work/neg/" && cp "$work/recall/checkpoint.safetensors.neg" "$work/neg/checkpoint.safetensors"
cp "$work/recall/metrics.jsonl" "$work/neg/"
expect 1 "malformed 'step' metadata '-5'" "$seqboat" train --task recall --out "$work/neg" --resume --no-progress \
  --config "$work/neg/config.json"
expect 1 "malformed 'step' metadata '-5'" "$seqboat" eval --checkpoint "$work/neg/checkpoint.safetensors" --task recall
$edit "$L" "$work/listops/bs0.safetensors" 'cfg["batch_size"] = 0'
expect 1 "config key 'batch_size'" "$seqboat" eval --checkpoint "$work/listops/bs0.safetensors" --task listops
$edit "$M" "$work/lm/bs0.safetensors" 'cfg["batch_size"] = 0'
expect 1 "config key 'batch_size'" "$seqboat" eval --checkpoint "$work/lm/bs0.safetensors" --task lm
$edit "$M" "$work/lm/nokey.safetensors" 'del cfg["lm.seq_len"]'
expect 1 "config key 'lm.seq_len': missing" "$seqboat" generate --checkpoint "$work/lm/nokey.safetensors" --prompt a
$edit "$M" "$work/lm/notobj.safetensors" 'meta["config"] = "[1]"; cfg.clear()'
expect 1 "not a JSON object" "$seqboat" generate --checkpoint "$work/lm/notobj.safetensors" --prompt a
$edit "$R" "$work/recall/big.safetensors" 'cfg["recall.n_test"] = 2**64 - 1'
expect 1 "config key 'recall.n_test'" "$seqboat" inspect --checkpoint "$work/recall/big.safetensors" --task recall --out "$work/insp"
$edit "$R" "$work/recall/rng.safetensors" 'meta["rng"] = "[[\"1\"]]"'
expect 1 "malformed 'rng' metadata" "$seqboat" eval --checkpoint "$work/recall/rng.safetensors" --task recall

echo "-- class 5: integers that wrapped"
expect 2 "config key 'steps'.*out of range" "$seqboat" train --task recall --out "$work/x5" --set steps=18446744073709551615
expect 2 "config key 'recall.n_test'.*out of range" "$seqboat" train --task recall --out "$work/x5" --set recall.n_test=4294967297
expect 2 "config key 'warmup_steps': must be less than steps \(5\)" "$seqboat" train --task recall --out "$work/x5" --set steps=5
expect 2 "option '--tokens'" "$seqboat" generate --checkpoint "$M" --prompt a --tokens 18446744073709551615
expect 2 "option '--n-train'" "$seqboat" data listops --out "$work/x5d" --n-train 4294967297

echo "-- class 6: lm validation part shorter than lm.seq_len"
head -c 2000 /dev/zero | tr '\0' 'a' >"$work/small.txt"
$edit "$M" "$work/lm/short.safetensors" "cfg['data.paths'] = ['$work/small.txt']; cfg['lm.val_fraction'] = 0.005"
expect 1 "validation part of the corpus is 10 bytes, shorter than a window" "$seqboat" eval --checkpoint "$work/lm/short.safetensors" --task lm

echo "-- class 7: option values and errors that name the argument"
expect 2 "option '--temperature' expects a finite number, got 'nan'" "$seqboat" generate --checkpoint "$M" --prompt a --temperature nan
expect 2 "option '--temperature' must be from 0 to 100" "$seqboat" generate --checkpoint "$M" --prompt a --temperature 1e300
expect 2 "option '--tol' expects a finite number, got 'abc'" "$seqboat" parity --tol abc "$work/maxpos.safetensors"
expect 2 "option '--stop-after'" "$seqboat" train --task recall --out "$work/x7" --stop-after -3
expect 2 "option '--n'" "$seqboat" inspect --checkpoint "$R" --task recall --out "$work/x7" --n 1e9

echo "-- class 8: data and state"
before=$(md5sum "$work/recall/metrics.jsonl" "$work/recall/config.json" "$R")
expect 2 "already holds a run \(checkpoint.safetensors exists\); use --resume" "$seqboat" train --task recall --out "$work/recall" --set steps=300
expect 2 "model.d_model" "$seqboat" train --task recall --out "$work/recall" --overwrite --set model.d_model=0
after=$(md5sum "$work/recall/metrics.jsonl" "$work/recall/config.json" "$R")
if [ "$before" != "$after" ]; then echo "FAIL: a refused train changed the run's files"; failures=$((failures + 1)); fi
expect 1 "training split \(16 examples\)" "$seqboat" train --task recall --out "$work/x8" --set recall.n_train=16 --set batch_size=32
mkdir -p "$work/emptysplit" && printf 'Source\tTarget\n' >"$work/emptysplit/basic_test.tsv"
expect 1 "basic_test.tsv: the test split has no examples" "$seqboat" eval --checkpoint "$L" --task listops --data-dir "$work/emptysplit"
expect 2 "max-args" "$seqboat" data listops --out "$work/x8d" --max-args 100000
touch "$work/recall/metrics.jsonl.tmp.999999999.0"
"$seqboat" train --task recall --out "$work/recall" --resume --no-progress --config "$work/recall/config.json" --set steps=3 >/dev/null 2>&1
# (a refused resume: steps differ; the next successful write cleans)
"$seqboat" train --task recall --out "$work/recall" --overwrite --no-progress --config "$work/recall/config.json" >/dev/null \
  || { echo "FAIL: --overwrite"; failures=$((failures + 1)); }
if [ -e "$work/recall/metrics.jsonl.tmp.999999999.0" ]; then echo "FAIL: stale temp file kept"; failures=$((failures + 1)); fi

echo "-- class 9: a held-out test file evaluated alone"
mkdir -p "$work/lra" && cp "$work/listops/data/basic_test.tsv" "$work/lra/"
expect 0 '"examples":8' "$seqboat" eval --checkpoint "$L" --task listops --data-dir "$work/lra" --split test --json

echo "-- other commands"
expect 2 "unknown option" "$seqboat" eval --checkpoint "$R" --task recall --bogus
expect 1 "cannot open" "$seqboat" eval --checkpoint "$work/none.safetensors" --task recall
expect 1 "not a seqboat checkpoint" "$seqboat" eval --checkpoint "$here/../golden/ema_causal.safetensors" --task recall
expect 1 "FAIL README error" "$seqboat" parity "$here/../../README.md"

if [ "$failures" -ne 0 ]; then
  echo "bad inputs: $failures case(s) FAILED"
  exit 1
fi
echo "bad inputs: ok"
