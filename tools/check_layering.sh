#!/usr/bin/env bash
# tools/check_layering.sh [SOURCE_DIR]: checks that every #include between the
# project's folders runs downward (CTest runs it as `layering`). The folders
# are the layers, bottom up:
#
#   device  tensor  kernels  cpu | cuda  autograd  ops  nn  data  dist  train  (tools, tests, examples: anything)
#
# The build enforces the same through per-layer include roots
# (CMakeLists.txt); this script names the offending line. One rule per layer:
set -u
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src" || exit 2
layers="device tensor kernels cpu cuda autograd ops nn data dist train"
status=0

# check LAYER "may include" ALLOWED...: an include of a project folder that is
# not in ALLOWED (the layer itself is always allowed) is reported.
check() {
  local layer=$1 sentence=$2
  shift 2
  local allowed=" $layer $* " bad="" f
  for f in $layers; do
    case "$allowed" in *" $f "*) ;; *) bad="$bad|$f" ;; esac
  done
  [ -n "$bad" ] || return 0
  local hits
  hits=$(grep -rnE "#include \"(${bad#|})/" "$layer/" 2>/dev/null)
  if [ -n "$hits" ]; then
    printf 'layering: %s/ %s\n%s\n' "$layer" "$sentence" "$hits"
    status=1
  fi
}

check device "is the bottom: it includes no other layer."
check tensor "sits on device/ only (its memory functions)." device
check kernels "is plain signatures and formulas: it sees tensor/ only (dtypes)." tensor
check cpu "is a backend: it sees tensor/ and kernels/ only." tensor kernels
check cuda "is a backend: it sees device/, tensor/ and kernels/ only." device tensor kernels
check autograd "sees tensor/ only: the graph has no arithmetic of its own." tensor
check ops "sees everything below it (the backends through their backend.h)." device tensor kernels cpu cuda autograd
check nn "is built from ops: it sees tensor/, kernels/, autograd/ and ops/." tensor kernels autograd ops
check data "reads files into tensors: it sees tensor/ only." tensor
check dist "is ranks and collectives on plain buffers: it includes no other layer."
check train "sees every layer but the backends and device/." tensor kernels autograd ops nn data dist

# ops/ reaches a backend only through its table (backend.h), and has no backend code.
hits=$(grep -rnE '#include "(cpu|cuda)/' ops/ 2>/dev/null | grep -vE '"(cpu|cuda)/backend\.h"')
[ -z "$hits" ] || { printf 'layering: ops/ sees a backend only through its backend.h\n%s\n' "$hits"; status=1; }
hits=$(grep -rnE 'pragma omp|Eigen' ops/ 2>/dev/null)
[ -z "$hits" ] || { printf 'layering: backend code (OpenMP, Eigen) in ops/\n%s\n' "$hits"; status=1; }

[ $status -eq 0 ] && echo "layering: ok"
exit $status
