// tools/cli/omp_wait.cpp: how long idle OpenMP threads spin before they sleep.
//
// Between two parallel regions a libgomp worker polls for the next one
// GOMP_SPINCOUNT times (default 300000, some 100 us to 1 ms) before it
// sleeps. On idle cores that is what makes small ops cheap; on a machine
// whose other cores are busy (a second job, a shared CI runner) the spinning
// threads take the CPU from the ones with work. Measured on 2 cores with a
// 2-thread job beside it (bench/README.md): layer_fwd_bwd at L=1024 took
// 384 ms with the default, 162 ms with 30000 and 134 ms with 3000; on idle
// cores 30000 and the default were the same within noise (76-77 ms), 3000
// ~5% slower. So the CLI runs with 30000.
//
// libgomp reads the variable once, when it is loaded, before main: the
// command sets it and re-executes itself once. A GOMP_SPINCOUNT or
// OMP_WAIT_POLICY the user set is left alone, and so is everything when
// the re-execution is not possible (the command then runs as it is).
#include <unistd.h>

#include <cstdlib>

#include "cli.h"

namespace seqboat::cli {

void apply_omp_wait_policy(char** argv) {
  if (std::getenv("GOMP_SPINCOUNT") || std::getenv("OMP_WAIT_POLICY")) return;
  if (setenv("GOMP_SPINCOUNT", "30000", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure
  unsetenv("GOMP_SPINCOUNT");
}

}  // namespace seqboat::cli
