// The vocabulary shared by every layer: a Program (what gets built) and an
// Edit (what a proposer returns). Depends on nothing but the standard library.
#pragma once

#include <map>
#include <optional>
#include <string_view>
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

// The kinds of edit a proposer may return. Numeric values are not
// persisted (the database stores the name), but names are: never rename.
enum class EditKind {
  flags,      // a complete new flag list
  diff,       // SEARCH/REPLACE blocks against one file's evolvable regions
  rewrite,    // the whole new text of one evolvable region
  function,   // a function's new definition, located by name in the AST
  transform,  // a transform rule (matcher + replacement), as JSON
  ir,         // a function's new definition in LLVM IR
};

const char* to_string(EditKind kind);
// The inverse of to_string; std::nullopt for an unknown name.
std::optional<EditKind> edit_kind_from_string(std::string_view name);

// What a proposer returns; which fields matter depends on `kind`.
struct Edit {
  EditKind kind = EditKind::flags;
  std::vector<std::string> flags;  // flags
  std::string file;     // diff, rewrite, function, transform: target file ("" = the first
                        // source with an evolvable region)
  std::string text;     // diff: the blocks; rewrite: region text; function: definition;
                        // transform: rule JSON; ir: IR text
  std::string symbol;   // function, ir: the function's name
  int region = 0;       // rewrite: 0-based index of the region in `file`
  std::string summary;  // one human line ("march: (none) -> -march=native")
};

nlohmann::json to_json(const Program& program);
Program program_from_json(const nlohmann::json& json);
nlohmann::json to_json(const Edit& edit);
// Throws nlohmann::json::exception on a malformed object.
Edit edit_from_json(const nlohmann::json& json);

}  // namespace ratchet
