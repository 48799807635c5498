// What the AST-aware rewriters need to know about a task to parse its
// sources the way its build does. Plain C++: the clang code stays behind the
// rewriters' .cc files.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/program.h"
#include "common/result.h"

namespace ratchet {

struct RewriteContext {
  std::string language = "c++";     // "c" or "c++" (anything else is parsed as C++)
  std::vector<std::string> flags;   // compile flags: the task's fixed flags + the program's
                                    // flags. Only those that change how a file parses are
                                    // passed to clang (-D -U -I -isystem -iquote -include
                                    // -std= -march= -mtune= -m<feature> -ffast-math
                                    // -fopenmp); optimization and gcc-only flags are dropped.
  std::string compiler;             // the task's compiler ("gcc", "clang-19" …): picks the
                                    // pragma dialect of the loop transforms
  std::filesystem::path directory;  // where the sources live (resolves "local.h"
                                    // includes); empty = the current directory
  // Functions that are evolvable as a whole besides EVOLVE-BLOCK regions
  // (task.json's evolvable functions, when a task names them).
  std::vector<std::string> evolvable_functions;
  // Re-parse the results of text edits (diff, rewrite) too. Off by default so
  // that code fragments in tests need not be whole programs; a campaign sets it.
  bool validate = false;
  // Lowers a source file of a program to textual LLVM IR (a build step: the
  // caller runs the compiler in the sandbox, e.g. evaluators' lower_to_ir).
  // Needed by the first `ir` edit of a file; unset, such an edit is refused.
  std::function<Result<std::string>(const Program& program, const std::string& source)>
      lower_to_ir;
};

}  // namespace ratchet
