// What an evaluation produces, shared by the evaluators (which fill it) and
// the engine (which stores it and feeds it to the next prompt).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ratchet {

// Persisted: never renumber.
enum class StageStatus : int {
  pending = 0,
  ok = 1,
  failed = 2,   // compiler error, wrong output, …
  timeout = 3,
  crashed = 4,  // killed by a signal, out of memory, output flood
  skipped = 5,  // an earlier stage failed
};

const char* to_string(StageStatus status);

struct StageResult {
  StageStatus status = StageStatus::pending;
  std::string summary;  // one line: "exit 1", "output differs on input 2 (size 50)", …
  std::string log;      // evidence: compiler diagnostics, verifier diff (truncated)
  double seconds = 0;
};

// One interleaved benchmark pair: baseline and candidate timed back to back,
// in the order given by candidate_first.
struct BenchmarkSample {
  int pair = 0;
  bool candidate_first = false;
  double baseline_cpu_ms = 0;
  double candidate_cpu_ms = 0;
  double baseline_wall_ms = 0;
  double candidate_wall_ms = 0;
};

struct Evaluation {
  StageResult build;
  StageResult verify;
  StageResult benchmark;
  // speedup, ci_low, ci_high, pairs, baseline_cpu_ms, candidate_cpu_ms, …
  nlohmann::json metrics = nlohmann::json::object();
  std::vector<BenchmarkSample> samples;

  bool passed() const {
    return build.status == StageStatus::ok && verify.status == StageStatus::ok &&
           benchmark.status == StageStatus::ok;
  }
};

}  // namespace ratchet
