#!/usr/bin/env bash
# tools/check_layering.sh [SOURCE_DIR]: checks that the layers include only
# what lies below them (CTest runs it as `layering`). The build enforces the
# same through per-layer include roots (CMakeLists.txt); this names the line.
#   - ops/ has no backend code: no OpenMP pragma, no Eigen
#   - tensor/ includes nothing from autograd/, ops/, nn/ (or any layer above)
#   - autograd/ includes nothing from ops/ or nn/ (or any layer above)
#   - cpu/ and cuda/ include only tensor/, ops/kernels/ and their own folder
#   - nn/ includes nothing from train/ or data/; data/ nothing but tensor/ and data/
#   - dist/ (ranks and collectives over plain buffers) includes only dist/
set -u
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src" || exit 2
status=0
report() {  # report "rule" "matches"
  if [ -n "$2" ]; then
    printf 'layering: %s\n%s\n' "$1" "$2"
    status=1
  fi
}
report "backend code (OpenMP, Eigen) in ops/" "$(grep -rnE 'pragma omp|Eigen' ops/ 2>/dev/null)"
report "tensor/ includes a higher layer" \
  "$(grep -rnE '#include "(autograd|ops|nn|cpu|data|train)/' tensor/ 2>/dev/null)"
report "autograd/ includes a higher layer" "$(grep -rnE '#include "(ops|nn|cpu|data|train)/' autograd/ 2>/dev/null)"
report "a backend includes more than tensor/, ops/kernels/ and itself" \
  "$(grep -rnE '#include "(autograd|nn|data|train)/|#include "ops/[^k]' cpu/ cuda/ 2>/dev/null)"
report "nn/ includes a higher layer" "$(grep -rnE '#include "(data|train|cpu)/' nn/ 2>/dev/null)"
report "dist/ includes more than dist/" \
  "$(grep -rnE '#include "(tensor|autograd|ops|nn|cpu|cuda|data|train)/' dist/ 2>/dev/null)"
report "data/ includes more than tensor/ and data/" "$(grep -rnE '#include "(autograd|ops|nn|cpu|cuda|train)/' data/ 2>/dev/null)"
[ $status -eq 0 ] && echo "layering: ok"
exit $status
