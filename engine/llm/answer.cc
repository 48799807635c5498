#include "engine/llm/answer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>
#include <vector>

#include "rewriters/search_replace.h"
#include "rewriters/transform_rule.h"

namespace ratchet::llm {

namespace {

std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

bool is_fence(std::string_view line) {
  line = trim(line);
  return line.starts_with("```") || line.starts_with("~~~");
}

// The contents of every fenced block, in order (an unclosed last block runs
// to the end of the answer, as models cut off mid-answer do).
std::vector<std::string> fenced_blocks(const std::string& answer) {
  std::vector<std::string> blocks;
  std::optional<std::string> open;
  size_t pos = 0;
  while (pos < answer.size()) {
    size_t end = answer.find('\n', pos);
    if (end == std::string::npos) end = answer.size();
    std::string_view line(answer.data() + pos, end - pos);
    if (is_fence(line)) {
      if (open) {
        blocks.push_back(std::move(*open));
        open.reset();
      } else {
        open.emplace();
      }
    } else if (open) {
      open->append(line);
      open->push_back('\n');
    }
    pos = end + 1;
  }
  if (open) blocks.push_back(std::move(*open));
  return blocks;
}

// A JSON object with a "match" key: what a rule answer looks like.
std::optional<nlohmann::json> rule_object(std::string_view text) {
  text = trim(text);
  if (!text.starts_with('{')) return std::nullopt;
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("match")) return std::nullopt;
  return json;
}

bool has_search_marker(const std::string& answer) {
  return answer.find("<<<<<<< SEARCH") != std::string::npos ||
         answer.find("<<<<< SEARCH") != std::string::npos;
}

std::optional<nlohmann::json> find_rule(const std::string& answer) {
  for (const std::string& block : fenced_blocks(answer)) {
    if (auto json = rule_object(block)) return json;
  }
  return rule_object(answer);
}

}  // namespace

Result<Edit> edit_from_llm_answer(const std::string& answer, const std::string& file,
                                  int region) {
  if (!has_search_marker(answer)) {
    if (std::optional<nlohmann::json> json = find_rule(answer)) {
      std::string text = json->dump();
      auto rule = parse_rule(text);
      if (!rule) return fail("the answer's transform rule is not usable: " + rule.error());
      Edit edit;
      edit.kind = EditKind::transform;
      edit.file = file;
      edit.text = std::move(text);
      edit.summary = fmt::format("transform rule '{}'", rule->name);
      return edit;
    }
  }
  return edit_from_answer(answer, file, region);
}

}  // namespace ratchet::llm
