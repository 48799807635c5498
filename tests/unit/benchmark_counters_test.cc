// The benchmark stage's perf counters: per-event medians of the timed runs of
// both sides, and the events this machine does not count.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "evaluators/benchmark.h"

namespace {

ratchet::TimedCommand shell(const std::string& script) {
  ratchet::TimedCommand command;
  command.binary = "sh";  // found through the sandbox's PATH
  command.args = {"-c", script};
  command.timeout_ms = 10'000;
  return command;
}

}  // namespace

TEST_CASE("benchmark: timed runs report perf counter medians for both sides", "[benchmark]") {
  ratchet::TempDir scratch("benchmark-counters-");
  ratchet::BenchmarkSettings settings;
  settings.warmup_runs = 0;
  settings.min_pairs = 3;
  settings.max_pairs = 3;
  // The candidate does a third of the baseline's work.
  auto baseline = shell("i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done");
  auto candidate = shell("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done");
  auto outcome = ratchet::benchmark_ab(baseline, candidate, settings, "cpu_time", scratch.path(), 7);
  INFO(outcome.stage.summary << "\n" << outcome.counters.dump(2));
  REQUIRE(outcome.stage.status == ratchet::StageStatus::ok);
  const auto& counters = outcome.counters;
  REQUIRE(counters.contains("baseline"));
  REQUIRE(counters.contains("candidate"));
  REQUIRE(counters["unavailable"].is_array());
  for (const char* side : {"baseline", "candidate"}) {
    INFO(side);
    CHECK(counters[side]["task-clock"].get<double>() > 0);
    CHECK(counters[side]["page-faults"].get<double>() > 0);
    // Every event is either counted or named unavailable.
    CHECK(counters[side].size() + counters["unavailable"].size() == 9);
  }
  double baseline_clock = counters["baseline"]["task-clock"], candidate_clock =
                                                                  counters["candidate"]["task-clock"];
  CHECK(baseline_clock > 1.5 * candidate_clock);
  // The counters measure the same runs as the times.
  CHECK(baseline_clock / 1e6 == Approx(outcome.baseline_ms).epsilon(0.3));
}
