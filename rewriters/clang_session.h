// Private to rewriters/*.cc (it includes clang headers; no header outside
// rewriters/ may include it): the cached parser every AST-aware rewriter
// goes through.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <clang/AST/ASTContext.h>
#include <llvm/ADT/StringRef.h>

#include "common/result.h"
#include "rewriters/clang_parse.h"
#include "rewriters/rewrite_context.h"

namespace clang {
class CompilerInstance;
class Decl;
class SourceManager;
}  // namespace clang

namespace ratchet::clang_session {

// One parse of a file: its AST (valid only inside with_ast's `visit`), the
// main file's top-level declarations and the errors clang reported.
class Unit {
 public:
  clang::ASTContext& getASTContext() const;
  clang::SourceManager& getSourceManager() const;
  // The absolute path the file was parsed as (main_path).
  llvm::StringRef getMainFileName() const { return main_; }

 private:
  friend struct Parser;
  clang::CompilerInstance* compiler_ = nullptr;
  std::string main_;
  std::vector<clang::Decl*> top_level_;       // every top-level declaration parsed
  std::vector<SourceDiagnostic> diagnostics_;  // errors; `file` as clang names it
  bool may_be_reference_ = false;  // no #include outside the preamble (Parser::remember)
  friend std::vector<SourceDiagnostic> errors(const Unit&, const std::string&);
  friend std::vector<clang::Decl*> main_file_decls(Unit&);
};

// The absolute path `file` is parsed as (context.directory / file).
std::string main_path(const std::string& file, const RewriteContext& context);

// Parses `text` as `file` in full (with the cached precompiled preamble of the
// file and flags) and calls `visit` with the unit while holding the cache's
// lock; the unit is only valid inside `visit`. An error only when clang could
// not build an AST at all (a driver error); parse errors are in the unit's
// diagnostics (see errors()).
//
// With Bodies::kChangedOnly the parse may skip the function bodies that are
// unchanged from the last text that parsed in full (docs/rewriters.md): the
// errors are the same as a full parse's, but those functions have no body
// in the AST (their source range ends at the declarator).
enum class Bodies { kAll, kChangedOnly };
Status with_ast(const std::string& file, const std::string& text, const RewriteContext& context,
                const std::function<void(Unit&)>& visit, Bodies bodies = Bodies::kAll);

// The unit's errors, the main file shown as `display_name`.
std::vector<SourceDiagnostic> errors(const Unit& unit, const std::string& display_name);

// The unit's top-level declarations that are in the main file.
std::vector<clang::Decl*> main_file_decls(Unit& unit);

// Formats at most `limit` diagnostics, one per line.
std::string format(const std::vector<SourceDiagnostic>& diagnostics, size_t limit = 20);

}  // namespace ratchet::clang_session
