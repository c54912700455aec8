// tests/test_main.cpp: the doctest main shared by every test executable.
//
// `--require-device=cuda` (before the doctest options) makes a run that needs
// a GPU exit with code 77 after printing why, when there is none: CTest
// (SKIP_RETURN_CODE 77) then reports the test as skipped, never as passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "ops/backend.h"

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string flag = "--require-device=";
    if (a.rfind(flag, 0) == 0) {
      const seqboat::Device d = seqboat::parse_device(a.substr(flag.size()));
      if (!seqboat::device_available(d)) {
        fmt::print("SKIPPED: these tests need a {} device: {}\n", seqboat::device_name(d),
                   seqboat::device_unavailable_reason(d));
        return 77;
      }
      continue;
    }
    args.push_back(argv[i]);
  }
  doctest::Context context(static_cast<int>(args.size()), args.data());
  return context.run();
}
