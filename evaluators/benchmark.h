// The benchmark stage: A/B timing of a candidate against the baseline.
//
// Pairs are taken in random order (a fixed A-B order biased A/A tests on
// these VMs), after warm-up runs, while holding the benchmark lock: the whole
// machine, or with benchmark slots the core the slot owns (docs/measurement.md
// measures what a benchmark on the other core costs). The statistic is the
// child's CPU time (user + system from wait4) unless the task asks for wall
// time. Sampling is adaptive: after min_pairs, it stops once the confidence
// interval's half-width is within target_ci of the speedup, or at max_pairs,
// or when max_seconds is spent. See stats.h for the estimator. The timed runs
// are also counted with perf events (sandbox::Spec::count_events); their
// per-event medians are reported beside the times, never used for the verdict.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/evaluation.h"
#include "evaluators/run_program.h"
#include "evaluators/stats.h"

namespace ratchet {

struct BenchmarkSettings {
  int warmup_runs = 1;
  int min_pairs = 5;
  int max_pairs = 30;
  double target_ci = 0.02;  // stop when CI half-width <= target_ci * speedup
  double max_seconds = 60;
  double confidence = 0.95;
  // "time": interleaved CPU-time pairs; "instructions": callgrind counts
  // (deterministic; the speedup is in estimated cycles, its interval a point).
  std::string mode = "time";
  // A candidate is better only when its interval's lower bound clears the
  // comparison point by this fraction.
  double min_effect = 0.0;
  // instructions mode: count only inside these functions (empty: the program).
  std::vector<std::string> count_functions;
  // Benchmarks a campaign runs at once. 1: one at a time, holding the whole
  // machine. N > 1: N slots, each owning one core; a candidate's verification
  // and A/B pairs are pinned to its slot's core (engine/campaign.h).
  int slots = 1;
};

struct BenchmarkOutcome {
  StageResult stage;
  double speedup = 0;
  Interval ci;
  int pairs = 0;
  double baseline_ms = 0;   // median of the metric
  double candidate_ms = 0;
  std::vector<BenchmarkSample> samples;
  // Medians over the timed runs, per perf event, and the events this machine
  // does not count: {"baseline": {"task-clock": ns, "page-faults": n, ...},
  //  "candidate": {...}, "unavailable": ["cycles", ...]}.
  nlohmann::json counters = nlohmann::json::object();
};

// "faster" when the interval lies above 1 + min_effect, "slower" when it lies
// below 1 - min_effect, "same" otherwise: a claim needs the interval's word.
const char* verdict(const Interval& ci, double min_effect);

// `scratch` holds a fresh work dir per run. `metric` is cpu_time or wall_time.
// `cpu` < 0: the benchmark waits until no other benchmark runs on the machine
// and holds it. `cpu` >= 0: the commands must be pinned to that core (their
// `cpus`); the benchmark waits only for benchmarks on that core, or an
// unpinned one, so one benchmark per core can run at once.
BenchmarkOutcome benchmark_ab(const TimedCommand& baseline, const TimedCommand& candidate,
                              const BenchmarkSettings& settings, const std::string& metric,
                              const std::filesystem::path& scratch, uint64_t seed,
                              const std::atomic<bool>* cancel = nullptr, int cpu = -1);

}  // namespace ratchet
