// AST validation: an edited source file is parsed by clang with the task's
// flags before anything is built, and refused with clang's own diagnostics
// when it does not parse. Parsed files are cached per (file, flags), and
// their #include preamble is precompiled after the first parse (as clangd
// does), so validating another candidate of the same task re-parses only the
// file's own code: tens of milliseconds instead of hundreds for a file that
// includes <vector> and <string>.
//
// Thread-safe: the cache is guarded by one mutex (parses are serialized).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "rewriters/rewrite_context.h"

namespace ratchet {

struct SourceDiagnostic {
  std::string file;  // as given for the main file, the header's path otherwise
  unsigned line = 0;
  unsigned column = 0;
  std::string severity;  // "error" or "fatal error"
  std::string message;

  // "kernel.c:12:5: error: use of undeclared identifier 'x'"
  std::string to_string() const;
};

// The errors clang reports for `text` parsed as `file` (relative to
// context.directory); empty when it parses. Warnings are not reported.
std::vector<SourceDiagnostic> diagnose_source(const std::string& file, const std::string& text,
                                              const RewriteContext& context);

// Ok when `text` parses; otherwise the error is the diagnostics, one per line
// ("kernel.c:12:5: error: …"), at most 20 of them.
Status validate_source(const std::string& file, const std::string& text,
                       const RewriteContext& context);

// The clang command line used for parsing (after the driver name), for logs
// and tests: the kept flags, -x, -resource-dir, -fsyntax-only.
std::vector<std::string> clang_parse_args(const RewriteContext& context);

// Cheap semantic dedupe: a 16-hex-digit hash of `text`'s token stream, lexed
// by clang's raw lexer (comments and whitespace dropped, no preprocessing), so
// programs that differ only in layout or comments hash the same. The
// language and -std in `context` choose the keyword set.
std::string token_hash(const std::string& text, const RewriteContext& context);

// Drops every cached parse (tests and benchmarks use it to time a first parse).
void clear_parse_cache();

}  // namespace ratchet
