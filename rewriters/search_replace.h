// SEARCH/REPLACE diffs and whole-region rewrites, parsed from an LLM's answer
// and applied to one file's evolvable regions. Plain C++: no clang.
//
// The diff format is the one AlphaEvolve and OpenEvolve ask models for:
//
//   <<<<<<< SEARCH
//       total += v * v % 7919;
//   =======
//       total += (v * v) % 7919u;
//   >>>>>>> REPLACE
//
// Blocks may sit inside or outside code fences, among prose. Marker lines may
// carry surrounding blanks and 5 to 9 marker characters.
//
// Matching, per block, against the *original* text (never a half-edited one):
//   1. exact: the SEARCH text occurs byte for byte;
//   2. tolerant: line by line, ignoring each line's leading and trailing
//      blanks and '\r' (indentation drift, tabs vs spaces, CRLF, trailing
//      blanks); the REPLACE lines are re-indented by the same drift.
// A match found in two places is ambiguous and refused, whichever level
// found it. Then: a block that matches nowhere fails the whole edit; two
// blocks whose matches overlap fail it; a match outside the EVOLVE-BLOCK
// regions fails it; an edit that leaves the file unchanged fails it. Every
// refusal is an exact, stable message (pinned by tests) because it goes back
// into the next prompt.
//
// Worked example: the file holds "\tx = 1;\n" in a region and the SEARCH is
// "    x = 1;" (spaces). Exact matching fails; tolerant matching compares
// "x = 1;" with "x = 1;" and matches line 1; a REPLACE of "    x = 2;" is
// re-indented from "    " to "\t" and the file becomes "\tx = 2;\n".
#pragma once

#include <string>
#include <vector>

#include "common/program.h"
#include "common/result.h"

namespace ratchet {

struct SearchReplaceBlock {
  std::string search;
  std::string replace;
};

// The blocks of an answer, in order. Errors: no block at all, a block
// without its ======= or >>>>>>> REPLACE line, an empty SEARCH section.
Result<std::vector<SearchReplaceBlock>> parse_search_replace(const std::string& answer);

// The blocks back in canonical text form (what an Edit of kind diff holds).
std::string format_search_replace(const std::vector<SearchReplaceBlock>& blocks);

// `text` (the content of `file`, named in messages) with every block applied.
Result<std::string> apply_search_replace(const std::string& text, const std::string& file,
                                         const std::vector<SearchReplaceBlock>& blocks);

// The code of a whole-region rewrite: the largest fenced block of the answer
// (``` or ~~~, any info string); marker lines EVOLVE-BLOCK-START/END, when the
// model repeated them, are dropped together with what lies outside them.
Result<std::string> parse_rewrite(const std::string& answer);

// `text` with region `region` (0-based) replaced by `body`.
Result<std::string> apply_region_rewrite(const std::string& text, const std::string& file,
                                         int region, const std::string& body);

// An Edit from a raw answer: kind diff when the answer holds a SEARCH marker,
// kind rewrite of `region` when it holds a fenced block, otherwise the reason.
Result<Edit> edit_from_answer(const std::string& answer, const std::string& file, int region);

// diff and rewrite edits: the child program, or the exact reason why not.
Result<Program> apply_text_edit(const Program& parent, const Edit& edit);

}  // namespace ratchet
