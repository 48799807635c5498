// Applying an Edit to a parent Program: the child, or the reason why not
// (the reason is recorded with the refused candidate and shown to proposers).
#pragma once

#include "common/program.h"
#include "common/result.h"
#include "rewriters/flag_genome.h"
#include "rewriters/plain_edit.h"
#include "rewriters/rewrite_context.h"

namespace ratchet {

// The rewriter table: flags → the flag genome, and, when `edit.text` is not
// empty, the pass-pipeline genome: the pipeline (checked by the pass builder's
// parser first) goes into the program file kPipelineFile ("none" removes
// it; common/program_files.h); diff, rewrite → SEARCH/REPLACE
// and region rewrites (search_replace.h), re-parsed by clang when
// `context.validate` is set; function → replace_function (function_edit.h);
// transform → apply_rule, or apply_builtin when the edit's text is
// {"builtin": "NAME"} (transform_rule.h); ir → replace_ir_function (llvm_ir.h)
// on the source's IR (the program's SOURCE.ll, or `context.lower_to_ir` of the
// source), parsed and verified; the child carries SOURCE.ll, which the
// builder compiles in the source's place. A source built from its IR refuses
// source edits. Function and transform edits always parse the file with
// `context`'s flags.
Result<Program> apply_edit(const Program& parent, const Edit& edit,
                           const std::vector<Gene>& genes, const RewriteContext& context = {});

}  // namespace ratchet
