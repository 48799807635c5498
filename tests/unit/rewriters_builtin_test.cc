// Built-in codified transforms: golden tests, input and expected output side
// by side in tests/data/rewriters/<name>/.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "rewriters/transform_rule.h"

using namespace ratchet;

namespace {

const std::filesystem::path kData = std::filesystem::path(RATCHET_SOURCE_DIR) / "tests/data/rewriters";

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Golden {
  std::string input, expected, file;
  RewriteContext context;
};

Golden golden(const std::string& name) {
  Golden g;
  std::filesystem::path dir = kData / name;
  bool c = std::filesystem::exists(dir / "input.c");
  g.file = c ? "input.c" : "input.cpp";
  g.input = slurp(dir / g.file);
  g.expected = slurp(dir / (c ? "expected.c" : "expected.cpp"));
  g.context.language = c ? "c" : "c++";
  g.context.flags = {c ? "-std=c11" : "-std=c++17"};
  g.context.compiler = "gcc";
  g.context.directory = dir;
  return g;
}

}  // namespace

TEST_CASE("rewriters: every built-in transform has a golden test") {
  for (const auto& transform : builtin_transforms()) {
    INFO(transform.name);
    CHECK(std::filesystem::is_directory(kData / transform.name));
  }
  CHECK(builtin_transforms().size() >= 9);
}

TEST_CASE("rewriters: built-in transforms match their golden outputs") {
  for (const auto& transform : builtin_transforms()) {
    SECTION(transform.name) {
      Golden g = golden(transform.name);
      REQUIRE_FALSE(g.expected.empty());
      auto result = apply_builtin(transform.name, g.file, g.input, g.context);
      INFO(transform.name);
      REQUIRE(result.ok());
      CHECK(*result == g.expected);
    }
  }
}

TEST_CASE("rewriters: vectorize-inner-loops speaks the task compiler's pragma dialect") {
  Golden g = golden("vectorize-inner-loops");
  g.context.compiler = "clang-19";
  auto result = apply_builtin("vectorize-inner-loops", g.file, g.input, g.context);
  REQUIRE(result.ok());
  CHECK_THAT(*result, Catch::Contains("      #pragma clang loop vectorize(enable) interleave(enable)\n"
                                      "      for (int k = 0;"));
  CHECK_THAT(*result, Catch::Contains("#pragma GCC unroll 8\n  for"));
}

TEST_CASE("rewriters: built-in transforms refuse with the reason") {
  Golden g = golden("pow-square");
  CHECK(apply_builtin("pow-sqare", g.file, g.input, g.context).error() ==
        "no built-in transform named 'pow-sqare' (did you mean 'pow-square'?)");
  CHECK(apply_builtin("endl-to-newline", g.file, g.input, g.context).error() ==
        "transform 'endl-to-newline' applies to C++ only");
  // Nothing to do: the transform's output is the input already.
  Golden done = golden("endl-to-newline");
  CHECK(apply_builtin("endl-to-newline", done.file, done.expected, done.context).error() ==
        "rule 'endl-to-newline' matched 1 place(s), none inside the evolvable regions (lines 3-8) "
        "of input.cpp");
}

TEST_CASE("rewriters: a rule written as JSON reproduces a built-in") {
  auto rule = parse_rule(R"j({
    "name": "endl",
    "match": "cxxOperatorCallExpr(hasOverloadedOperatorName(\"<<\"), hasArgument(1, ignoringImplicit(declRefExpr(to(functionDecl(hasName(\"::std::endl\")))).bind(\"endl\"))))",
    "replace": "'\\n'",
    "target": "endl"
  })j");
  REQUIRE(rule.ok());
  Golden g = golden("endl-to-newline");
  auto result = apply_rule(g.file, g.input, *rule, g.context);
  REQUIRE(result.ok());
  CHECK(*result == g.expected);
}
