// Tests for train/routing_stats on hand-computed examples: active counts with
// and without padding, the mean attention span, and their pooling over
// sequences.
#include "train/routing_stats.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

using namespace seqboat::train;

TEST_CASE("count_active excludes padding and handles no active or no real token") {
  const std::vector<bool> active = {true, false, true, true, false, true};
  const std::vector<bool> padding = {false, false, false, true, true, true};
  ActiveCount c = count_active(active, padding);  // real: 0, 1, 2; active among them: 0, 2
  CHECK(c.active == 2);
  CHECK(c.real == 3);
  CHECK(c.density() == doctest::Approx(2.0 / 3.0));
  c = count_active(active);  // no padding: every token is real
  CHECK(c.active == 4);
  CHECK(c.real == 6);
  CHECK(c.density() == doctest::Approx(4.0 / 6.0));
  CHECK(count_active({false, false, false}).density() == 0.0);       // zero active
  CHECK(count_active({true, true}, {true, true}).density() == 0.0);  // all padding
  CHECK(count_active({}).density() == 0.0);                          // empty
  CHECK_THROWS_AS(count_active({true, false}, {false}), std::invalid_argument);
}

TEST_CASE("mean_attention_span on hand examples") {
  const std::vector<bool> a = {true, false, false, true, false, true};     // positions 0, 3, 5
  CHECK(mean_attention_span(a, 1, true) == doctest::Approx(5.0 / 3.0));    // 0, 3, 2
  CHECK(mean_attention_span(a, 1, false) == doctest::Approx(10.0 / 3.0));  // 3, 5, 2
  CHECK(mean_attention_span(a, 0, true) == 0.0);
  CHECK(mean_attention_span(a, 0, false) == 0.0);
  CHECK(mean_attention_span(a, -1, false) == doctest::Approx(5.0));       // unlimited: all see 0..5
  CHECK(mean_attention_span(a, -1, true) == doctest::Approx(8.0 / 3.0));  // 0, 3, 5
  CHECK(mean_attention_span(a, 100, true) == doctest::Approx(8.0 / 3.0));
  CHECK(mean_attention_span({true, true, true, true, true}, 1, true) == doctest::Approx(4.0 / 5.0));
  CHECK(mean_attention_span({true, true, true, true, true}, 2, false) == doctest::Approx((2 + 3 + 4 + 3 + 2) / 5.0));
  CHECK(mean_attention_span({false, false, false}, 3, true) == 0.0);
  CHECK(mean_attention_span({}, 3, false) == 0.0);
  CHECK(mean_attention_span({false, true, false}, 3, false) == 0.0);
}

TEST_CASE("RoutingStats pools tokens over sequences") {
  RoutingStats rs(1, true);
  const std::vector<bool> a = {true, false, false, true, false, true};  // 3 of 6, span 5/3 (above)
  rs.add(0, a);
  rs.add(0, {true, true});    // 2 of 2; causal window 1: spans 0, 1 -> 1/2
  rs.add(0, {false, false});  // 0 of 2: counts for density, not for the span
  rs.add(1, {false, false, false});
  const std::vector<LayerStats> st = rs.layer_stats();
  REQUIRE(st.size() == 2);
  CHECK(st[0].density == doctest::Approx(5.0 / 10.0));
  CHECK(st[0].mean_span == doctest::Approx((3 * 5.0 / 3.0 + 2 * 0.5) / 5.0));  // per active token: (5 + 1) / 5
  CHECK(st[1].density == 0.0);
  CHECK(st[1].mean_span == 0.0);
  CHECK(RoutingStats(3, false).layer_stats().empty());
}
