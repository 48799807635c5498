// Transform rules: "don't transform the code, code the transforms". A rule is
// an AST matcher in clang-query's syntax plus a replacement template over the
// nodes the matcher binds, applied with clang's Transformer:
//
//   {"name": "pow-square",
//    "match": "callExpr(callee(functionDecl(hasName(\"::pow\"))), argumentCountIs(2),
//              hasArgument(0, ignoringParenImpCasts(declRefExpr().bind(\"x\"))),
//              hasArgument(1, integerLiteral(equals(2))))",
//    "replace": "(${x} * ${x})"}
//
// rewrites `pow(a, 2)` as `(a * a)`. The template replaces the whole matched
// node, or the node bound to "target" when the rule names one. `$$` is a
// literal `$`. The full format is in docs/rewriters.md.
//
// Rewrites stay inside the evolvable regions: matches outside them are left
// alone, a rewrite that crosses a region boundary refuses the whole rule, and
// a rule that changes nothing is refused with the reason. Every result is
// re-parsed (see clang_parse.h) before it is returned.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "rewriters/rewrite_context.h"

namespace ratchet {

struct TransformRule {
  std::string name;
  std::string match;    // clang-query matcher expression
  std::string replace;  // template over bound nodes: "${x} * ${x}"
  std::string target;   // bound node to replace; "" = the whole match
  std::string description;
};

// Parses a rule from JSON: keys name, match, replace (required strings),
// target, description (optional). Errors name the missing or unknown key.
Result<TransformRule> parse_rule(const std::string& json_text);

// Ok when `match` parses as a matcher; otherwise the dynamic matcher parser's
// message with its position, e.g.
// "bad matcher: 1:10: Error parsing argument 1 for matcher callExpr. …".
Status check_matcher(const std::string& match);

// `text` (the contents of `file`) with the rule applied at every match inside
// the evolvable regions, or the reason why not.
Result<std::string> apply_rule(const std::string& file, const std::string& text,
                               const TransformRule& rule, const RewriteContext& context);

// A codified transform the offline proposer draws from.
struct BuiltinTransform {
  std::string name;
  std::string description;
  bool cxx_only = false;  // needs C++ (std::vector, references …)
};

// Every built-in transform, in a fixed order (docs/rewriters.md lists them).
const std::vector<BuiltinTransform>& builtin_transforms();

// Applies the built-in transform `name` to `text` (the contents of `file`);
// an unknown name is an error suggesting the near miss. Matches whose result
// would not parse are dropped one by one; if nothing is left, the reason.
Result<std::string> apply_builtin(const std::string& name, const std::string& file,
                                  const std::string& text, const RewriteContext& context);

}  // namespace ratchet
