#include "rewriters/semantic_hash.h"

#include <array>
#include <filesystem>

#include "common/hash.h"
#include "rewriters/clang_parse.h"

namespace ratchet {

namespace {

// The language a file is lexed as, or "" for a file that is not C or C++.
std::string language_of(const std::string& path, const std::string& task_language) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".c") return "c";
  constexpr std::array<const char*, 4> headers = {".h", ".inc", ".def", ".inl"};
  for (const char* header : headers) {
    if (ext == header) return task_language == "c" ? "c" : "c++";
  }
  constexpr std::array<const char*, 6> cxx = {".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh"};
  for (const char* source : cxx) {
    if (ext == source) return "c++";
  }
  return "";
}

}  // namespace

std::string semantic_hash(const Program& program, const RewriteContext& context) {
  Hasher hasher;
  RewriteContext lexing = context;
  for (const auto& [path, content] : program.files) {
    hasher.add(path);
    lexing.language = language_of(path, context.language);
    hasher.add(lexing.language.empty() ? normalize_source(content) : token_hash(content, lexing));
  }
  hasher.add("\x01" "flags");
  for (const auto& flag : program.flags) hasher.add(flag);
  return hasher.hex();
}

}  // namespace ratchet
