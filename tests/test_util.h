// tests/test_util.h: small helpers shared by the doctest suites.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace seqboat::testing {

// f must throw std::invalid_argument whose message contains every part.
inline void check_throws_mentioning(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL("expected std::invalid_argument mentioning " << parts.front());
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    for (const std::string& p : parts) CHECK_MESSAGE(msg.find(p) != std::string::npos, "'" << p << "' not in: " << msg);
  }
}

// A whole file as bytes ("" when it cannot be read), and a file written
// plainly (not atomically), for setting up and checking test files.
inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline void write_all(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// A fresh, empty directory under the system temp dir (unique per process and
// instance), removed with everything in it on destruction.
struct TempDir {
  std::filesystem::path path;

  explicit TempDir(const std::string& prefix = "seqboat_test") {
    static std::atomic<int> counter{0};
    std::random_device rd;
    for (int tries = 0; tries < 100; ++tries) {
      std::filesystem::path p =
          std::filesystem::temp_directory_path() /
          (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd()));
      if (std::filesystem::create_directories(p)) {
        path = p;
        return;
      }
    }
    throw std::runtime_error("cannot create a temporary directory for " + prefix);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
    return names;
  }
};

}  // namespace seqboat::testing
