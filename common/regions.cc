#include "common/regions.h"

#include <fmt/format.h>

namespace ratchet {

Result<std::vector<Region>> find_regions(const std::string& text) {
  std::vector<Region> regions;
  bool open = false;
  Region current;
  size_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line;
    size_t end = text.find('\n', pos);
    size_t next = end == std::string::npos ? text.size() : end + 1;
    std::string_view content(text.data() + pos, next - pos);
    bool is_start = content.find(kRegionStart) != std::string_view::npos;
    bool is_end = content.find(kRegionEnd) != std::string_view::npos;
    if (is_start && is_end) {
      return fail(fmt::format("line {}: EVOLVE-BLOCK-START and EVOLVE-BLOCK-END on one line",
                              line));
    }
    if (is_start) {
      if (open) {
        return fail(fmt::format("line {}: EVOLVE-BLOCK-START inside another block (opened at "
                                "line {})", line, current.start_line));
      }
      open = true;
      current = Region{};
      current.start_line = line;
      current.begin = next;
    } else if (is_end) {
      if (!open) return fail(fmt::format("line {}: EVOLVE-BLOCK-END without a START", line));
      open = false;
      current.end = pos;
      current.end_line = line;
      regions.push_back(current);
    }
    pos = next;
  }
  if (open) {
    return fail(fmt::format("line {}: EVOLVE-BLOCK-START is never closed", current.start_line));
  }
  return regions;
}

}  // namespace ratchet
