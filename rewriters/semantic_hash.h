// Cheap semantic dedupe: a program's hash over what the compiler sees, so
// that a candidate differing from an evaluated one only in layout or comments
// is not built again.
#pragma once

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
std::string semantic_hash(const Program& program, const RewriteContext& context);

}  // namespace ratchet
