// Transform rules, the built-in codified transforms and function edits: the
// AST-matching rewriters, in one translation unit because each file that
// includes clang's matcher headers costs 40-50 s to compile.
//
// Every rewrite follows the same recipe:
//   1. parse the file (cached, with its preamble: clang_session.h);
//   2. run a Transformer rule (a matcher parsed at run time by clang's
//      dynamic matcher parser, plus an edit generator: a `${name}` template or
//      a small hand-written one) over the main file's declarations;
//   3. keep the changes inside the evolvable regions (a change that crosses a
//      region boundary refuses the rule), apply them to the text;
//   4. re-parse the result; built-ins drop the matches whose result does not
//      parse, one at a time, user rules are refused with clang's diagnostics.
//
// Worked example: the rule {"match": "callExpr(callee(functionDecl(
// hasName(\"::pow\"))), hasArgument(0, expr().bind(\"x\")), hasArgument(1,
// integerLiteral(equals(2))))", "replace": "(${x} * ${x})"} on
// `y = pow(a[i], 2);` inside a region yields one change, (offset of `pow`,
// length 12) → "(a[i] * a[i])", and the text `y = (a[i] * a[i]);`.
#include <algorithm>
#include <map>
#include <set>

#include <clang/AST/ASTContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/Dynamic/Diagnostics.h>
#include <clang/ASTMatchers/Dynamic/Parser.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Lex/Lexer.h>
#include <clang/Tooling/Transformer/RangeSelector.h>
#include <clang/Tooling/Transformer/RewriteRule.h>
#include <clang/Tooling/Transformer/Stencil.h>
#include <clang/Tooling/Transformer/Transformer.h>
#include <fmt/format.h>

#include "common/regions.h"
#include "common/text.h"
#include "rewriters/clang_session.h"
#include "rewriters/function_edit.h"
#include "rewriters/transform_rule.h"

namespace ratchet {

namespace {

using clang::ast_matchers::MatchFinder;
using clang::ast_matchers::internal::DynTypedMatcher;
namespace dynamic = clang::ast_matchers::dynamic;
namespace tf = clang::transformer;

// ---------------------------------------------------------------------------
// Evolvable spans and text edits

struct Span {
  size_t begin = 0, end = 0;  // byte offsets; an insertion at `end` is inside
  std::string label;          // "lines 3-9" or "function 'dot'"
};

size_t line_of(const std::string& text, size_t offset) {
  return 1 + std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n');
}

struct Replacement {
  size_t offset = 0, length = 0;
  std::string text;
  bool operator<(const Replacement& o) const {
    return std::tie(offset, length, text) < std::tie(o.offset, o.length, o.text);
  }
  bool operator==(const Replacement& o) const = default;
};
using Group = std::vector<Replacement>;  // the replacements of one match

bool inside(const Replacement& r, const Span& s) {
  return r.offset >= s.begin && r.offset + r.length <= s.end;
}
bool overlaps(const Replacement& r, const Span& s) {
  if (r.length == 0) return r.offset > s.begin && r.offset < s.end;
  return r.offset < s.end && r.offset + r.length > s.begin;
}

// Applies non-overlapping replacements (insertions at one offset keep their order).
Result<std::string> apply_replacements(const std::string& text, std::vector<Replacement> all) {
  std::stable_sort(all.begin(), all.end(), [](const Replacement& a, const Replacement& b) {
    return a.offset < b.offset;
  });
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::string out;
  size_t at = 0;
  for (const auto& r : all) {
    if (r.offset < at) {
      return fail(fmt::format("two rewrites overlap at line {}", line_of(text, r.offset)));
    }
    out.append(text, at, r.offset - at);
    out += r.text;
    at = r.offset + r.length;
  }
  out.append(text, at, std::string::npos);
  return out;
}

std::string spans_label(const std::vector<Span>& spans) {
  std::vector<std::string> labels;
  for (const auto& s : spans) labels.push_back(s.label);
  return labels.empty() ? "none" : join(labels, ", ");
}

// The fully qualified name matches `symbol` exactly or as a `::` suffix.
bool name_matches(const std::string& qualified, std::string symbol) {
  if (symbol.rfind("::", 0) == 0) symbol = symbol.substr(2);
  if (qualified == symbol) return true;
  return qualified.size() > symbol.size() + 2 &&
         qualified.compare(qualified.size() - symbol.size(), symbol.size(), symbol) == 0 &&
         qualified.compare(qualified.size() - symbol.size() - 2, 2, "::") == 0;
}

// File offsets of a declaration's full text, or nullopt inside a macro.
std::optional<std::pair<size_t, size_t>> decl_offsets(const clang::Decl* decl,
                                                      const clang::SourceManager& sm,
                                                      const clang::LangOptions& lang) {
  clang::SourceRange range = decl->getSourceRange();
  if (range.getBegin().isMacroID() || range.getEnd().isMacroID()) return std::nullopt;
  clang::SourceLocation end = clang::Lexer::getLocForEndOfToken(range.getEnd(), 0, sm, lang);
  if (!sm.isInMainFile(range.getBegin()) || !sm.isInMainFile(end)) return std::nullopt;
  return std::make_pair<size_t, size_t>(sm.getFileOffset(range.getBegin()),
                                        sm.getFileOffset(end));
}

// Function definitions of the main file (template patterns, not instantiations).
struct FunctionSite {
  const clang::FunctionDecl* decl = nullptr;
  std::string name;  // fully qualified
  std::vector<std::string> params;  // canonical parameter types
  std::string signature;
  size_t begin = 0, end = 0;
};

class FunctionCollector : public clang::RecursiveASTVisitor<FunctionCollector> {
 public:
  FunctionCollector(clang::ASTContext& context) : context_(context) {}
  bool shouldVisitTemplateInstantiations() const { return false; }
  bool VisitFunctionDecl(clang::FunctionDecl* fd) {
    if (!fd->isThisDeclarationADefinition() || fd->isImplicit()) return true;
    const clang::Decl* outer = fd;
    if (auto* tmpl = fd->getDescribedFunctionTemplate()) outer = tmpl;
    auto offsets = decl_offsets(outer, context_.getSourceManager(), context_.getLangOpts());
    if (!offsets) return true;
    FunctionSite site;
    site.decl = fd;
    site.name = fd->getQualifiedNameAsString();
    std::vector<std::string> shown;
    for (const auto* p : fd->parameters()) {
      site.params.push_back(p->getType().getCanonicalType().getAsString());
      shown.push_back(p->getType().getAsString());
    }
    site.signature = site.name + "(" + join(shown, ", ") + ")";
    site.begin = offsets->first;
    site.end = offsets->second;
    sites.push_back(std::move(site));
    return true;
  }
  std::vector<FunctionSite> sites;

 private:
  clang::ASTContext& context_;
};

std::vector<FunctionSite> collect_functions(clang_session::Unit& unit) {
  FunctionCollector collector(unit.getASTContext());
  for (clang::Decl* decl : clang_session::main_file_decls(unit)) collector.TraverseDecl(decl);
  return collector.sites;
}

// Marker regions, plus the definitions of functions the context names.
Result<std::vector<Span>> evolvable_spans(const std::string& text, const RewriteContext& context,
                                          const std::vector<FunctionSite>& functions) {
  auto regions = find_regions(text);
  if (!regions) return fail(regions.error());
  std::vector<Span> spans;
  for (const auto& r : *regions) {
    spans.push_back({r.begin, r.end, fmt::format("lines {}-{}", r.start_line, r.end_line)});
  }
  for (const auto& name : context.evolvable_functions) {
    for (const auto& f : functions) {
      if (name_matches(f.name, name)) spans.push_back({f.begin, f.end, "function '" + f.name + "'"});
    }
  }
  return spans;
}

// ---------------------------------------------------------------------------
// Running a Transformer rule

Result<DynTypedMatcher> parse_matcher(const std::string& match) {
  llvm::StringRef code(match);
  dynamic::Diagnostics diagnostics;
  std::optional<DynTypedMatcher> matcher =
      dynamic::Parser::parseMatcherExpression(code, &diagnostics);
  if (!matcher) {
    std::string why = diagnostics.toStringFull();
    if (why.empty()) why = "the expression is not a matcher";
    return fail("bad matcher: " + why);
  }
  if (!matcher->tryBind(tf::RootID)) {
    return fail("bad matcher: its top-level matcher cannot bind a node (use a node matcher "
                "such as callExpr(...), forStmt(...) or functionDecl(...))");
  }
  return *matcher;
}

struct RuleRun {
  std::vector<Group> groups;  // inside the regions
  size_t outside = 0;         // matches left alone
};

// Runs `rule` over the main file of `text`; the groups of changes inside the
// evolvable regions, or why not.
Result<RuleRun> run_rule(const std::string& file, const std::string& text,
                         const RewriteContext& context, const tf::RewriteRule& rule,
                         const std::string& rule_name) {
  std::optional<std::string> failure;
  RuleRun run;
  Status parsed = clang_session::with_ast(file, text, context, [&](clang_session::Unit& unit) {
    auto errors = clang_session::errors(unit, file);
    if (!errors.empty()) {
      failure = file + " does not parse before the rewrite:\n" + clang_session::format(errors, 5);
      return;
    }
    std::vector<FunctionSite> functions = collect_functions(unit);
    auto spans = evolvable_spans(text, context, functions);
    if (!spans) {
      failure = spans.error();
      return;
    }
    if (spans->empty()) {
      failure = file + " has no evolvable region (EVOLVE-BLOCK-START/END markers)";
      return;
    }
    std::string main = unit.getMainFileName().str();
    std::vector<Group> groups;
    tf::RewriteRule copy = rule;
    clang::tooling::Transformer transformer(
        std::move(copy),
        [&](llvm::Expected<llvm::MutableArrayRef<clang::tooling::AtomicChange>> changes) {
          if (!changes) {
            if (!failure) failure = llvm::toString(changes.takeError());
            return;
          }
          for (const auto& change : *changes) {
            Group group;
            for (const auto& r : change.getReplacements()) {
              if (r.getFilePath() != main) {
                ++run.outside;  // a header: never rewritten
                group.clear();
                break;
              }
              group.push_back({r.getOffset(), r.getLength(), r.getReplacementText().str()});
            }
            if (!group.empty()) groups.push_back(std::move(group));
          }
        });
    MatchFinder finder;
    transformer.registerMatchers(&finder);
    clang::ASTContext& ast = unit.getASTContext();
    ast.setTraversalScope(clang_session::main_file_decls(unit));
    finder.matchAST(ast);
    // Template instantiations repeat their pattern's matches: keep one of each.
    std::set<Group> seen;
    for (auto& group : groups) {
      std::sort(group.begin(), group.end());
      if (!seen.insert(group).second) continue;
      bool all_inside = true, any_overlap = false;
      for (const auto& r : group) {
        bool in = std::any_of(spans->begin(), spans->end(),
                              [&](const Span& s) { return inside(r, s); });
        all_inside = all_inside && in;
        if (!in && std::any_of(spans->begin(), spans->end(),
                               [&](const Span& s) { return overlaps(r, s); })) {
          any_overlap = true;
        }
      }
      if (any_overlap) {
        failure = fmt::format(
            "rule '{}' rewrites line {}, across the boundary of an evolvable region ({})",
            rule_name, line_of(text, group.front().offset), spans_label(*spans));
        return;
      }
      if (all_inside) {
        run.groups.push_back(group);
      } else {
        ++run.outside;
      }
    }
    if (run.groups.empty() && !failure) {
      failure = run.outside
                    ? fmt::format("rule '{}' matched {} place(s), none inside the evolvable "
                                  "regions ({}) of {}",
                                  rule_name, run.outside, spans_label(*spans), file)
                    : fmt::format("rule '{}' matches nothing in the evolvable regions of {}",
                                  rule_name, file);
    }
  });
  if (!parsed) return fail(parsed.error());
  if (failure) return fail(*failure);
  return run;
}

std::vector<Replacement> flatten(const std::vector<Group>& groups) {
  std::vector<Replacement> all;
  for (const auto& g : groups) all.insert(all.end(), g.begin(), g.end());
  return all;
}

// Applies every group and validates; when `drop_bad` and the result does not
// parse, keeps the groups one at a time, each only if the text still parses.
Result<std::string> apply_groups(const std::string& file, const std::string& text,
                                 const RewriteContext& context, const std::vector<Group>& groups,
                                 bool drop_bad, const std::string& rule_name) {
  auto all = apply_replacements(text, flatten(groups));
  if (!all) return fail(all.error());
  Status valid = validate_source(file, *all, context);
  if (valid) return all;
  if (!drop_bad) {
    return fail(fmt::format("rule '{}' produced code that does not parse:\n{}", rule_name,
                            valid.error()));
  }
  constexpr size_t kMaxTries = 32;
  std::vector<Group> kept;
  std::string current = text;
  for (size_t i = 0; i < groups.size() && i < kMaxTries; ++i) {
    std::vector<Group> trial = kept;
    trial.push_back(groups[i]);
    auto candidate = apply_replacements(text, flatten(trial));
    if (!candidate || !validate_source(file, *candidate, context)) continue;
    kept = std::move(trial);
    current = std::move(*candidate);
  }
  if (kept.empty()) {
    return fail(fmt::format("transform '{}': every rewrite it found fails to parse, e.g.\n{}",
                            rule_name, valid.error()));
  }
  return current;
}

// `${name}` → the bound node's source text; `$$` → `$`.
Result<std::vector<tf::Stencil>> parse_template(const std::string& replace,
                                                std::vector<std::string>* names) {
  std::vector<tf::Stencil> parts;
  std::string literal;
  for (size_t i = 0; i < replace.size(); ++i) {
    if (replace[i] == '$' && i + 1 < replace.size() && replace[i + 1] == '$') {
      literal += '$';
      ++i;
    } else if (replace[i] == '$' && i + 1 < replace.size() && replace[i + 1] == '{') {
      size_t close = replace.find('}', i);
      if (close == std::string::npos) {
        return fail(fmt::format("replace: '${{' at offset {} is never closed", i));
      }
      std::string name = replace.substr(i + 2, close - i - 2);
      bool identifier = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                        std::all_of(name.begin(), name.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                        });
      if (!identifier) {
        return fail(fmt::format("replace: '${{' at offset {} must be followed by a node name and "
                                "'}}'",
                                i));
      }
      if (!literal.empty()) parts.push_back(tf::detail::makeStencil(llvm::StringRef(literal)));
      literal.clear();
      parts.push_back(tf::detail::makeStencil(tf::node(name)));
      names->push_back(name);
      i = close;
    } else {
      literal += replace[i];
    }
  }
  if (!literal.empty()) parts.push_back(tf::detail::makeStencil(llvm::StringRef(literal)));
  return parts;
}

// The names a matcher expression binds with .bind("name").
std::set<std::string> bound_names(const std::string& match) {
  std::set<std::string> names;
  for (size_t at = match.find(".bind("); at != std::string::npos;
       at = match.find(".bind(", at + 1)) {
    size_t open = match.find('"', at);
    size_t close = open == std::string::npos ? open : match.find('"', open + 1);
    if (close != std::string::npos) names.insert(match.substr(open + 1, close - open - 1));
  }
  return names;
}

Result<tf::RewriteRule> compile_rule(const TransformRule& rule) {
  auto matcher = parse_matcher(rule.match);
  if (!matcher) return fail(matcher.error());
  std::vector<std::string> names;
  auto parts = parse_template(rule.replace, &names);
  if (!parts) return fail(parts.error());
  std::set<std::string> bound = bound_names(rule.match);
  if (!rule.target.empty()) names.push_back(rule.target);
  for (const auto& name : names) {
    if (!bound.count(name)) {
      std::vector<std::string> known(bound.begin(), bound.end());
      std::string hint = near_miss(name, known);
      return fail(fmt::format(
          "rule '{}' uses '{}', but the matcher binds no node of that name (it binds: {}){}",
          rule.name, name, known.empty() ? "nothing" : join(known, ", "),
          hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }
  tf::Stencil stencil = tf::catVector(std::move(*parts));
  if (rule.target.empty()) return tf::makeRule(std::move(*matcher), tf::changeTo(stencil));
  return tf::makeRule(std::move(*matcher), tf::changeTo(tf::node(rule.target), stencil));
}

// ---------------------------------------------------------------------------
// Hand-written edit generators for the built-ins

using MatchResult = MatchFinder::MatchResult;

tf::Edit insertion(clang::SourceLocation at, std::string text) {
  tf::Edit edit;
  edit.Range = clang::CharSourceRange::getCharRange(at, at);
  edit.Replacement = std::move(text);
  return edit;
}

tf::Edit replacement(clang::SourceRange tokens, std::string text) {
  tf::Edit edit;
  edit.Range = clang::CharSourceRange::getTokenRange(tokens);
  edit.Replacement = std::move(text);
  return edit;
}

std::string source_text(clang::SourceRange range, const MatchResult& m) {
  return clang::Lexer::getSourceText(clang::CharSourceRange::getTokenRange(range),
                                     *m.SourceManager, m.Context->getLangOpts())
      .str();
}

// Where a statement's line starts and its indentation, when the statement is
// the first thing on its line and not in a macro.
struct LineStart {
  clang::SourceLocation location;
  std::string indent;
  std::string previous_line;  // trimmed
};

std::optional<LineStart> line_start(const clang::Stmt* stmt, const MatchResult& m) {
  const clang::SourceManager& sm = *m.SourceManager;
  clang::SourceLocation loc = stmt->getBeginLoc();
  if (loc.isMacroID() || !sm.isInMainFile(loc)) return std::nullopt;
  llvm::StringRef buffer = sm.getBufferData(sm.getFileID(loc));
  size_t offset = sm.getFileOffset(loc);
  size_t start = buffer.rfind('\n', offset == 0 ? 0 : offset - 1);
  start = start == llvm::StringRef::npos ? 0 : start + 1;
  if (offset < start) start = offset;
  llvm::StringRef indent = buffer.slice(start, offset);
  if (indent.find_first_not_of(" \t") != llvm::StringRef::npos) return std::nullopt;
  LineStart out{loc.getLocWithOffset(-static_cast<int>(offset - start)), indent.str(), ""};
  if (start > 0) {
    size_t prev = buffer.rfind('\n', start - 1);
    prev = prev == llvm::StringRef::npos ? 0 : prev + 1;
    out.previous_line = buffer.slice(prev, start - 1).trim().str();
  }
  return out;
}

bool is_ref_to(const clang::Expr* e, const clang::VarDecl* var) {
  if (!e || !var) return false;
  auto* ref = llvm::dyn_cast<clang::DeclRefExpr>(e->IgnoreParenImpCasts());
  return ref && ref->getDecl() == var;
}

// What a loop or function body does, for the conservative safety checks.
class BodyScan : public clang::RecursiveASTVisitor<BodyScan> {
 public:
  explicit BodyScan(const clang::VarDecl* target = nullptr) : target_(target) {}

  bool VisitDeclRefExpr(clang::DeclRefExpr* ref) {
    if (target_ && ref->getDecl() == target_) uses_.push_back(ref);
    return true;
  }
  bool VisitImplicitCastExpr(clang::ImplicitCastExpr* cast) {
    if (cast->getCastKind() != clang::CK_LValueToRValue) return true;
    const clang::Expr* sub = cast->getSubExpr()->IgnoreParens();
    if (auto* member = llvm::dyn_cast<clang::MemberExpr>(sub); member && !member->isArrow()) {
      sub = member->getBase()->IgnoreParenImpCasts();
    }
    approve(sub);
    return true;
  }
  bool VisitCallExpr(clang::CallExpr* call) {
    const clang::FunctionDecl* callee = call->getDirectCallee();
    for (unsigned i = 0; i < call->getNumArgs(); ++i) {
      const clang::Expr* arg = call->getArg(i);
      clang::QualType type = arg->getType();
      if (type->isPointerType()) {
        clang::QualType pointee = type->getPointeeType();
        if (!pointee.isConstQualified() &&
            (pointee->isAnyCharacterType() || pointee->isVoidType())) {
          mutable_char_call = true;
        }
      }
      // Operator calls on members count the object as argument 0.
      unsigned param = i;
      if (auto* op = llvm::dyn_cast<clang::CXXOperatorCallExpr>(call);
          op && llvm::isa_and_nonnull<clang::CXXMethodDecl>(callee)) {
        if (i == 0) {
          auto* method = llvm::cast<clang::CXXMethodDecl>(callee);
          if (method->isConst() || op->getOperator() == clang::OO_Subscript) approve(arg);
          continue;
        }
        param = i - 1;
      }
      if (!callee || param >= callee->getNumParams()) {
        if (!type->isRecordType()) approve(arg);  // variadic: by value
        continue;
      }
      clang::QualType p = callee->getParamDecl(param)->getType();
      if (!p->isReferenceType() || p->getPointeeType().isConstQualified()) approve(arg);
    }
    return true;
  }
  bool VisitCXXMemberCallExpr(clang::CXXMemberCallExpr* call) {
    static const std::set<std::string> kSizeSafe = {
        "size", "empty", "at", "begin", "end", "cbegin", "cend", "data", "front", "back",
        "length", "capacity", "rbegin", "rend"};
    const clang::CXXMethodDecl* method = call->getMethodDecl();
    if (method && (method->isConst() || kSizeSafe.count(method->getNameAsString()))) {
      approve(call->getImplicitObjectArgument());
    }
    if (method && (method->getNameAsString() == "push_back" ||
                   method->getNameAsString() == "emplace_back")) {
      pushes.push_back(call);
    }
    return true;
  }
  bool VisitCXXConstructExpr(clang::CXXConstructExpr* construct) {
    const clang::CXXConstructorDecl* ctor = construct->getConstructor();
    for (unsigned i = 0; i < construct->getNumArgs() && i < ctor->getNumParams(); ++i) {
      clang::QualType p = ctor->getParamDecl(i)->getType();
      if (!p->isReferenceType() || p->getPointeeType().isConstQualified()) {
        approve(construct->getArg(i));
      }
    }
    return true;
  }
  bool VisitBinaryOperator(clang::BinaryOperator* op) {
    if (op->isAssignmentOp() && op->getLHS()->getType()->isAnyCharacterType()) char_write = true;
    return true;
  }
  bool VisitUnaryOperator(clang::UnaryOperator* op) {
    if (op->isIncrementDecrementOp() && op->getSubExpr()->getType()->isAnyCharacterType()) {
      char_write = true;
    }
    if (op->getOpcode() == clang::UO_AddrOf) {
      if (auto* ref = llvm::dyn_cast<clang::DeclRefExpr>(op->getSubExpr()->IgnoreParens())) {
        address_taken.insert(ref->getDecl());
      }
    }
    return true;
  }
  bool VisitLambdaExpr(clang::LambdaExpr*) {
    lambda = true;
    return true;
  }
  bool VisitBreakStmt(clang::BreakStmt*) { return jump(); }
  bool VisitContinueStmt(clang::ContinueStmt*) { return jump(); }
  bool VisitReturnStmt(clang::ReturnStmt*) { return jump(); }
  bool VisitGotoStmt(clang::GotoStmt*) { return jump(); }

  // Every use of the target is a read or a call that cannot change it.
  bool target_unmodified() const {
    return std::all_of(uses_.begin(), uses_.end(),
                       [&](const clang::DeclRefExpr* ref) { return approved_.count(ref); });
  }

  bool char_write = false, mutable_char_call = false, lambda = false, jumps = false;
  std::set<const clang::ValueDecl*> address_taken;
  std::vector<const clang::CXXMemberCallExpr*> pushes;

 private:
  bool jump() {
    jumps = true;
    return true;
  }
  void approve(const clang::Expr* e) {
    if (!e || !target_) return;
    if (auto* ref = llvm::dyn_cast<clang::DeclRefExpr>(e->IgnoreParenImpCasts())) {
      if (ref->getDecl() == target_) approved_.insert(ref);
    }
  }
  const clang::VarDecl* target_;
  std::vector<const clang::DeclRefExpr*> uses_;
  std::set<const clang::DeclRefExpr*> approved_;
};

bool word_in(llvm::StringRef text, const std::string& word) {
  for (size_t at = text.find(word); at != llvm::StringRef::npos; at = text.find(word, at + 1)) {
    auto is_id = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    bool before = at > 0 && is_id(text[at - 1]);
    bool after = at + word.size() < text.size() && is_id(text[at + word.size()]);
    if (!before && !after) return true;
  }
  return false;
}

using Edits = llvm::SmallVector<tf::Edit, 1>;
using Generator = std::function<llvm::Expected<Edits>(const MatchResult&)>;

// Inner loops get a pragma on the line above (unless one is already there).
Generator loop_pragma(std::string pragma) {
  return [pragma](const MatchResult& m) -> llvm::Expected<Edits> {
    const auto* loop = m.Nodes.getNodeAs<clang::Stmt>("loop");
    auto start = line_start(loop, m);
    if (!start || llvm::StringRef(start->previous_line).starts_with("#pragma")) return Edits{};
    return Edits{insertion(start->location, start->indent + pragma + "\n")};
  };
}

// for (...; i < strlen(s) / v.size(); ...) with s/v unchanged by the loop:
// `const size_t s_len = strlen(s);` before the loop, the call replaced.
Generator hoist_bound(bool is_strlen) {
  return [is_strlen](const MatchResult& m) -> llvm::Expected<Edits> {
    const auto* loop = m.Nodes.getNodeAs<clang::ForStmt>("loop");
    const auto* call = m.Nodes.getNodeAs<clang::Expr>("call");
    const auto* var = m.Nodes.getNodeAs<clang::VarDecl>("s");
    auto start = line_start(loop, m);
    if (!start || call->getBeginLoc().isMacroID()) return Edits{};
    BodyScan scan(var);
    scan.TraverseStmt(const_cast<clang::ForStmt*>(loop));
    if (!scan.target_unmodified() || scan.lambda || scan.address_taken.count(var)) {
      return Edits{};
    }
    if (is_strlen && (scan.char_write || scan.mutable_char_call)) return Edits{};
    std::string name = var->getNameAsString() + (is_strlen ? "_len" : "_size");
    if (word_in(m.SourceManager->getBufferData(m.SourceManager->getMainFileID()), name)) {
      return Edits{};  // the name is taken: stay out of the way
    }
    std::string init = is_strlen ? "const size_t " + name + " = " + source_text(call->getSourceRange(), m)
                                 : "const auto " + name + " = " + source_text(call->getSourceRange(), m);
    return Edits{insertion(start->location, start->indent + init + ";\n"),
                 replacement(call->getSourceRange(), name)};
  };
}

// for (T i = 0; i < n; ++i) { ... v.push_back(...); ... } with exactly one
// unconditional push_back on v per iteration and no jumps:
// `if (n > 0) v.reserve(v.size() + n);` before the loop.
Generator reserve_before_push_back() {
  return [](const MatchResult& m) -> llvm::Expected<Edits> {
    const auto* loop = m.Nodes.getNodeAs<clang::ForStmt>("loop");
    const auto* bound = m.Nodes.getNodeAs<clang::Expr>("n");
    const auto* vec = m.Nodes.getNodeAs<clang::VarDecl>("v");
    auto start = line_start(loop, m);
    if (!start || bound->HasSideEffects(*m.Context) || bound->getBeginLoc().isMacroID()) {
      return Edits{};
    }
    if (start->previous_line.find(".reserve(") != std::string::npos) return Edits{};
    BodyScan scan;
    scan.TraverseStmt(const_cast<clang::Stmt*>(loop->getBody()));
    if (scan.jumps || scan.lambda || scan.pushes.size() != 1) return Edits{};
    // The one push_back is a direct statement of the body, not conditional.
    const clang::Stmt* body = loop->getBody();
    const clang::Stmt* push = scan.pushes.front();
    bool direct = body == push;
    if (auto* block = llvm::dyn_cast<clang::CompoundStmt>(body)) {
      direct = std::any_of(block->body_begin(), block->body_end(),
                           [&](const clang::Stmt* s) {
                             auto* e = llvm::dyn_cast<clang::Expr>(s);
                             return s == push || (e && e->IgnoreImplicit() == push);
                           });
    }
    if (!direct || !is_ref_to(scan.pushes.front()->getImplicitObjectArgument(), vec)) {
      return Edits{};
    }
    std::string n = source_text(bound->getSourceRange(), m);
    if (!llvm::isa<clang::DeclRefExpr, clang::IntegerLiteral>(bound->IgnoreParenImpCasts())) {
      n = "(" + n + ")";
    }
    std::string v = vec->getNameAsString();
    return Edits{insertion(start->location, fmt::format("{}if ({} > 0) {}.reserve({}.size() + {});\n",
                                                        start->indent, n, v, v, n))};
  };
}

bool large_by_value(const clang::ParmVarDecl* p, const clang::ASTContext& ast) {
  clang::QualType type = p->getType();
  if (type->isReferenceType() || type->isDependentType() || !type->isRecordType()) return false;
  if (type->isIncompleteType()) return false;
  return !type.isTriviallyCopyableType(ast) || ast.getTypeSize(type) > 16 * 8;
}

// Large by-value class parameters that the function only reads become
// `const T&`. Only definitions with no other declaration (a prototype would
// then declare another overload); results that do not parse (the body
// modifies the parameter) are dropped by the caller.
Generator const_ref_params() {
  return [](const MatchResult& m) -> llvm::Expected<Edits> {
    const auto* fn = m.Nodes.getNodeAs<clang::FunctionDecl>("fn");
    if (fn->getPreviousDecl() || fn->isMain() || !fn->getBody()) return Edits{};
    if (auto* method = llvm::dyn_cast<clang::CXXMethodDecl>(fn); method && method->isVirtual()) {
      return Edits{};
    }
    // A by-value copy protects the body from writes through aliases: give
    // up when another parameter could reach a caller's object.
    for (const auto* p : fn->parameters()) {
      clang::QualType type = p->getType();
      if ((type->isReferenceType() || type->isPointerType()) &&
          !type->getPointeeType().isConstQualified()) {
        return Edits{};
      }
    }
    BodyScan scan;
    scan.TraverseStmt(fn->getBody());
    Edits edits;
    for (const auto* p : fn->parameters()) {
      if (!large_by_value(p, *m.Context) || scan.address_taken.count(p)) continue;
      clang::TypeLoc loc = p->getTypeSourceInfo()->getTypeLoc();
      clang::SourceRange range = loc.getSourceRange();
      if (range.getBegin().isMacroID() || range.getEnd().isMacroID()) continue;
      if (!p->getType().isConstQualified()) edits.push_back(insertion(range.getBegin(), "const "));
      clang::SourceLocation end = clang::Lexer::getLocForEndOfToken(
          range.getEnd(), 0, *m.SourceManager, m.Context->getLangOpts());
      edits.push_back(insertion(end, "&"));
    }
    return edits;
  };
}

// Two or more pointer parameters, at least one written through, none whose
// address is taken: each gets __restrict__. The promise that they do not
// alias is checked by the task's verifier, not proven here.
Generator restrict_params() {
  return [](const MatchResult& m) -> llvm::Expected<Edits> {
    const auto* fn = m.Nodes.getNodeAs<clang::FunctionDecl>("fn");
    if (!fn->getBody()) return Edits{};
    std::vector<const clang::ParmVarDecl*> pointers;
    bool writes = false;
    for (const auto* p : fn->parameters()) {
      clang::QualType type = p->getType();
      if (!type->isPointerType() || type->getPointeeType()->isFunctionType()) continue;
      if (type.isRestrictQualified()) return Edits{};
      pointers.push_back(p);
      writes = writes || !type->getPointeeType().isConstQualified();
    }
    if (pointers.size() < 2 || !writes) return Edits{};
    BodyScan scan;
    scan.TraverseStmt(fn->getBody());
    Edits edits;
    for (const auto* p : pointers) {
      if (scan.address_taken.count(p)) return Edits{};
      auto loc = p->getTypeSourceInfo()->getTypeLoc().getAs<clang::PointerTypeLoc>();
      if (!loc || loc.getStarLoc().isMacroID()) return Edits{};
      clang::SourceLocation after = loc.getStarLoc().getLocWithOffset(1);
      const char* next = m.SourceManager->getCharacterData(after);
      edits.push_back(insertion(after, *next == ' ' ? " __restrict__" : "__restrict__ "));
    }
    return edits;
  };
}

// A built-in: a matcher plus either a template or a hand-written generator.
struct BuiltinSpec {
  BuiltinTransform info;
  std::string match;
  std::string replace;  // template (when `generator` is empty)
  std::string target;
  std::function<Generator(const RewriteContext&)> generator;
};

// Inner loops: for loops with no loop inside.
constexpr const char* kInnerFor =
    "forStmt(unless(hasDescendant(forStmt())), unless(hasDescendant(whileStmt())), "
    "unless(hasDescendant(doStmt()))).bind(\"loop\")";

const std::vector<BuiltinSpec>& builtin_specs() {
  static const std::vector<BuiltinSpec> specs = {
      {{"restrict-pointer-params",
        "add __restrict__ to the pointer parameters of functions with two or more pointer "
        "parameters (one written through), none of whose addresses is taken",
        false},
       "functionDecl(isDefinition(), unless(isImplicit())).bind(\"fn\")",
       "",
       "",
       [](const RewriteContext&) { return restrict_params(); }},
      {{"unroll-inner-loops", "put `#pragma GCC unroll 4` on innermost for loops", false},
       kInnerFor,
       "",
       "",
       [](const RewriteContext&) { return loop_pragma("#pragma GCC unroll 4"); }},
      {{"vectorize-inner-loops",
        "put a vectorization pragma on innermost for loops (`#pragma GCC ivdep` for gcc, "
        "`#pragma clang loop vectorize(enable) interleave(enable)` for clang)",
        false},
       kInnerFor,
       "",
       "",
       [](const RewriteContext& context) {
         bool clang = context.compiler.find("clang") != std::string::npos;
         return loop_pragma(clang ? "#pragma clang loop vectorize(enable) interleave(enable)"
                                  : "#pragma GCC ivdep");
       }},
      {{"hoist-strlen",
        "compute strlen(s) once before a for loop whose condition calls it, when the loop "
        "never changes s or writes any char",
        false},
       "forStmt(hasParent(compoundStmt()), hasCondition(binaryOperator(hasAnyOperatorName(\"<\", "
       "\"<=\", \"!=\"), hasRHS(ignoringParenImpCasts(callExpr(callee(functionDecl(hasName("
       "\"strlen\"))), hasArgument(0, ignoringParenImpCasts(declRefExpr(to(varDecl("
       "hasLocalStorage()).bind(\"s\")))))).bind(\"call\")))))).bind(\"loop\")",
       "",
       "",
       [](const RewriteContext&) { return hoist_bound(true); }},
      {{"hoist-size",
        "compute v.size() once before a for loop whose condition calls it, when the loop only "
        "reads v (const calls, element access)",
        true},
       "forStmt(hasParent(compoundStmt()), hasCondition(binaryOperator(hasAnyOperatorName(\"<\", "
       "\"<=\", \"!=\"), hasRHS(ignoringParenImpCasts(cxxMemberCallExpr(callee(cxxMethodDecl("
       "hasAnyName(\"size\", \"length\"))), on(ignoringParenImpCasts(declRefExpr(to(varDecl("
       "hasLocalStorage()).bind(\"s\")))))).bind(\"call\")))))).bind(\"loop\")",
       "",
       "",
       [](const RewriteContext&) { return hoist_bound(false); }},
      {{"reserve-before-push-back",
        "reserve a std::vector's capacity before a counted for loop that push_backs into it "
        "once per iteration",
        true},
       "forStmt(hasParent(compoundStmt()), hasLoopInit(declStmt(hasSingleDecl(varDecl("
       "hasInitializer(ignoringParenImpCasts(integerLiteral(equals(0)))))))), "
       "hasCondition(binaryOperator(hasOperatorName(\"<\"), hasRHS(expr().bind(\"n\")))), "
       "hasBody(hasDescendant(cxxMemberCallExpr(callee(cxxMethodDecl(hasAnyName(\"push_back\", "
       "\"emplace_back\"), ofClass(hasName(\"::std::vector\")))), "
       "on(ignoringParenImpCasts(declRefExpr(to(varDecl(hasLocalStorage()).bind(\"v\"))))))))"
       ").bind(\"loop\")",
       "",
       "",
       [](const RewriteContext&) { return reserve_before_push_back(); }},
      {{"endl-to-newline", "replace `<< std::endl` with `<< '\\n'` (no flush per line)", true},
       "cxxOperatorCallExpr(hasOverloadedOperatorName(\"<<\"), hasArgument(1, "
       "ignoringImplicit(declRefExpr(to(functionDecl(hasName(\"::std::endl\")))).bind(\"endl\")"
       ")))",
       "'\\n'",
       "endl",
       nullptr},
      {{"pow-square", "replace pow(x, 2) with (x * x) for a double variable or member x", false},
       "callExpr(callee(functionDecl(hasAnyName(\"::pow\", \"::std::pow\"))), "
       "argumentCountIs(2), hasArgument(0, ignoringParenImpCasts(expr(anyOf(declRefExpr(), "
       "memberExpr()), hasType(asString(\"double\"))).bind(\"x\"))), hasArgument(1, "
       "ignoringParenImpCasts(anyOf(integerLiteral(equals(2)), floatLiteral(equals(2.0))))))",
       "(${x} * ${x})",
       "",
       nullptr},
      {{"const-ref-params",
        "pass large or non-trivially-copyable class parameters that the function only reads "
        "as const references",
        true},
       "functionDecl(isDefinition(), unless(isImplicit()), unless(isTemplateInstantiation()))"
       ".bind(\"fn\")",
       "",
       "",
       [](const RewriteContext&) { return const_ref_params(); }},
  };
  return specs;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API

Status check_matcher(const std::string& match) {
  auto matcher = parse_matcher(match);
  if (!matcher) return fail(matcher.error());
  return Ok{};
}

Result<std::string> apply_rule(const std::string& file, const std::string& text,
                               const TransformRule& rule, const RewriteContext& context) {
  auto compiled = compile_rule(rule);
  if (!compiled) return fail(compiled.error());
  auto run = run_rule(file, text, context, *compiled, rule.name);
  if (!run) return fail(run.error());
  return apply_groups(file, text, context, run->groups, /*drop_bad=*/false, rule.name);
}

const std::vector<BuiltinTransform>& builtin_transforms() {
  static const std::vector<BuiltinTransform> list = [] {
    std::vector<BuiltinTransform> out;
    for (const auto& spec : builtin_specs()) out.push_back(spec.info);
    return out;
  }();
  return list;
}

Result<std::string> apply_builtin(const std::string& name, const std::string& file,
                                  const std::string& text, const RewriteContext& context) {
  const auto& specs = builtin_specs();
  auto spec = std::find_if(specs.begin(), specs.end(),
                           [&](const BuiltinSpec& s) { return s.info.name == name; });
  if (spec == specs.end()) {
    std::vector<std::string> names;
    for (const auto& s : specs) names.push_back(s.info.name);
    std::string hint = near_miss(name, names);
    return fail("no built-in transform named '" + name + "'" +
                (hint.empty() ? " (known: " + join(names, ", ") + ")"
                              : " (did you mean '" + hint + "'?)"));
  }
  if (spec->info.cxx_only && context.language == "c") {
    return fail("transform '" + name + "' applies to C++ only");
  }
  tf::RewriteRule rule;
  if (spec->generator) {
    auto matcher = parse_matcher(spec->match);
    if (!matcher) return fail("built-in '" + name + "': " + matcher.error());
    rule = tf::makeRule(std::move(*matcher), tf::EditGenerator(spec->generator(context)));
  } else {
    auto compiled = compile_rule({name, spec->match, spec->replace, spec->target, ""});
    if (!compiled) return fail("built-in '" + name + "': " + compiled.error());
    rule = std::move(*compiled);
  }
  auto run = run_rule(file, text, context, rule, name);
  if (!run) return fail(run.error());
  return apply_groups(file, text, context, run->groups, /*drop_bad=*/true, name);
}

Result<std::vector<FunctionInfo>> list_functions(const std::string& file, const std::string& text,
                                                 const RewriteContext& context) {
  std::vector<FunctionInfo> out;
  std::optional<std::string> failure;
  Status parsed = clang_session::with_ast(file, text, context, [&](clang_session::Unit& unit) {
    auto functions = collect_functions(unit);
    auto spans = evolvable_spans(text, context, functions);
    if (!spans) {
      failure = spans.error();
      return;
    }
    for (const auto& f : functions) {
      Replacement whole{f.begin, f.end - f.begin, ""};
      bool evolvable = std::any_of(spans->begin(), spans->end(),
                                   [&](const Span& s) { return inside(whole, s); });
      out.push_back({f.name, f.signature, static_cast<unsigned>(line_of(text, f.begin)),
                     static_cast<unsigned>(line_of(text, f.end)), evolvable});
    }
  });
  if (!parsed) return fail(parsed.error());
  if (failure) return fail(*failure);
  return out;
}

Result<std::string> replace_function(const std::string& file, const std::string& text,
                                     const std::string& symbol, const std::string& definition,
                                     const RewriteContext& context) {
  if (definition.find_first_not_of(" \t\r\n") == std::string::npos) {
    return fail("the new definition of '" + symbol + "' is empty");
  }
  // 1. The definitions named `symbol`, and whether each is evolvable.
  struct Site {
    size_t begin, end;
    std::vector<std::string> params;
    std::string signature;
    bool evolvable;
  };
  std::vector<Site> sites;
  std::vector<std::string> all_names;
  std::string regions_label;
  std::optional<std::string> failure;
  Status parsed = clang_session::with_ast(file, text, context, [&](clang_session::Unit& unit) {
    auto functions = collect_functions(unit);
    auto spans = evolvable_spans(text, context, functions);
    if (!spans) {
      failure = spans.error();
      return;
    }
    regions_label = spans_label(*spans);
    for (const auto& f : functions) {
      all_names.push_back(f.name);
      all_names.push_back(f.decl->getNameAsString());
      if (!name_matches(f.name, symbol)) continue;
      Replacement whole{f.begin, f.end - f.begin, ""};
      bool evolvable = std::any_of(spans->begin(), spans->end(),
                                   [&](const Span& s) { return inside(whole, s); });
      sites.push_back({f.begin, f.end, f.params, f.signature, evolvable});
    }
  });
  if (!parsed) return fail(parsed.error());
  if (failure) return fail(*failure);
  if (sites.empty()) {
    std::string hint = near_miss(symbol, all_names);
    return fail(fmt::format("no function named '{}' is defined in {}{}", symbol, file,
                            hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  std::string body = definition;
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();

  // 2. Splice the definition over each candidate; the candidate whose
  //    parameter types the new definition repeats is the one replaced.
  struct Outcome {
    std::string text;
    std::vector<std::string> new_params;
    bool found = false;
    std::vector<SourceDiagnostic> errors;
  };
  auto splice = [&](const Site& site) {
    Outcome out;
    out.text = text.substr(0, site.begin) + body + text.substr(site.end);
    // Only the new definition's body is needed: the others may be skipped
    // (a skipped function's range ends before its body, so it never lies
    // inside the new definition's span unless it is the new definition).
    Status ok = clang_session::with_ast(
        file, out.text, context,
        [&](clang_session::Unit& unit) {
          out.errors = clang_session::errors(unit, file);
          for (const auto& f : collect_functions(unit)) {
            if (f.begin >= site.begin && f.end <= site.begin + body.size() &&
                name_matches(f.name, symbol)) {
              out.new_params = f.params;
              out.found = true;
            }
          }
        },
        clang_session::Bodies::kChangedOnly);
    if (!ok) out.errors.push_back({file, 0, 0, "error", ok.error()});
    return out;
  };
  const Site* chosen = nullptr;
  Outcome outcome;
  if (sites.size() == 1) {
    chosen = &sites.front();
    outcome = splice(*chosen);
  } else {
    for (const auto& site : sites) {
      Outcome trial = splice(site);
      if (trial.found && trial.new_params == site.params) {
        chosen = &site;
        outcome = std::move(trial);
        break;
      }
    }
    if (!chosen) {
      std::vector<std::string> signatures;
      for (const auto& s : sites) {
        signatures.push_back(fmt::format("{} (line {})", s.signature, line_of(text, s.begin)));
      }
      return fail(fmt::format(
          "'{}' is ambiguous: {} definitions ({}), and the new definition's parameter types "
          "match none of them",
          symbol, sites.size(), join(signatures, "; ")));
    }
  }
  if (!chosen->evolvable) {
    return fail(fmt::format("function '{}' (lines {}-{}) is outside the evolvable regions ({})",
                            symbol, line_of(text, chosen->begin), line_of(text, chosen->end),
                            regions_label));
  }
  if (!outcome.found && outcome.errors.empty()) {
    return fail(fmt::format("the new definition does not define a function named '{}'", symbol));
  }
  if (!outcome.errors.empty()) {
    return fail(fmt::format("the new definition of '{}' does not parse:\n{}", symbol,
                            clang_session::format(outcome.errors)));
  }
  return outcome.text;
}

}  // namespace ratchet
