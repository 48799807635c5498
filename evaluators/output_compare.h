// Comparing a candidate's output with the baseline's.
#pragma once

#include <optional>
#include <string>

#include "evaluators/task.h"

namespace ratchet {

struct Tolerance {
  double abs = 0;
  double rel = 0;
};

// std::nullopt when `actual` matches `expected`; otherwise one or two lines
// locating the first difference, e.g.
//   token 17 (line 3): expected 0.333333, got 0.334 (|diff| 6.7e-04 > tolerance)
// Exact mode compares bytes. Numeric mode compares whitespace-separated
// tokens: two numbers agree when |a-b| <= abs or |a-b| <= rel*max(|a|,|b|);
// other tokens must be identical; NaN only matches NaN.
std::optional<std::string> compare_outputs(const std::string& expected, const std::string& actual,
                                           VerifyMode mode, Tolerance tolerance);

}  // namespace ratchet
