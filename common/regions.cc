#include "common/regions.h"

#include <fmt/format.h>

#include <cstring>
#include <string_view>

namespace ratchet {

namespace {

// memchr from line to line: std::count goes a byte at a time.
size_t newlines(std::string_view text) {
  size_t n = 0;
  const char* end = text.data() + text.size();
  for (const char* p = text.data(); p < end; ++p, ++n) {
    p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!p) break;
  }
  return n;
}

}  // namespace

Result<std::vector<Region>> find_regions(const std::string& text) {
  // Marker lines are few: jump from one to the next (one search over the
  // text) instead of testing every line for both markers, and count lines
  // only up to the markers.
  constexpr std::string_view kPrefix = "EVOLVE-BLOCK-";
  static_assert(std::string_view(kRegionStart).starts_with(kPrefix) &&
                std::string_view(kRegionEnd).starts_with(kPrefix));
  std::vector<Region> regions;
  bool open = false;
  Region current;
  size_t line = 1, line_at = 0;  // `line` is the number of the line holding offset `line_at`
  for (size_t hit = text.find(kPrefix); hit != std::string::npos;) {
    size_t begin = text.rfind('\n', hit);
    begin = begin == std::string::npos ? 0 : begin + 1;
    size_t end = text.find('\n', hit);
    size_t next = end == std::string::npos ? text.size() : end + 1;
    line += newlines(std::string_view(text).substr(line_at, begin - line_at));
    line_at = begin;
    std::string_view content(text.data() + begin, next - begin);
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
      current.end = begin;
      current.end_line = line;
      regions.push_back(current);
    }
    hit = text.find(kPrefix, next);
  }
  if (open) {
    return fail(fmt::format("line {}: EVOLVE-BLOCK-START is never closed", current.start_line));
  }
  return regions;
}

}  // namespace ratchet
