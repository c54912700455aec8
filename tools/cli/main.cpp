// tools/cli/main.cpp: the `seqboat` program; everything it does is in
// run_command_line (tools/cli/command_line.cpp).
#include <string>
#include <vector>

#include "cli.h"

int main(int argc, char** argv) {
  seqboat::cli::apply_omp_wait_policy(argv);
  return seqboat::cli::run_command_line(std::vector<std::string>(argv + 1, argv + argc));
}
