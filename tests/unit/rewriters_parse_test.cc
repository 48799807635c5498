// AST validation (with the cached preamble) and the token hash.
#include <string>

#include <catch2/catch.hpp>

#include "rewriters/clang_parse.h"

using namespace ratchet;

namespace {

RewriteContext cxx(std::vector<std::string> flags = {"-std=c++17"}) {
  RewriteContext context;
  context.language = "c++";
  context.flags = std::move(flags);
  context.directory = "/tmp";
  return context;
}

const std::string kProgram =
    "#include <vector>\n"
    "#include <string>\n"
    "int sum(const std::vector<int>& v) {\n"
    "  int s = 0;\n"
    "  for (int x : v) s += x;\n"
    "  return s;\n"
    "}\n";

}  // namespace

TEST_CASE("rewriters: a file that parses validates") {
  CHECK(validate_source("ok.cc", kProgram, cxx()).ok());
  CHECK(diagnose_source("ok.cc", kProgram, cxx()).empty());
}

TEST_CASE("rewriters: an edit that does not parse is refused with clang's diagnostics") {
  std::string broken = kProgram;
  broken.replace(broken.find("s += x;"), 7, "s += y;");
  Status status = validate_source("kernel.cc", broken, cxx());
  REQUIRE_FALSE(status.ok());
  CHECK(status.error() == "kernel.cc:5:24: error: use of undeclared identifier 'y'");
  auto diagnostics = diagnose_source("kernel.cc", broken, cxx());
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0].line == 5);
  CHECK(diagnostics[0].column == 24);
  CHECK(diagnostics[0].severity == "error");
}

TEST_CASE("rewriters: re-validation after the preamble is built sees each new text") {
  clear_parse_cache();
  CHECK(validate_source("same.cc", kProgram, cxx()).ok());
  std::string edited = kProgram + "int twice(int x) { return 2 * x; }\n";
  CHECK(validate_source("same.cc", edited, cxx()).ok());
  std::string broken = kProgram + "int twice(int x) { return 2 * x }\n";
  CHECK_THAT(validate_source("same.cc", broken, cxx()).error(),
             Catch::Contains("same.cc:8:32: error: expected ';' after return statement"));
  CHECK(validate_source("same.cc", kProgram, cxx()).ok());
  // An edit to the #include block rebuilds the preamble.
  std::string no_vector = kProgram.substr(kProgram.find("#include <string>"));
  CHECK_THAT(validate_source("same.cc", no_vector, cxx()).error(),
             Catch::Contains("same.cc:2:20: error: no template named 'vector' in namespace 'std'"));
}

TEST_CASE("rewriters: a re-parse still reports errors inside header templates it instantiates") {
  // The preamble instantiates the headers' own templates once
  // (-fpch-instantiate-templates); what the edited code instantiates is still
  // instantiated, and checked, at every re-parse.
  const std::string sorted =
      "#include <algorithm>\n#include <vector>\n"
      "struct S { int k; };\n"
      "void order(std::vector<S>& v) {\n"
      "  std::sort(v.begin(), v.end(), [](const S& a, const S& b) { return a.k < b.k; });\n"
      "}\n";
  REQUIRE(validate_source("sorted.cc", sorted, cxx()).ok());
  std::string uncomparable = sorted;
  uncomparable.replace(uncomparable.find(", [](const S& a"), 50, "");
  REQUIRE(uncomparable.find("std::sort(v.begin(), v.end());") != std::string::npos);
  Status status = validate_source("sorted.cc", uncomparable, cxx());
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error(), Catch::Contains("invalid operands to binary expression"));
  CHECK(validate_source("sorted.cc", sorted, cxx()).ok());
}

TEST_CASE("rewriters: the task's flags and language decide how a file parses") {
  std::string text = "int f(void) { return VALUE; }\n";
  CHECK_THAT(validate_source("m.c", text, cxx()).error(),
             Catch::Contains("use of undeclared identifier 'VALUE'"));
  CHECK(validate_source("m.c", text, cxx({"-DVALUE=3", "-O3", "-fipa-pta"})).ok());
  // C accepts an implicit conversion from void* that C++ refuses.
  std::string c_only = "#include <stdlib.h>\nint *make(void) { int *p = malloc(4); return p; }\n";
  RewriteContext c = cxx({"-std=c11"});
  c.language = "c";
  CHECK(validate_source("m.c", c_only, c).ok());
  CHECK_THAT(validate_source("m.c", c_only, cxx()).error(),
             Catch::Contains("cannot initialize a variable of type 'int *'"));
}

TEST_CASE("rewriters: only flags that change parsing reach clang") {
  RewriteContext context = cxx({"-O3", "-march=native", "-DN=4", "-I", "include", "-fipa-pta",
                                "-std=c++20", "-funroll-loops"});
  context.directory = "/task";
  auto args = clang_parse_args(context);
  std::vector<std::string> head(args.begin(), args.begin() + 5);
  CHECK(head == std::vector<std::string>{"-march=native", "-DN=4", "-I", "/task/include",
                                         "-std=c++20"});
  CHECK(args[5] == "-x");
  CHECK(args[6] == "c++");
}

TEST_CASE("rewriters: the token hash ignores layout and comments, not code") {
  RewriteContext context = cxx();
  std::string a = "int f(int x) {\n  return x * 2; // double\n}\n";
  std::string b = "int f(int x){return x*2;}\n/* nothing */";
  std::string c = "int f(int x) { return x * 3; }";
  CHECK(token_hash(a, context) == token_hash(b, context));
  CHECK(token_hash(a, context) != token_hash(c, context));
  CHECK(token_hash(a, context).size() == 16);
  RewriteContext c_context = context;
  c_context.language = "c";
  CHECK(token_hash(a, c_context) != token_hash(a, context));
  // String contents are tokens: "a b" and "a  b" differ.
  CHECK(token_hash("s = \"a b\";", context) != token_hash("s = \"a  b\";", context));
}
