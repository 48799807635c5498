#include "common/program.h"

#include <nlohmann/json.hpp>

#include "common/hash.h"

namespace ratchet {

std::string normalize_source(const std::string& text) {
  // A loop, not find_first_not_of: that searches the blank set per byte.
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    size_t first = pos;
    while (first < end && blank(text[first])) ++first;
    if (first < end) {
      size_t last = end;  // past the line's last byte that is not blank
      while (blank(text[last - 1])) --last;
      out.append(text, first, last - first);
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

namespace {

constexpr std::pair<EditKind, const char*> kEditKindNames[] = {
    {EditKind::flags, "flags"},       {EditKind::diff, "diff"},
    {EditKind::rewrite, "rewrite"},   {EditKind::function, "function"},
    {EditKind::transform, "transform"}, {EditKind::ir, "ir"},
};

}  // namespace

const char* to_string(EditKind kind) {
  for (const auto& [k, name] : kEditKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<EditKind> edit_kind_from_string(std::string_view name) {
  for (const auto& [kind, text] : kEditKindNames) {
    if (name == text) return kind;
  }
  return std::nullopt;
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
  if (edit.kind == EditKind::flags) {
    json["flags"] = edit.flags;
    return json;
  }
  json["file"] = edit.file;
  json["text"] = edit.text;
  if (!edit.symbol.empty()) json["symbol"] = edit.symbol;
  if (edit.kind == EditKind::rewrite) json["region"] = edit.region;
  return json;
}

Edit edit_from_json(const nlohmann::json& json) {
  Edit edit;
  std::string kind = json.at("kind").get<std::string>();
  auto parsed = edit_kind_from_string(kind);
  if (!parsed) throw std::invalid_argument("unknown edit kind '" + kind + "'");
  edit.kind = *parsed;
  edit.summary = json.value("summary", "");
  edit.flags = json.value("flags", std::vector<std::string>{});
  edit.file = json.value("file", "");
  edit.text = json.value("text", "");
  edit.symbol = json.value("symbol", "");
  edit.region = json.value("region", 0);
  return edit;
}

}  // namespace ratchet
