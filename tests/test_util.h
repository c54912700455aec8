// tests/test_util.h: small helpers shared by the doctest suites.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <stdexcept>
#include <string>
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

}  // namespace seqboat::testing
