// The LLVM IR genome and the pass-pipeline genome.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "rewriters/llvm_ir.h"

using namespace ratchet;

namespace {

const std::string kModule = R"(define i32 @add(i32 %a, i32 %b) #0 {
entry:
  %s = add i32 %a, %b
  ret i32 %s
}

define i32 @twice(i32 %x) #0 {
entry:
  %r = call i32 @add(i32 %x, i32 %x)
  ret i32 %r
}

attributes #0 = { nounwind }
)";

}  // namespace

TEST_CASE("rewriters: the IR verifier accepts a module and counts its functions") {
  auto functions = verify_ir(kModule);
  REQUIRE(functions.ok());
  CHECK(*functions == 2);
}

TEST_CASE("rewriters: invalid IR is refused with the parser's line and column") {
  std::string bad = kModule;
  bad.replace(bad.find("add i32 %a"), 3, "ad");
  CHECK(verify_ir(bad).error() == "3:8: error: expected instruction opcode");
  std::string undominated =
      "define i32 @f(i32 %a) {\nentry:\n  %x = add i32 %y, 1\n  %y = add i32 %a, 1\n  ret i32 %x\n}\n";
  CHECK_THAT(verify_ir(undominated).error(),
             Catch::StartsWith("verifier: Instruction does not dominate all uses!"));
}

TEST_CASE("rewriters: an IR function's new definition is spliced, parsed and verified") {
  auto edited = replace_ir_function(
      kModule, "add", "define i32 @add(i32 %a, i32 %b) #0 {\nentry:\n  %s = add nsw i32 %b, %a\n  ret i32 %s\n}");
  REQUIRE(edited.ok());
  CHECK_THAT(*edited, Catch::Contains("%s = add nsw i32 %b, %a"));
  CHECK_THAT(*edited, Catch::Contains("call i32 @add(i32 %x, i32 %x)"));
  CHECK(verify_ir(*edited).ok());
  auto extracted = extract_ir_function(*edited, "add");
  REQUIRE(extracted.ok());
  CHECK(*extracted == "define i32 @add(i32 %a, i32 %b) #0 {\nentry:\n  %s = add nsw i32 %b, %a\n  ret i32 %s\n}\n");

  CHECK(replace_ir_function(kModule, "ad", "").error() ==
        "the module defines no function 'ad' (did you mean 'add'?)");
  CHECK(replace_ir_function(kModule, "add",
                            "define i64 @add(i64 %a, i64 %b) {\nentry:\n  ret i64 %a\n}")
            .error() == "the new definition of @add has type i64 (i64, i64), expected i32 (i32, i32)");
  CHECK(replace_ir_function(kModule, "add",
                            "define i32 @add(i32 %a, i32 %b) {\nentry:\n  ret i32 %c\n}")
            .error() == "the new definition does not parse: 3:11: error: use of undefined value '%c'");
}

TEST_CASE("rewriters: pass pipelines are checked by the pass builder") {
  CHECK(check_pipeline("function(sroa,instcombine),default<O2>").ok());
  CHECK(check_pipeline("function(instcombin)").error() ==
        "bad pass pipeline 'function(instcombin)': unknown function pass 'instcombin'");
  CHECK(check_pipeline(" ").error() == "empty pass pipeline");
  for (const auto& pass : pipeline_vocabulary()) {
    INFO(pass);
    CHECK(check_pipeline(pass).ok());
  }
  CHECK(split_pipeline("function(a,b), default<O2>,cgscc(inline)") ==
        std::vector<std::string>{"function(a,b)", "default<O2>", "cgscc(inline)"});
}

TEST_CASE("rewriters: pipeline mutations stay valid and change the pipeline") {
  std::mt19937_64 rng(7);
  std::string pipeline = "default<O2>";
  for (int i = 0; i < 30; ++i) {
    std::string next = mutate_pipeline(pipeline, rng);
    INFO(next);
    CHECK(check_pipeline(next).ok());
    CHECK(next != pipeline);
    pipeline = next;
  }
  CHECK(check_pipeline(mutate_pipeline("", rng)).ok());
}

TEST_CASE("rewriters: a pipeline runs on a module") {
  auto optimized = run_pipeline(kModule, "cgscc(inline),function(instcombine)");
  REQUIRE(optimized.ok());
  // @twice no longer calls @add: inlined, then x + x became x << 1.
  std::string twice = optimized->substr(optimized->find("@twice"));
  CHECK(twice.find("call") == std::string::npos);
  CHECK_THAT(twice, Catch::Contains("shl i32 %x, 1"));
}

TEST_CASE("rewriters: a C function lowers to IR that the genome can edit") {
  RewriteContext context;
  context.language = "c";
  context.flags = {"-std=c11", "-O3", "-DK=3"};
  auto argv = ir_lowering_command("clang-19", "k.c", "k.ll", context);
  std::vector<std::string> expected = {"clang-19", "-S", "-emit-llvm", "-O2", "-Xclang",
                                       "-disable-llvm-passes", "-std=c11", "-DK=3", "-x", "c",
                                       "k.c", "-o", "k.ll"};
  CHECK(argv == expected);

  // The sandbox runs this in campaigns; the test runs clang directly.
  auto dir = std::filesystem::temp_directory_path() / "ratchet-ir-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "k.c") << "int mul(int x) { return x * K; }\n";
  argv = ir_lowering_command("/usr/lib/llvm-19/bin/clang", (dir / "k.c").string(),
                             (dir / "k.ll").string(), context);
  std::string command;
  for (const auto& word : argv) command += "'" + word + "' ";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream in(dir / "k.ll");
  std::stringstream module;
  module << in.rdbuf();
  auto function = extract_ir_function(module.str(), "mul");
  REQUIRE(function.ok());
  CHECK_THAT(*function, Catch::Contains("mul nsw i32"));
  CHECK_THAT(*function, Catch::Contains(", 3"));
  std::filesystem::remove_all(dir);
}
