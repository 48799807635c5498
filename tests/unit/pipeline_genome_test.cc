// The pass-pipeline genome in builds, on the tiny task: a pipeline checked by
// the pass builder's parser goes into the program, every source then goes
// through clang-19 -emit-llvm, opt-19 -passes=PIPELINE and the code generator,
// and the real cascade builds, verifies and times the result.
#include <catch2/catch.hpp>

#include "common/files.h"
#include "common/program_files.h"
#include "engine/pipeline_mutator.h"
#include "evaluators/builder.h"
#include "evaluators/cascade.h"
#include "rewriters/apply_edit.h"
#include "rewriters/llvm_ir.h"
#include "tests/unit/tiny_task.h"

using namespace ratchet;
using Catch::Matchers::Contains;

namespace {

Edit pipeline_edit(const Program& parent, const std::string& pipeline) {
  Edit edit;
  edit.kind = EditKind::flags;
  edit.flags = parent.flags;
  edit.text = pipeline;
  return edit;
}

}  // namespace

TEST_CASE("pipeline genome: a mutated pipeline is what builds the candidate") {
  TempDir scratch("pipeline-genome-");
  Task task = ratchet::testing::tiny_task(5000);
  Program baseline = task.baseline();
  Result<Program> child =
      apply_edit(baseline, pipeline_edit(baseline, "function(sroa,instcombine),default<O2>"), {});
  REQUIRE(child);
  CHECK(program_pipeline(*child) == "function(sroa,instcombine),default<O2>");
  CHECK(child->files.at("tiny.c") == baseline.files.at("tiny.c"));

  CascadeEvaluator evaluator(task, ratchet::testing::quick_settings(), VerifySettings{},
                             scratch.path(), nullptr);
  REQUIRE(evaluator.prepare().ok());
  Evaluation evaluation = evaluator.evaluate(*child, 1);
  INFO(evaluation.build.log << evaluation.verify.summary);
  CHECK(evaluation.build.status == StageStatus::ok);
  CHECK_THAT(evaluation.build.log,
             Contains("$ clang-19 -S -emit-llvm -w -std=c11 -O2 -Xclang -disable-llvm-passes "
                      "-x c tiny.c -o tiny.c.lowered.ll"));
  CHECK_THAT(evaluation.build.log,
             Contains("$ opt-19 '-passes=function(sroa,instcombine),default<O2>' "
                      "tiny.c.lowered.ll -o tiny.c.opt.bc"));
  CHECK_THAT(evaluation.build.log,
             Contains("$ clang-19 -c -w -O1 -Xclang -disable-llvm-passes tiny.c.opt.bc -o tiny.c.o"));
  CHECK_THAT(evaluation.build.log, Contains("$ gcc -std=c11 -O1 tiny.c.o -o prog"));
  CHECK(evaluation.passed());

  SECTION("'none' returns the sources to the compiler's own optimizer") {
    Result<Program> plain = apply_edit(*child, pipeline_edit(*child, "none"), {});
    REQUIRE(plain);
    CHECK(*plain == baseline);
  }
}

TEST_CASE("pipeline genome: the sanitizer build of a pipeline candidate is instrumented") {
  TempDir scratch("pipeline-genome-");
  Task task = ratchet::testing::tiny_task(5000);
  // Reads one element past the end, then discards it: right output, wrong program.
  Program program = ratchet::testing::with_block(task, std::string(ratchet::testing::kHonestChurn) + R"(
static unsigned long long churn(const unsigned* values, long n, int passes) {
  volatile unsigned past_the_end = values[n];
  (void)past_the_end;
  return honest(values, n, passes);
}
)");
  program.files[kPipelineFile] = "default<O2>\n";
  VerifySettings verify;
  verify.hidden_inputs = 0;
  CascadeEvaluator evaluator(task, ratchet::testing::quick_settings(), verify, scratch.path(),
                             nullptr);
  REQUIRE(evaluator.prepare().ok());
  Evaluation evaluation = evaluator.evaluate(program, 1);
  CHECK(evaluation.build.status == StageStatus::ok);
  CHECK(evaluation.verify.status != StageStatus::ok);
  CHECK_THAT(evaluation.verify.log, Contains("AddressSanitizer"));
}

TEST_CASE("pipeline genome: a pipeline the pass builder rejects never reaches a build") {
  Task task = ratchet::testing::tiny_task(5000);
  Program baseline = task.baseline();
  Result<Program> refused = apply_edit(baseline, pipeline_edit(baseline, "function(instcombin)"), {});
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error(), Contains("the pass pipeline 'function(instcombin)' is refused: ") &&
                                  Contains("instcombin"));
  CHECK_FALSE(apply_edit(baseline, pipeline_edit(baseline, ""), {}));  // nothing changes
}

TEST_CASE("pipeline genome: the pipeline proposer mutates the parent's pipeline") {
  Task task = ratchet::testing::tiny_task(5000);
  std::mt19937_64 rng(2);
  PipelineMutator mutator;
  CandidateRecord parent;
  parent.id = 1;
  parent.program = task.baseline();
  for (int i = 0; i < 10; ++i) {
    std::optional<Proposal> proposal = mutator.propose({task, parent, rng, nullptr, 0});
    REQUIRE(proposal);
    CHECK(proposal->edit.kind == EditKind::flags);
    CHECK(proposal->edit.flags == parent.program.flags);
    CHECK(check_pipeline(proposal->edit.text));
    Result<Program> child = apply_edit(parent.program, proposal->edit, {});
    REQUIRE(child);
    CHECK(program_pipeline(*child) == proposal->edit.text);
    CHECK(program_pipeline(*child) != program_pipeline(parent.program));
    parent.program = *child;  // the next mutation starts from this one
  }
}
