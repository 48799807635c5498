// Evolvable regions: the text between a line containing EVOLVE-BLOCK-START
// and the next line containing EVOLVE-BLOCK-END. Edits may change only these.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace ratchet {

inline constexpr const char* kRegionStart = "EVOLVE-BLOCK-START";
inline constexpr const char* kRegionEnd = "EVOLVE-BLOCK-END";

struct Region {
  size_t begin = 0;  // byte offset of the first line after the START marker line
  size_t end = 0;    // byte offset of the END marker line (exclusive end of the body)
  size_t start_line = 0;  // 1-based line of the START marker
  size_t end_line = 0;    // 1-based line of the END marker
};

// Errors name the line: "line 12: EVOLVE-BLOCK-START inside another block
// (opened at line 3)", "line 40: EVOLVE-BLOCK-END without a START",
// "line 3: EVOLVE-BLOCK-START is never closed".
Result<std::vector<Region>> find_regions(const std::string& text);

}  // namespace ratchet
