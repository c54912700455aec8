#!/usr/bin/env bash
# tests/mpi/check_data_parallel.sh SEQBOAT MPIRUN WORKDIR CHECK [FIXTURES]:
# data-parallel training under mpirun against one process (CTest's mpi_*
# tests). CHECK is
#   same_losses   N = 2 and 3 ranks give the losses of one process on the
#                 same global batch, 40 steps: float64 within 1e-12 relative,
#                 float32 within 1e-5 (ListOps with padding, argument
#                 shuffling and dropout; 3 ranks split 8 rows as 3, 3, 2); lm
#                 in float64; replicas compared every 10 steps. Why 1e-5
#                 in float32: N ranks sum each gradient element in another
#                 order than one process (the ranks' partial sums, then the
#                 all-reduce), a few float32 ulps (1.2e-7) per element and
#                 step, carried forward by the optimizer; measured: 1.0e-7
#                 over the 40 steps, so 1e-5 is a 100x margin and still
#                 70x below the smallest change of the loss from one
#                 logged step to the next in this run (7e-4 relative)
#   resume        a run stopped at step 15 on 2 ranks resumed on 1, and one
#                 stopped on 1 resumed on 3, equal the run that never stopped
#   rank_killed   kill -9 of one rank mid-run: the job ends within 10 s (1.1 s
#                 measured on a busy 2-core machine; 10 s leaves room for slower), the
#                 survivor says why, the last checkpoint evaluates
#   nonfinite     a NaN loss on one rank stops both ranks with the same error
#                 and exit code 1; the checkpoint before it stays
#   tasks         every kind of task read from its released format (FIXTURES
#                 = the write_release_fixtures helper writes them): tokens
#                 (text), pairs (retrieval), values (image, pathfinder),
#                 speech and enwik8, float64 with dropout, 6 steps of 4 rows:
#                 2 ranks give the losses of one process within 1e-12
#                 relative, replicas compared every 2 steps; a batchnorm
#                 preset at 2 ranks is refused with exit code 2 and the fix
# Exit 77 (CTest: skipped) when MPIRUN is empty (no MPI in this build).
set -u
bin=$1 mpirun=$2 work=$3 check=$4 fixtures=${5:-}
if [ -z "$mpirun" ]; then
  echo "skipped: this build has no MPI (SEQBOAT_MPI=OFF, or CMake's FindMPI found none: apt-get install libopenmpi-dev openmpi-bin)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
export SEQBOAT_TEST_WORK=$work  # tells this test's ranks from any other seqboat process
cd "$work" || exit 1
# Open MPI refuses root without --allow-run-as-root; CI runs as root on 2
# cores (--oversubscribe for 3 ranks, no binding so ranks may share cores).
# Under AddressSanitizer (CI's second pass) the ranks run without leak
# checking: Open MPI leaves allocations at exit, many from plugins it has
# unloaded by then (no library name to suppress them by). Memory errors and
# undefined behaviour are still caught; seqboat's own leaks are checked by
# the one-process tests, which run the same trainer.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpi() {
  local n=$1
  shift
  timeout 120 "$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np "$n" "$@"
}
fail() {
  echo "FAIL: $*"
  exit 1
}

# A small ListOps run: padded batches of 8, dropout on, 40 steps.
data_args=(--task listops --set listops.n_train=300 --set listops.n_val=40 --set listops.n_test=40
  --set listops.max_length=64 --set model.d_model=32 --set model.d_qk=16 --set model.n_layers=2
  --set model.dropout=0.2 --set batch_size=8 --set threads=1 --set warmup_steps=5 --set log_every=1
  --set eval_every=0 --no-progress)
"$bin" data listops --out data --n-train 300 --n-val 40 --n-test 40 --max-length 64 --seed 3 >/dev/null ||
  fail "generating data"
listops=("${data_args[@]}" --set data.dir="$work/data")
lm=(--task lm --set data.paths='["'"$work"'/data/basic_train.tsv"]' --set lm.seq_len=32 --set lm.eval_windows=8
  --set model.d_model=32 --set model.d_qk=16 --set model.dropout=0.2 --set batch_size=4 --set threads=1
  --set warmup_steps=5 --set log_every=1 --set eval_every=0 --set steps=20 --no-progress)

# compare A B TOL: the per-step train losses of two runs, max relative difference <= TOL.
compare() {
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" "$3" <<'EOF' || fail "losses of $1 and $2 differ"
import json, sys
def losses(path):
    return [(e["step"], e["loss"]) for e in map(json.loads, open(path)) if e["event"] == "train"]
a, b, tol = losses(sys.argv[1]), losses(sys.argv[2]), float(sys.argv[3])
assert [s for s, _ in a] == [s for s, _ in b] and a, f"steps differ: {len(a)} vs {len(b)}"
worst = max(abs(x - y) / abs(x) for (_, x), (_, y) in zip(a, b))
print(f"{sys.argv[1]} vs {sys.argv[2]}: {len(a)} steps, max relative difference {worst:.3g} (tolerance {tol:g})")
sys.exit(0 if worst <= tol else 1)
EOF
}

case $check in
  same_losses)
    "$bin" train "${listops[@]}" --set steps=40 --set dtype=float64 --out one64 >one64.log 2>&1 || fail "one process (float64)"
    mpi 2 "$bin" train "${listops[@]}" --set steps=40 --set dtype=float64 --check-replicas 10 --out two64 \
      >two64.log 2>&1 || { cat two64.log; fail "2 ranks (float64)"; }
    mpi 3 "$bin" train "${listops[@]}" --set steps=40 --set dtype=float64 --check-replicas 10 --out three64 \
      >three64.log 2>&1 || { cat three64.log; fail "3 ranks (float64)"; }
    grep -q "2 ranks (4 rows of 8" two64.log || fail "the 2-rank run does not say how it splits the batch"
    compare one64 two64 1e-12
    compare one64 three64 1e-12
    "$bin" train "${listops[@]}" --set steps=40 --out one32 >one32.log 2>&1 || fail "one process (float32)"
    mpi 2 "$bin" train "${listops[@]}" --set steps=40 --out two32 >two32.log 2>&1 || { cat two32.log; fail "2 ranks (float32)"; }
    compare one32 two32 1e-5
    "$bin" train "${lm[@]}" --set dtype=float64 --out lm1 >lm1.log 2>&1 || { cat lm1.log; fail "lm, one process"; }
    mpi 2 "$bin" train "${lm[@]}" --set dtype=float64 --check-replicas 5 --out lm2 >lm2.log 2>&1 ||
      { cat lm2.log; fail "lm, 2 ranks"; }
    compare lm1 lm2 1e-12
    # Only rank 0 reports and writes: one final line, one final event.
    [ "$(grep -c '^test accuracy' two64.log)" = 1 ] || fail "expected one report line from 2 ranks"
    [ "$(grep -c '"final"' two64/metrics.jsonl)" = 1 ] || fail "expected one final event"
    ;;
  resume)
    "$bin" train "${listops[@]}" --set steps=30 --set dtype=float64 --out full >full.log 2>&1 || fail "uninterrupted run"
    mpi 2 "$bin" train "${listops[@]}" --set steps=30 --set dtype=float64 --stop-after 15 --out a >a1.log 2>&1 ||
      { cat a1.log; fail "2 ranks, first half"; }
    "$bin" train "${listops[@]}" --set steps=30 --set dtype=float64 --resume --out a >a2.log 2>&1 ||
      { cat a2.log; fail "resumed on 1"; }
    "$bin" train "${listops[@]}" --set steps=30 --set dtype=float64 --stop-after 15 --out b >b1.log 2>&1 ||
      fail "1 process, first half"
    mpi 3 "$bin" train "${listops[@]}" --set steps=30 --set dtype=float64 --resume --out b >b2.log 2>&1 ||
      { cat b2.log; fail "resumed on 3"; }
    compare full a 1e-12
    compare full b 1e-12
    ;;
  rank_killed)
    mpi 2 "$bin" train "${listops[@]}" --set steps=1000000 --set eval_every=5 --set eval_batches=1 --out run \
      >run.log 2>&1 &
    job=$!
    for _ in $(seq 1 300); do
      [ -f run/checkpoint.safetensors ] && break
      sleep 0.1
    done
    [ -f run/checkpoint.safetensors ] || { cat run.log; fail "no checkpoint after 30 s"; }
    sleep 0.5
    victim=""
    for p in $(pgrep -f "seqboat train"); do
      if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" &&
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SEQBOAT_TEST_WORK=$work"; then victim=$p; fi
    done
    [ -n "$victim" ] || fail "rank 1 not found"
    start=$(date +%s.%N)
    kill -9 "$victim"
    wait $job
    rc=$?
    took=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
    echo "rank 1 killed: mpirun exited with $rc after $took s"
    cat run.log
    [ $rc -ne 0 ] || fail "mpirun exited 0 after a rank was killed"
    python3 -c "import sys; sys.exit(0 if $took < 10 else 1)" || fail "the job took $took s to end"
    grep -q "rank 0 of 2): ended by SIGTERM from the MPI launcher.*last checkpoint written is" run.log ||
      fail "rank 0 did not say why it ended"
    "$bin" eval --checkpoint run/checkpoint.safetensors --task listops --data-dir data --split val ||
      fail "the last checkpoint does not load"
    ;;
  nonfinite)
    SEQBOAT_TEST_NAN_AT=1:7 mpi 2 "$bin" train "${listops[@]}" --set steps=40 --set eval_every=5 --out run >run.log 2>&1
    rc=$?
    cat run.log
    [ $rc -eq 1 ] || fail "expected exit code 1, got $rc"
    [ "$(grep -c 'non-finite loss on 1 of 2 ranks at step 7' run.log)" = 2 ] || fail "both ranks must name the step"
    "$bin" eval --checkpoint run/checkpoint.safetensors --task listops --data-dir data --split val --json |
      grep -q '"split":"val"' || fail "the checkpoint of step 5 does not load"
    python3 -c "
import json
ev = [json.loads(l) for l in open('run/metrics.jsonl')]
assert max(e['step'] for e in ev if e['event'] == 'train') == 7 - 0, 'training went on after the NaN'
" || fail "metrics after the stop"
    ;;
  tasks)
    "$fixtures" "$work/releases" >/dev/null || fail "writing the release fixtures"
    tiny=(--set batch_size=4 --set threads=1 --set steps=6 --set warmup_steps=2 --set log_every=1 --set eval_every=0
      --set eval_batches=1 --set dtype=float64 --set model.d_model=8 --set model.d_qk=4 --set model.n_layers=2
      --set model.mem_size=4 --set model.d_ema=2 --set model.dropout=0.2 --no-progress)
    # same NAME ARGS...: the task trained by one process and by 2 ranks.
    same() {
      local name=$1
      shift
      "$bin" train "${tiny[@]}" "$@" --out "$name.1" >"$name.1.log" 2>&1 || { cat "$name.1.log"; fail "$name, one process"; }
      mpi 2 "$bin" train "${tiny[@]}" "$@" --check-replicas 2 --out "$name.2" >"$name.2.log" 2>&1 ||
        { cat "$name.2.log"; fail "$name, 2 ranks"; }
      grep -q "2 ranks (2 rows of 4" "$name.2.log" || fail "$name: the 2-rank run does not split the batch"
      compare "$name.1" "$name.2" 1e-12
    }
    r=$work/releases
    same text --task text --set data.dir="$r/text" --set text.max_length=40
    same retrieval --task retrieval --set data.dir="$r/retrieval" --set text.max_length=40 --set model.classifier_hidden=8
    same image --task image --set data.dir="$r/image"
    if [ -d "$r/pathfinder" ]; then
      same pathfinder --task pathfinder --set data.dir="$r/pathfinder"
    else
      echo "pathfinder: not checked (this build has no libpng)"
    fi
    same speech --task speech --set data.dir="$r/speech" --set speech.norm_clips=4
    same enwik8 --task enwik8 --set data.dir="$r/enwik8" --set enwik8.split=proportional --set lm.seq_len=32 \
      --set lm.eval_windows=4
    # The batchnorm presets are refused at N > 1 as a config error (exit 2), saying what to do.
    mpi 2 "$bin" train --preset lra-image --set data.dir="$r/image" --out bn >bn.log 2>&1
    rc=$?
    cat bn.log
    [ $rc -eq 2 ] || fail "the batchnorm preset at 2 ranks: expected exit code 2, got $rc"
    grep -q "add --set model.norm_type=layernorm" bn.log || fail "the batchnorm refusal does not say what to do"
    [ ! -e bn ] || fail "the refused run created its output directory"
    ;;
  *) fail "unknown check '$check'" ;;
esac
echo "data parallel $check: ok"
