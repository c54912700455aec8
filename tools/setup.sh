#!/usr/bin/env bash
# tools/setup.sh [--fuzz]: installs what seqboat needs to build and test
# (Debian/Ubuntu), skipping packages already present. Safe to run again.
# --fuzz adds clang and its OpenMP runtime for the libFuzzer harnesses
# (tools/fuzz.sh). The CI's sanitizer build uses GCC: nothing extra.
set -euo pipefail
# Open MPI (openmpi-bin: mpirun; libopenmpi-dev: what CMake's FindMPI finds)
# for data-parallel training and its CTest tests (mpi_*).
packages=(build-essential cmake libeigen3-dev libfmt-dev doctest-dev nlohmann-json3-dev libpng-dev librsvg2-bin python3 coreutils
  openmpi-bin libopenmpi-dev)
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libomp-dev)
fi
# The Python package's tests (CTest) build python/ in a virtual environment:
# a Python with venv and its headers (a pyenv or python.org Python has both).
if ! python3 -c "import ensurepip, os, sysconfig; assert os.path.exists(sysconfig.get_paths()['include'] + '/Python.h')" \
  2>/dev/null; then
  packages+=(python3-dev python3-venv)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: all build dependencies present"
fi
