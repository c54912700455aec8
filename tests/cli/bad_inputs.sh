#!/usr/bin/env bash
# tests/cli/bad_inputs.sh SEQBOAT WORKDIR: the command line on hostile inputs.
# Every case must end with exit code 1 (a bad file, a runtime failure) or 2 (a
# bad option, --set or config) and a message naming the problem: no signal,
# no hang (each command has a time limit), no NUL bytes on stdout, no control
# characters (escape sequences) anywhere in the output, no bare
# standard-library exception text, and the files of an existing run
# untouched. The first part (classes 1-9) covers the file readers and sizes;
# the second ("every command and option", classes A-H) the option and config
# layer, bounded work, non-finite weights, untrusted text, run-directory
# transactions, wrong inputs, write failures and exception text. CTest runs
# it as cli_bad_inputs; it prints "bad inputs: ok" when every case passed.
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
  elif LC_ALL=C grep -q $'[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' "$work/out.txt" "$work/err.txt"; then
    why="control characters in the output"
  elif grep -Eq 'std::|basic_string|filesystem error|\[json\.exception|bad_alloc' <<<"$text"; then
    why="bare standard-library exception text"
  fi
  if [ -n "$why" ]; then
    echo "FAIL: $(cat -v <<<"$*")"
    echo "      $why"
    head -c 600 <<<"$text" | sed 's/^/      | /'
    failures=$((failures + 1))
  else
    echo "ok:   $(head -c 150 <<<"$*" | cat -v) -> $rc"
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

# ---------------------------------------------------------------- every command and option
# snap DIR: every file under DIR with its checksum (a run before and after).
snap() { (cd "$1" && find . -type f -exec md5sum {} + | sort); }
# same A B WHAT: the two snapshots must be equal.
same() { if [ "$1" != "$2" ]; then echo "FAIL: $3"; failures=$((failures + 1)); else echo "ok:   $3"; fi; }
recall_tiny="$tiny --set recall.n_train=16 --set recall.n_test=8 --set recall.n_pairs=2 --set recall.n_keys=4 --set recall.n_values=4"
# A config that diverges at its first step (SGD at lr 1e30): a failure inside the training loop.
diverge="--set optimizer=sgd --set lr=1e30 --set clip_norm=0 --set decay=constant --set warmup_steps=0 --set steps=20"

echo "-- class A: numeric options have a range, checked before use; a value in range works"
expect 0 "gemm_bound" "$seqboat" bench --case gemm_bound --L 64 --reps 1 --threads 1024  # more threads than GEMM rows
expect 2 "option '--L' expects a comma-separated list without empty items" "$seqboat" bench --L ,
expect 2 "option '--L' expects a comma-separated list without empty items" "$seqboat" bench --L 256,
expect 2 "option '--density' expects a comma-separated list" "$seqboat" bench --density ""
expect 2 "option '--case' expects a comma-separated list" "$seqboat" bench --case ,
expect 2 "option '--density' must be from 0 to 1, got '1.5'" "$seqboat" bench --density own,1.5
expect 2 "option '--threads' expects a whole number from 1 to 1024" "$seqboat" bench --threads 1025
expect 2 "option '--top-k' expects a whole number from 0 to 256, got '257'" "$seqboat" generate --checkpoint "$M" --top-k 257
expect 2 "option '--tokens' expects a whole number" "$seqboat" generate --checkpoint "$M" --tokens 1e3
expect 2 "option '--seed' expects a whole number" "$seqboat" generate --checkpoint "$M" --seed -1
expect 2 "option '--tol' must be from 0 to" "$seqboat" parity --tol -1 "$work/maxpos.safetensors"
expect 2 "option '--max-depth' expects a whole number from 1 to 32" "$seqboat" data listops --out "$work/xA" --max-depth 0
expect 2 "option '--n-test' expects a whole number from 1 to" "$seqboat" data listops --out "$work/xA" --n-test 0
expect 2 "config key 'threads': number 1025 is out of range \(an integer from 0 to 1024\)" "$seqboat" train --task recall --out "$work/xA" --set threads=1025
expect 2 "config key 'lm.val_fraction'" "$seqboat" train --task lm --out "$work/xA" --set lm.val_fraction=1
expect 2 "option '--stop-after' expects a whole number" "$seqboat" train --task recall --out "$work/xA" --stop-after 2.5
expect 0 "\[1\.\.65536\]" "$seqboat" train --help  # the config keys' ranges are documented
if [ -e "$work/xA" ]; then echo "FAIL: a refused command created its output directory"; failures=$((failures + 1)); fi

echo "-- class B: work bounded by what was asked for, with an error naming the settings"
expect 2 "no tree in the length window: 0 of the 12 examples found.*max_depth 6, max_args 64" "$seqboat" data listops \
  --out "$work/xB" --n-train 10 --n-val 1 --n-test 1 --min-length 1000000 --max-length 1048576 --max-depth 6 --max-args 64
expect 2 "at this rate the rest would need more than" "$seqboat" data listops --out "$work/xB" --max-depth 2 --max-args 2 \
  --min-length 0 --max-length 7
expect 2 "listops gen: a tree grew past" "$seqboat" data listops --out "$work/xB" --max-depth 32 --max-args 64 \
  --min-length 100000 --max-length 100010 --n-train 1 --n-val 1 --n-test 1
expect 2 "config keys listops.\*: listops gen: the longest tree \(max_depth 2, max_args 5\) has length 7, not > min_length 20" "$seqboat" train \
  --task listops --out "$work/xB" --set listops.max_depth=2 --set listops.min_length=20
if [ -e "$work/xB" ]; then echo "FAIL: a refused generator wrote files"; failures=$((failures + 1)); fi
# shellcheck disable=SC2086
expect 0 "test accuracy" "$seqboat" train --task recall --out "$work/bigkeys" $recall_tiny --set recall.n_keys=1048576

echo "-- class C: checkpoints with non-finite weights"
python3 - "$R" "$work/nan.safetensors" "$M" "$work/lmnan.safetensors" <<'PY'
import json, struct, sys
def poison(src, dst, name, value):
    raw = bytearray(open(src, "rb").read())
    (n,) = struct.unpack("<Q", raw[:8])
    h = json.loads(raw[8:8 + n])
    struct.pack_into("<f", raw, 8 + n + h[name]["data_offsets"][0] + 4, value)  # element 1
    open(dst, "wb").write(raw)
poison(sys.argv[1], sys.argv[2], "decoder.bias", float("nan"))
poison(sys.argv[3], sys.argv[4], "final_norm.norm.bias", float("inf"))
PY
expect 1 "the weights are not finite: tensor 'decoder.bias' holds nan at index 1 \(of 4\).*--allow-nonfinite" "$seqboat" eval \
  --checkpoint "$work/nan.safetensors" --task recall
expect 1 "tensor 'decoder.bias' holds nan at index 1" "$seqboat" inspect --checkpoint "$work/nan.safetensors" --out "$work/xC"
expect 1 "tensor 'final_norm.norm.bias' holds inf at index 1" "$seqboat" generate --checkpoint "$work/lmnan.safetensors" --prompt ab
expect 0 "loss nan" "$seqboat" eval --checkpoint "$work/nan.safetensors" --task recall --allow-nonfinite
expect 1 "logit 0 of 256 is (nan|inf): the model's output is not finite" "$seqboat" generate --checkpoint "$work/lmnan.safetensors" \
  --prompt ab --allow-nonfinite
# --resume from a run whose checkpoint is not finite: refused, nothing written.
mkdir -p "$work/nanrun" && cp "$work/recall/config.json" "$work/recall/metrics.jsonl" "$work/nanrun/"
cp "$work/nan.safetensors" "$work/nanrun/checkpoint.safetensors"
before=$(snap "$work/nanrun")
expect 1 "not finite, cannot resume: tensor 'decoder.bias' holds nan" "$seqboat" train --task recall --out "$work/nanrun" \
  --resume --no-progress --config "$work/nanrun/config.json"
same "$before" "$(snap "$work/nanrun")" "a refused --resume left the run as it was"

echo "-- exit codes: tensors that do not fit the checkpoint's own config are a bad file (1), not a bad option"
# Same bytes, another shape: a valid safetensors file whose state dict does not load.
$edit "$R" "$work/shape.safetensors" 'header["decoder.bias"]["shape"] = [2, 2]'
$edit "$M" "$work/lmshape.safetensors" 'header["final_norm.norm.bias"]["shape"] = [2, 4]'
expect 1 "its tensors do not fit the model its config describes: load_state_dict: 'decoder.bias' has shape \[2, 2\]" \
  "$seqboat" eval --checkpoint "$work/shape.safetensors"
expect 1 "its tensors do not fit the model its config describes" "$seqboat" inspect --checkpoint "$work/shape.safetensors" \
  --out "$work/xC"
expect 1 "'final_norm.norm.bias' has shape \[2, 4\]" "$seqboat" generate --checkpoint "$work/lmshape.safetensors" --prompt ab
$edit "$R" "$work/wider.safetensors" 'cfg["model.d_model"] = 16'
expect 1 "its tensors do not fit the model its config describes" "$seqboat" eval --checkpoint "$work/wider.safetensors"
mkdir -p "$work/shaperun" && cp "$work/recall/config.json" "$work/recall/metrics.jsonl" "$work/shaperun/"
cp "$work/shape.safetensors" "$work/shaperun/checkpoint.safetensors"
before=$(snap "$work/shaperun")
expect 1 "checkpoint.safetensors': its tensors do not fit the model its config describes" "$seqboat" train --task recall \
  --out "$work/shaperun" --resume --no-progress --config "$work/shaperun/config.json"
same "$before" "$(snap "$work/shaperun")" "a --resume from a checkpoint of the wrong shapes left the run as it was"
if [ -e "$work/xC" ]; then echo "FAIL: a refused inspect created its output directory"; failures=$((failures + 1)); fi

echo "-- class D: untrusted text is escaped and clipped"
python3 - "$R" "$work/names.safetensors" "$work/escname.safetensors" <<'PY'
import json, struct, sys
def add(src, dst, names):
    raw = open(src, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    h = json.loads(raw[8:8 + n]); data = raw[8 + n:]
    for nm in names:
        h[nm] = {"dtype": "U8", "shape": [1], "data_offsets": [len(data), len(data) + 1]}
        data += b"\0"
    t = json.dumps(h).encode(); t += b" " * ((8 - len(t) % 8) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(t)) + t + data)
add(sys.argv[1], sys.argv[2], ["unknown_tensor_%d" % i for i in range(100000)])
add(sys.argv[1], sys.argv[3], ["\x1b[31mred\x1b[0m\x07\u202eevil"])
PY
expect 1 "100000 unexpected \['unknown_tensor_0'.* and 99990 more\]" "$seqboat" eval --checkpoint "$work/names.safetensors"
if [ "$(wc -c <"$work/err.txt")" -gt 4200 ]; then echo "FAIL: a 100,000-name error is $(wc -c <"$work/err.txt") bytes"; failures=$((failures + 1)); fi
expect 1 "unexpected \['\\\\x1b\[31mred\\\\x1b\[0m\\\\x07\\\\u\{202E\}evil'\]" "$seqboat" eval --checkpoint "$work/escname.safetensors"
expect 2 "unknown option '--\\\\x1b\[2Jx'" "$seqboat" eval --checkpoint "$R" $'--\e[2Jx'
expect 2 "unknown command '\\\\x1b\]0;t\\\\x07'" "$seqboat" $'\e]0;t\a'
expect 2 "must be one of listops, lm, recall, text, .*, enwik8, got '\\\\x1b\[31m'" "$seqboat" train --task $'\e[31m'
expect 2 "unknown key '\\\\x1b\[2J'" "$seqboat" train --task recall --config <(printf '{"\\u001b[2J": 1}')
expect 2 "'\\\\xff\\\\xfe' is not one of: adamw, radam, sgd" "$seqboat" train --task recall --set $'optimizer=\xff\xfe'
expect 1 "cannot open" "$seqboat" eval --checkpoint $'/nonexistent/\e[31mx\x7f.safetensors'
expect 1 "listops: .*\\\\x1b\[1m.*cannot open" "$seqboat" eval --checkpoint "$L" --data-dir $'/tmp/\e[1mno'
expect 2 "unknown config key '$(head -c 300 /dev/zero | tr '\0' k)... \(700 more bytes\)" "$seqboat" train --task recall \
  --set "$(head -c 1000 /dev/zero | tr '\0' k)=1"

echo "-- class E: the run directory changes only as a whole"
before=$(snap "$work/recall")
# shellcheck disable=SC2086
expect 1 "non-finite loss" "$seqboat" train --task recall --out "$work/recall" --overwrite $recall_tiny $diverge
same "$before" "$(snap "$work/recall")" "--overwrite failing before its first checkpoint put the old run back"
if [ -e "$work/recall/.replaced-run" ]; then echo "FAIL: .replaced-run left"; failures=$((failures + 1)); fi
# shellcheck disable=SC2086
expect 2 "config key 'model.d_qk': must be even with model.rel_pos_bias=rotary" "$seqboat" train --task recall \
  --out "$work/recall" --overwrite $recall_tiny --set model.d_qk=5 --set model.rel_pos_bias=rotary
# shellcheck disable=SC2086
expect 1 "already live and together they would exceed|size too large" env SEQBOAT_MAX_ALLOC_BYTES=268435456 "$seqboat" \
  train --task recall --out "$work/recall" --overwrite --no-progress --set model.d_model=2048 --set model.n_layers=16
same "$before" "$(snap "$work/recall")" "refused --overwrite runs left the old run as it was"
# shellcheck disable=SC2086
expect 1 "non-finite loss" "$seqboat" train --task recall --out "$work/new/a/b" $recall_tiny $diverge
if [ -e "$work/new" ]; then echo "FAIL: a failed start left $work/new"; failures=$((failures + 1)); fi
# shellcheck disable=SC2086
expect 1 "non-finite loss" "$seqboat" train --task listops --out "$work/newlo" $tiny --set listops.n_train=16 \
  --set listops.n_val=8 --set listops.n_test=8 $diverge
if [ -e "$work/newlo" ]; then echo "FAIL: a failed listops start left its generated data"; failures=$((failures + 1)); fi
# A --resume that fails at its first step: config.json and metrics.jsonl as they were.
# shellcheck disable=SC2086
"$seqboat" train --task recall --out "$work/rs" $recall_tiny $diverge --set eval_every=1 --stop-after 1 >/dev/null
before=$(snap "$work/rs")
# shellcheck disable=SC2086
expect 1 "non-finite loss" "$seqboat" train --task recall --out "$work/rs" $recall_tiny $diverge --set eval_every=1 --resume
same "$before" "$(snap "$work/rs")" "a --resume failing before its first checkpoint restored the run"
mkdir -p "$work/killed/.replaced-run"
expect 1 "holds the files of a run that an interrupted --overwrite replaced" "$seqboat" train --task recall \
  --out "$work/killed" --overwrite
printf 'x' >"$work/afile"
expect 2 "--out '.*afile' is not a directory" "$seqboat" train --task recall --out "$work/afile"

echo "-- class F: inputs that are wrong are refused"
mkdir -p "$work/unbal"
printf 'Source\tTarget\n[MIN 1 2 ]\t1\n[MAX 2 3\t3\n' >"$work/unbal/basic_test.tsv"
expect 1 "basic_test.tsv: line 3: not one well-formed expression \(listops: 1 unclosed operator" "$seqboat" eval \
  --checkpoint "$L" --data-dir "$work/unbal"
printf 'Source\tTarget\n[MIN 1 2 ] 7\t1\n' >"$work/unbal/basic_test.tsv"
expect 1 "line 2: not one well-formed expression \(listops: extra tokens" "$seqboat" inspect --checkpoint "$L" \
  --data-dir "$work/unbal" --out "$work/xF"
printf '{"bogus": {}}' >"$work/emptysec.json"
expect 2 "unknown key 'bogus'" "$seqboat" train --task recall --out "$work/xF" --config "$work/emptysec.json"
printf '{"model": {"extra": {}}}' >"$work/emptysec.json"
expect 2 "unknown key 'model.extra'" "$seqboat" train --task recall --out "$work/xF" --config "$work/emptysec.json"
printf '{"model": {"d_model": 8}, "model.d_model": 16}' >"$work/twice.json"
expect 2 "key 'model.d_model' is given twice" "$seqboat" train --task recall --out "$work/xF" --config "$work/twice.json"
for v in 3.9 1e300 2.0 true '"3"'; do
  printf '{"steps": %s}' "$v" >"$work/int.json"
  expect 2 "config key 'steps': expected an integer" "$seqboat" train --task recall --out "$work/xF" --config "$work/int.json"
done
golden=$here/../golden/layer_causal_relu2_ln.safetensors
$edit "$golden" "$work/g39.safetensors" 'cfg["window_size"] = 3.9'
expect 1 "FAIL g39 error: SeqBoatLayer config: key 'window_size' must be an integer, got number 3.9" "$seqboat" parity "$work/g39.safetensors"
$edit "$golden" "$work/g300.safetensors" 'cfg["hdim"] = 1e300'
expect 1 "key 'hdim' must be an integer, got number 1e\+300" "$seqboat" parity "$work/g300.safetensors"
$edit "$golden" "$work/gdrop.safetensors" 'cfg["dropout"] = -1'
expect 1 "'dropout' must be from 0 to below 1, got -1" "$seqboat" parity "$work/gdrop.safetensors"
$edit "$R" "$work/frac.safetensors" 'cfg["batch_size"] = 4.5'
expect 1 "config key 'batch_size': expected an integer" "$seqboat" eval --checkpoint "$work/frac.safetensors"
expect 2 "unknown option '--bogus'" "$seqboat" kernels --bogus
expect 2 "unexpected argument 'extra'" "$seqboat" version extra
expect 2 "unexpected argument 'listops'" "$seqboat" data listops listops --out "$work/xF"
expect 2 "option '--dtype' needs a value" "$seqboat" parity --dtype
expect 2 "option '--checkpoint' is given twice" "$seqboat" eval --checkpoint "$R" --checkpoint "$L"
expect 2 "checkpoint '.*' was trained on task 'recall', not 'listops'" "$seqboat" eval --checkpoint "$R" --task listops
if [ -e "$work/xF" ]; then echo "FAIL: a refused command created its output directory"; failures=$((failures + 1)); fi

echo "-- class G: a write that fails is an error naming the file"
expect 1 "/dev/full: cannot write \(write failed\): No space left on device" "$seqboat" bench --case gemm_bound --L 16 \
  --reps 1 --json /dev/full
if [ ! -c /dev/full ]; then echo "FAIL: /dev/full is no longer a device"; failures=$((failures + 1)); fi
expect 1 "cannot write the output to standard output" sh -c "\"$seqboat\" eval --checkpoint \"$R\" --json >/dev/full"
expect 1 "cannot write the output to standard output" sh -c "\"$seqboat\" generate --checkpoint \"$M\" --tokens 3 >/dev/full"
expect 1 "cannot write the output to standard output" sh -c "\"$seqboat\" train --help >/dev/full"
mkdir -p "$work/jsondir"
expect 1 "jsondir: cannot write: it is a directory" "$seqboat" bench --case gemm_bound --L 16 --reps 1 --json "$work/jsondir"
mkfifo "$work/nofifo"
expect 1 "nofifo: cannot write \(open failed\)" "$seqboat" bench --case gemm_bound --L 16 --reps 1 --json "$work/nofifo"
expect 1 "cannot create directory '/dev/full/x'|/dev/full" "$seqboat" data listops --out /dev/full/x --n-train 10 --n-val 1 --n-test 1
expect 1 "write_report|/dev/null" "$seqboat" inspect --checkpoint "$R" --out /dev/null

echo "-- class H: no bare standard-library exception text"
expect 1 "FAIL zero error: /dev/zero: cannot read: the safetensors file is a character device, not a file" "$seqboat" parity /dev/zero
mkfifo "$work/fifo"
expect 1 "FAIL fifo error: .*fifo: file is too short \(0 bytes\)" "$seqboat" parity "$work/fifo"
expect 1 "/dev/zero: cannot read: the safetensors file is a character device" "$seqboat" eval --checkpoint /dev/zero
expect 2 "config file /dev/urandom: cannot read: the config file is a character device" "$seqboat" train --task recall \
  --config /dev/urandom
expect 1 "/dev/zero: cannot read: the corpus file is a character device" "$seqboat" train --task lm --out "$work/xH" \
  --set 'data.paths=["/dev/zero"]'
expect 1 "cannot create the run directory '/proc/seqboat_x': No such file or directory" "$seqboat" train --task recall \
  --out /proc/seqboat_x --no-progress --set steps=2 --set warmup_steps=1

echo "-- the task suite's commands: presets, released data, compare, bench-preset"
expect 2 "option '--preset' must be one of lra-listops" "$seqboat" train --preset lra-chess
expect 2 "preset sc10 trains task speech, not --task listops" "$seqboat" train --preset sc10 --task listops
expect 2 "'lra-chess' is not one of: lra-listops" "$seqboat" bench-preset lra-chess
expect 2 "task image: set data.dir to the released data" "$seqboat" train --task image --out "$work/xS" --no-progress
expect 2 "task enwik8: set data.dir" "$seqboat" train --task enwik8 --out "$work/xS" --no-progress
expect 1 "cifar-10-batches-bin|data_batch_1.bin" "$seqboat" train --task image --out "$work/xS" --no-progress \
  --set data.dir="$work/nowhere"
expect 2 "pathfinder.difficulty.*is not a folder name" "$seqboat" train --task pathfinder --out "$work/xS" \
  --set data.dir="$work" --set pathfinder.difficulty=../x
# A FIFO in place of a data file read by offset: refused at once (a plain
# open would wait for a writer forever).
mkdir -p "$work/aanfifo/tsv_data" "$work/lofifo"
mkfifo "$work/aanfifo/tsv_data/new_aan_pairs.train.tsv" "$work/lofifo/basic_train.tsv"
for s in eval test; do printf '1\ta\tb\tx\ty\n' >"$work/aanfifo/tsv_data/new_aan_pairs.$s.tsv"; done
expect 1 "retrieval: .*new_aan_pairs.train.tsv: cannot read: the AAN TSV file is a pipe" "$seqboat" train \
  --task retrieval --out "$work/xS" --no-progress --set data.dir="$work/aanfifo" --set steps=2 --set warmup_steps=1
expect 1 "listops: .*basic_train.tsv: cannot read: the listops TSV file is a pipe" "$seqboat" train --task listops \
  --out "$work/xS" --no-progress --set data.dir="$work/lofifo" --set steps=2 --set warmup_steps=1
mkdir -p "$work/rel/speech/yes" "$work/rel/enwik8"  # yes/ is the first class folder read
mkfifo "$work/rel/speech/yes/abcd1234_nohash_0.wav" "$work/rel/enwik8/enwik8"
expect 1 "abcd1234_nohash_0.wav: not a regular file" "$seqboat" train --task speech --out "$work/xS" --no-progress \
  --set data.dir="$work/rel/speech" --set steps=2 --set warmup_steps=1
expect 1 "enwik8: .*enwik8: cannot read: the enwik8 file is a pipe" "$seqboat" train --task enwik8 --out "$work/xS" \
  --no-progress --set data.dir="$work/rel/enwik8" --set enwik8.split=proportional --set steps=2 --set warmup_steps=1
if [ -e "$work/xS" ]; then echo "FAIL: a refused train created its output directory"; failures=$((failures + 1)); fi
# compare: a routing.json that is not JSON, one whose task name holds an
# escape sequence (printed escaped), one with a density outside 0..1.
mkdir -p "$work/cmp/bad" "$work/cmp/esc" "$work/cmp/dens"
printf '{"task": ' >"$work/cmp/bad/routing.json"
routing='{"task": "\u001b[31mred", "split": "test", "examples": 4, "window": 8, "test_accuracy": 0.5,
  "layers": [{"layer": 0, "density": DENS, "mean_span": 2.0}]}'
sed 's/DENS/0.25/' <<<"$routing" >"$work/cmp/esc/routing.json"
sed 's/DENS/1.5/' <<<"$routing" >"$work/cmp/dens/routing.json"
expect 1 "bad/routing.json" "$seqboat" compare "$work/cmp/bad" --out "$work/cmp/out"
expect 0 "x1b\[31mred" "$seqboat" compare "$work/cmp/esc" --out "$work/cmp/out"
expect 1 "density 1.5 is outside 0..1" "$seqboat" compare "$work/cmp/dens" --out "$work/cmp/out"
expect 1 "cannot create directories ./dev/full.: Not a directory" "$seqboat" compare "$work/cmp/esc" --out /dev/full
expect 1 "/dev/full: cannot write \(write failed\)" "$seqboat" bench-preset lra-listops --threads 1 --set batch_size=1 \
  --set model.d_model=16 --set model.d_qk=8 --set model.n_layers=1 --json /dev/full

if [ "$failures" -ne 0 ]; then
  echo "bad inputs: $failures case(s) FAILED"
  exit 1
fi
echo "bad inputs: ok"
