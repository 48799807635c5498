// Strict reading of JSON configuration files (config, task.json). Every
// accessor checks the type; finish() refuses keys nobody asked for and
// suggests the near miss. Errors are fatal usage errors (exit 2) whose one
// line names the file, the key path and what was expected:
//
//   configs/x.json: key 'budget.max_evals': expected an integer >= 1, got "ten"
//   configs/x.json: unknown key 'budget.max_eval' (did you mean 'max_evals'?)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ratchet {

// Parses a file that may contain // and /* */ comments. Throws a usage
// FatalError naming the file (and line:column for syntax errors).
nlohmann::json parse_json_file(const std::filesystem::path& path);

class JsonObjectReader {
 public:
  // `value` must outlive the reader. `path` is the key path of `value`
  // ("" for the document root).
  JsonObjectReader(const nlohmann::json& value, std::string file, std::string path);

  bool has(const std::string& key) const;

  std::string string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  // One of `choices`; the error lists them.
  std::string choice_or(const std::string& key, const std::vector<std::string>& choices,
                        const std::string& fallback);
  int64_t integer_or(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  int64_t integer(const std::string& key, int64_t min, int64_t max);
  double number_or(const std::string& key, double fallback, double min, double max);
  bool boolean_or(const std::string& key, bool fallback);
  std::vector<std::string> strings_or(const std::string& key,
                                      const std::vector<std::string>& fallback);
  std::vector<std::string> strings(const std::string& key);

  // A nested object; missing → std::nullopt.
  std::optional<JsonObjectReader> object(const std::string& key);
  // An array of objects; missing → empty.
  std::vector<JsonObjectReader> objects(const std::string& key);

  // The raw value (marked as read) for callers that validate it themselves.
  const nlohmann::json* raw(const std::string& key);

  // Throws for the first key that no accessor asked about.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  std::string key_path(const std::string& key) const;
  const std::string& file() const { return file_; }

 private:
  const nlohmann::json& get(const std::string& key);
  const nlohmann::json* find(const std::string& key);

  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
  std::set<std::string> read_;
};

// A short rendering of a JSON value for error messages ("ten" → "\"ten\"").
std::string describe_json(const nlohmann::json& value);

}  // namespace ratchet
