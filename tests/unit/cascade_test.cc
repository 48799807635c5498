// The evaluator cascade on a real task, with the real sandbox and compiler.
#include <catch2/catch.hpp>

#include "common/files.h"
#include "evaluators/cascade.h"
#include "tests/unit/tiny_task.h"

using namespace ratchet;
using ratchet::testing::quick_settings;
using ratchet::testing::with_block;
using Catch::Matchers::Contains;

namespace {

const char* kWrongAnswer = R"(static unsigned long long churn(const unsigned* v, long n, int p) {
  (void)v; (void)p; return (unsigned long long)n;
}
)";

const char* kCrash = R"(static unsigned long long churn(const unsigned* v, long n, int p) {
  (void)v; (void)n; (void)p; volatile int* nowhere = 0; return (unsigned long long)*nowhere;
}
)";

const char* kHang = R"(static unsigned long long churn(const unsigned* v, long n, int p) {
  (void)v; (void)p; volatile long spin = 0; for (;;) { spin += n; } return 0;
}
)";

}  // namespace

TEST_CASE("cascade: the baseline verifies and a flag variant gets a speedup with an interval") {
  TempDir scratch("cascade-test-");
  Task task = ratchet::testing::tiny_task(2000);
  CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
  REQUIRE(evaluator.prepare().ok());

  Program variant = task.baseline();
  variant.flags = {"-O2"};
  Evaluation evaluation = evaluator.evaluate(variant, 1);
  INFO(evaluation.build.log << evaluation.verify.log << evaluation.benchmark.summary);
  REQUIRE(evaluation.passed());
  CHECK(evaluation.metrics["pairs"] == 3);
  CHECK(evaluation.samples.size() == 3);
  double low = evaluation.metrics["ci_low"], high = evaluation.metrics["ci_high"];
  double speedup = evaluation.metrics["speedup"];
  CHECK(low <= speedup);
  CHECK(speedup <= high);
  CHECK(evaluation.metrics["metric"] == "cpu_time");
  for (const auto& sample : evaluation.samples) {
    CHECK(sample.baseline_cpu_ms > 0);
    CHECK(sample.candidate_cpu_ms > 0);
  }
}

TEST_CASE("cascade: a compile error fails the build with the compiler's diagnostics") {
  TempDir scratch("cascade-test-");
  Task task = ratchet::testing::tiny_task(2000);
  CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
  REQUIRE(evaluator.prepare().ok());
  Evaluation evaluation = evaluator.evaluate(with_block(task, "this is not C;\n"), 1);
  CHECK(evaluation.build.status == StageStatus::failed);
  CHECK_THAT(evaluation.build.log, Contains("error:"));
  CHECK_THAT(evaluation.build.log, Contains("$ gcc -std=c11 -O1 tiny.c -o prog"));
  CHECK(evaluation.verify.status == StageStatus::skipped);
  CHECK(evaluation.benchmark.status == StageStatus::skipped);
}

TEST_CASE("cascade: a wrong answer fails verification and names the input") {
  TempDir scratch("cascade-test-");
  Task task = ratchet::testing::tiny_task(2000);
  CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
  REQUIRE(evaluator.prepare().ok());
  Evaluation evaluation = evaluator.evaluate(with_block(task, kWrongAnswer), 1);
  REQUIRE(evaluation.build.status == StageStatus::ok);
  CHECK(evaluation.verify.status == StageStatus::failed);
  CHECK_THAT(evaluation.verify.summary, Contains("wrong output on input"));
  CHECK_THAT(evaluation.verify.log, Contains("line 1 differs"));
  CHECK(evaluation.benchmark.status == StageStatus::skipped);
  CHECK_FALSE(evaluation.metrics.contains("speedup"));
}

TEST_CASE("cascade: a crash is reported as crashed, a hang as a timeout") {
  TempDir scratch("cascade-test-");
  Task task = ratchet::testing::tiny_task(2000);
  CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
  REQUIRE(evaluator.prepare().ok());

  Evaluation crash = evaluator.evaluate(with_block(task, kCrash), 1);
  CHECK(crash.verify.status == StageStatus::crashed);
  CHECK_THAT(crash.verify.summary, Contains("SIGSEGV"));

  Evaluation hang = evaluator.evaluate(with_block(task, kHang), 1);
  CHECK(hang.verify.status == StageStatus::timeout);
}

TEST_CASE("cascade: build folders and work dirs do not outlive an evaluation") {
  TempDir scratch("cascade-test-");
  Task task = ratchet::testing::tiny_task(2000);
  {
    CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
    REQUIRE(evaluator.prepare().ok());
    Program variant = task.baseline();
    variant.flags = {"-O3"};
    REQUIRE(evaluator.evaluate(variant, 1).passed());
    size_t entries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(scratch.path())) {
      CHECK_THAT(entry.path().filename().string(), Contains("baseline-"));
      ++entries;
    }
    CHECK(entries == 1);
  }
  CHECK(std::filesystem::is_empty(scratch.path()));
}

TEST_CASE("cascade: an identical binary from other flags is not verified or timed again") {
  TempDir scratch("cascade-test-");
  Task task = ratchet::testing::tiny_task(2000);
  CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
  REQUIRE(evaluator.prepare().ok());
  Program first = task.baseline();
  first.flags = {"-O2"};
  Program same_code = first;
  same_code.flags.push_back("-Wall");  // warnings only: the same bytes
  Evaluation a = evaluator.evaluate(first, 1);
  Evaluation b = evaluator.evaluate(same_code, 2);
  REQUIRE(a.passed());
  REQUIRE(b.passed());
  CHECK(b.metrics["binary_reused"] == true);
  CHECK(b.metrics["binary_hash"] == a.metrics["binary_hash"]);
  CHECK(b.metrics["speedup"] == a.metrics["speedup"]);
  CHECK(b.samples.empty());

  Program different = first;
  different.flags = {"-O0"};  // (-O3 gives -O2's very bytes on this small loop)
  Evaluation c = evaluator.evaluate(different, 3);
  CHECK_FALSE(c.metrics.contains("binary_reused"));
}

TEST_CASE("cascade: a build cache shared by two runs skips the second compile") {
  TempDir scratch("cascade-test-");
  TempDir cache("cascade-cache-");
  Task task = ratchet::testing::tiny_task(2000);
  Program variant = task.baseline();
  variant.flags = {"-O3"};
  Evaluation first, second;
  for (Evaluation* evaluation : {&first, &second}) {
    CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
    evaluator.use_build_cache(BuildCache(cache.path()));
    REQUIRE(evaluator.prepare().ok());
    *evaluation = evaluator.evaluate(variant, 1);
  }
  REQUIRE(first.passed());
  REQUIRE(second.passed());
  CHECK_FALSE(first.metrics.contains("build_cache_hit"));
  CHECK(second.metrics["build_cache_hit"] == true);
  CHECK_THAT(second.build.summary, Contains("cached build"));
  CHECK(second.metrics["binary_hash"] == first.metrics["binary_hash"]);

  Program other = variant;
  other.flags = {"-O1"};
  CascadeEvaluator evaluator(task, quick_settings(), VerifySettings{}, scratch.path(), nullptr);
  evaluator.use_build_cache(BuildCache(cache.path()));
  REQUIRE(evaluator.prepare().ok());
  CHECK_FALSE(evaluator.evaluate(other, 1).metrics.contains("build_cache_hit"));
}
