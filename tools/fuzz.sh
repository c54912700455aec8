#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS] [TARGET...]: builds the libFuzzer harnesses
# (tests/fuzz, clang with -fsanitize=fuzzer,address,undefined, in build-fuzz/)
# and runs each TARGET (default: all ten) for SECONDS (default 60), starting
# from its seed corpus in tests/fuzz/corpus/<target>/ plus what earlier runs
# found (build-fuzz/corpus/<target>/). FUZZ_RUNS=N runs N executions instead
# of a time limit. Prints each harness's executions; a crash, leak, sanitizer
# report or timeout stops that harness and leaves its input in
# build-fuzz/findings/ (crash-*, leak-*, timeout-*), and the script exits 1.
# Everything runs under `nice -n 19`, one harness at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_safetensors fuzz_checkpoint fuzz_config fuzz_listops fuzz_corpus fuzz_png fuzz_wav
  fuzz_cifar fuzz_tsv fuzz_cli)
command -v clang++ >/dev/null || bash tools/setup.sh --fuzz
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2
nice -n 19 cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQBOAT_FUZZ=ON -DSEQBOAT_CUDA=OFF -DSEQBOAT_NATIVE=OFF -DSEQBOAT_TESTS=OFF \
  -DSEQBOAT_EXAMPLES=OFF -DSEQBOAT_INSTALL=OFF -DSEQBOAT_PYTHON_TESTS=OFF >/dev/null
nice -n 19 cmake --build build-fuzz -j "$jobs" --target "${targets[@]}"
mkdir -p build-fuzz/findings
limit="-max_total_time=$secs"
[ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$FUZZ_RUNS"
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  log="build-fuzz/$t.log"
  echo "fuzz: $t ($limit)"
  # -rss_limit_mb: the harnesses must not need more than 2 GiB for any input.
  if ! ASAN_OPTIONS=allocator_may_return_null=1 SEQBOAT_MAX_ALLOC_BYTES=$((1 << 30)) \
    nice -n 19 "build-fuzz/bin/$t" "$limit" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/findings/$t-" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    status=1
    echo "fuzz: $t FOUND A PROBLEM (see $log and build-fuzz/findings/)"
    grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5 || true
  fi
  echo "fuzz: $t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions, $(grep -E '^stat::peak_rss_mb' "$log" | awk '{print $2}') MB peak"
done
exit $status
