// tests/test_ops.cpp: gradchecks every case of the op table in float64.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "op_table.h"

namespace seqboat::testing {

OpTable& op_table() {
  static OpTable table;
  return table;
}

TEST_CASE("op table: every case passes gradcheck in float64") {
  const auto& cases = op_table().cases();
  REQUIRE(cases.size() > 0);
  int64_t entries = 0;
  for (const OpCase& c : cases) {
    uint64_t seed = 1469598103934665603ULL;  // FNV-1a of the case name: stable per case
    for (char ch : c.name) seed = (seed ^ static_cast<uint8_t>(ch)) * 1099511628211ULL;
    Generator g(seed);
    std::vector<Tensor> inputs = c.make_inputs(g);
    GradcheckResult r;
    try {
      r = gradcheck(c.fn, inputs, c.options);
    } catch (const std::exception& e) {
      r.ok = false;
      r.message = std::string("threw: ") + e.what();
    }
    entries += r.elements_checked;
    CHECK_MESSAGE(r.ok, c.name << ": " << r.message);
  }
  MESSAGE(fmt::format("op table: {} gradcheck cases, {} Jacobian entries compared", cases.size(), entries));
}

}  // namespace seqboat::testing
