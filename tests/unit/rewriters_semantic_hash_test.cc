// semantic_hash: layout and comments do not change a program's hash; tokens,
// directive lines, files and flags do.
#include "rewriters/semantic_hash.h"

#include <catch2/catch.hpp>

namespace ratchet {
namespace {

Program program_of(const std::string& kernel, std::vector<std::string> flags = {"-O2"}) {
  Program program;
  program.files["kernel.c"] = kernel;
  program.files["util.h"] = "#pragma once\nint util(int x);\n";
  program.flags = std::move(flags);
  return program;
}

const std::string kKernel = R"(#include "util.h"
#define N 16
/* EVOLVE-BLOCK-START */
int sum(const int* a) {
  int s = 0;
  for (int i = 0; i < N; ++i) s += a[i];  // the hot loop
  return s;
}
/* EVOLVE-BLOCK-END */
)";

RewriteContext c_context() {
  RewriteContext context;
  context.language = "c";
  return context;
}

}  // namespace

TEST_CASE("semantic hash: whitespace and comment changes hash equal") {
  std::string relaid = R"(#include "util.h"
#define N   16


/* EVOLVE-BLOCK-START */ /* the markers are comments too */
int sum(const int *a)
{
    int s=0;   /* accumulator */
    for (int i = 0;
         i < N;
         ++i)
        s += a[i];
    return s;
}
/* EVOLVE-BLOCK-END */)";
  std::string hash = semantic_hash(program_of(kKernel), c_context());
  CHECK(hash.size() == 16);
  CHECK(semantic_hash(program_of(relaid), c_context()) == hash);
  // Another file's comments too.
  Program commented = program_of(kKernel);
  commented.files["util.h"] = "#pragma once\n// helpers\nint util(int x); /* one */\n";
  CHECK(semantic_hash(commented, c_context()) == hash);
  // Not C: compared as normalized text (indentation and blank lines only).
  Program with_ir = program_of(kKernel);
  with_ir.files["kernel.c.ll"] = "define i32 @f() {\n  ret i32 0\n}\n";
  Program with_ir_relaid = with_ir;
  with_ir_relaid.files["kernel.c.ll"] = "define i32 @f() {\n\n      ret i32 0\n}\n";
  CHECK(semantic_hash(with_ir, c_context()) == semantic_hash(with_ir_relaid, c_context()));
}

TEST_CASE("semantic hash: real changes hash differently") {
  Program base = program_of(kKernel);
  std::string hash = semantic_hash(base, c_context());
  auto differs = [&](const Program& other) { return semantic_hash(other, c_context()) != hash; };

  std::string changed = kKernel;
  changed.replace(changed.find("s += a[i]"), 9, "s -= a[i]");
  CHECK(differs(program_of(changed)));
  std::string renamed = kKernel;
  renamed.replace(renamed.find("int s = 0"), 9, "int t = 0");
  CHECK(differs(program_of(renamed)));
  // A directive's line end is meaningful: this defines N as "16 int".
  CHECK(semantic_hash(program_of("#define N 16\nint x = N;\n"), c_context()) !=
        semantic_hash(program_of("#define N 16 int x = N;\n"), c_context()));
  // A continued directive line is still one line.
  CHECK(semantic_hash(program_of("#define N \\\n  16\nint x = N;\n"), c_context()) ==
        semantic_hash(program_of("#define N 16\nint x = N;\n"), c_context()));
  // String contents count, whitespace inside them included.
  CHECK(semantic_hash(program_of("const char* s = \"a b\";"), c_context()) !=
        semantic_hash(program_of("const char* s = \"a  b\";"), c_context()));
  // Flags, their order, and file names.
  CHECK(differs(program_of(kKernel, {"-O3"})));
  CHECK(differs(program_of(kKernel, {})));
  CHECK(semantic_hash(program_of(kKernel, {"-O2", "-funroll-loops"}), c_context()) !=
        semantic_hash(program_of(kKernel, {"-funroll-loops", "-O2"}), c_context()));
  Program moved = base;
  moved.files["kernel2.c"] = moved.files["kernel.c"];
  moved.files.erase("kernel.c");
  CHECK(differs(moved));
  Program with_ir = base;
  with_ir.files["kernel.c.ll"] = "define i32 @f() {\n  ret i32 0\n}\n";
  Program other_ir = base;
  other_ir.files["kernel.c.ll"] = "define i32 @f() {\n  ret i32 1\n}\n";
  CHECK(semantic_hash(with_ir, c_context()) != semantic_hash(other_ir, c_context()));
}

}  // namespace ratchet
