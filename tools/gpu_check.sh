#!/usr/bin/env bash
# tools/gpu_check.sh: the CUDA backend's checks on a GPU machine, in one run.
#
#   bash tools/gpu_check.sh prepare     # here: copy the header-only dependencies
#   bash tools/gpu_check.sh run [OUT]   # there: build for sm_90, test, benchmark
#
# The GPU machine (an H100/H200 with nvcc, CMake, ninja, Python and PyTorch,
# but no network and no Debian -dev packages) cannot install Eigen, fmt,
# nlohmann/json or doctest, so `prepare` copies their headers from this
# machine into third_party/headers/include (git-ignored); the device tool
# carries that folder (carry: ["third_party/headers"]) and the build uses it
# through -DSEQBOAT_HEADERS (fmt in header-only mode).
#
# `run` configures and builds for CMAKE_CUDA_ARCHITECTURES=90 (override with
# SEQBOAT_CUDA_ARCH), then runs, each step timed and logged to OUT/<step>.log
# (OUT defaults to $OUT, the device tool's output folder, else ./gpu_check_out):
#   1. test_ops_cuda: the op table's CUDA modes (parity against the CPU,
#      float32 and float64, forward and backward; the float64 gradcheck on
#      the device)
#   2. the golden files on CUDA: float64 at 1e-9, float32 at 1e-3
#   3. test_decoding and test_cuda_logic (the CPU side of the same kernels)
#   4. seqboat bench --device cuda (the layer at L = 1024, 4096, 16384, its
#      GEMM bound, a ListOps training step, decoding) and, on the same card,
#      bench/compare_pytorch.py --device cuda (the PyTorch layer)
#   5. the ListOps step on 2 CPU threads, for the GPU/CPU ratio
#   6. 200 steps of the default ListOps training on CUDA
#   7. the NCCL gradient path with one rank (SEQBOAT_NCCL=1: a real NCCL
#      communicator of one rank; its all-reduce time is in the final event)
#   8. one training step of each official preset at its real sizes on CUDA
#      (seqboat bench-preset, 32 rows at a time), and the full runs' times
#   9. if the build found MPI and mpirun exists: CPU data-parallel training at
#      N = 1, 2, 4, 8 ranks of 2 threads each (tokens/s, share in all-reduce)
# and writes OUT/summary.md, a table of every step's status and key numbers.
# A step that fails is reported and the next one still runs; the exit status
# is 1 when any step failed. Budget: under 8 minutes on 16 cores (the build
# is most of it); every step has a timeout.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
headers=third_party/headers

prepare() {
  local inc=$headers/include
  rm -rf "$headers"
  mkdir -p "$inc/unsupported"
  local eigen=/usr/include/eigen3
  [ -d $eigen/Eigen ] || { echo "gpu_check prepare: no Eigen headers at $eigen (apt-get install libeigen3-dev)"; exit 1; }
  cp -r $eigen/Eigen "$inc/"
  cp -r $eigen/unsupported/Eigen "$inc/unsupported/"
  for d in fmt nlohmann doctest; do
    [ -d /usr/include/$d ] || { echo "gpu_check prepare: no /usr/include/$d (install its -dev package)"; exit 1; }
    cp -r /usr/include/$d "$inc/"
  done
  echo "gpu_check prepare: $(du -sh "$headers" | cut -f1) of headers in $headers (carry it to the GPU machine)"
}

# step NAME TIMEOUT_S COMMAND...: runs it, logs, records status and seconds.
declare -a names statuses seconds
step() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS rc
  echo "== $name: $*"
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  names+=("$name")
  seconds+=($((SECONDS - t0)))
  if [ $rc -eq 0 ]; then statuses+=("ok"); elif [ $rc -eq 124 ]; then statuses+=("TIMEOUT ${limit}s"); else statuses+=("FAILED rc=$rc"); fi
  tail -n 4 "$out/$name.log"
  return 0
}

run() {
  out=${1:-${OUT:-$here/gpu_check_out}}
  mkdir -p "$out"
  local build=build-gpu arch=${SEQBOAT_CUDA_ARCH:-90} gen=()
  [ -d $headers/include ] || { echo "gpu_check run: $headers is missing: run 'tools/gpu_check.sh prepare' first"; exit 1; }
  command -v ninja >/dev/null && gen=(-G Ninja)
  nvidia-smi -L >"$out/gpu.txt" 2>&1 || true
  step configure 120 cmake -S . -B $build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSEQBOAT_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DSEQBOAT_HEADERS="$here/$headers" -DSEQBOAT_NATIVE=ON
  step build 330 cmake --build $build -j"$(nproc)" --target seqboat test_ops test_decoding test_cuda_logic
  local bin=$build/bin
  step test_ops_cuda 180 $bin/test_ops --require-device=cuda "--test-case=*cuda device*"
  step golden_cuda_f64 60 $bin/seqboat parity --device cuda --tol 1e-9 tests/golden/*.safetensors
  step golden_cuda_f32 60 $bin/seqboat parity --device cuda --dtype float32 tests/golden/*.safetensors
  step golden_extra_cuda_f64 60 $bin/seqboat parity --device cuda --tol 1e-9 tests/golden/extra/*.safetensors
  step cpu_side_tests 120 bash -c "$bin/test_decoding && $bin/test_cuda_logic"
  step bench_cuda 150 $bin/seqboat bench --device cuda --case layer_fwd_bwd,gemm_bound,train_step_listops,decode \
    --L 1024,4096,16384 --reps 5 --json "$out/bench_cuda.json"
  step compare_pytorch_cuda 150 python3 bench/compare_pytorch.py --device cuda --seqboat $bin/seqboat \
    --L 4096,16384 --reps 5 --json "$out/compare_pytorch_cuda.json"
  step train_step_cpu2 60 $bin/seqboat bench --device cpu --threads 2 --case train_step_listops --reps 10 \
    --json "$out/train_step_cpu2.json"
  step train_listops_cuda 150 $bin/seqboat train --task listops --device cuda --set steps=200 --set eval_every=100 \
    --no-progress --out "$out/listops_cuda"
  step nccl_one_rank 90 env SEQBOAT_NCCL=1 $bin/seqboat train --task listops --device cuda --set steps=200 \
    --set eval_every=0 --set log_every=50 --no-progress --out "$out/listops_nccl"
  step bench_presets_cuda 240 bash -c "for p in lra-listops lra-text lra-retrieval lra-image lra-pathfinder \
    lra-pathx sc10 enwik8; do $bin/seqboat bench-preset \$p --device cuda --micro-batch 32 --json $out/preset_\$p.json \
    || echo \"\$p: failed\"; done"
  if grep -q "MPI ON" "$out/configure.log" && command -v mpirun >/dev/null; then
    step mpi_cpu_scaling 150 bash -c "$bin/seqboat data listops --out $out/dp_data --n-val 200 --n-test 200 >/dev/null &&
      for n in 1 2 4 8; do mpirun --allow-run-as-root --oversubscribe --bind-to none -np \$n $bin/seqboat train \
        --task listops --set data.dir=$out/dp_data --set threads=2 --set steps=60 --set warmup_steps=10 --set eval_every=0 --set log_every=20 \
        --no-progress --out $out/dp_n\$n >/dev/null || exit 1; echo \"N=\$n:\"; tail -n 2 $out/dp_n\$n/metrics.jsonl; done"
  else
    echo "mpi_cpu_scaling: skipped (this build has no MPI or there is no mpirun)" >"$out/mpi_cpu_scaling.log"
  fi
  summary >"$out/summary.md"
  cat "$out/summary.md"
  for s in "${statuses[@]}"; do [ "$s" = ok ] || return 1; done
  return 0
}

# A summary section: a title and a log in a code block (nothing if it is missing).
log_section() {
  echo "## $1"
  echo '```'
  cat "$2" 2>/dev/null
  echo '```'
}

summary() {
  echo "# tools/gpu_check.sh on $(head -n 1 "$out/gpu.txt" 2>/dev/null), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "| step | status | seconds | result |"
  echo "| --- | --- | ---: | --- |"
  local i
  for i in "${!names[@]}"; do
    local n=${names[$i]} r=""
    case $n in
      test_ops_cuda | cpu_side_tests) r=$(grep -h "test cases:" "$out/$n.log" | tail -n 2 | tr -s ' ' | paste -sd ';') ;;
      golden_*) r="$(grep -c '^PASS' "$out/$n.log") pass, $(grep -c '^FAIL' "$out/$n.log") fail; $(grep -ho 'worst[^ ]*' "$out/$n.log" | sort -t= -k2 -g | tail -n 1)" ;;
      train_listops_cuda) r=$(grep -h "accuracy" "$out/$n.log" | tail -n 1) ;;
      nccl_one_rank) r=$(grep -ho '"allreduce_s":[^,]*' "$out/listops_nccl/metrics.jsonl" 2>/dev/null | tail -n 1) ;;
    esac
    echo "| $n | ${statuses[$i]} | ${seconds[$i]} | ${r//|//} |"
  done
  echo
  log_section "seqboat bench --device cuda" "$out/bench_cuda.log"
  log_section "bench/compare_pytorch.py --device cuda" "$out/compare_pytorch_cuda.log"
  log_section "seqboat bench-preset --device cuda (one step of each preset at its real sizes)" "$out/bench_presets_cuda.log"
  log_section "CPU data-parallel training, N ranks x 2 threads (final events)" "$out/mpi_cpu_scaling.log"
  log_section "ListOps step on 2 CPU threads" "$out/train_step_cpu2.log"
}

case ${1:-} in
  prepare) prepare ;;
  run) run "${2:-}" ;;
  *)
    echo "usage: bash tools/gpu_check.sh prepare | run [OUT]"
    exit 2
    ;;
esac
