// The evaluator cascade: build → verify → benchmark, each stage in the
// sandbox; a stage runs only when the one before it passed. Verification
// compares the candidate's output on every verify input with the baseline's
// (the reference), which ratchet holds in memory: no candidate can read it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/evaluation.h"
#include "common/files.h"
#include "common/program.h"
#include "evaluators/benchmark.h"
#include "evaluators/build_cache.h"
#include "evaluators/builder.h"
#include "evaluators/inputs.h"
#include "evaluators/task.h"

namespace ratchet {

// A program after the build stage and before verification: what the
// campaign's parallel build stage hands to its serial verify + benchmark
// stage. Small: a status, a path and the folder that keeps the binary alive.
struct BuiltProgram {
  // pending: nothing was built (the evaluator builds in evaluate_built).
  StageResult build{StageStatus::pending, "", "", 0};
  std::filesystem::path binary;  // valid when build.status == ok
  std::string binary_hash;
  bool cache_hit = false;
  std::shared_ptr<TempDir> dir;  // the build folder, removed with the last copy
};

// The interface the engine sees; engine tests and the engine benchmark
// substitute an instant implementation.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // `seed` drives the benchmark's pair order (and later hidden inputs).
  // Equivalent to evaluate_built(program, build(program), seed).
  virtual Evaluation evaluate(const Program& program, uint64_t seed) = 0;
  // The build stage alone. Must be safe to call from several threads at
  // once, and while evaluate_built runs. The default builds nothing.
  virtual BuiltProgram build(const Program&) { return {}; }
  // Verification and benchmark of what build() returned. `cpu` < 0: one
  // call at a time, the benchmark holding the machine. `cpu` >= 0 (a
  // benchmark slot): the runs are pinned to that core and calls for
  // different cores may run at once. The default (nothing built) evaluates
  // the program whole.
  virtual Evaluation evaluate_built(const Program& program, BuiltProgram built, uint64_t seed,
                                    int cpu) {
    (void)built;
    (void)cpu;
    return evaluate(program, seed);
  }
  // The baseline against itself (an A/A test): the noise floor.
  virtual Evaluation evaluate_baseline(uint64_t seed) = 0;
  // Evaluates again at higher precision: the figure a final report quotes.
  // `cpu` as for evaluate_built (confirmations in different slots may run
  // at once).
  virtual Evaluation confirm(const Program& program, uint64_t seed, int cpu) {
    (void)cpu;
    return evaluate(program, seed);
  }
};

// How hard verification tries to catch a wrong candidate.
struct VerifySettings {
  // Inputs drawn with fresh seeds at every evaluation (sizes taken from the
  // task's verify inputs), checked against the baseline's output on them:
  // a candidate cannot memorize answers it never saw.
  int hidden_inputs = 2;
  // Build with ASan + UBSan and run the verify inputs: undefined behaviour
  // fails the candidate even when its output happens to match. Cached per
  // source text, so flag-only candidates pay for it once.
  bool sanitizers = true;
  // Run every verify input twice; the two outputs must agree.
  bool determinism = false;
};

// The content hash of a built binary; refuses a symlink (a build could plant
// one where the binary should be).
Result<std::string> binary_hash(const std::filesystem::path& binary);

class CascadeEvaluator final : public Evaluator {
 public:
  // `scratch` is where build folders and work dirs are made (removed after
  // use); `cancel` stops a running stage.
  CascadeEvaluator(Task task, BenchmarkSettings settings, VerifySettings verify,
                   std::filesystem::path scratch, const std::atomic<bool>* cancel);

  // Generates the inputs, builds the baseline, runs it twice on every verify
  // input (its outputs must agree: they become the reference) and, when
  // sanitizers are on, checks it under ASan + UBSan. The error carries the
  // compiler's, generator's, sanitizer's or program's own message.
  Status prepare();

  // The baseline against itself: the noise floor of this task on this
  // machine (an A/A test). Requires prepare().
  Evaluation evaluate_baseline(uint64_t seed) override;

  Evaluation evaluate(const Program& program, uint64_t seed) override;
  // Thread-safe: compiles in the sandbox, reads and fills the build cache.
  BuiltProgram build(const Program& program) override;
  // Thread-safe for different `cpu`s (benchmark slots).
  Evaluation evaluate_built(const Program& program, BuiltProgram built, uint64_t seed,
                            int cpu) override;

  // Reuse binaries built earlier (by this or another run) from `cache`;
  // call before prepare(), which reads the compiler's version for the key.
  void use_build_cache(BuildCache cache) { build_cache_ = std::move(cache); }

  // Twice the pairs, half the target interval width.
  Evaluation confirm(const Program& program, uint64_t seed, int cpu) override;

  const Task& task() const { return task_; }

 private:
  // `cpu` everywhere below: the core the runs are pinned to, or -1.
  StageResult verify(const Program& program, const std::filesystem::path& binary, uint64_t seed,
                     int cpu);
  std::optional<StageResult> check_inputs(const std::filesystem::path& binary, int cpu);
  std::optional<StageResult> check_hidden_inputs(const std::filesystem::path& binary,
                                                 uint64_t seed, int cpu);
  std::optional<StageResult> check_sanitizers(const Program& program, int cpu);
  std::optional<std::string> check_output(const std::string& expected, const std::string& actual,
                                          const std::filesystem::path& input, int cpu);
  Evaluation benchmark(const std::filesystem::path& binary, Evaluation evaluation, uint64_t seed,
                       const BenchmarkSettings& settings, int cpu);
  Evaluation evaluate_with(const Program& program, BuiltProgram built, uint64_t seed,
                           const BenchmarkSettings& settings, bool reuse_binaries, int cpu);
  int64_t candidate_timeout_ms() const;

  Task task_;
  BenchmarkSettings settings_;
  VerifySettings verify_settings_;
  std::mutex results_mutex_;  // the two maps below, shared by benchmark slots
  std::map<std::string, StageResult> sanitizer_results_;  // by source hash
  // Different flags often give byte-identical binaries (a flag with nothing
  // to act on); such a binary is never verified or benchmarked twice.
  std::map<std::string, Evaluation> evaluations_by_binary_;
  BuildCache build_cache_;
  std::string compiler_version_;
  std::filesystem::path scratch_;
  const std::atomic<bool>* cancel_;
  std::optional<TempDir> baseline_dir_;
  std::optional<InputSet> inputs_;
  std::vector<std::string> reference_outputs_;
  std::filesystem::path baseline_binary_;
  double baseline_ms_ = 0;
};

}  // namespace ratchet
