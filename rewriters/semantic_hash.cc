#include "rewriters/semantic_hash.h"

#include <array>
#include <filesystem>

#include "common/hash.h"

namespace ratchet {

std::string lexing_language(const std::string& path, const std::string& task_language) {
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

std::string semantic_hash(const Program& program, const RewriteContext& context,
                          const TokenHasher& token_hash) {
  Hasher hasher;
  RewriteContext lexing = context;
  for (const auto& [path, content] : program.files) {
    hasher.add(path);
    lexing.language = lexing_language(path, context.language);
    hasher.add(lexing.language.empty() ? normalize_source(content) : token_hash(content, lexing));
  }
  hasher.add("\x01" "flags");
  for (const auto& flag : program.flags) hasher.add(flag);
  return hasher.hex();
}

}  // namespace ratchet
