#include "common/text.h"

#include <algorithm>
#include <fmt/format.h>

namespace ratchet {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string near_miss(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.append(separator);
    out.append(parts[i]);
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

namespace {

struct DiffLine {
  char tag;  // ' ', '-', '+'
  std::string text;
  size_t old_line;  // 1-based position in `before` (next line for '+')
  size_t new_line;  // 1-based position in `after` (next line for '-')
};

// LCS on the part between the common prefix and suffix; the programs ratchet
// diffs are small (a few hundred lines), so quadratic is fine.
std::vector<DiffLine> diff_lines(const std::vector<std::string>& a,
                                 const std::vector<std::string>& b) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  size_t n = a.size() - prefix - suffix;
  size_t m = b.size() - prefix - suffix;
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = a[prefix + i] == b[prefix + j] ? lcs[i + 1][j + 1] + 1
                                                 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<DiffLine> out;
  for (size_t i = 0; i < prefix; ++i) out.push_back({' ', a[i], i + 1, i + 1});
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    size_t ai = prefix + i, bj = prefix + j;
    if (i < n && j < m && a[ai] == b[bj]) {
      out.push_back({' ', a[ai], ai + 1, bj + 1});
      ++i, ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // On a tie, removed lines come first, as diff and git print them.
      out.push_back({'-', a[ai], ai + 1, bj + 1});
      ++i;
    } else {
      out.push_back({'+', b[bj], ai + 1, bj + 1});
      ++j;
    }
  }
  for (size_t k = 0; k < suffix; ++k) {
    size_t ai = a.size() - suffix + k, bj = b.size() - suffix + k;
    out.push_back({' ', a[ai], ai + 1, bj + 1});
  }
  return out;
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after,
                         const std::string& before_label, const std::string& after_label) {
  if (before == after) return "";
  std::vector<DiffLine> lines = diff_lines(split_lines(before), split_lines(after));
  constexpr size_t kContext = 3;
  std::string out = fmt::format("--- {}\n+++ {}\n", before_label, after_label);
  size_t k = 0;
  while (k < lines.size()) {
    if (lines[k].tag == ' ') {
      ++k;
      continue;
    }
    // A hunk: from kContext lines before this change to kContext after the
    // last change that is within 2*kContext of the previous one.
    size_t start = k >= kContext ? k - kContext : 0;
    size_t end = k;
    size_t last_change = k;
    while (end < lines.size()) {
      if (lines[end].tag != ' ') last_change = end;
      if (end - last_change > 2 * kContext) break;
      ++end;
    }
    end = std::min(lines.size(), last_change + kContext + 1);
    size_t old_count = 0, new_count = 0;
    for (size_t x = start; x < end; ++x) {
      if (lines[x].tag != '+') ++old_count;
      if (lines[x].tag != '-') ++new_count;
    }
    size_t old_start = lines[start].old_line - (old_count == 0 ? 1 : 0);
    size_t new_start = lines[start].new_line - (new_count == 0 ? 1 : 0);
    out += fmt::format("@@ -{},{} +{},{} @@\n", old_start, old_count, new_start, new_count);
    for (size_t x = start; x < end; ++x) {
      out += lines[x].tag;
      out += lines[x].text;
      out += '\n';
    }
    k = end;
  }
  return out;
}

std::string truncate_middle(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  // The marker counts against max_bytes; sized for the largest possible count.
  size_t marker_size = fmt::formatted_size("\n[... {} bytes omitted ...]\n", text.size());
  size_t keep = max_bytes > marker_size ? (max_bytes - marker_size) / 2 : 0;
  size_t removed = text.size() - 2 * keep;
  return text.substr(0, keep) + fmt::format("\n[... {} bytes omitted ...]\n", removed) +
         text.substr(text.size() - keep);
}

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                               "0123456789-_=+./:,@%") == std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::vector<std::string> quoted;
  quoted.reserve(argv.size());
  for (const auto& word : argv) quoted.push_back(shell_quote(word));
  return join(quoted, " ");
}

Result<std::vector<std::string>> split_shell_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'' || c == '"') {
      size_t close = i + 1;
      while (close < line.size() && line[close] != c) {
        if (c == '"' && line[close] == '\\' && close + 1 < line.size()) ++close;
        ++close;
      }
      if (close >= line.size()) {
        return fail(fmt::format("unterminated {} quote at position {}", c == '"' ? "double" : "single",
                                i + 1));
      }
      for (size_t k = i + 1; k < close; ++k) {
        if (c == '"' && line[k] == '\\' && k + 1 < close) ++k;
        word += line[k];
      }
      in_word = true;
      i = close;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace ratchet
