// AST validation: an edited source file is parsed by clang with the task's
// flags before anything is built, and refused with clang's own diagnostics
// when it does not parse. Parses are cached per (file, flags): the file's
// #include preamble is precompiled on the first parse (as clangd does), and
// a text that differs from the last one that parsed only inside some
// function bodies is re-parsed with the other bodies skipped, so validating
// another candidate of the same task parses little more than the edit.
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

// Drops every cached parse and resets parse_stats() (tests and benchmarks use
// it to time a first parse).
void clear_parse_cache();

// What validation did since the last clear_parse_cache(), for tests and
// benchmarks: parses in full, parses that skipped the function bodies
// unchanged from the last text that parsed in full (docs/rewriters.md), how
// many bodies those skipped, and skipping parses that found the edit could
// reach outside its bodies and were redone in full.
struct ParseStats {
  unsigned long full = 0;
  unsigned long skipping = 0;
  unsigned long bodies_skipped = 0;
  unsigned long redone = 0;
};
ParseStats parse_stats();

}  // namespace ratchet
