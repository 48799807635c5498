// The clang-free part of transform rules: reading a rule's JSON. Checking its
// matcher and applying it need clang (clang_transform.cc).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "rewriters/transform_rule.h"

namespace ratchet {

Result<TransformRule> parse_rule(const std::string& json_text) {
  nlohmann::json json = nlohmann::json::parse(json_text, nullptr, false);
  if (json.is_discarded()) return fail("rule: not valid JSON");
  if (!json.is_object()) return fail("rule: expected a JSON object with name, match and replace");
  static const std::vector<std::string> kKeys = {"name", "match", "replace", "target",
                                                 "description"};
  for (const auto& [key, value] : json.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::string hint = near_miss(key, kKeys);
      return fail("rule: unknown key '" + key + "'" +
                  (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (!value.is_string()) return fail("rule: '" + key + "' must be a string");
  }
  TransformRule rule;
  for (const char* key : {"name", "match", "replace"}) {
    if (!json.contains(key)) return fail(std::string("rule: missing key '") + key + "'");
  }
  rule.name = json["name"];
  rule.match = json["match"];
  rule.replace = json["replace"];
  rule.target = json.value("target", "");
  rule.description = json.value("description", "");
  if (rule.name.empty()) return fail("rule: 'name' is empty");
  if (rule.match.empty()) return fail("rule: 'match' is empty");
  return rule;
}

}  // namespace ratchet
