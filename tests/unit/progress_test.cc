// The progress line: counts, best with its interval, failures by stage,
// pipeline depth and LLM spend; plain lines when not on a terminal.
#include "engine/progress.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace ratchet;
using Catch::Matchers::Contains;

namespace {

CandidateRecord finished(int64_t id, CandidateStatus status) {
  CandidateRecord c;
  c.id = id;
  c.proposer = "flags";
  c.status = status;
  c.edit = {{"kind", "flags"}, {"summary", "add -O3"}};
  if (status == CandidateStatus::evaluated) {
    c.metrics = {{"speedup", 1.25}, {"ci_low", 1.2}, {"ci_high", 1.3}};
  }
  return c;
}

}  // namespace

TEST_CASE("progress: the live line shows best, failures by stage, depth and LLM spend") {
  std::ostringstream out;
  Progress progress(out, /*live=*/true, 10);
  Member best;
  best.id = 2;
  best.speedup = 1.25;
  best.ci_low = 1.2;
  best.ci_high = 1.3;
  progress.set_in_flight(3);
  progress.set_llm_spend(2, 300, 0.01);
  progress.candidate_finished(finished(2, CandidateStatus::evaluated), &best);
  progress.candidate_finished(finished(3, CandidateStatus::verify_failed), &best);
  progress.duplicate_skipped();
  progress.candidate_finished(finished(4, CandidateStatus::build_failed), &best);
  std::string text = out.str();
  std::string last = text.substr(text.rfind("\r\033[K") + 4);
  CHECK_THAT(last, Contains("[3/10]"));
  CHECK_THAT(last, Contains("best 1.250x [1.200, 1.300] #2"));
  CHECK_THAT(last, Contains("failed: build 1 verify 1 bench 0 | dup 1"));
  CHECK_THAT(last, Contains("in flight 3"));
  CHECK_THAT(last, Contains("llm 2 calls, 300 tokens, $0.0100"));
}

TEST_CASE("progress: plain lines name each candidate and leave out an unused LLM") {
  std::ostringstream out;
  Progress progress(out, /*live=*/false, 5);
  progress.candidate_finished(finished(7, CandidateStatus::evaluated), nullptr);
  CHECK(out.str() == "ratchet: [1/5] #7 flags (add -O3): 1.250x [1.200, 1.300]\n");
  progress.finish();
  CHECK(out.str().find("llm") == std::string::npos);
}
