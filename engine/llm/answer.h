// An LLM's answer as an Edit. A model may answer in any of three forms, and
// the prompt (prompt.h) offers them all:
//
//   1. SEARCH/REPLACE blocks against the file's evolvable regions;
//   2. a transform rule: a JSON object with "name", "match" (a clang-query
//      matcher) and "replace" (a template over the bound nodes), alone or in
//      a fenced block, e.g.
//        ```json
//        {"name": "square", "match": "callExpr(...).bind(\"c\")", "replace": "..."}
//        ```
//   3. the whole new text of the first evolvable region in a fenced block.
//
// SEARCH markers win over everything (they are what the prompt asks for
// first); then a fenced or bare JSON object that holds a "match" key is a
// rule; anything else fenced is a region rewrite. A rule is only checked for
// its keys here; applying it (apply_edit) parses the matcher and the code, and
// its refusals name the parser's message and position.
#pragma once

#include <string>

#include "common/program.h"
#include "common/result.h"

namespace ratchet::llm {

// The Edit for `file` (and `region`, for rewrites), or the exact reason why
// the answer holds none; the reason goes back into the next prompt.
Result<Edit> edit_from_llm_answer(const std::string& answer, const std::string& file, int region);

}  // namespace ratchet::llm
