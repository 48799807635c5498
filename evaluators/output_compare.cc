#include "evaluators/output_compare.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <vector>

namespace ratchet {

namespace {

std::string excerpt(std::string_view text) {
  std::string out(text.substr(0, 60));
  for (auto& c : out) {
    if (c == '\n') c = ' ';
  }
  return fmt::format("\"{}{}\"", out, text.size() > 60 ? "..." : "");
}

std::optional<std::string> compare_exact(const std::string& expected, const std::string& actual) {
  if (expected == actual) return std::nullopt;
  size_t i = 0;
  size_t line = 1;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) {
    if (expected[i] == '\n') ++line;
    ++i;
  }
  size_t line_start = expected.rfind('\n', i == 0 ? 0 : i - 1);
  line_start = (line_start == std::string::npos || i == 0) ? 0 : line_start + 1;
  if (i == actual.size()) {
    return fmt::format("output ends early at byte {} (line {}); expected {} more bytes", i, line,
                       expected.size() - i);
  }
  if (i == expected.size()) {
    return fmt::format("output has {} extra bytes after byte {} (line {}): {}", actual.size() - i,
                       i, line, excerpt(std::string_view(actual).substr(i)));
  }
  // Show the differing line itself, not the text after it.
  auto line_of = [line_start](std::string_view text) {
    text = text.substr(line_start);
    return text.substr(0, text.find('\n'));
  };
  return fmt::format("line {} differs: expected {}, got {}", line, excerpt(line_of(expected)),
                     excerpt(line_of(actual)));
}

struct Token {
  std::string_view text;
  size_t line;
};

std::vector<Token> tokenize(const std::string& text) {
  std::vector<Token> tokens;
  size_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      if (text[i] == '\n') ++line;
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    tokens.push_back({std::string_view(text).substr(start, i - start), line});
  }
  return tokens;
}

std::optional<double> parse_number(std::string_view token) {
  std::string copy(token);
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str() || *end != '\0') return std::nullopt;
  return value;
}

bool numbers_agree(double a, double b, Tolerance tolerance) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;  // also equal infinities
  // An infinity matches only itself: |inf - x| <= rel * inf would hold.
  if (std::isinf(a) || std::isinf(b)) return false;
  double diff = std::fabs(a - b);
  return diff <= tolerance.abs || diff <= tolerance.rel * std::max(std::fabs(a), std::fabs(b));
}

std::optional<std::string> compare_numeric(const std::string& expected, const std::string& actual,
                                           Tolerance tolerance) {
  std::vector<Token> want = tokenize(expected);
  std::vector<Token> got = tokenize(actual);
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    if (want[i].text == got[i].text) continue;
    auto a = parse_number(want[i].text);
    auto b = parse_number(got[i].text);
    if (a && b) {
      if (numbers_agree(*a, *b, tolerance)) continue;
      return fmt::format("token {} (line {}): expected {}, got {} (|diff| {:.3g} beyond abs {:g} "
                         "/ rel {:g})", i + 1, got[i].line, want[i].text, got[i].text,
                         std::fabs(*a - *b), tolerance.abs, tolerance.rel);
    }
    return fmt::format("token {} (line {}): expected \"{}\", got \"{}\"", i + 1, got[i].line,
                       want[i].text, got[i].text);
  }
  if (want.size() != got.size()) {
    return fmt::format("expected {} tokens, got {}", want.size(), got.size());
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> compare_outputs(const std::string& expected, const std::string& actual,
                                           VerifyMode mode, Tolerance tolerance) {
  return mode == VerifyMode::exact ? compare_exact(expected, actual)
                                   : compare_numeric(expected, actual, tolerance);
}

}  // namespace ratchet
