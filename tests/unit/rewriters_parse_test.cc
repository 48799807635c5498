// AST validation (with the cached preamble) and the token hash.
#include <filesystem>
#include <fstream>
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

// Re-validation skips the bodies of functions that are unchanged from the last
// text that parsed in full; these pin that it refuses exactly what a parse of
// the whole file refuses.
namespace {

// The errors of `text` parsed in full from an empty cache.
std::string full_parse_errors(const std::string& file, const std::string& text,
                              const RewriteContext& context) {
  clear_parse_cache();
  Status status = validate_source(file, text, context);
  return status.ok() ? "" : status.error();
}

// The errors of `text` validated after `reference` parsed, and whether the
// validation skipped bodies.
std::pair<std::string, ParseStats> errors_after(const std::string& file,
                                                const std::string& reference,
                                                const std::string& text,
                                                const RewriteContext& context) {
  clear_parse_cache();
  REQUIRE(validate_source(file, reference, context).ok());
  Status status = validate_source(file, text, context);
  return {status.ok() ? "" : status.error(), parse_stats()};
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

const std::string kFunctions =
    "#include <vector>\n"
    "int helper(int x) { return x + 1; }\n"
    "int first(const std::vector<int>& v) {\n"
    "  int s = 0;\n"
    "  for (int x : v) s += helper(x);\n"
    "  return s;\n"
    "}\n"
    "struct Box {\n"
    "  int value = 0;\n"
    "  int get() const { return value; }\n"
    "};\n"
    "int second(const Box& b) { return helper(b.get()); }\n";

}  // namespace

TEST_CASE("rewriters: an edit inside one body skips the other bodies, and its errors are clang's") {
  std::string edited = replaced(kFunctions, "return s;", "return s * 2;");
  auto [ok, stats] = errors_after("skip.cc", kFunctions, edited, cxx());
  CHECK(ok.empty());
  CHECK(stats.skipping == 1);
  CHECK(stats.bodies_skipped == 3);  // helper, get, second
  CHECK(stats.redone == 0);

  std::string broken = replaced(kFunctions, "return s;", "return t;");
  auto [error, broken_stats] = errors_after("skip.cc", kFunctions, broken, cxx());
  CHECK(broken_stats.skipping == 1);
  CHECK(error == "skip.cc:6:10: error: use of undeclared identifier 't'");
  CHECK(error == full_parse_errors("skip.cc", broken, cxx()));

  // A member function's body, parsed after its class.
  std::string member = replaced(kFunctions, "return value;", "return valu;");
  auto [member_error, member_stats] = errors_after("skip.cc", kFunctions, member, cxx());
  CHECK(member_stats.skipping == 1);
  CHECK_THAT(member_error, Catch::Contains("skip.cc:10:28: error: use of undeclared identifier "
                                           "'valu'"));
  CHECK(member_error == full_parse_errors("skip.cc", member, cxx()));
}

TEST_CASE("rewriters: a changed declaration that breaks a call in an unchanged body is refused") {
  // The signature is outside any body: the file is parsed in full.
  std::string edited = replaced(kFunctions, "int helper(int x) { return x + 1; }",
                                "int helper(int x, int y) { return x + y; }");
  auto [error, stats] = errors_after("calls.cc", kFunctions, edited, cxx());
  CHECK(stats.skipping == 0);
  CHECK_THAT(error, Catch::Contains("calls.cc:5:24: error: no matching function for call to "
                                    "'helper'"));
  CHECK_THAT(error, Catch::Contains("calls.cc:12:35: error: no matching function"));
}

TEST_CASE("rewriters: a changed template body is checked where unchanged bodies instantiate it") {
  const std::string text =
      "template <typename T> T twice(T x) { return x * 2; }\n"
      "int use(int a) { return twice(a); }\n"
      "int other(int a) { return a - 1; }\n";
  std::string edited = replaced(text, "return x * 2;", "return x.size();");
  auto [error, stats] = errors_after("tmpl.cc", text, edited, cxx());
  CHECK(stats.skipping == 0);
  CHECK_THAT(error, Catch::Contains("tmpl.cc:1:46: error: member reference base type 'int' is "
                                    "not a structure or union"));
}

TEST_CASE("rewriters: a changed body that redeclares a name outside it is parsed in full") {
  // The conflict is reported in b(), whose body is unchanged.
  const std::string text =
      "void a() { }\n"
      "void b() { double g(int); }\n";
  std::string edited = replaced(text, "void a() { }", "void a() { int g(int); }");
  auto [error, stats] = errors_after("local.cc", text, edited, cxx());
  CHECK(stats.skipping == 1);
  CHECK(stats.redone == 1);
  CHECK_THAT(error, Catch::Contains("local.cc:2:19: error: functions that differ only in their "
                                    "return type cannot be overloaded"));
  CHECK(error == full_parse_errors("local.cc", edited, cxx()));
}

TEST_CASE("rewriters: a macro that closes a changed body is parsed in full") {
  // CLOSE ends a()'s body early, so f(unsigned) is declared at namespace
  // scope and makes the call in the unchanged b() ambiguous.
  const std::string text =
      "#define CLOSE }\n"
      "#define OPEN {\n"
      "void f(long);\n"
      "void a() { }\n"
      "void b() { f(1); }\n";
  std::string edited = replaced(text, "void a() { }", "void a() { CLOSE void f(unsigned) OPEN }");
  auto [error, stats] = errors_after("macro.cc", text, edited, cxx());
  CHECK(stats.redone == 1);
  CHECK_THAT(error, Catch::Contains("macro.cc:5:12: error: call to 'f' is ambiguous"));
  CHECK(error == full_parse_errors("macro.cc", edited, cxx()));
}

TEST_CASE("rewriters: a changed body with a directive other than a loop pragma is parsed in full") {
  // The #define would change how the unchanged second() reads `helper`.
  std::string edited =
      replaced(kFunctions, "return s;\n", "return s;\n#define helper(x) undeclared(x)\n");
  auto [error, stats] = errors_after("define.cc", kFunctions, edited, cxx());
  CHECK(stats.skipping == 0);
  CHECK_THAT(error, Catch::Contains("define.cc:13:35: error: use of undeclared identifier "
                                    "'undeclared'"));
  // A loop pragma is local to its loop: the other bodies are still skipped.
  std::string pragma = replaced(kFunctions, "  for (int x : v)", "#pragma GCC unroll 4\n  for (int x : v)");
  auto [ok, pragma_stats] = errors_after("define.cc", kFunctions, pragma, cxx());
  CHECK(ok.empty());
  CHECK(pragma_stats.skipping == 1);
}

TEST_CASE("rewriters: what a changed body instantiates is checked when other bodies are skipped") {
  const std::string sorted =
      "#include <algorithm>\n#include <vector>\n"
      "struct S { int k; };\n"
      "int size_of(const std::vector<S>& v) { return static_cast<int>(v.size()); }\n"
      "void order(std::vector<S>& v) {\n"
      "  std::sort(v.begin(), v.end(), [](const S& a, const S& b) { return a.k < b.k; });\n"
      "}\n";
  std::string uncomparable = replaced(sorted, ", [](const S& a, const S& b) { return a.k < b.k; }", "");
  auto [error, stats] = errors_after("inst.cc", sorted, uncomparable, cxx());
  CHECK(stats.skipping == 1);
  CHECK_THAT(error, Catch::Contains("invalid operands to binary expression"));
  CHECK(error == full_parse_errors("inst.cc", uncomparable, cxx()));
}

TEST_CASE("rewriters: skipping is the same in C") {
  const std::string text =
      "static int helper(int x) { return x + 1; }\n"
      "int first(int n) { int s = 0; for (int i = 0; i < n; ++i) s += helper(i); return s; }\n"
      "int second(int n) { return helper(n); }\n";
  RewriteContext c = cxx({"-std=c11"});
  c.language = "c";
  std::string edited = replaced(text, "return s; }", "return s + undeclared; }");
  auto [error, stats] = errors_after("k.c", text, edited, c);
  CHECK(stats.skipping == 1);
  CHECK(stats.bodies_skipped == 2);
  CHECK(error == "k.c:2:86: error: use of undeclared identifier 'undeclared'");
  CHECK(error == full_parse_errors("k.c", edited, c));
}

TEST_CASE("rewriters: a header that changes on disk is seen by the bodies re-validation skips") {
  auto dir = std::filesystem::temp_directory_path() / "ratchet-parse-header-test";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
  };
  RewriteContext context = cxx();
  context.directory = dir;
  const std::string text =
      "#include \"top.h\"\n"
      "int a(int x) { return g(x); }\n"
      "#include \"late.h\"\n"
      "int b(int x) { return g(x) + h(x); }\n"
      "int c(int x) { return x; }\n";
  std::string edited = replaced(text, "return x; }", "return x + 1; }");

  // In the preamble: its rebuild drops the reference.
  write("top.h", "int g(int);\n");
  write("late.h", "int h(int);\n");
  clear_parse_cache();
  REQUIRE(validate_source("hdr.cc", text, context).ok());
  write("top.h", "int g(int, int);\n");
  Status status = validate_source("hdr.cc", edited, context);
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error(), Catch::Contains("hdr.cc:2:23: error: no matching function for call "
                                             "to 'g'"));
  CHECK_THAT(status.error(), Catch::Contains("hdr.cc:4:23: error: no matching function"));

  // After the preamble: such a text is never a reference.
  write("top.h", "int g(int);\n");
  clear_parse_cache();
  REQUIRE(validate_source("hdr.cc", text, context).ok());
  write("late.h", "int h(int, int);\n");
  status = validate_source("hdr.cc", edited, context);
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error(), Catch::Contains("hdr.cc:4:30: error: no matching function for call "
                                             "to 'h'"));
  CHECK(parse_stats().skipping == 0);
  std::filesystem::remove_all(dir);
}
