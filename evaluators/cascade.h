// The evaluator cascade: build → verify → benchmark, each stage in the
// sandbox; a stage runs only when the one before it passed. Verification
// compares the candidate's output on every verify input with the baseline's
// (the reference), which ratchet holds in memory: no candidate can read it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/evaluation.h"
#include "common/files.h"
#include "common/program.h"
#include "evaluators/benchmark.h"
#include "evaluators/builder.h"
#include "evaluators/inputs.h"
#include "evaluators/task.h"

namespace ratchet {

// The interface the engine sees; engine tests and the engine benchmark
// substitute an instant implementation.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // `seed` drives the benchmark's pair order (and later hidden inputs).
  virtual Evaluation evaluate(const Program& program, uint64_t seed) = 0;
  // The baseline against itself (an A/A test): the noise floor.
  virtual Evaluation evaluate_baseline(uint64_t seed) = 0;
};

// What task check reports about the baseline.
struct BaselineReport {
  StageResult build;
  StageResult verify;  // ran on every input, twice: deterministic?
  double benchmark_ms = 0;       // median metric of the baseline runs
  double noise_ci_low = 0;       // A/A interval of the baseline against itself
  double noise_ci_high = 0;
  double noise_speedup = 0;
  int pairs = 0;
};

class CascadeEvaluator final : public Evaluator {
 public:
  // `scratch` is where build folders and work dirs are made (removed after
  // use); `cancel` stops a running stage.
  CascadeEvaluator(Task task, BenchmarkSettings settings, std::filesystem::path scratch,
                   const std::atomic<bool>* cancel);

  // Generates the inputs, builds the baseline, runs it twice on every verify
  // input (its outputs must agree: they become the reference). The error
  // carries the compiler's, generator's or program's own message.
  Status prepare();

  // The baseline against itself: the noise floor of this task on this
  // machine (an A/A test). Requires prepare().
  Evaluation evaluate_baseline(uint64_t seed) override;

  Evaluation evaluate(const Program& program, uint64_t seed) override;

  const Task& task() const { return task_; }

 private:
  StageResult verify(const std::filesystem::path& binary);
  Evaluation benchmark(const std::filesystem::path& binary, Evaluation evaluation, uint64_t seed);
  int64_t candidate_timeout_ms() const;

  Task task_;
  BenchmarkSettings settings_;
  std::filesystem::path scratch_;
  const std::atomic<bool>* cancel_;
  std::optional<TempDir> baseline_dir_;
  std::optional<InputSet> inputs_;
  std::vector<std::string> reference_outputs_;
  std::filesystem::path baseline_binary_;
  double baseline_ms_ = 0;
};

}  // namespace ratchet
