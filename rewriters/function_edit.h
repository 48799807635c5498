// Function edits: replace one function's definition, located by name in the
// clang AST (not by regular expression).
//
// `symbol` is a plain name ("dot"), or qualified ("linalg::Matrix::dot",
// matched as a suffix of the fully qualified name at a `::` boundary). When
// several definitions share the name (overloads), the one whose parameter
// types equal those of `definition` is replaced. The function must lie inside
// an evolvable region (or be named in context.evolvable_functions) and the
// edited file must parse; otherwise the reason, e.g.
//   "no function named 'dott' is defined in kernel.cc (did you mean 'dot'?)"
//   "function 'dot' (lines 3-9) is outside the evolvable regions (lines 12-30)"
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "rewriters/rewrite_context.h"

namespace ratchet {

Result<std::string> replace_function(const std::string& file, const std::string& text,
                                     const std::string& symbol, const std::string& definition,
                                     const RewriteContext& context);

struct FunctionInfo {
  std::string name;       // fully qualified
  std::string signature;  // "int dot(const int *, const int *, int)"
  unsigned begin_line = 0, end_line = 0;
  bool evolvable = false;
};

// The function definitions of `file` (template instantiations excluded).
Result<std::vector<FunctionInfo>> list_functions(const std::string& file, const std::string& text,
                                                 const RewriteContext& context);

}  // namespace ratchet
