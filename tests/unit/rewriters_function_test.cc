// Function edits located in the AST, and their wiring into apply_edit.
#include <string>

#include <catch2/catch.hpp>

#include "rewriters/apply_edit.h"
#include "rewriters/clang_parse.h"
#include "rewriters/function_edit.h"

using namespace ratchet;

namespace {

RewriteContext cxx() {
  RewriteContext context;
  context.language = "c++";
  context.flags = {"-std=c++17"};
  context.directory = "/tmp";
  return context;
}

const std::string kFile =
    "#include <vector>\n"
    "int helper(int x) { return x + 1; }\n"
    "// EVOLVE-BLOCK-START\n"
    "namespace linalg {\n"
    "struct Matrix {\n"
    "  int n = 0;\n"
    "  int trace() const;\n"
    "};\n"
    "int Matrix::trace() const { return n; }\n"
    "int scale(int x) { return 2 * x; }\n"
    "double scale(double x) { return 2 * x; }\n"
    "}  // namespace linalg\n"
    "// EVOLVE-BLOCK-END\n";

std::string replaced(const std::string& from, const std::string& to) {
  std::string text = kFile;
  text.replace(text.find(from), from.size(), to);
  return text;
}

}  // namespace

TEST_CASE("rewriters: a function is replaced by name, located in the AST") {
  auto result = replace_function("m.cc", kFile, "trace",
                                 "int Matrix::trace() const { return n * 1; }", cxx());
  REQUIRE(result.ok());
  CHECK(*result == replaced("int Matrix::trace() const { return n; }",
                            "int Matrix::trace() const { return n * 1; }"));
  // Qualified names match at a :: boundary.
  auto qualified = replace_function("m.cc", kFile, "linalg::Matrix::trace",
                                    "int Matrix::trace() const { return n + 0; }\n\n", cxx());
  REQUIRE(qualified.ok());
  CHECK(*qualified == replaced("int Matrix::trace() const { return n; }",
                               "int Matrix::trace() const { return n + 0; }"));
}

TEST_CASE("rewriters: an overload is chosen by the new definition's parameter types") {
  auto result = replace_function("m.cc", kFile, "linalg::scale",
                                 "double scale(double x) { return x + x; }", cxx());
  REQUIRE(result.ok());
  CHECK(*result == replaced("double scale(double x) { return 2 * x; }",
                            "double scale(double x) { return x + x; }"));
  auto ints = replace_function("m.cc", kFile, "scale", "int scale(int y) { return y << 1; }",
                               cxx());
  REQUIRE(ints.ok());
  CHECK(*ints == replaced("int scale(int x) { return 2 * x; }",
                          "int scale(int y) { return y << 1; }"));
}

TEST_CASE("rewriters: function edits refuse with the reason") {
  CHECK(replace_function("m.cc", kFile, "tracee", "int f();", cxx()).error() ==
        "no function named 'tracee' is defined in m.cc (did you mean 'trace'?)");
  CHECK(replace_function("m.cc", kFile, "scale", "float scale(float x) { return x; }", cxx())
            .error() ==
        "'scale' is ambiguous: 2 definitions (linalg::scale(int) (line 10); linalg::scale(double) "
        "(line 11)), and the new definition's parameter types match none of them");
  CHECK(replace_function("m.cc", kFile, "helper", "int helper(int x) { return x + 2; }", cxx())
            .error() == "function 'helper' (lines 2-2) is outside the evolvable regions (lines 3-13)");
  auto broken = replace_function("m.cc", kFile, "trace",
                                 "int Matrix::trace() const { return m; }", cxx());
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error() ==
        "the new definition of 'trace' does not parse:\n"
        "m.cc:9:36: error: use of undeclared identifier 'm'");
  CHECK(replace_function("m.cc", kFile, "trace", "  \n", cxx()).error() ==
        "the new definition of 'trace' is empty");
}

TEST_CASE("rewriters: functions named evolvable may be replaced without markers") {
  std::string text = "int f(int x) { return x; }\nint g(int x) { return x; }\n";
  RewriteContext context = cxx();
  context.evolvable_functions = {"f"};
  auto result = replace_function("e.cc", text, "f", "int f(int x) { return x * 1; }", context);
  REQUIRE(result.ok());
  CHECK(*result == "int f(int x) { return x * 1; }\nint g(int x) { return x; }\n");
  CHECK(replace_function("e.cc", text, "g", "int g(int x) { return 0; }", context).error() ==
        "function 'g' (lines 2-2) is outside the evolvable regions (function 'f')");
  auto functions = list_functions("e.cc", text, context);
  REQUIRE(functions.ok());
  REQUIRE(functions->size() == 2);
  CHECK((*functions)[0].signature == "f(int)");
  CHECK((*functions)[0].evolvable);
  CHECK_FALSE((*functions)[1].evolvable);
}

TEST_CASE("rewriters: apply_edit runs function and transform edits") {
  Program parent;
  parent.files["m.cc"] = kFile;
  parent.files["other.h"] = "int other();\n";
  Edit edit;
  edit.kind = EditKind::function;
  edit.symbol = "linalg::scale";
  edit.text = "int scale(int x) { return x + x; }";
  auto child = apply_edit(parent, edit, {}, cxx());
  REQUIRE(child.ok());
  CHECK(child->files["m.cc"] == replaced("int scale(int x) { return 2 * x; }",
                                         "int scale(int x) { return x + x; }"));
  CHECK(child->files["other.h"] == "int other();\n");

  edit.symbol = "";
  CHECK(apply_edit(parent, edit, {}, cxx()).error() == "a function edit needs the function's name");

  Edit transform;
  transform.kind = EditKind::transform;
  transform.text = R"j({"name": "double", "match": "binaryOperator(hasOperatorName(\"*\"), hasLHS(integerLiteral(equals(2))), hasRHS(expr().bind(\"x\")))", "replace": "(${x} + ${x})"})j";
  auto rewritten = apply_edit(parent, transform, {}, cxx());
  REQUIRE(rewritten.ok());
  // In the double overload, 2 sits under an implicit int-to-double cast: no match.
  CHECK(rewritten->files["m.cc"] ==
        replaced("int scale(int x) { return 2 * x; }", "int scale(int x) { return (x + x); }"));
  transform.text = R"j({"builtin": "const-ref-params"})j";
  CHECK(apply_edit(parent, transform, {}, cxx()).error() ==
        "rule 'const-ref-params' matches nothing in the evolvable regions of m.cc");
  transform.text = R"j({"name": "x", "match": "callExpr()"})j";
  CHECK(apply_edit(parent, transform, {}, cxx()).error() == "rule: missing key 'replace'");
}

TEST_CASE("rewriters: apply_edit re-parses text edits when the context asks") {
  Program parent;
  parent.files["k.c"] = "/* EVOLVE-BLOCK-START */\nint f(void) { return 1; }\n/* EVOLVE-BLOCK-END */\n";
  Edit edit;
  edit.kind = EditKind::rewrite;
  edit.text = "int f(void) { return 1 + ; }\n";
  RewriteContext context;
  context.language = "c";
  context.directory = "/tmp";
  CHECK(apply_edit(parent, edit, {}, context).ok());  // validate is off by default
  context.validate = true;
  CHECK(apply_edit(parent, edit, {}, context).error() ==
        "the edited k.c does not parse:\nk.c:2:26: error: expected expression");
}

TEST_CASE("function edits: the new definition is checked with the other bodies skipped") {
  clear_parse_cache();
  // Same signature: only the new body is parsed; the overload is still told
  // apart by the new definition's parameter types.
  auto result = replace_function("m.cc", kFile, "scale",
                                 "double scale(double x) { return x + x; }", cxx());
  REQUIRE(result);
  CHECK(*result == replaced("double scale(double x) { return 2 * x; }",
                            "double scale(double x) { return x + x; }"));
  CHECK(parse_stats().skipping >= 1);
  auto broken = replace_function("m.cc", kFile, "scale",
                                 "double scale(double x) { return x + y; }", cxx());
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error(), Catch::Contains("m.cc:11:37: error: use of undeclared identifier "
                                             "'y'"));
}
