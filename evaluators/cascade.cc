#include "evaluators/cascade.h"

#include <chrono>
#include <fmt/format.h>

#include "common/text.h"
#include "evaluators/builder.h"
#include "evaluators/output_compare.h"
#include "evaluators/run_program.h"
#include "evaluators/stage_status.h"

namespace ratchet {

namespace {

constexpr int64_t kMaxOutputBytes = 16 << 20;
constexpr size_t kMaxEvidenceBytes = 8 * 1024;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string describe_input(size_t index, const InputFile& input) {
  return fmt::format("input {} (size {}, seed {})", index + 1, input.spec.size, input.spec.seed);
}

StageResult skipped() { return {StageStatus::skipped, "an earlier stage failed", "", 0}; }

}  // namespace

CascadeEvaluator::CascadeEvaluator(Task task, BenchmarkSettings settings,
                                   std::filesystem::path scratch, const std::atomic<bool>* cancel)
    : task_(std::move(task)),
      settings_(settings),
      scratch_(std::move(scratch)),
      cancel_(cancel) {}

Status CascadeEvaluator::prepare() {
  baseline_dir_.emplace("baseline-", scratch_);
  std::filesystem::path inputs_dir = baseline_dir_->path() / "inputs";
  std::filesystem::path build_dir = baseline_dir_->path() / "build";
  std::filesystem::create_directories(inputs_dir);
  std::filesystem::create_directories(build_dir);

  auto inputs = prepare_inputs(task_, inputs_dir, cancel_);
  if (!inputs) return Error{inputs.error()};
  inputs_ = std::move(*inputs);

  BuildOutput build = build_program(task_, task_.baseline(), build_dir, cancel_);
  if (build.stage.status != StageStatus::ok) {
    return fail(fmt::format("the baseline of task '{}' does not build ({}):\n{}", task_.name,
                            build.stage.summary, build.stage.log));
  }
  baseline_binary_ = build.binary;

  // Run twice: a baseline whose output changes from run to run cannot
  // serve as a reference.
  for (size_t i = 0; i < inputs_->verify.size(); ++i) {
    const InputFile& input = inputs_->verify[i];
    TimedCommand command{baseline_binary_, task_.run_args, input.path, task_.run_timeout_ms};
    std::string outputs[2];
    for (auto& output : outputs) {
      sandbox::Result result = run_program(command, scratch_, kMaxOutputBytes, cancel_);
      if (!result.exited_ok()) {
        return fail(fmt::format("the baseline of task '{}' fails on {}: {}\n{}", task_.name,
                                describe_input(i, input), result.describe(),
                                truncate_middle(result.stderr_text + result.setup_error,
                                                kMaxEvidenceBytes)));
      }
      output = std::move(result.stdout_text);
    }
    if (auto difference = compare_outputs(outputs[0], outputs[1], task_.verify_mode,
                                          {task_.abs_tol, task_.rel_tol})) {
      return fail(fmt::format("the baseline of task '{}' is not deterministic on {}: two runs "
                              "differ: {}", task_.name, describe_input(i, input), *difference));
    }
    reference_outputs_.push_back(std::move(outputs[0]));
  }

  TimedCommand bench{baseline_binary_, task_.run_args, inputs_->benchmark.path,
                     task_.run_timeout_ms};
  sandbox::Result result = run_program(bench, scratch_, 64 << 20, cancel_);
  if (!result.exited_ok()) {
    return fail(fmt::format("the baseline of task '{}' fails on the benchmark input (size {}, "
                            "seed {}): {}\n{}", task_.name, inputs_->benchmark.spec.size,
                            inputs_->benchmark.spec.seed, result.describe(),
                            truncate_middle(result.stderr_text, kMaxEvidenceBytes)));
  }
  baseline_ms_ = result.wall_ms;
  return Ok{};
}

int64_t CascadeEvaluator::candidate_timeout_ms() const {
  // A candidate ten times slower than the baseline is not worth timing to
  // the end; the task's timeout still caps it.
  int64_t cap = static_cast<int64_t>(baseline_ms_ * 10) + 2000;
  return std::min(task_.run_timeout_ms, cap);
}

StageResult CascadeEvaluator::verify(const std::filesystem::path& binary) {
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < inputs_->verify.size(); ++i) {
    const InputFile& input = inputs_->verify[i];
    TimedCommand command{binary, task_.run_args, input.path, task_.run_timeout_ms};
    sandbox::Result result = run_program(command, scratch_, kMaxOutputBytes, cancel_);
    if (!result.exited_ok()) {
      StageStatus status = stage_status_of(result);
      if (status == StageStatus::ok) status = StageStatus::failed;
      return {status, fmt::format("{}: {}", describe_input(i, input), result.describe()),
              truncate_middle(result.stderr_text, kMaxEvidenceBytes), seconds_since(start)};
    }
    if (auto difference = compare_outputs(reference_outputs_[i], result.stdout_text,
                                          task_.verify_mode, {task_.abs_tol, task_.rel_tol})) {
      return {StageStatus::failed, fmt::format("wrong output on {}", describe_input(i, input)),
              *difference, seconds_since(start)};
    }
  }
  return {StageStatus::ok, fmt::format("{} inputs match the baseline", inputs_->verify.size()),
          "", seconds_since(start)};
}

Evaluation CascadeEvaluator::benchmark(const std::filesystem::path& binary, Evaluation evaluation,
                                       uint64_t seed) {
  TimedCommand baseline{baseline_binary_, task_.run_args, inputs_->benchmark.path,
                        task_.run_timeout_ms};
  TimedCommand candidate{binary, task_.run_args, inputs_->benchmark.path, candidate_timeout_ms()};
  BenchmarkOutcome outcome =
      benchmark_ab(baseline, candidate, settings_, task_.metric, scratch_, seed, cancel_);
  evaluation.benchmark = outcome.stage;
  if (outcome.stage.status == StageStatus::ok) {
    evaluation.metrics["speedup"] = outcome.speedup;
    evaluation.metrics["ci_low"] = outcome.ci.low;
    evaluation.metrics["ci_high"] = outcome.ci.high;
    evaluation.metrics["pairs"] = outcome.pairs;
    evaluation.metrics["metric"] = task_.metric;
    evaluation.metrics["baseline_ms"] = outcome.baseline_ms;
    evaluation.metrics["candidate_ms"] = outcome.candidate_ms;
  }
  evaluation.samples = std::move(outcome.samples);
  return evaluation;
}

Evaluation CascadeEvaluator::evaluate_baseline(uint64_t seed) {
  Evaluation evaluation;
  evaluation.build = {StageStatus::ok, "built", "", 0};
  evaluation.verify = {StageStatus::ok, "reference outputs", "", 0};
  return benchmark(baseline_binary_, std::move(evaluation), seed);
}

Evaluation CascadeEvaluator::evaluate(const Program& program, uint64_t seed) {
  Evaluation evaluation;
  TempDir build_dir("build-", scratch_);
  BuildOutput build = build_program(task_, program, build_dir.path(), cancel_);
  evaluation.build = build.stage;
  if (build.stage.status != StageStatus::ok) {
    evaluation.verify = skipped();
    evaluation.benchmark = skipped();
    return evaluation;
  }
  evaluation.verify = verify(build.binary);
  if (evaluation.verify.status != StageStatus::ok) {
    evaluation.benchmark = skipped();
    return evaluation;
  }
  return benchmark(build.binary, std::move(evaluation), seed);
}

}  // namespace ratchet
