// The LLVM IR genome end to end on the tiny task: the evolvable function's
// file lowered to IR in the sandbox, one function replaced by a hand-written
// definition, verified, compiled with clang-19 and linked with the rest of the
// program, then verified and timed by the real cascade. Broken IR is refused
// with LLVM's message before anything is built.
#include <catch2/catch.hpp>

#include "common/files.h"
#include "evaluators/builder.h"
#include "evaluators/cascade.h"
#include "rewriters/apply_edit.h"
#include "tests/unit/tiny_task.h"

using namespace ratchet;
using Catch::Matchers::Contains;

namespace {

// tiny.c's churn() in IR, written by hand: the same sums, the same wrapping.
const char* kChurn = R"(define internal i64 @churn(ptr %values, i64 %n, i32 %passes) {
entry:
  br label %outer
outer:
  %p = phi i32 [ 0, %entry ], [ %p.next, %outer.latch ]
  %total.outer = phi i64 [ 0, %entry ], [ %total, %outer.latch ]
  %more.p = icmp slt i32 %p, %passes
  br i1 %more.p, label %inner, label %done
inner:
  %i = phi i64 [ 0, %outer ], [ %i.next, %body ]
  %total = phi i64 [ %total.outer, %outer ], [ %total.next, %body ]
  %more.i = icmp slt i64 %i, %n
  br i1 %more.i, label %body, label %outer.latch
body:
  %address = getelementptr inbounds i32, ptr %values, i64 %i
  %x = load i32, ptr %address, align 4
  %x.p = add i32 %x, %p
  %v = zext i32 %x.p to i64
  %square = mul i64 %v, %v
  %mod = urem i64 %square, 7919
  %shifted = lshr i64 %total, 3
  %mixed = xor i64 %v, %shifted
  %sum = add i64 %mod, %mixed
  %total.next = add i64 %total, %sum
  %i.next = add nsw i64 %i, 1
  br label %inner
outer.latch:
  %p.next = add nsw i32 %p, 1
  br label %outer
done:
  ret i64 %total.outer
})";

// Uses %late before the instruction that defines it.
const char* kNotDominated = R"(define internal i64 @churn(ptr %values, i64 %n, i32 %passes) {
entry:
  %early = add i64 %late, 1
  %late = add i64 %n, 1
  ret i64 %early
})";

RewriteContext lowering_context(const Task& task) {
  RewriteContext context;
  context.language = task.language;
  context.lower_to_ir = [&task](const Program& program, const std::string& source) {
    return lower_to_ir(task, program, source);
  };
  return context;
}

Edit ir_edit(const std::string& definition) {
  Edit edit;
  edit.kind = EditKind::ir;
  edit.symbol = "churn";
  edit.text = definition;
  return edit;
}

}  // namespace

TEST_CASE("ir genome: a hand-written IR function builds, links, verifies and runs") {
  TempDir scratch("ir-genome-");
  Task task = ratchet::testing::tiny_task(5000);
  Result<Program> child = apply_edit(task.baseline(), ir_edit(kChurn), {}, lowering_context(task));
  INFO((child ? std::string() : child.error()));
  REQUIRE(child);
  REQUIRE(child->files.count("tiny.c.ll"));
  CHECK_THAT(child->files.at("tiny.c.ll"), Contains("%mixed = xor i64 %v, %shifted"));
  CHECK_THAT(child->files.at("tiny.c.ll"), Contains("define dso_local i32 @main()"));
  CHECK(child->files.at("tiny.c") == task.baseline().files.at("tiny.c"));

  CascadeEvaluator evaluator(task, ratchet::testing::quick_settings(), VerifySettings{},
                             scratch.path(), nullptr);
  REQUIRE(evaluator.prepare().ok());
  Evaluation evaluation = evaluator.evaluate(*child, 1);
  INFO(evaluation.build.log << evaluation.verify.summary << evaluation.verify.log);
  CHECK(evaluation.build.status == StageStatus::ok);
  CHECK_THAT(evaluation.build.log, Contains("$ clang-19 -c -w -O1 tiny.c.ll -o tiny.c.o"));
  CHECK_THAT(evaluation.build.log, Contains("$ gcc -std=c11 -O1 tiny.c.o -o prog"));
  CHECK(evaluation.verify.status == StageStatus::ok);
  CHECK(evaluation.passed());

  SECTION("a second ir edit starts from the program's IR, not from the source") {
    std::string again = kChurn;
    again.replace(again.find("%mixed = xor"), 6, "%mixd2");
    again.replace(again.find("%sum = add i64 %mod, %mixed"), 27, "%sum = add i64 %mod, %mixd2");
    Edit edit = ir_edit(again);
    edit.file = "tiny.c.ll";
    RewriteContext no_lowering;
    Result<Program> grandchild = apply_edit(*child, edit, {}, no_lowering);
    INFO((grandchild ? std::string() : grandchild.error()));
    REQUIRE(grandchild);
    CHECK_THAT(grandchild->files.at("tiny.c.ll"), Contains("%mixd2 = xor"));
  }
  SECTION("the source of a file built from its IR refuses source edits") {
    Edit diff;
    diff.kind = EditKind::diff;
    diff.text = "<<<<<<< SEARCH\n  return total;\n=======\n  return total + 0;\n>>>>>>> REPLACE\n";
    Result<Program> refused = apply_edit(*child, diff, {}, {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error() ==
          "tiny.c is built from its IR (tiny.c.ll) since an ir edit: edit the IR instead");
  }
}

TEST_CASE("ir genome: broken IR is refused with LLVM's message before any build") {
  Task task = ratchet::testing::tiny_task(5000);
  RewriteContext context = lowering_context(task);
  Result<Program> not_dominated = apply_edit(task.baseline(), ir_edit(kNotDominated), {}, context);
  REQUIRE_FALSE(not_dominated);
  CHECK_THAT(not_dominated.error(), Contains("the ir edit of 'churn' is refused: verifier: "
                                             "Instruction does not dominate all uses!"));

  std::string typo = kChurn;
  typo.replace(typo.find("urem i64"), 8, "urem i6x");
  Result<Program> bad_syntax = apply_edit(task.baseline(), ir_edit(typo), {}, context);
  REQUIRE_FALSE(bad_syntax);
  CHECK_THAT(bad_syntax.error(), Contains("the ir edit of 'churn' is refused: ") &&
                                     Contains("error:"));

  std::string other_type = kChurn;
  other_type.replace(other_type.find("i32 %passes"), 11, "i64 %passes");
  CHECK_FALSE(apply_edit(task.baseline(), ir_edit(other_type), {}, context));

  Result<Program> no_lowering = apply_edit(task.baseline(), ir_edit(kChurn), {}, RewriteContext{});
  REQUIRE_FALSE(no_lowering);
  CHECK(no_lowering.error() ==
        "cannot lower tiny.c to IR here: no IR lowering step is configured");
}
