#include "rewriters/search_replace.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "common/regions.h"

namespace ratchet {

namespace {

std::string crlf_to_lf(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\f' || s[b] == '\v')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\f' ||
                   s[e - 1] == '\v')) {
    --e;
  }
  return s.substr(b, e - b);
}

std::string_view leading_blanks(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && (s[n] == ' ' || s[n] == '\t')) ++n;
  return s.substr(0, n);
}

// One line of a text: [begin, end) without its '\n'; next is past the '\n'.
struct Line {
  size_t begin, end, next;
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back({pos, text.size(), text.size()});
      break;
    }
    lines.push_back({pos, nl, nl + 1});
    pos = nl + 1;
  }
  return lines;
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<Line> lines = lines_of(text);
  std::vector<std::string_view> out;
  out.reserve(lines.size());
  for (const Line& line : lines) out.push_back(text.substr(line.begin, line.end - line.begin));
  return out;
}

size_t line_number(std::string_view text, size_t offset) {
  return static_cast<size_t>(std::count(text.begin(), text.begin() + offset, '\n')) + 1;
}

// A marker line: 5 to 9 of `mark`, then `word` (blanks around allowed).
bool is_marker(std::string_view line, char mark, std::string_view word) {
  line = trim(line);
  size_t n = 0;
  while (n < line.size() && line[n] == mark) ++n;
  if (n < 5 || n > 9) return false;
  return trim(line.substr(n)) == word;
}
bool is_search_marker(std::string_view line) { return is_marker(line, '<', "SEARCH"); }
bool is_divider(std::string_view line) { return is_marker(line, '=', ""); }
bool is_replace_marker(std::string_view line) { return is_marker(line, '>', "REPLACE"); }

bool is_fence(std::string_view line) {
  line = trim(line);
  return line.starts_with("```") || line.starts_with("~~~");
}

bool has_region_marker(std::string_view text) {
  return text.find(kRegionStart) != std::string_view::npos ||
         text.find(kRegionEnd) != std::string_view::npos;
}

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r\n\f\v") == s.npos; }

constexpr const char* kFormatHint =
    "expected '<<<<<<< SEARCH', the lines to find, '=======', their replacement, "
    "'>>>>>>> REPLACE'";

// Where one block matched in the original text, and what replaces it.
struct Match {
  size_t block = 0;  // 1-based
  size_t begin = 0, end = 0;
  std::string replacement;
};

std::string lines_label(std::string_view text, size_t begin, size_t end) {
  size_t first = line_number(text, begin);
  size_t last = line_number(text, end > begin ? end - 1 : begin);
  return first == last ? fmt::format("line {}", first) : fmt::format("lines {}-{}", first, last);
}

// REPLACE lines moved from the SEARCH's indentation to the file's. A line
// indented exactly like some SEARCH line takes that line's indentation in the
// file (tabs vs spaces); any other line has the first line's drift applied.
std::string reindent(const std::string& replace,
                     const std::vector<std::pair<std::string_view, std::string_view>>& indents,
                     bool crlf) {
  std::string_view from = indents.front().first, to = indents.front().second;
  std::string out;
  for (std::string_view line : split(replace)) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string fixed(line);
    if (!is_blank(line)) {
      std::string_view own = leading_blanks(line);
      auto same = std::find_if(indents.begin(), indents.end(),
                               [&](const auto& pair) { return pair.first == own; });
      if (same != indents.end()) {
        fixed = std::string(same->second) + std::string(line.substr(own.size()));
      } else if (line.starts_with(from)) {
        fixed = std::string(to) + std::string(line.substr(from.size()));
      }
    }
    out += fixed;
    out += crlf ? "\r\n" : "\n";
  }
  return out;
}

Result<Match> find_match(const std::string& text, const std::string& file,
                         const std::vector<Line>& file_lines, const SearchReplaceBlock& block,
                         size_t index) {
  // 1. Exact, at line starts.
  std::vector<size_t> exact;
  for (size_t pos = text.find(block.search); pos != std::string::npos;
       pos = text.find(block.search, pos + 1)) {
    if (pos == 0 || text[pos - 1] == '\n') exact.push_back(pos);
  }
  if (exact.size() == 1) {
    return Match{index, exact[0], exact[0] + block.search.size(), block.replace};
  }
  auto ambiguous = [&](const std::vector<size_t>& offsets) -> Error {
    std::vector<std::string> where;
    for (size_t offset : offsets) where.push_back(std::to_string(line_number(text, offset)));
    std::string list = where.size() == 2 ? where[0] + " and " + where[1] : [&] {
      std::string s;
      for (size_t i = 0; i < where.size(); ++i) s += (i ? ", " : "") + where[i];
      return s;
    }();
    return fail(fmt::format("block {}: the SEARCH text matches {} places in {} (lines {}); add "
                            "surrounding lines to make it unique",
                            index, offsets.size(), file, list));
  };
  if (exact.size() > 1) return ambiguous(exact);

  // 2. Tolerant: line by line, blanks at both ends ignored.
  std::vector<std::string_view> search = split(block.search);
  while (!search.empty() && is_blank(search.front())) search.erase(search.begin());
  while (!search.empty() && is_blank(search.back())) search.pop_back();
  std::vector<size_t> starts;
  const size_t n = search.size();
  for (size_t i = 0; n > 0 && i + n <= file_lines.size(); ++i) {
    bool same = true;
    for (size_t k = 0; k < n && same; ++k) {
      const Line& line = file_lines[i + k];
      same = trim(std::string_view(text).substr(line.begin, line.end - line.begin)) ==
             trim(search[k]);
    }
    if (same) starts.push_back(i);
  }
  if (starts.empty()) {
    std::string first(trim(search.empty() ? std::string_view() : search.front()));
    return fail(fmt::format("block {}: the SEARCH text was not found in {} (first line: `{}`); "
                            "copy the lines to replace exactly from the current code",
                            index, file, first));
  }
  if (starts.size() > 1) {
    std::vector<size_t> offsets;
    for (size_t start : starts) offsets.push_back(file_lines[start].begin);
    return ambiguous(offsets);
  }
  const Line& first = file_lines[starts[0]];
  const Line& last = file_lines[starts[0] + n - 1];
  std::vector<std::pair<std::string_view, std::string_view>> indents;
  for (size_t k = 0; k < n; ++k) {
    const Line& line = file_lines[starts[0] + k];
    if (is_blank(search[k])) continue;
    indents.emplace_back(leading_blanks(search[k]),
                         leading_blanks(std::string_view(text).substr(line.begin, line.end - line.begin)));
  }
  bool crlf = last.end > last.begin && text[last.end - 1] == '\r';
  std::string replacement = reindent(block.replace, indents, crlf);
  if (last.next == last.end && !replacement.empty()) {  // the file's last line has no '\n'
    replacement.pop_back();
    if (crlf && !replacement.empty()) replacement.pop_back();
  }
  return Match{index, first.begin, last.next, replacement};
}

}  // namespace

Result<std::vector<SearchReplaceBlock>> parse_search_replace(const std::string& answer) {
  const std::string text = crlf_to_lf(answer);
  enum class State { outside, search, replace } state = State::outside;
  std::vector<SearchReplaceBlock> blocks;
  SearchReplaceBlock current;
  size_t opened_at = 0;
  size_t number = 0;
  std::vector<std::string_view> lines = split(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    size_t at = i + 1;
    bool search = is_search_marker(line), divider = is_divider(line),
         replace = is_replace_marker(line);
    switch (state) {
      case State::outside:
        if (search) {
          state = State::search;
          current = {};
          opened_at = at;
          ++number;
        } else if (divider || replace) {
          return fail(fmt::format("answer line {}: '{}' without a '<<<<<<< SEARCH' before it; {}",
                                  at, trim(line), kFormatHint));
        }
        break;
      case State::search:
        if (divider) {
          state = State::replace;
        } else if (search || replace) {
          return fail(fmt::format("block {} (answer line {}): '{}' before its '======='; {}",
                                  number, at, trim(line), kFormatHint));
        } else if (!is_fence(line)) {
          current.search.append(line).push_back('\n');
        }
        break;
      case State::replace:
        if (replace) {
          if (is_blank(current.search)) {
            return fail(fmt::format("block {} (answer line {}): the SEARCH section is empty; copy "
                                    "the lines to replace from the current code",
                                    number, opened_at));
          }
          blocks.push_back(std::move(current));
          state = State::outside;
        } else if (search || divider) {
          return fail(fmt::format("block {} (answer line {}): '{}' before its '>>>>>>> REPLACE'; {}",
                                  number, at, trim(line), kFormatHint));
        } else if (!is_fence(line)) {
          current.replace.append(line).push_back('\n');
        }
        break;
    }
  }
  if (state != State::outside) {
    return fail(fmt::format("block {} (answer line {}): '<<<<<<< SEARCH' is never closed by "
                            "'>>>>>>> REPLACE' (truncated answer?)",
                            number, opened_at));
  }
  if (blocks.empty()) return fail(std::string("no SEARCH/REPLACE block in the answer; ") + kFormatHint);
  return blocks;
}

std::string format_search_replace(const std::vector<SearchReplaceBlock>& blocks) {
  std::string out;
  for (const auto& block : blocks) {
    out.append("<<<<<<< SEARCH\n").append(block.search).append("=======\n");
    out.append(block.replace).append(">>>>>>> REPLACE\n");
  }
  return out;
}

Result<std::string> apply_search_replace(const std::string& text, const std::string& file,
                                         const std::vector<SearchReplaceBlock>& blocks) {
  auto regions = find_regions(text);
  if (!regions) return fail(fmt::format("{}: {}", file, regions.error()));
  if (regions->empty()) return fail(fmt::format("{} has no EVOLVE-BLOCK region to edit", file));
  std::vector<Line> file_lines = lines_of(text);

  std::vector<Match> matches;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (has_region_marker(blocks[i].replace) || has_region_marker(blocks[i].search)) {
      return fail(fmt::format("block {}: EVOLVE-BLOCK marker lines may not be searched, added or "
                              "removed; edit only the code between them",
                              i + 1));
    }
    auto match = find_match(text, file, file_lines, blocks[i], i + 1);
    if (!match) return Error{match.error()};
    bool inside = std::any_of(regions->begin(), regions->end(), [&](const Region& r) {
      return r.begin <= match->begin && match->end <= r.end;
    });
    if (!inside) {
      std::vector<std::string> spans;
      for (const Region& r : *regions) {
        spans.push_back(fmt::format("{}-{}", r.start_line + 1, r.end_line - 1));
      }
      return fail(fmt::format("block {}: the SEARCH text ({} {}) lies outside the evolvable "
                              "regions (lines {}); only code between EVOLVE-BLOCK-START and "
                              "EVOLVE-BLOCK-END may change",
                              i + 1, file, lines_label(text, match->begin, match->end),
                              [&] {
                                std::string s;
                                for (size_t k = 0; k < spans.size(); ++k) s += (k ? ", " : "") + spans[k];
                                return s;
                              }()));
    }
    matches.push_back(std::move(*match));
  }
  std::vector<const Match*> order;
  for (const Match& m : matches) order.push_back(&m);
  std::sort(order.begin(), order.end(), [](const Match* a, const Match* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->block < b->block;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const Match& a = *order[k - 1];
    const Match& b = *order[k];
    if (b.begin < a.end) {
      const Match& first = a.block < b.block ? a : b;
      const Match& second = a.block < b.block ? b : a;
      return fail(fmt::format("blocks {} and {} overlap ({} {} and {}); merge them into one block",
                              first.block, second.block, file,
                              lines_label(text, first.begin, first.end),
                              lines_label(text, second.begin, second.end)));
    }
  }
  std::string result = text;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    result.replace((*it)->begin, (*it)->end - (*it)->begin, (*it)->replacement);
  }
  if (result == text) {
    return fail("the edit changes nothing: every REPLACE text equals its SEARCH text");
  }
  return result;
}

Result<std::string> parse_rewrite(const std::string& answer) {
  const std::string text = crlf_to_lf(answer);
  std::vector<std::string_view> lines = split(text);
  std::string best;
  bool found = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view open = trim(lines[i]);
    if (!is_fence(open)) continue;
    char mark = open[0];
    size_t width = 0;
    while (width < open.size() && open[width] == mark) ++width;
    std::string body;
    size_t j = i + 1;
    for (; j < lines.size(); ++j) {
      std::string_view close = trim(lines[j]);
      size_t n = 0;
      while (n < close.size() && close[n] == mark) ++n;
      if (n >= width && n == close.size()) break;
      body += std::string(lines[j]) + "\n";
    }
    if (j == lines.size()) {
      return fail(fmt::format("the code fence opened at answer line {} is never closed "
                              "(truncated answer?)",
                              i + 1));
    }
    if (!found || body.size() > best.size()) best = std::move(body);
    found = true;
    i = j;
  }
  if (!found) {
    return fail("no fenced code block in the answer; put the new region text between ``` lines");
  }
  // Drop repeated EVOLVE-BLOCK marker lines and whatever lies outside them.
  std::vector<Line> body_lines = lines_of(best);
  size_t from = 0, to = best.size();
  for (const Line& line : body_lines) {
    std::string_view s = std::string_view(best).substr(line.begin, line.end - line.begin);
    if (s.find(kRegionStart) != std::string_view::npos && from == 0) from = line.next;
    if (s.find(kRegionEnd) != std::string_view::npos && line.begin >= from) {
      to = line.begin;
      break;
    }
  }
  best = best.substr(from, to - from);
  if (is_blank(best)) return fail("the fenced code block is empty");
  return best;
}

Result<std::string> apply_region_rewrite(const std::string& text, const std::string& file,
                                         int region, const std::string& body) {
  auto regions = find_regions(text);
  if (!regions) return fail(fmt::format("{}: {}", file, regions.error()));
  if (regions->empty()) return fail(fmt::format("{} has no EVOLVE-BLOCK region to edit", file));
  if (region < 0 || static_cast<size_t>(region) >= regions->size()) {
    return fail(fmt::format("{} has no region {} (it has {}, numbered from 0)", file, region,
                            regions->size()));
  }
  if (has_region_marker(body)) {
    return fail("the rewrite contains an EVOLVE-BLOCK marker; give only the code between the "
                "markers");
  }
  const Region& r = (*regions)[static_cast<size_t>(region)];
  bool crlf = r.begin >= 2 && text[r.begin - 2] == '\r';
  std::string replacement;
  const std::string lf_body = crlf_to_lf(body);
  for (std::string_view line : split(lf_body)) {
    replacement += std::string(line) + (crlf ? "\r\n" : "\n");
  }
  if (text.compare(r.begin, r.end - r.begin, replacement) == 0) {
    return fail("the edit changes nothing: the rewrite equals the current region");
  }
  std::string result = text;
  result.replace(r.begin, r.end - r.begin, replacement);
  return result;
}

Result<Edit> edit_from_answer(const std::string& answer, const std::string& file, int region) {
  bool has_search = false, has_fence = false;
  for (std::string_view line : split(answer)) {
    has_search = has_search || is_search_marker(line);
    has_fence = has_fence || is_fence(line);
  }
  Edit edit;
  edit.file = file;
  if (has_search) {
    auto blocks = parse_search_replace(answer);
    if (!blocks) return Error{blocks.error()};
    edit.kind = EditKind::diff;
    edit.text = format_search_replace(*blocks);
    edit.summary = blocks->size() == 1 ? "1 SEARCH/REPLACE block"
                                       : fmt::format("{} SEARCH/REPLACE blocks", blocks->size());
    return edit;
  }
  if (!has_fence) {
    return fail(std::string("the answer holds neither SEARCH/REPLACE blocks nor a fenced code "
                            "block; ") + kFormatHint);
  }
  auto body = parse_rewrite(answer);
  if (!body) return Error{body.error()};
  edit.kind = EditKind::rewrite;
  edit.region = region;
  edit.text = std::move(*body);
  edit.summary = fmt::format("rewrite of region {} ({} lines)", region, split(edit.text).size());
  return edit;
}

Result<Program> apply_text_edit(const Program& parent, const Edit& edit) {
  std::string file = edit.file;
  if (file.empty()) {
    for (const auto& [path, content] : parent.files) {
      auto regions = find_regions(content);
      if (regions && !regions->empty()) {
        file = path;
        break;
      }
    }
    if (file.empty()) return fail("the program has no file with an EVOLVE-BLOCK region");
  }
  auto it = parent.files.find(file);
  if (it == parent.files.end()) {
    return fail(fmt::format("the edit names file '{}', which is not in the program", file));
  }
  Result<std::string> changed = fail("unreachable");
  if (edit.kind == EditKind::diff) {
    auto blocks = parse_search_replace(edit.text);
    if (!blocks) return Error{blocks.error()};
    changed = apply_search_replace(it->second, file, *blocks);
  } else if (edit.kind == EditKind::rewrite) {
    changed = apply_region_rewrite(it->second, file, edit.region, edit.text);
  } else {
    return fail(fmt::format("apply_text_edit: '{}' is not a text edit", to_string(edit.kind)));
  }
  if (!changed) return Error{changed.error()};
  Program child = parent;
  child.files[file] = std::move(*changed);
  return child;
}

}  // namespace ratchet
