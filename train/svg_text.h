// train/svg_text.h: text for hand-written SVG, internal to the report files
// (gate_heatmap.cpp, loss_curve.cpp, svg.cpp): counting UTF-8 code points and
// turning arbitrary token bytes into visible, length-limited labels. XML
// escaping itself is report::xml_escape (report.h), defined beside these.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace seqboat::report {

// Number of code points in s; each byte that does not start a valid,
// shortest-form UTF-8 sequence counts as one.
int count_code_points(std::string_view s);

// A token as visible text: spaces/control characters/invalid bytes become
// escapes, long tokens are cut to max_chars code points ending in an ellipsis.
// Returns the text (not yet XML-escaped) and its length in code points.
std::pair<std::string, int> visible_token(const std::string& tok, int max_chars);

}  // namespace seqboat::report
