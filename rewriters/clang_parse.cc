// AST validation with a cached precompiled preamble, and the token hash.
//
// One Session is kept per (file, clang arguments): the driver's invocation,
// a clang::PrecompiledPreamble of the file's leading #include block (built
// on the first parse, in memory, reused while the block and its headers are
// unchanged, as clangd does), and a reference: the last text that parsed in
// full without errors, with the offsets of its function bodies. Validating a
// text that differs from the reference only inside some of those bodies
// parses it with the unchanged bodies skipped (FrontendOptions::
// SkipFunctionBodies with a consumer that names them); docs/rewriters.md
// says why that refuses exactly what a full parse refuses, and when it falls
// back to one.
#include "rewriters/clang_session.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_set>

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/Decl.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/DeclFriend.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/LangOptions.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/CompilerInvocation.h>
#include <clang/Frontend/FrontendAction.h>
#include <clang/Frontend/PrecompiledPreamble.h>
#include <clang/Frontend/Utils.h>
#include <clang/Lex/Lexer.h>
#include <clang/Lex/MacroInfo.h>
#include <clang/Lex/PPCallbacks.h>
#include <clang/Lex/Preprocessor.h>
#include <clang/Lex/PreprocessorOptions.h>
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

// Errors as clang reports them (warnings and notes are not kept), their
// presumed locations resolved at once.
class ErrorCollector : public clang::DiagnosticConsumer {
 public:
  std::vector<SourceDiagnostic> errors;

  void HandleDiagnostic(clang::DiagnosticsEngine::Level level,
                        const clang::Diagnostic& info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level < clang::DiagnosticsEngine::Error) return;
    SourceDiagnostic diagnostic;
    diagnostic.severity = level == clang::DiagnosticsEngine::Fatal ? "fatal error" : "error";
    llvm::SmallString<256> message;
    info.FormatDiagnostic(message);
    diagnostic.message = message.str().str();
    if (info.getLocation().isValid() && info.hasSourceManager()) {
      clang::PresumedLoc presumed = info.getSourceManager().getPresumedLoc(info.getLocation());
      if (presumed.isValid()) {
        diagnostic.file = presumed.getFilename();
        diagnostic.line = presumed.getLine();
        diagnostic.column = presumed.getColumn();
      }
    }
    errors.push_back(std::move(diagnostic));
  }
};

// The file system clang sees: the real one, with an empty file overlaid at
// the main file's path (a candidate's text is never on disk, and the driver
// refuses an input it cannot stat; the text itself is remapped over it).
llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> files_for(const std::string& path) {
  auto memory = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  memory->addFile(path, 0, llvm::MemoryBuffer::getMemBuffer(""));
  auto files =
      llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(llvm::vfs::getRealFileSystem());
  files->pushOverlay(memory);
  return files;
}

size_t main_offset(const clang::SourceManager& sm, clang::SourceLocation loc, bool* ok) {
  *ok = false;
  if (loc.isInvalid() || !loc.isFileID()) return 0;
  auto [id, offset] = sm.getDecomposedLoc(loc);
  *ok = id == sm.getMainFileID();
  return offset;
}

// Calls `on_function` for every function definition of the main file that is
// not inside another function: at namespace scope, in classes, friends
// defined in classes (function bodies are not entered).
template <typename F>
void for_each_definition(clang::Decl* decl, const F& on_function) {
  if (auto* friend_decl = llvm::dyn_cast<clang::FriendDecl>(decl)) {
    if (clang::NamedDecl* named = friend_decl->getFriendDecl()) for_each_definition(named, on_function);
    return;
  }
  // Template instantiations are reported as top-level declarations too, at
  // their pattern's location: they are not code of their own.
  if (auto* record = llvm::dyn_cast<clang::CXXRecordDecl>(decl);
      record && record->getTemplateInstantiationPattern()) {
    return;
  }
  if (llvm::isa<clang::NamespaceDecl, clang::LinkageSpecDecl, clang::ExportDecl,
                clang::RecordDecl>(decl)) {
    for (clang::Decl* inner : llvm::cast<clang::DeclContext>(decl)->decls()) {
      for_each_definition(inner, on_function);
    }
    return;
  }
  auto* function = llvm::dyn_cast<clang::FunctionDecl>(decl);
  if (function && function->doesThisDeclarationHaveABody() &&
      !function->getTemplateInstantiationPattern()) {
    on_function(function);
  }
}

// Finds declarations in a function body that redeclare an entity outside
// it (block-scope `extern` variables and function declarations).
class LocalExternFinder : public clang::RecursiveASTVisitor<LocalExternFinder> {
 public:
  bool found = false;
  bool VisitDecl(clang::Decl* decl) {
    if (decl->isLocalExternDecl()) found = true;
    return !found;
  }
};

// A macro expanded inside a changed body whose replacement could end the
// body or open a scope outside it (unbalanced braces), or runs a pragma; or
// a macro defined or undefined there. Either makes skipping unsound.
//
// Also notes any #include the parse itself processes (one the preamble does
// not hold): the reference's bodies were checked against that header's
// contents then, which nothing tracks, so such a text is never a reference.
class MacroWatch : public clang::PPCallbacks {
 public:
  MacroWatch(const clang::SourceManager& sm,
             const std::vector<std::pair<size_t, size_t>>& changed, bool& unsafe, bool& included)
      : sm_(sm), changed_(changed), unsafe_(unsafe), included_(included) {}

  void InclusionDirective(clang::SourceLocation, const clang::Token&, llvm::StringRef, bool,
                          clang::CharSourceRange, clang::OptionalFileEntryRef, llvm::StringRef,
                          llvm::StringRef, const clang::Module*, bool,
                          clang::SrcMgr::CharacteristicKind) override {
    included_ = true;
  }

  void MacroExpands(const clang::Token&, const clang::MacroDefinition& definition,
                    clang::SourceRange range, const clang::MacroArgs*) override {
    const clang::MacroInfo* info = definition.getMacroInfo();
    if (unsafe_ || !info || !in_changed(range.getBegin())) return;
    int depth = 0;
    bool bad = false;
    for (const clang::Token& token : info->tokens()) {
      const clang::IdentifierInfo* id = token.getIdentifierInfo();
      if (token.is(clang::tok::l_brace)) {
        ++depth;
      } else if (token.is(clang::tok::r_brace)) {
        bad = --depth < 0;
      } else if (id && (id->getName() == "_Pragma" || id->getName() == "__pragma")) {
        bad = true;
      }
      if (bad) break;
    }
    if (bad || depth != 0) unsafe_ = true;
  }
  void MacroDefined(const clang::Token& name, const clang::MacroDirective*) override {
    if (in_changed(name.getLocation())) unsafe_ = true;
  }
  void MacroUndefined(const clang::Token& name, const clang::MacroDefinition&,
                      const clang::MacroDirective*) override {
    if (in_changed(name.getLocation())) unsafe_ = true;
  }

 private:
  bool in_changed(clang::SourceLocation loc) const {
    bool ok = false;
    size_t offset = main_offset(sm_, sm_.getExpansionLoc(loc), &ok);
    if (!ok) return false;
    return std::any_of(changed_.begin(), changed_.end(), [&](const auto& range) {
      return offset >= range.first && offset < range.second;
    });
  }
  const clang::SourceManager& sm_;
  const std::vector<std::pair<size_t, size_t>>& changed_;
  bool& unsafe_;
  bool& included_;
};

// The offset one past the '}' that closes the body opening at text[begin],
// found with clang's raw lexer (comments, strings and character literals
// are skipped); nullopt when the braces do not balance. `risky` is set when
// the body holds a preprocessor directive other than a loop pragma, or
// _Pragma / __COUNTER__.
std::optional<size_t> body_end(const std::string& text, size_t begin,
                               const clang::LangOptions& language, bool& risky) {
  risky = false;
  if (begin >= text.size() || text[begin] != '{') return std::nullopt;
  const char* start = text.data();
  clang::Lexer lexer(clang::SourceLocation(), language, start, start + begin, start + text.size());
  int depth = 0;
  std::vector<std::string> directive;  // the words of the current directive line
  bool in_directive = false;
  auto end_directive = [&] {
    if (!in_directive) return;
    in_directive = false;
    auto word = [&](size_t i) { return i < directive.size() ? directive[i] : std::string(); };
    bool loop_pragma =
        word(0) == "pragma" &&
        (word(1) == "unroll" || word(1) == "nounroll" || word(1) == "omp" ||
         (word(1) == "GCC" && (word(2) == "unroll" || word(2) == "ivdep")) ||
         (word(1) == "clang" && word(2) == "loop"));
    if (!loop_pragma) risky = true;
  };
  clang::Token token;
  while (true) {
    lexer.LexFromRawLexer(token);
    if (token.is(clang::tok::eof)) return std::nullopt;
    size_t offset = token.getLocation().getRawEncoding();
    std::string_view spelling(start + offset, token.getLength());
    if (token.isAtStartOfLine()) end_directive();
    if (token.is(clang::tok::hash) && token.isAtStartOfLine()) {
      in_directive = true;
      directive.clear();
      continue;
    }
    if (in_directive && directive.size() < 3) directive.emplace_back(spelling);
    if (token.is(clang::tok::raw_identifier) &&
        (spelling == "_Pragma" || spelling == "__pragma" || spelling == "__COUNTER__")) {
      risky = true;
    }
    if (token.is(clang::tok::l_brace)) ++depth;
    if (token.is(clang::tok::r_brace) && --depth == 0) {
      end_directive();
      return offset + 1;
    }
  }
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

std::vector<SourceDiagnostic> errors(const Unit& unit, const std::string& display_name) {
  std::vector<SourceDiagnostic> out = unit.diagnostics_;
  for (auto& diagnostic : out) {
    if (diagnostic.file.empty() || diagnostic.file == unit.main_) diagnostic.file = display_name;
  }
  return out;
}

std::vector<clang::Decl*> main_file_decls(Unit& unit) {
  std::vector<clang::Decl*> decls;
  const clang::SourceManager& sm = unit.getSourceManager();
  for (clang::Decl* decl : unit.top_level_) {
    clang::SourceLocation loc = sm.getExpansionLoc(decl->getLocation());
    if (sm.isInMainFile(loc)) decls.push_back(decl);
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

clang::ASTContext& Unit::getASTContext() const { return compiler_->getASTContext(); }
clang::SourceManager& Unit::getSourceManager() const { return compiler_->getSourceManager(); }

// The cache and the parse itself. One Session per (file, clang arguments):
// the driver's invocation (made once), the precompiled preamble, and the
// reference text for skipping unchanged function bodies.
struct Parser {
  // A function body of the reference text that a later parse may skip when
  // it is unchanged: a definition that is not a template (nor in one), not
  // constexpr/consteval, without a deduced return type; offsets in the text.
  struct Body {
    size_t name;   // the function's name
    size_t begin;  // its '{'
    size_t end;    // one past its '}'
  };
  // How a parse skips bodies: the name offsets (in the new text) of the
  // functions whose bodies are skipped, and the new text's changed bodies.
  struct SkipPlan {
    std::unordered_set<size_t> skip;
    std::vector<std::pair<size_t, size_t>> changed;
  };
  struct Session {
    std::string key;
    std::string path;
    std::shared_ptr<clang::CompilerInvocation> invocation;
    std::optional<clang::PrecompiledPreamble> preamble;
    std::string preamble_text;  // the bytes the preamble was last built (or failed) for
    bool preamble_failed = false;
    // The last text that parsed in full without errors, and its bodies.
    bool has_reference = false;
    std::string reference;
    std::vector<Body> bodies;
  };
  struct Cache {
    std::mutex mutex;
    std::list<Session> sessions;  // most recently used first
    ParseStats stats;
    std::shared_ptr<clang::PCHContainerOperations> pch =
        std::make_shared<clang::PCHContainerOperations>();
  };
  // A task has few files, so a short list suffices.
  static constexpr size_t kMaxSessions = 8;

  static Cache& cache() {
    static Cache instance;
    return instance;
  }

  static Result<Session*> session(Cache& c, const std::string& file,
                                  const RewriteContext& context) {
    std::string path = main_path(file, context);
    std::vector<std::string> args = clang_parse_args(context);
    std::string key = path;
    for (const auto& arg : args) key += '\0' + arg;
    auto found = std::find_if(c.sessions.begin(), c.sessions.end(),
                              [&](const Session& s) { return s.key == key; });
    if (found != c.sessions.end()) {
      c.sessions.splice(c.sessions.begin(), c.sessions, found);
      return &c.sessions.front();
    }
    std::vector<const char*> argv{RATCHET_CLANG_BINARY};
    for (const auto& arg : args) argv.push_back(arg.c_str());
    argv.push_back(path.c_str());
    ErrorCollector driver_errors;
    clang::CreateInvocationOptions options;
    options.Diags = clang::CompilerInstance::createDiagnostics(new clang::DiagnosticOptions(),
                                                               &driver_errors, false);
    options.VFS = files_for(path);
    std::shared_ptr<clang::CompilerInvocation> invocation =
        clang::createInvocation(argv, std::move(options));
    if (!invocation || !driver_errors.errors.empty()) {
      std::string why = format(driver_errors.errors);
      return fail("clang could not parse " + file + (why.empty() ? "" : ": " + why));
    }
    Session s;
    s.key = key;
    s.path = path;
    s.invocation = std::move(invocation);
    c.sessions.push_front(std::move(s));
    if (c.sessions.size() > kMaxSessions) c.sessions.pop_back();
    return &c.sessions.front();
  }

  // The action of one parse: records the top-level declarations, skips the
  // bodies the plan names, watches macros in the changed bodies.
  class Consumer : public clang::ASTConsumer {
   public:
    Consumer(Unit& unit, const SkipPlan* plan) : unit_(unit), plan_(plan) {}
    bool HandleTopLevelDecl(clang::DeclGroupRef group) override {
      for (clang::Decl* decl : group) unit_.top_level_.push_back(decl);
      return true;
    }
    bool shouldSkipFunctionBody(clang::Decl* decl) override {
      if (!plan_) return false;
      const clang::FunctionDecl* function = decl->getAsFunction();
      if (!function || function->isTemplated() || function->isConstexpr()) return false;
      bool ok = false;
      size_t offset = main_offset(unit_.getSourceManager(), function->getLocation(), &ok);
      return ok && plan_->skip.count(offset) > 0;
    }

   private:
    Unit& unit_;
    const SkipPlan* plan_;
  };
  class Action : public clang::ASTFrontendAction {
   public:
    Action(Unit& unit, const SkipPlan* plan, bool& unsafe, bool& included)
        : unit_(unit), plan_(plan), unsafe_(unsafe), included_(included) {}
    std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance&,
                                                          llvm::StringRef) override {
      return std::make_unique<Consumer>(unit_, plan_);
    }
    bool BeginSourceFileAction(clang::CompilerInstance& compiler) override {
      compiler.getPreprocessor().addPPCallbacks(std::make_unique<MacroWatch>(
          compiler.getSourceManager(), plan_ ? plan_->changed : no_changes_, unsafe_,
          included_));
      return true;
    }

   private:
    Unit& unit_;
    const SkipPlan* plan_;
    bool& unsafe_;
    bool& included_;
    const std::vector<std::pair<size_t, size_t>> no_changes_;
  };

  // Parses `text` (skipping the bodies `plan` names, if any) and calls
  // `visit(unit, sound)`; `sound` is false when a skipping parse found that
  // the changed bodies could reach outside themselves (the caller then
  // parses in full). A skipping parse whose preamble cannot be reused (a
  // header changed, or the #include block did) returns without calling
  // `visit`: the reference was checked against the old headers.
  static Status parse(Cache& c, Session& s, const std::string& text, const SkipPlan* plan,
                      const std::function<void(Unit&, bool)>& visit) {
    auto invocation = std::make_shared<clang::CompilerInvocation>(*s.invocation);
    std::unique_ptr<llvm::MemoryBuffer> buffer = llvm::MemoryBuffer::getMemBuffer(text, s.path);
    llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> files = files_for(s.path);
    clang::PreambleBounds bounds =
        clang::ComputePreambleBounds(invocation->getLangOpts(), *buffer, 0);
    bool use_preamble = false, reused = false;
    if (bounds.Size > 0) {
      if (s.preamble && s.preamble->CanReuse(*invocation, *buffer, bounds, *files)) {
        use_preamble = reused = true;
      } else if (!s.preamble_failed || text.compare(0, bounds.Size, s.preamble_text) != 0) {
        // Build (or rebuild) the preamble. One with errors is not used: the
        // file is then parsed whole every time, and reports them.
        s.preamble.reset();
        s.preamble_text = text.substr(0, bounds.Size);
        ErrorCollector preamble_errors;
        auto engine = clang::CompilerInstance::createDiagnostics(
            &invocation->getDiagnosticOpts(), &preamble_errors, false);
        clang::PreambleCallbacks callbacks;
        auto built = clang::PrecompiledPreamble::Build(
            *invocation, buffer.get(), bounds, *engine, files, c.pch,
            /*StoreInMemory=*/true, /*StoragePath=*/"", callbacks);
        s.preamble_failed = !built || !preamble_errors.errors.empty();
        if (!s.preamble_failed) {
          s.preamble.emplace(std::move(*built));
          use_preamble = true;
        }
      }
      if (!use_preamble || !reused) s.has_reference = false;
      if (plan && !s.has_reference) return Ok{};
    }
    if (use_preamble) {
      s.preamble->AddImplicitPreamble(*invocation, files, buffer.get());
    } else {
      invocation->getPreprocessorOpts().addRemappedFile(s.path, buffer.get());
    }
    invocation->getPreprocessorOpts().RetainRemappedFileBuffers = true;  // `buffer` owns it
    invocation->getFrontendOpts().DisableFree = false;
    invocation->getFrontendOpts().SkipFunctionBodies = plan != nullptr;

    ErrorCollector collector;
    clang::CompilerInstance compiler(c.pch);
    compiler.setInvocation(invocation);
    compiler.createDiagnostics(&collector, /*ShouldOwnClient=*/false);
    compiler.createFileManager(files);
    if (!compiler.createTarget()) {
      return fail("clang could not parse " + s.path + ": " + format(collector.errors));
    }
    Unit unit;
    unit.compiler_ = &compiler;
    unit.main_ = s.path;
    bool unsafe = false, included = false;
    Action action(unit, plan, unsafe, included);
    if (!action.BeginSourceFile(compiler, compiler.getFrontendOpts().Inputs[0])) {
      return fail("clang could not parse " + s.path + ": " + format(collector.errors));
    }
    if (llvm::Error error = action.Execute()) {
      std::string why = llvm::toString(std::move(error));
      action.EndSourceFile();
      return fail("clang could not parse " + s.path + ": " + why);
    }
    unit.diagnostics_ = collector.errors;
    if (plan && !unsafe) unsafe = declares_outside(unit, *plan);
    if (plan) {
      ++c.stats.skipping;
      c.stats.bodies_skipped += plan->skip.size();
      if (unsafe) ++c.stats.redone;
    } else {
      ++c.stats.full;
    }
    unit.may_be_reference_ = !included && (bounds.Size == 0 || use_preamble);
    visit(unit, !unsafe);
    action.EndSourceFile();
    return Ok{};
  }

  // Whether a changed body redeclares something outside itself (a
  // block-scope extern variable or function declaration).
  static bool declares_outside(Unit& unit, const SkipPlan& plan) {
    const clang::SourceManager& sm = unit.getSourceManager();
    bool found = false;
    for (clang::Decl* decl : main_file_decls(unit)) {
      for_each_definition(decl, [&](clang::FunctionDecl* function) {
        bool ok = false;
        size_t offset = main_offset(sm, function->getBody() ? function->getBody()->getBeginLoc()
                                                            : clang::SourceLocation(),
                                    &ok);
        if (found || !ok) return;
        bool changed = std::any_of(plan.changed.begin(), plan.changed.end(),
                                   [&](const auto& range) { return range.first == offset; });
        if (!changed) return;
        LocalExternFinder finder;
        finder.TraverseDecl(function);
        found = finder.found;
      });
    }
    return found;
  }

  // Keeps `text`, which parsed in full without errors, as the reference for
  // skipping, with its skippable bodies.
  static void remember(Session& s, const std::string& text, Unit& unit) {
    if (!unit.may_be_reference_) {
      s.has_reference = false;
      return;
    }
    const clang::SourceManager& sm = unit.getSourceManager();
    std::vector<Body> bodies;
    for (clang::Decl* decl : main_file_decls(unit)) {
      for_each_definition(decl, [&](clang::FunctionDecl* function) {
        auto* body = llvm::dyn_cast_or_null<clang::CompoundStmt>(function->getBody());
        if (!body || function->isTemplated() || function->isConstexpr() ||
            function->isDefaulted() || function->getReturnType()->getContainedDeducedType()) {
          return;
        }
        bool name_ok = false, begin_ok = false, end_ok = false;
        Body b;
        b.name = main_offset(sm, function->getLocation(), &name_ok);
        b.begin = main_offset(sm, body->getLBracLoc(), &begin_ok);
        b.end = main_offset(sm, body->getRBracLoc(), &end_ok) + 1;
        if (!name_ok || !begin_ok || !end_ok || b.name >= b.begin || b.end > text.size() ||
            text[b.begin] != '{' || text[b.end - 1] != '}') {
          return;
        }
        bodies.push_back(b);
      });
    }
    std::sort(bodies.begin(), bodies.end(),
              [](const Body& a, const Body& b) { return a.begin < b.begin; });
    s.bodies.clear();
    for (const Body& b : bodies) {
      if (!s.bodies.empty() && b.begin < s.bodies.back().end) continue;
      s.bodies.push_back(b);
    }
    s.reference = text;
    s.has_reference = true;
  }

  // The plan for parsing `text` with the bodies that are unchanged from the
  // reference skipped, or nullopt when `text` differs from the reference
  // anywhere but inside those bodies (or a changed body is risky).
  static std::optional<SkipPlan> plan(const Session& s, const std::string& text) {
    if (!s.has_reference || s.bodies.empty()) return std::nullopt;
    const std::string& ref = s.reference;
    const clang::LangOptions& language = s.invocation->getLangOpts();
    SkipPlan plan;
    size_t at_ref = 0, at_text = 0;
    for (const Body& b : s.bodies) {
      size_t gap = b.begin - at_ref;
      if (at_text + gap > text.size() || text.compare(at_text, gap, ref, at_ref, gap) != 0) {
        return std::nullopt;
      }
      at_text += gap;
      bool risky = false;
      std::optional<size_t> end = body_end(text, at_text, language, risky);
      if (!end) return std::nullopt;
      size_t length = *end - at_text;
      if (length == b.end - b.begin && text.compare(at_text, length, ref, b.begin, length) == 0) {
        plan.skip.insert(b.name + at_text - b.begin);  // the name is in the unchanged gap
      } else {
        if (risky) return std::nullopt;
        plan.changed.emplace_back(at_text, *end);
      }
      at_ref = b.end;
      at_text = *end;
    }
    if (text.size() - at_text != ref.size() - at_ref ||
        text.compare(at_text, std::string::npos, ref, at_ref, std::string::npos) != 0) {
      return std::nullopt;
    }
    if (plan.skip.empty()) return std::nullopt;
    return plan;
  }
};

Status with_ast(const std::string& file, const std::string& text, const RewriteContext& context,
                const std::function<void(Unit&)>& visit, Bodies bodies) {
  Parser::Cache& c = Parser::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  Result<Parser::Session*> s = Parser::session(c, file, context);
  if (!s) return fail(s.error());
  if (bodies == Bodies::kChangedOnly) {
    if (std::optional<Parser::SkipPlan> plan = Parser::plan(**s, text)) {
      bool done = false;
      Status parsed = Parser::parse(c, **s, text, &*plan, [&](Unit& unit, bool sound) {
        if (!sound) return;
        visit(unit);
        done = true;
      });
      if (!parsed || done) return parsed;
    }
  }
  return Parser::parse(c, **s, text, nullptr, [&](Unit& unit, bool) {
    if (errors(unit, file).empty()) Parser::remember(**s, text, unit);
    visit(unit);
  });
}

// Validation: a parse that skips the bodies unchanged from the reference
// when that is sound (docs/rewriters.md), in full otherwise.
static std::vector<SourceDiagnostic> diagnose(const std::string& file, const std::string& text,
                                              const RewriteContext& context) {
  std::vector<SourceDiagnostic> out;
  Status parsed = with_ast(
      file, text, context, [&](Unit& unit) { out = errors(unit, file); }, Bodies::kChangedOnly);
  if (!parsed) out.push_back({file, 0, 0, "error", parsed.error()});
  return out;
}

void clear_sessions() {
  Parser::Cache& c = Parser::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.sessions.clear();
  c.stats = ParseStats{};
}

ParseStats stats() {
  Parser::Cache& c = Parser::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

}  // namespace clang_session

std::vector<SourceDiagnostic> diagnose_source(const std::string& file, const std::string& text,
                                              const RewriteContext& context) {
  return clang_session::diagnose(file, text, context);
}

Status validate_source(const std::string& file, const std::string& text,
                       const RewriteContext& context) {
  std::vector<SourceDiagnostic> diagnostics = diagnose_source(file, text, context);
  if (diagnostics.empty()) return Ok{};
  return fail(clang_session::format(diagnostics));
}

void clear_parse_cache() { clang_session::clear_sessions(); }

ParseStats parse_stats() { return clang_session::stats(); }

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
