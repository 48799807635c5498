// Cheap semantic dedupe: a program's hash over what the compiler sees, so
// that a candidate differing from an evaluated one only in layout or comments
// is not built again.
#pragma once

#include <functional>
#include <string>

#include "common/program.h"
#include "rewriters/rewrite_context.h"

namespace ratchet {

// 16 hex digits over every file of `program` (its path, then the clang token
// stream of a C or C++ file, see token_hash: comments and whitespace dropped,
// line ends kept only around preprocessor directives; any other file, IR
// included, as normalize_source text) and the program's flags in order.
// `context` gives the task's language (a ".c" file is always C) and -std.
// Equal hashes mean equal token streams, not equivalent programs: a renamed
// variable hashes differently. Well under a millisecond per 1,000 lines.
// In-process: lexes with clang (links the clang library, ratchet_clang).
std::string semantic_hash(const Program& program, const RewriteContext& context);

// The token hash of one C or C++ file's text; `lexing` is the caller's
// context with `language` set to the file's ("c" or "c++").
using TokenHasher =
    std::function<std::string(const std::string& text, const RewriteContext& lexing)>;

// The same hash with the token hashes from `token_hash` (clang-free: the
// controller passes the rewriter worker's token hashes, cached).
std::string semantic_hash(const Program& program, const RewriteContext& context,
                          const TokenHasher& token_hash);

// The language a file of `program` is lexed as ("c", "c++"), or "" for a file
// that is not C or C++ (hashed as normalize_source text).
std::string lexing_language(const std::string& path, const std::string& task_language);

}  // namespace ratchet
