#!/usr/bin/env bash
# tools/test.sh: configure, build (Release) and run the whole test suite with CTest.
# Extra arguments go to ctest (e.g. -R test_ops).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${SEQBOAT_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure "$@"
