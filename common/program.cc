#include "common/program.h"

#include <nlohmann/json.hpp>

#include "common/hash.h"

namespace ratchet {

std::string normalize_source(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    size_t first = text.find_first_not_of(" \t\r\f\v", pos);
    if (first != std::string::npos && first < end) {
      size_t last = text.find_last_not_of(" \t\r\f\v", end - 1);
      out.append(text, first, last - first + 1);
      out.push_back('\n');
    }
    pos = end + 1;
  }
  return out;
}

std::string program_hash(const Program& program) {
  Hasher hasher;
  for (const auto& [path, content] : program.files) {
    hasher.add(path);
    hasher.add(normalize_source(content));
  }
  hasher.add("\x01flags");
  for (const auto& flag : program.flags) hasher.add(flag);
  return hasher.hex();
}

const char* to_string(EditKind kind) {
  switch (kind) {
    case EditKind::flags: return "flags";
  }
  return "unknown";
}

nlohmann::json to_json(const Program& program) {
  return {{"files", program.files}, {"flags", program.flags}};
}

Program program_from_json(const nlohmann::json& json) {
  Program program;
  program.files = json.at("files").get<std::map<std::string, std::string>>();
  program.flags = json.at("flags").get<std::vector<std::string>>();
  return program;
}

nlohmann::json to_json(const Edit& edit) {
  nlohmann::json json = {{"kind", to_string(edit.kind)}, {"summary", edit.summary}};
  json["flags"] = edit.flags;
  return json;
}

}  // namespace ratchet
