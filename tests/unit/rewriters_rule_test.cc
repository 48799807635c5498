// Transform rules: parsing, the dynamic matcher parser's errors, regions,
// templates, and results that must parse.
#include <string>

#include <catch2/catch.hpp>

#include "rewriters/transform_rule.h"

using namespace ratchet;

namespace {

RewriteContext c_context() {
  RewriteContext context;
  context.language = "c";
  context.directory = "/tmp";
  return context;
}

const std::string kFile =
    "#include <math.h>\n"
    "double keep(double a) { return pow(a, 2); }\n"
    "/* EVOLVE-BLOCK-START */\n"
    "double sq(double a, double b) {\n"
    "  return pow(a, 2) + pow(b, 2);\n"
    "}\n"
    "/* EVOLVE-BLOCK-END */\n";

TransformRule pow_rule() {
  return {"pow-square",
          "callExpr(callee(functionDecl(hasName(\"::pow\"))), "
          "hasArgument(0, ignoringParenImpCasts(declRefExpr().bind(\"x\"))), "
          "hasArgument(1, ignoringParenImpCasts(integerLiteral(equals(2)))))",
          "(${x} * ${x})", "", ""};
}

}  // namespace

TEST_CASE("rewriters: a rule rewrites every match inside the regions and none outside") {
  auto result = apply_rule("k.c", kFile, pow_rule(), c_context());
  INFO((result.ok() ? "" : result.error()));
  REQUIRE(result.ok());
  CHECK(*result ==
        "#include <math.h>\n"
        "double keep(double a) { return pow(a, 2); }\n"
        "/* EVOLVE-BLOCK-START */\n"
        "double sq(double a, double b) {\n"
        "  return (a * a) + (b * b);\n"
        "}\n"
        "/* EVOLVE-BLOCK-END */\n");
}

TEST_CASE("rewriters: a rule may replace a bound node instead of the whole match") {
  TransformRule rule{"float-literal",
                     "binaryOperator(hasOperatorName(\"+\"), "
                     "hasRHS(ignoringParenImpCasts(callExpr().bind(\"second\"))))",
                     "0.0", "second", ""};
  auto result = apply_rule("k.c", kFile, rule, c_context());
  REQUIRE(result.ok());
  CHECK_THAT(*result, Catch::Contains("  return pow(a, 2) + 0.0;\n"));
}

TEST_CASE("rewriters: rule JSON is parsed strictly") {
  auto rule = parse_rule(R"j({"name": "n", "match": "callExpr()", "replace": "f()"})j");
  REQUIRE(rule.ok());
  CHECK(rule->match == "callExpr()");
  CHECK(parse_rule(R"j({"name": "n", "replace": "f()"})j").error() == "rule: missing key 'match'");
  CHECK(parse_rule(R"j({"name": "n", "match": "callExpr()"})j").error() ==
        "rule: missing key 'replace'");
  CHECK(parse_rule(R"j({"name": "n", "match": "x", "replace": "", "replce": ""})j").error() ==
        "rule: unknown key 'replce' (did you mean 'replace'?)");
  CHECK(parse_rule(R"j({"name": 3, "match": "x", "replace": ""})j").error() ==
        "rule: 'name' must be a string");
  CHECK(parse_rule("{not json").error() == "rule: not valid JSON");
  CHECK(parse_rule("[]").error() == "rule: expected a JSON object with name, match and replace");
}

TEST_CASE("rewriters: a bad matcher quotes the dynamic parser's message and position") {
  Status unknown = check_matcher("callExpr(calee(functionDecl()))");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error() ==
        "bad matcher: 1:1: Error parsing argument 1 for matcher callExpr.\n"
        "1:10: Matcher not found: calee");
  Status unbalanced = check_matcher("callExpr(");
  REQUIRE_FALSE(unbalanced.ok());
  CHECK_THAT(unbalanced.error(), Catch::StartsWith("bad matcher: 1:"));
  CHECK(check_matcher("forStmt(hasBody(compoundStmt()))").ok());
  auto result = apply_rule("k.c", kFile, {"r", "callExpr(calee())", "x", "", ""}, c_context());
  CHECK_THAT(result.error(), Catch::Contains("Matcher not found: calee"));
}

TEST_CASE("rewriters: a template naming an unbound node is refused") {
  TransformRule rule = pow_rule();
  rule.replace = "(${y} * ${y})";
  CHECK(apply_rule("k.c", kFile, rule, c_context()).error() ==
        "rule 'pow-square' uses 'y', but the matcher binds no node of that name (it binds: x) "
        "(did you mean 'x'?)");
  rule.replace = "(${x * ${x})";
  CHECK_THAT(apply_rule("k.c", kFile, rule, c_context()).error(),
             Catch::Contains("replace: '${' at offset 1 must be followed by a node name and '}'"));
  rule.replace = "(${x} * ${x";
  CHECK_THAT(apply_rule("k.c", kFile, rule, c_context()).error(),
             Catch::Contains("replace: '${' at offset 8 is never closed"));
}

TEST_CASE("rewriters: a rule that only matches outside the regions is refused") {
  std::string outside_only =
      "#include <math.h>\n"
      "double keep(double a) { return pow(a, 2); }\n"
      "/* EVOLVE-BLOCK-START */\n"
      "double one(void) { return 1; }\n"
      "/* EVOLVE-BLOCK-END */\n";
  CHECK(apply_rule("k.c", outside_only, pow_rule(), c_context()).error() ==
        "rule 'pow-square' matched 1 place(s), none inside the evolvable regions (lines 3-5) of "
        "k.c");
  CHECK(apply_rule("k.c", "double one(void) { return 1; }\n", pow_rule(), c_context()).error() ==
        "k.c has no evolvable region (EVOLVE-BLOCK-START/END markers)");
}

TEST_CASE("rewriters: a rewrite across a region boundary refuses the whole rule") {
  std::string straddling =
      "double f(double a) {\n"
      "  /* EVOLVE-BLOCK-START */\n"
      "  return a;\n"
      "  /* EVOLVE-BLOCK-END */\n"
      "}\n";
  TransformRule rule{"whole-function", "functionDecl(hasName(\"f\"))", "double f(double a);",
                     "", ""};
  CHECK(apply_rule("k.c", straddling, rule, c_context()).error() ==
        "rule 'whole-function' rewrites line 1, across the boundary of an evolvable region "
        "(lines 2-4)");
}

TEST_CASE("rewriters: a rule whose result does not parse is refused with the diagnostics") {
  TransformRule rule = pow_rule();
  rule.replace = "(${x} * )";
  auto result = apply_rule("k.c", kFile, rule, c_context());
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error(),
             Catch::StartsWith("rule 'pow-square' produced code that does not parse:\nk.c:5:"));
  CHECK_THAT(result.error(), Catch::Contains("error: expected expression"));
}

TEST_CASE("rewriters: a rule on a file that does not parse is refused") {
  std::string broken = kFile;
  broken.replace(broken.find("pow(b, 2)"), 9, "pow(c, 2)");
  CHECK_THAT(apply_rule("k.c", broken, pow_rule(), c_context()).error(),
             Catch::StartsWith("k.c does not parse before the rewrite:\nk.c:5:26: error: use of "
                               "undeclared identifier 'c'"));
}
