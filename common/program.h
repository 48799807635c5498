// The vocabulary shared by every layer: a Program (what gets built) and an
// Edit (what a proposer returns). Depends on nothing but the standard library.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ratchet {

// A full, buildable variant: file contents keyed by path relative to the task
// folder, plus the mutable compiler flags (the flag genome). The task's fixed
// flags and link libraries are not part of the Program: they never change.
struct Program {
  std::map<std::string, std::string> files;
  std::vector<std::string> flags;

  bool operator==(const Program&) const = default;
};

// Hash of the normalized program (see normalize_source): two programs that
// differ only in indentation, trailing blanks or blank lines hash the same, so
// the same program is never built twice. 16 hex digits.
std::string program_hash(const Program& program);

// Strip each line's leading and trailing blanks and drop empty lines.
std::string normalize_source(const std::string& text);

// The kinds of edit ratchet applies today; code, IR and transform edits
// join this list with their rewriters.
enum class EditKind { flags };

const char* to_string(EditKind kind);

// What a proposer returns. For `flags`: the complete new flag list.
// `summary` is one human line ("march: (none) -> -march=native").
struct Edit {
  EditKind kind = EditKind::flags;
  std::vector<std::string> flags;
  std::string summary;
};

nlohmann::json to_json(const Program& program);
Program program_from_json(const nlohmann::json& json);
nlohmann::json to_json(const Edit& edit);

}  // namespace ratchet
