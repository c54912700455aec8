#!/usr/bin/env bash
# python/tests/pip_install.sh DIR: installs the Python package for the pytest
# suite (CTest's python_pip_install): a virtual environment DIR/venv with
# numpy and pytest from PyPI, then `pip install ./python` building in
# DIR/build. The build dependencies, the [build-system] requires of
# python/pyproject.toml (scikit-build-core, nanobind), come from PyPI into the
# venv itself rather than into pip's throwaway build environment, so that
# their paths stay put between runs and a rerun recompiles only what changed.
set -euo pipefail
mkdir -p "$1"
dir="$(cd "$1" && pwd)"
root="$(cd "$(dirname "$0")/../.." && pwd)"
python=${SEQBOAT_PYTHON:-python3}
if [ ! -x "$dir/venv/bin/python" ]; then
  "$python" -m venv "$dir/venv"
fi
py="$dir/venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
if ! "$py" -c "import numpy, pytest, scikit_build_core, nanobind" 2>/dev/null; then
  mapfile -t requires < <("$py" -c '
import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"]))' "$root/python/pyproject.toml")
  "$py" -m pip install --quiet numpy pytest "${requires[@]}"
fi
"$py" -m pip install --quiet --no-build-isolation "$root/python" -Cbuild-dir="$dir/build"
"$py" -c "import seqboat; print('installed seqboat', seqboat.__version__, 'at', seqboat.__file__)"
