// Private to rewriters/*.cc (it includes clang headers; no header outside
// rewriters/ may include it): the cached parser every AST-aware rewriter
// goes through.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <clang/Frontend/ASTUnit.h>

#include "common/result.h"
#include "rewriters/clang_parse.h"
#include "rewriters/rewrite_context.h"

namespace ratchet::clang_session {

// The absolute path `file` is parsed as (context.directory / file).
std::string main_path(const std::string& file, const RewriteContext& context);

// Parses `text` as `file` (a cached ASTUnit per file and flags, reparsed with
// its precompiled preamble) and calls `visit` with the unit while holding the
// cache's lock; the unit is only valid inside `visit`. An error only when
// clang could not build an AST at all (a driver error); parse errors are in
// the unit's diagnostics (see errors()).
Status with_ast(const std::string& file, const std::string& text, const RewriteContext& context,
                const std::function<void(clang::ASTUnit&)>& visit);

// The unit's errors, the main file shown as `display_name`.
std::vector<SourceDiagnostic> errors(const clang::ASTUnit& unit, const std::string& display_name);

// The unit's top-level declarations that are in the main file.
std::vector<clang::Decl*> main_file_decls(clang::ASTUnit& unit);

// Formats at most `limit` diagnostics, one per line.
std::string format(const std::vector<SourceDiagnostic>& diagnostics, size_t limit = 20);

}  // namespace ratchet::clang_session
