#!/usr/bin/env bash
# tools/test.sh: configure, build (Release) and run the whole test suite with CTest.
# Extra arguments go to ctest (e.g. -R test_ops). SEQBOAT_CMAKE_ARGS adds
# configure options; SEQBOAT_BUILD_DIR picks the build folder (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
dir=${SEQBOAT_BUILD_DIR:-build}
# shellcheck disable=SC2086  # SEQBOAT_CMAKE_ARGS holds several arguments
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release ${SEQBOAT_CMAKE_ARGS:-} >/dev/null
cmake --build "$dir" -j "$jobs"
ctest --test-dir "$dir" --output-on-failure "$@"
