#include "common/json_config.h"

#include <fmt/format.h>

#include "common/files.h"
#include "common/result.h"
#include "common/text.h"

namespace ratchet {

namespace {

std::string line_column(const std::string& text, size_t byte) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("{}:{}", line, column);
}

}  // namespace

nlohmann::json parse_json_file(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) usage_error(text.error());
  try {
    return nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/true,
                                 /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3,
    // column 0: syntax error …"; nlohmann's column can be off (0 after a
    // line break), so keep only the detail and give our own line:column.
    std::string what = e.what();
    auto start = what.find("parse error");
    auto colon = start == std::string::npos ? start : what.find(": ", start);
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    usage_error(fmt::format("{}:{}: invalid JSON: {}", path.string(),
                            line_column(*text, e.byte == 0 ? 0 : e.byte - 1), detail));
  }
}

std::string describe_json(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

JsonObjectReader::JsonObjectReader(const nlohmann::json& value, std::string file,
                                   std::string path)
    : value_(&value), file_(std::move(file)), path_(std::move(path)) {
  if (!value.is_object()) {
    std::string where = path_.empty() ? "the document" : "key '" + path_ + "'";
    usage_error(fmt::format("{}: {}: expected an object, got {}", file_, where,
                            describe_json(value)));
  }
}

std::string JsonObjectReader::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void JsonObjectReader::fail(const std::string& key, const std::string& expected) const {
  const nlohmann::json* value = value_->contains(key) ? &value_->at(key) : nullptr;
  if (value) {
    usage_error(fmt::format("{}: key '{}': expected {}, got {}", file_, key_path(key), expected,
                            describe_json(*value)));
  }
  usage_error(fmt::format("{}: missing key '{}' ({})", file_, key_path(key), expected));
}

bool JsonObjectReader::has(const std::string& key) const { return value_->contains(key); }

const nlohmann::json* JsonObjectReader::find(const std::string& key) {
  read_.insert(key);
  auto it = value_->find(key);
  return it == value_->end() ? nullptr : &*it;
}

const nlohmann::json& JsonObjectReader::get(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (!value) fail(key, "a value");
  return *value;
}

const nlohmann::json* JsonObjectReader::raw(const std::string& key) { return find(key); }

std::string JsonObjectReader::string(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (!value) fail(key, "a string");
  if (!value->is_string()) fail(key, "a string");
  return value->get<std::string>();
}

std::string JsonObjectReader::string_or(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : (read_.insert(key), fallback);
}

std::string JsonObjectReader::choice_or(const std::string& key,
                                        const std::vector<std::string>& choices,
                                        const std::string& fallback) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  std::string expected = "one of \"" + join(choices, "\", \"") + "\"";
  const nlohmann::json& value = get(key);
  if (!value.is_string()) fail(key, expected);
  std::string text = value.get<std::string>();
  for (const auto& choice : choices) {
    if (choice == text) return text;
  }
  std::string hint = near_miss(text, choices);
  fail(key, expected + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
}

int64_t JsonObjectReader::integer(const std::string& key, int64_t min, int64_t max) {
  std::string expected =
      max == INT64_MAX ? fmt::format("an integer >= {}", min)
                       : fmt::format("an integer from {} to {}", min, max);
  const nlohmann::json* value = find(key);
  if (!value || !value->is_number_integer()) fail(key, expected);
  int64_t number = value->get<int64_t>();
  if (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t(INT64_MAX)) fail(key, expected);
  if (number < min || number > max) fail(key, expected);
  return number;
}

int64_t JsonObjectReader::integer_or(const std::string& key, int64_t fallback, int64_t min,
                                     int64_t max) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  return integer(key, min, max);
}

double JsonObjectReader::number_or(const std::string& key, double fallback, double min,
                                   double max) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  std::string expected = fmt::format("a number from {} to {}", min, max);
  const nlohmann::json& value = get(key);
  if (!value.is_number()) fail(key, expected);
  double number = value.get<double>();
  if (!(number >= min && number <= max)) fail(key, expected);
  return number;
}

bool JsonObjectReader::boolean_or(const std::string& key, bool fallback) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  const nlohmann::json& value = get(key);
  if (!value.is_boolean()) fail(key, "true or false");
  return value.get<bool>();
}

std::vector<std::string> JsonObjectReader::strings(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (!value || !value->is_array()) fail(key, "an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_string()) {
      usage_error(fmt::format("{}: key '{}[{}]': expected a string, got {}", file_,
                              key_path(key), i, describe_json(item)));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::string> JsonObjectReader::strings_or(const std::string& key,
                                                      const std::vector<std::string>& fallback) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  return strings(key);
}

std::optional<JsonObjectReader> JsonObjectReader::object(const std::string& key) {
  const nlohmann::json* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_object()) fail(key, "an object");
  return JsonObjectReader(*value, file_, key_path(key));
}

std::vector<JsonObjectReader> JsonObjectReader::objects(const std::string& key) {
  const nlohmann::json* value = find(key);
  std::vector<JsonObjectReader> out;
  if (!value) return out;
  if (!value->is_array()) fail(key, "an array of objects");
  for (size_t i = 0; i < value->size(); ++i) {
    out.emplace_back((*value)[i], file_, fmt::format("{}[{}]", key_path(key), i));
  }
  return out;
}

void JsonObjectReader::finish() const {
  std::vector<std::string> known(read_.begin(), read_.end());
  for (const auto& [key, unused] : value_->items()) {
    if (read_.count(key)) continue;
    std::string hint = near_miss(key, known);
    usage_error(fmt::format("{}: unknown key '{}'{}", file_, key_path(key),
                            hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
}

}  // namespace ratchet
