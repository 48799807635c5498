// The LLVM IR and pass-pipeline genomes.
//
// IR genome: an evolvable function is lowered to textual IR (a build step, so
// the caller runs ir_lowering_command() in the sandbox); a proposer answers with
// the function's new definition, which replace_ir_function() splices into the
// module, parses with LLVM's parser and checks with the IR verifier before
// anything is built.
//
// Pass-pipeline genome: an `opt` pipeline in the new pass manager's syntax
// ("function(sroa,instcombine),default<O2>"), mutated by inserting, deleting,
// replacing and swapping top-level passes; every pipeline is checked with
// PassBuilder::parsePassPipeline before use.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "common/result.h"
#include "rewriters/rewrite_context.h"

namespace ratchet {

// Parses and verifies a module. Errors quote LLVM: "3:12: error: expected type"
// (line:column of the parser) or "verifier: Instruction does not dominate all uses! …".
// On success, the number of function definitions.
Result<int> verify_ir(const std::string& module_text);

// The argv that lowers `source` to unoptimized but optimizable textual IR
// (clang -S -emit-llvm -O2 -Xclang -disable-llvm-passes): run it in the sandbox.
std::vector<std::string> ir_lowering_command(const std::string& clang, const std::string& source,
                                             const std::string& output,
                                             const RewriteContext& context);

// The text of the definition of `symbol` in the module ("define … { … }"): an
// exact IR name, or a C++ name matched against the demangled names.
Result<std::string> extract_ir_function(const std::string& module_text, const std::string& symbol);

// The module with `symbol`'s definition replaced by `definition` (a complete
// `define` of the same name and type); parsed and verified.
Result<std::string> replace_ir_function(const std::string& module_text,
                                        const std::string& symbol,
                                        const std::string& definition);

// Ok when `pipeline` parses as a module pipeline; otherwise the pass builder's
// message, e.g. "unknown pass name 'instcombin'".
Status check_pipeline(const std::string& pipeline);

// Runs `pipeline` on the module and returns the optimized module text.
Result<std::string> run_pipeline(const std::string& module_text, const std::string& pipeline);

// The top-level elements of a pipeline: "function(a,b),default<O2>" →
// {"function(a,b)", "default<O2>"}.
std::vector<std::string> split_pipeline(const std::string& pipeline);

// The passes mutate_pipeline draws from.
const std::vector<std::string>& pipeline_vocabulary();

// One mutation of `pipeline` (insert, delete, replace or swap a top-level
// element), checked with check_pipeline; an empty pipeline grows one pass.
std::string mutate_pipeline(const std::string& pipeline, std::mt19937_64& rng);

}  // namespace ratchet
