// The rewriters the engine calls, run in the rewriter worker
// (engine/rewriter_client.h): the same names and arguments as the in-process
// functions of rewriters/ (apply_edit.h, semantic_hash.h, clang_parse.h,
// transform_rule.h, function_edit.h, llvm_ir.h), in namespace remote, so a
// call site changes by its prefix only. What needs no clang stays in this
// process: flag edits without a pass pipeline, rule JSON (parse_rule),
// SEARCH/REPLACE text, and the semantic hash of files whose token hash is
// cached (per content hash), so a flag-only campaign never starts the worker.
//
// When the worker fails (crashed, stalled, garbled), each call returns the
// reason as its error: an edit is refused with it and the campaign goes on.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "common/program.h"
#include "common/result.h"
#include "rewriters/flag_genome.h"
#include "rewriters/plain_edit.h"
#include "rewriters/rewrite_context.h"
#include "rewriters/transform_rule.h"

namespace ratchet::remote {

// apply_edit.h. An ir edit of a source without its IR is lowered here first
// (`context.lower_to_ir` runs in the sandbox), then the module travels.
Result<Program> apply_edit(const Program& parent, const Edit& edit,
                           const std::vector<Gene>& genes, const RewriteContext& context = {});

// semantic_hash.h. Token hashes are cached per (language, -std flags, file
// content); a file whose token hash the worker could not give is hashed as
// normalize_source text (not cached), so the dedupe goes on without it.
std::string semantic_hash(const Program& program, const RewriteContext& context);

// clang_parse.h
Status validate_source(const std::string& file, const std::string& text,
                       const RewriteContext& context);

// transform_rule.h
Status check_matcher(const std::string& match);
Result<std::string> apply_rule(const std::string& file, const std::string& text,
                               const TransformRule& rule, const RewriteContext& context);
Result<std::string> apply_builtin(const std::string& name, const std::string& file,
                                  const std::string& text, const RewriteContext& context);
// Asked once (then kept); empty when the worker cannot be asked.
const std::vector<BuiltinTransform>& builtin_transforms();

// function_edit.h
Result<std::string> replace_function(const std::string& file, const std::string& text,
                                     const std::string& symbol, const std::string& definition,
                                     const RewriteContext& context);

// llvm_ir.h
Result<int> verify_ir(const std::string& module_text);
Status check_pipeline(const std::string& pipeline);
Result<std::string> run_pipeline(const std::string& module_text, const std::string& pipeline);
// `rng` advances exactly as the in-process mutate_pipeline's would. When the
// worker fails, `pipeline` unchanged (the proposer then has nothing to offer).
std::string mutate_pipeline(const std::string& pipeline, std::mt19937_64& rng);

}  // namespace ratchet::remote
