// Evaluator hacks: candidates that try to look correct or fast without
// being so. Every one of them must fail, or gain nothing.
#include <catch2/catch.hpp>

#include "common/files.h"
#include "evaluators/cascade.h"
#include "evaluators/instructions.h"
#include "tests/unit/tiny_task.h"

using namespace ratchet;
using ratchet::testing::quick_settings;
using ratchet::testing::with_block;
using Catch::Matchers::Contains;

namespace {

// The real computation, for hacks that call it some of the time.
const char* const kHonest = ratchet::testing::kHonestChurn;

struct Harness {
  TempDir scratch{"hacks-test-"};
  Task task = ratchet::testing::tiny_task(5000);
  CascadeEvaluator evaluator;

  explicit Harness(VerifySettings verify = {}, BenchmarkSettings bench = quick_settings())
      : evaluator(task, bench, verify, scratch.path(), nullptr) {
    Status prepared = evaluator.prepare();
    INFO((prepared.ok() ? std::string() : prepared.error()));
    REQUIRE(prepared.ok());
  }
};

}  // namespace

// The first value the tiny task's generator writes for (size, seed): see
// tests/data/tasks/tiny/gen.c.
unsigned first_generated_value(unsigned long long seed) {
  unsigned long long state = seed * 2654435761ULL + 1;
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<unsigned>(state >> 40) % 1000;
}

TEST_CASE("hacks: answers memorized for the visible inputs fail on hidden ones") {
  // Computes honestly only for inputs it recognizes (the visible verify
  // inputs: empty, and 17 values starting with a known one); a constant
  // answer otherwise.
  std::string hack = std::string(kHonest) + R"(
static unsigned long long churn(const unsigned* values, long n, int passes) {
  if (n == 0 || (n == 17 && values[0] == )" + std::to_string(first_generated_value(2)) + R"(u))
    return honest(values, n, passes);
  return 12345;
}
)";
  VerifySettings visible_only;
  visible_only.hidden_inputs = 0;
  visible_only.sanitizers = false;
  Harness fooled(visible_only);
  CHECK(fooled.evaluator.evaluate(with_block(fooled.task, hack), 1).verify.status ==
        StageStatus::ok);  // the visible inputs alone are fooled

  VerifySettings hidden;
  hidden.hidden_inputs = 2;
  hidden.sanitizers = false;
  Harness guarded(hidden);
  Evaluation caught = guarded.evaluator.evaluate(with_block(guarded.task, hack), 7);
  CHECK(caught.verify.status == StageStatus::failed);
  CHECK_THAT(caught.verify.summary, Contains("wrong output on hidden input 1 (size 17)"));
}

TEST_CASE("hacks: partial computation fails verification") {
  Harness h;
  std::string hack = std::string(kHonest) + R"(
static unsigned long long churn(const unsigned* values, long n, int passes) {
  return honest(values, n / 2 + 1, passes);  /* skip half the data */
}
)";
  Evaluation evaluation = h.evaluator.evaluate(with_block(h.task, hack), 1);
  CHECK(evaluation.verify.status == StageStatus::failed);
  CHECK_THAT(evaluation.verify.summary, Contains("wrong output"));
}

TEST_CASE("hacks: output that only looks right fails verification") {
  Harness h;
  std::string hack = R"(
static unsigned long long churn(const unsigned* values, long n, int passes) {
  (void)values; (void)passes;
  return 1234567890123ULL + (unsigned long long)n;  /* a plausible-looking number */
}
)";
  Evaluation evaluation = h.evaluator.evaluate(with_block(h.task, hack), 1);
  CHECK(evaluation.verify.status == StageStatus::failed);
  CHECK_THAT(evaluation.verify.log, Contains("line 1 differs"));
}

TEST_CASE("hacks: undefined behaviour with the right output fails the sanitizer stage") {
  VerifySettings verify;
  verify.hidden_inputs = 0;
  Harness h(verify);
  // Reads one element past the end of the array, then discards it: the
  // output is right, the program is not.
  std::string hack = std::string(kHonest) + R"(
static unsigned long long churn(const unsigned* values, long n, int passes) {
  volatile unsigned past_the_end = values[n];
  (void)past_the_end;
  return honest(values, n, passes);
}
)";
  Evaluation evaluation = h.evaluator.evaluate(with_block(h.task, hack), 1);
  CHECK(evaluation.verify.status != StageStatus::ok);
  CHECK_THAT(evaluation.verify.summary, Contains("sanitizer report"));
  CHECK_THAT(evaluation.verify.log, Contains("AddressSanitizer"));

  // The honest program passes the same stage.
  std::string honest = std::string(kHonest) +
                       "static unsigned long long churn(const unsigned* v, long n, int p) "
                       "{ return honest(v, n, p); }\n";
  CHECK(h.evaluator.evaluate(with_block(h.task, honest), 1).verify.status == StageStatus::ok);
}

TEST_CASE("hacks: an answer cached in a file by one run is gone for the next") {
  VerifySettings verify;
  verify.hidden_inputs = 0;
  verify.sanitizers = false;
  BenchmarkSettings bench;
  bench.mode = "instructions";
  Harness h(verify, bench);
  // Caches the answer in its work dir (also its HOME); on a hit it prints the
  // cached answer without computing. Every run starts in a fresh work dir,
  // so the cache never hits and the candidate does the full work each time.
  std::string hack = std::string(kHonest) + R"(
static unsigned long long churn(const unsigned* values, long n, int passes) {
  unsigned long long cached;
  FILE* f = fopen("answer.cache", "r");
  if (f) {
    int ok = fscanf(f, "%llu", &cached) == 1;
    fclose(f);
    if (ok) return cached;
  }
  unsigned long long answer = honest(values, n, passes);
  f = fopen("answer.cache", "w");
  if (f) { fprintf(f, "%llu\n", answer); fclose(f); }
  return answer;
}
)";
  Evaluation evaluation = h.evaluator.evaluate(with_block(h.task, hack), 1);
  INFO(evaluation.benchmark.summary << evaluation.benchmark.log);
  REQUIRE(evaluation.passed());
  CHECK(evaluation.metrics["speedup"].get<double>() < 1.0);  // extra I/O, same work
}

namespace {

// Does the real work in a forked child and reads the answer through a pipe,
// never waiting for the child: its CPU time would not show in the parent's
// own rusage, nor its instructions in an untraced count.
const char* kForkedWork = R"(
#include <unistd.h>
static unsigned long long churn(const unsigned* values, long n, int passes) {
  int fds[2];
  if (pipe(fds) != 0) return honest(values, n, passes);
  if (fork() == 0) {
    unsigned long long answer = honest(values, n, passes);
    if (write(fds[1], &answer, sizeof answer) != sizeof answer) _exit(1);
    _exit(0);
  }
  unsigned long long answer = 0;
  if (read(fds[0], &answer, sizeof answer) != sizeof answer) return 0;
  return answer;
}
)";

}  // namespace

TEST_CASE("hacks: work hidden in a forked child still counts, in time and in instructions") {
  VerifySettings verify;
  verify.hidden_inputs = 0;
  verify.sanitizers = false;
  for (const std::string mode : {"time", "instructions"}) {
    BenchmarkSettings bench = quick_settings();
    bench.mode = mode;
    Harness h(verify, bench);
    Evaluation evaluation =
        h.evaluator.evaluate(with_block(h.task, std::string(kHonest) + kForkedWork), 1);
    INFO(mode << ": " << evaluation.benchmark.summary << evaluation.benchmark.log);
    REQUIRE(evaluation.passed());
    // Uncounted, the child's work would make this look several times faster.
    CHECK(evaluation.metrics["speedup"].get<double>() < 1.5);
  }
}

TEST_CASE("hacks: a forged callgrind summary cannot lower the count") {
  std::string real = "==7== Events    : Ir Dr Dw\n==7== Collected : 1000 200 100\n";
  std::string forged_before = "==7== Events    : Ir Dr Dw\n==7== Collected : 1 1 1\n" + real;
  std::string forged_other = "==99== Events    : Ir\n==99== Collected : 5\n" + real;
  CHECK(parse_callgrind_summary(forged_before)->ir == 1000);
  CHECK(parse_callgrind_summary(forged_other)->ir == 1005);
  CHECK_FALSE(parse_callgrind_summary("no summary here").ok());
}
