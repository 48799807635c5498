// AST validation with a cached precompiled preamble, and the token hash.
//
// One ASTUnit is kept per (file, clang arguments). The first parse builds the
// AST and precompiles the file's preamble (its leading #include block) in
// memory; later parses of another version of the file go through
// ASTUnit::Reparse with the new text remapped over the file, which reuses the
// preamble as long as the #include block is unchanged, so only the file's own
// code is parsed again.
#include "rewriters/clang_session.h"

#include <algorithm>
#include <list>
#include <mutex>

#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/LangOptions.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Lex/Lexer.h>
#include <clang/Serialization/PCHContainerOperations.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/VirtualFileSystem.h>

#include "common/hash.h"
#include "rewriters/semantic_hash.h"

namespace ratchet {

namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Flags that change how a file preprocesses or parses; everything else
// (optimization, code generation, gcc-only flags clang would reject) is dropped.
bool keeps_flag(const std::string& flag) {
  static const char* const kPrefixes[] = {"-D", "-U", "-I", "-std=", "-march=", "-mtune=",
                                          "-mcpu=", "-mavx", "-msse", "-mfma", "-mbmi",
                                          "-mno-avx", "-mno-sse", "-mno-fma"};
  static const char* const kExact[] = {"-ffast-math", "-fopenmp",    "-fopenmp-simd",
                                       "-fno-rtti",   "-fno-exceptions", "-funsigned-char",
                                       "-fsigned-char", "-pthread"};
  for (const char* prefix : kPrefixes) {
    if (starts_with(flag, prefix)) return true;
  }
  return std::find(std::begin(kExact), std::end(kExact), flag) != std::end(kExact);
}

bool takes_argument(const std::string& flag) {
  return flag == "-isystem" || flag == "-iquote" || flag == "-include" || flag == "-I" ||
         flag == "-D" || flag == "-U";
}

struct Entry {
  std::string key;
  llvm::IntrusiveRefCntPtr<clang::DiagnosticsEngine> diagnostics;
  std::unique_ptr<clang::ASTUnit> unit;
};

// Most recently used first; a task has few files, so a short list suffices.
constexpr size_t kMaxUnits = 8;

struct Cache {
  std::mutex mutex;
  std::list<Entry> entries;
  std::shared_ptr<clang::PCHContainerOperations> pch = std::make_shared<clang::PCHContainerOperations>();
};

Cache& cache() {
  static Cache instance;
  return instance;
}

}  // namespace

std::string SourceDiagnostic::to_string() const {
  if (line == 0) return file + ": " + severity + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + severity +
         ": " + message;
}

std::vector<std::string> clang_parse_args(const RewriteContext& context) {
  std::vector<std::string> args;
  const auto& flags = context.flags;
  for (size_t i = 0; i < flags.size(); ++i) {
    const std::string& flag = flags[i];
    if (takes_argument(flag) && i + 1 < flags.size()) {
      std::string value = flags[++i];
      if ((flag == "-I" || flag == "-isystem" || flag == "-iquote") && !context.directory.empty() &&
          !value.empty() && value[0] != '/') {
        value = (context.directory / value).string();
      }
      args.push_back(flag);
      args.push_back(value);
    } else if (keeps_flag(flag)) {
      if (starts_with(flag, "-I") && flag.size() > 2 && flag[2] != '/' &&
          !context.directory.empty()) {
        args.push_back("-I" + (context.directory / flag.substr(2)).string());
      } else {
        args.push_back(flag);
      }
    }
  }
  args.insert(args.end(), {"-x", context.language == "c" ? "c" : "c++", "-fsyntax-only",
                           "-resource-dir", RATCHET_CLANG_RESOURCE_DIR});
  // The templates the headers use are instantiated once, into the preamble,
  // instead of at the end of every re-parse (clang defers them out of a PCH
  // by default): that was most of a re-validation's cost.
  if (context.language != "c") args.push_back("-fpch-instantiate-templates");
  return args;
}

namespace clang_session {

std::string main_path(const std::string& file, const RewriteContext& context) {
  std::filesystem::path path(file);
  if (path.is_absolute()) return path.lexically_normal().string();
  std::filesystem::path dir =
      context.directory.empty() ? std::filesystem::current_path() : context.directory;
  return std::filesystem::absolute(dir / path).lexically_normal().string();
}

std::vector<SourceDiagnostic> errors(const clang::ASTUnit& unit,
                                     const std::string& display_name) {
  std::vector<SourceDiagnostic> out;
  std::string main = unit.getMainFileName().str();
  for (auto it = unit.stored_diag_begin(); it != unit.stored_diag_end(); ++it) {
    if (it->getLevel() < clang::DiagnosticsEngine::Error) continue;
    SourceDiagnostic diagnostic;
    diagnostic.severity =
        it->getLevel() == clang::DiagnosticsEngine::Fatal ? "fatal error" : "error";
    diagnostic.message = it->getMessage().str();
    diagnostic.file = display_name;
    const clang::FullSourceLoc& loc = it->getLocation();
    if (loc.isValid() && loc.hasManager()) {
      clang::PresumedLoc presumed = loc.getManager().getPresumedLoc(loc);
      if (presumed.isValid()) {
        std::string name = presumed.getFilename();
        diagnostic.file = name == main ? display_name : name;
        diagnostic.line = presumed.getLine();
        diagnostic.column = presumed.getColumn();
      }
    }
    out.push_back(std::move(diagnostic));
  }
  return out;
}

std::vector<clang::Decl*> main_file_decls(clang::ASTUnit& unit) {
  std::vector<clang::Decl*> decls;
  const clang::SourceManager& sm = unit.getSourceManager();
  for (auto it = unit.top_level_begin(); it != unit.top_level_end(); ++it) {
    clang::SourceLocation loc = sm.getExpansionLoc((*it)->getLocation());
    if (sm.isInMainFile(loc)) decls.push_back(*it);
  }
  return decls;
}

std::string format(const std::vector<SourceDiagnostic>& diagnostics, size_t limit) {
  std::string text;
  for (size_t i = 0; i < diagnostics.size() && i < limit; ++i) {
    if (i) text += "\n";
    text += diagnostics[i].to_string();
  }
  if (diagnostics.size() > limit) {
    text += "\n(" + std::to_string(diagnostics.size() - limit) + " more errors)";
  }
  return text;
}

Status with_ast(const std::string& file, const std::string& text, const RewriteContext& context,
                const std::function<void(clang::ASTUnit&)>& visit) {
  std::string path = main_path(file, context);
  std::vector<std::string> args = clang_parse_args(context);
  std::string key = path;
  for (const auto& arg : args) key += '\0' + arg;

  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto found = std::find_if(c.entries.begin(), c.entries.end(),
                            [&](const Entry& e) { return e.key == key; });
  // The unit owns remapped buffers (it frees them on reparse and destruction).
  clang::ASTUnit::RemappedFile remapped{path,
                                        llvm::MemoryBuffer::getMemBufferCopy(text, path).release()};
  if (found != c.entries.end()) {
    c.entries.splice(c.entries.begin(), c.entries, found);
    Entry& entry = c.entries.front();
    if (!entry.unit->Reparse(c.pch, {remapped})) {
      visit(*entry.unit);
      return Ok{};
    }
    c.entries.pop_front();  // a failed reparse leaves the unit unusable: parse afresh
  }

  std::vector<const char*> argv{RATCHET_CLANG_BINARY};
  for (const auto& arg : args) argv.push_back(arg.c_str());
  argv.push_back(path.c_str());
  Entry entry;
  entry.key = key;
  entry.diagnostics = clang::CompilerInstance::createDiagnostics(new clang::DiagnosticOptions());
  // The main file need not exist on disk (a candidate's text never is), but
  // clang builds a preamble only for a file it can stat: overlay an empty one.
  auto memory = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  memory->addFile(path, 0, llvm::MemoryBuffer::getMemBuffer(""));
  auto files = llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(llvm::vfs::getRealFileSystem());
  files->pushOverlay(memory);
  std::unique_ptr<clang::ASTUnit> failed;
  entry.unit = clang::ASTUnit::LoadFromCommandLine(
      argv.data(), argv.data() + argv.size(), c.pch, entry.diagnostics,
      RATCHET_CLANG_RESOURCE_DIR, /*StorePreamblesInMemory=*/true,
      /*PreambleStoragePath=*/"", /*OnlyLocalDecls=*/false,
      clang::CaptureDiagsKind::AllWithoutNonErrorsFromIncludes, {remapped},
      /*RemappedFilesKeepOriginalName=*/true, /*PrecompilePreambleAfterNParses=*/1,
      clang::TU_Complete, false, false, false, clang::SkipFunctionBodiesScope::None, false,
      false, false, false, std::nullopt, &failed, files);
  if (!entry.unit) {
    std::string why = failed ? format(errors(*failed, file)) : "";
    return fail("clang could not parse " + file + (why.empty() ? "" : ": " + why));
  }
  c.entries.push_front(std::move(entry));
  if (c.entries.size() > kMaxUnits) c.entries.pop_back();
  visit(*c.entries.front().unit);
  return Ok{};
}

}  // namespace clang_session

std::vector<SourceDiagnostic> diagnose_source(const std::string& file, const std::string& text,
                                              const RewriteContext& context) {
  std::vector<SourceDiagnostic> out;
  Status parsed = clang_session::with_ast(
      file, text, context, [&](clang::ASTUnit& unit) { out = clang_session::errors(unit, file); });
  if (!parsed) out.push_back({file, 0, 0, "error", parsed.error()});
  return out;
}

Status validate_source(const std::string& file, const std::string& text,
                       const RewriteContext& context) {
  std::vector<SourceDiagnostic> diagnostics = diagnose_source(file, text, context);
  if (diagnostics.empty()) return Ok{};
  return fail(clang_session::format(diagnostics));
}

void clear_parse_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.entries.clear();
}

std::string token_hash(const std::string& text, const RewriteContext& context) {
  clang::LangOptions options;
  if (context.language == "c") {
    options.C99 = options.C11 = options.C17 = true;
  } else {
    options.CPlusPlus = options.CPlusPlus11 = options.CPlusPlus14 = options.CPlusPlus17 =
        options.CPlusPlus20 = true;
  }
  for (const auto& flag : context.flags) {
    if (flag == "-std=c89" || flag == "-std=c90" || flag == "-std=gnu89") options.C99 = false;
  }
  options.LineComment = true;
  options.Bool = true;
  const char* begin = text.data();
  clang::Lexer lexer(clang::SourceLocation(), options, begin, begin, begin + text.size());
  lexer.SetCommentRetentionState(false);
  Hasher hasher;
  hasher.add(context.language == "c" ? "c" : "c++");
  clang::Token token;
  bool in_directive = false;
  while (true) {
    bool at_end = lexer.LexFromRawLexer(token);
    if (token.is(clang::tok::eof)) break;
    // Line ends matter only around preprocessor directives: `#define N 1`
    // then `int x;` is not `#define N 1 int x;`.
    if (token.isAtStartOfLine() && (in_directive || token.is(clang::tok::hash))) {
      hasher.add("\n");
      in_directive = token.is(clang::tok::hash);
    }
    // Raw lexing from an invalid file location: the raw encoding is the offset.
    size_t offset = token.getLocation().getRawEncoding();
    hasher.add(std::string_view(begin + offset, token.getLength()));
    if (at_end) break;
  }
  return hasher.hex();
}

}  // namespace ratchet

namespace ratchet {

std::string semantic_hash(const Program& program, const RewriteContext& context) {
  return semantic_hash(program, context, token_hash);
}

}  // namespace ratchet
