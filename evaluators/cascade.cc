#include "evaluators/cascade.h"

#include <chrono>
#include <fmt/format.h>
#include <random>

#include "common/hash.h"
#include "common/text.h"
#include "evaluators/builder.h"
#include "evaluators/instructions.h"
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

// A benchmark slot's core, as TimedCommand::cpus.
std::vector<int> cpus_of(int cpu) { return cpu < 0 ? std::vector<int>{} : std::vector<int>{cpu}; }

StageResult skipped() { return {StageStatus::skipped, "an earlier stage failed", "", 0}; }

StageResult run_failure(const sandbox::Result& result, const std::string& what) {
  StageStatus status = stage_status_of(result);
  if (status == StageStatus::ok) status = StageStatus::failed;
  return {status, fmt::format("{}: {}", what, result.describe()),
          truncate_middle(result.stderr_text, kMaxEvidenceBytes), 0};
}

// Flags for the sanitizer build: -O1 keeps it quick and the reports precise.
const std::vector<std::string> kSanitizerFlags = {
    "-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all"};

const std::vector<std::pair<std::string, std::string>> kSanitizerEnv = {
    // LeakSanitizer needs ptrace, which the sandbox refuses; leaks are not UB.
    {"ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:exitcode=86"},
    {"UBSAN_OPTIONS", "print_stacktrace=1:exitcode=86"}};

}  // namespace

CascadeEvaluator::CascadeEvaluator(Task task, BenchmarkSettings settings, VerifySettings verify,
                                   std::filesystem::path scratch, const std::atomic<bool>* cancel)
    : task_(std::move(task)),
      settings_(std::move(settings)),
      verify_settings_(verify),
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

  if (build_cache_.enabled()) {
    TempDir work("version-", scratch_);
    sandbox::Spec spec;
    spec.argv = {task_.compiler, "--version"};
    spec.workdir = work.path();
    spec.cancel = cancel_;
    sandbox::Result version = sandbox::run(spec);
    compiler_version_ = version.stdout_text.substr(0, version.stdout_text.find('\n'));
  }

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
    if (auto difference = check_output(outputs[0], outputs[1], input.path, -1)) {
      return fail(fmt::format("the baseline of task '{}' is not deterministic on {}: two runs "
                              "differ: {}", task_.name, describe_input(i, input), *difference));
    }
    reference_outputs_.push_back(std::move(outputs[0]));
  }

  if (auto failure = check_sanitizers(task_.baseline(), -1)) {
    return fail(fmt::format("the baseline of task '{}' fails under ASan/UBSan ({}); fix it, or "
                            "turn verification.sanitizers off:\n{}", task_.name,
                            failure->summary, failure->log));
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

std::optional<std::string> CascadeEvaluator::check_output(const std::string& expected,
                                                          const std::string& actual,
                                                          const std::filesystem::path& input,
                                                          int cpu) {
  if (task_.verify_mode != VerifyMode::command) {
    return compare_outputs(expected, actual, task_.verify_mode, {task_.abs_tol, task_.rel_tol});
  }
  // The checker sees copies in a folder of ratchet's, never the candidate's.
  TempDir files("check-", scratch_);
  std::filesystem::path expected_path = files.path() / "expected";
  std::filesystem::path actual_path = files.path() / "actual";
  if (!write_file(expected_path, expected) || !write_file(actual_path, actual)) {
    return "cannot write the outputs for the checker";
  }
  TimedCommand checker;
  checker.binary = task_.verify_command[0];
  checker.args.assign(task_.verify_command.begin() + 1, task_.verify_command.end());
  for (const auto& path : {input, expected_path, actual_path}) {
    checker.args.push_back(path.string());
    checker.extra_read_only.push_back(path);
  }
  checker.timeout_ms = task_.run_timeout_ms;
  checker.cpus = cpus_of(cpu);
  sandbox::Result result = run_program(checker, scratch_, 1 << 20, cancel_);
  if (result.exited_ok()) return std::nullopt;
  return fmt::format("the checker rejects it ({}): {}", result.describe(),
                     truncate_middle(result.stdout_text + result.stderr_text, kMaxEvidenceBytes));
}

std::optional<StageResult> CascadeEvaluator::check_inputs(const std::filesystem::path& binary,
                                                          int cpu) {
  for (size_t i = 0; i < inputs_->verify.size(); ++i) {
    const InputFile& input = inputs_->verify[i];
    TimedCommand command{binary, task_.run_args, input.path, task_.run_timeout_ms};
    command.cpus = cpus_of(cpu);
    int runs = verify_settings_.determinism ? 2 : 1;
    std::string first_output;
    for (int run = 0; run < runs; ++run) {
      sandbox::Result result = run_program(command, scratch_, kMaxOutputBytes, cancel_);
      if (!result.exited_ok()) return run_failure(result, describe_input(i, input));
      if (run == 1) {
        if (auto difference = check_output(first_output, result.stdout_text, input.path, cpu)) {
          return StageResult{StageStatus::failed,
                             fmt::format("not deterministic on {}", describe_input(i, input)),
                             *difference, 0};
        }
        continue;
      }
      if (auto difference =
              check_output(reference_outputs_[i], result.stdout_text, input.path, cpu)) {
        return StageResult{StageStatus::failed,
                           fmt::format("wrong output on {}", describe_input(i, input)),
                           *difference, 0};
      }
      first_output = std::move(result.stdout_text);
    }
  }
  return std::nullopt;
}

std::optional<StageResult> CascadeEvaluator::check_hidden_inputs(
    const std::filesystem::path& binary, uint64_t seed, int cpu) {
  if (verify_settings_.hidden_inputs <= 0) return std::nullopt;
  // Sizes from the task's verify inputs, largest first; seeds fresh each time.
  std::vector<int64_t> sizes;
  for (const auto& input : inputs_->verify) sizes.push_back(input.spec.size);
  std::sort(sizes.rbegin(), sizes.rend());
  std::mt19937_64 rng(seed ^ 0x5eedf00dULL);
  TempDir dir("hidden-", scratch_);
  for (int i = 0; i < verify_settings_.hidden_inputs; ++i) {
    InputSpec spec{sizes[i % sizes.size()], static_cast<int64_t>(rng() % 1'000'000'000) + 1'000'000};
    auto input = generate_input(inputs_->generator, spec, dir.path(), fmt::format("h{}.in", i),
                                cancel_);
    if (!input) continue;  // the generator's problem, not the candidate's
    TimedCommand reference{baseline_binary_, task_.run_args, input->path, task_.run_timeout_ms};
    reference.cpus = cpus_of(cpu);
    sandbox::Result expected = run_program(reference, scratch_, kMaxOutputBytes, cancel_);
    if (!expected.exited_ok()) continue;
    TimedCommand command{binary, task_.run_args, input->path, task_.run_timeout_ms};
    command.cpus = cpus_of(cpu);
    sandbox::Result actual = run_program(command, scratch_, kMaxOutputBytes, cancel_);
    std::string what = fmt::format("hidden input {} (size {})", i + 1, spec.size);
    if (!actual.exited_ok()) return run_failure(actual, what);
    if (auto difference =
            check_output(expected.stdout_text, actual.stdout_text, input->path, cpu)) {
      return StageResult{StageStatus::failed, "wrong output on " + what, *difference, 0};
    }
  }
  return std::nullopt;
}

std::optional<StageResult> CascadeEvaluator::check_sanitizers(const Program& program, int cpu) {
  if (!verify_settings_.sanitizers) return std::nullopt;
  Program sources = program;
  sources.flags = kSanitizerFlags;
  std::string key = program_hash(sources);
  {
    std::lock_guard lock(results_mutex_);
    auto cached = sanitizer_results_.find(key);
    if (cached != sanitizer_results_.end()) {
      if (cached->second.status == StageStatus::ok) return std::nullopt;
      return cached->second;
    }
  }
  auto remember = [&](StageResult result) -> std::optional<StageResult> {
    std::lock_guard lock(results_mutex_);
    sanitizer_results_[key] = result;
    if (result.status == StageStatus::ok) return std::nullopt;
    return result;
  };

  TempDir dir("sanitize-", scratch_);
  BuildOutput build = build_program(task_, sources, dir.path(), cancel_);
  if (build.stage.status != StageStatus::ok) {
    return remember({build.stage.status, "sanitizer build: " + build.stage.summary,
                     build.stage.log, 0});
  }
  for (size_t i = 0; i < inputs_->verify.size(); ++i) {
    const InputFile& input = inputs_->verify[i];
    TimedCommand command{build.binary, task_.run_args, input.path, task_.run_timeout_ms * 5};
    command.memory_mb = 0;  // ASan reserves terabytes of address space
    command.env = kSanitizerEnv;
    command.cpus = cpus_of(cpu);
    sandbox::Result result = run_program(command, scratch_, kMaxOutputBytes, cancel_);
    if (!result.exited_ok()) {
      return remember(run_failure(result, "sanitizer report on " + describe_input(i, input)));
    }
  }
  return remember({StageStatus::ok, "clean under ASan + UBSan", "", 0});
}

StageResult CascadeEvaluator::verify(const Program& program, const std::filesystem::path& binary,
                                     uint64_t seed, int cpu) {
  auto start = std::chrono::steady_clock::now();
  std::optional<StageResult> failure = check_inputs(binary, cpu);
  if (!failure) failure = check_hidden_inputs(binary, seed, cpu);
  if (!failure) failure = check_sanitizers(program, cpu);
  if (failure) {
    failure->seconds = seconds_since(start);
    return *failure;
  }
  std::string summary = fmt::format("{} inputs match the baseline", inputs_->verify.size());
  if (verify_settings_.hidden_inputs > 0) {
    summary += fmt::format(", {} hidden", verify_settings_.hidden_inputs);
  }
  if (verify_settings_.sanitizers) summary += "; clean under ASan + UBSan";
  return {StageStatus::ok, summary, "", seconds_since(start)};
}

Evaluation CascadeEvaluator::benchmark(const std::filesystem::path& binary, Evaluation evaluation,
                                       uint64_t seed, const BenchmarkSettings& settings,
                                       int cpu) {
  TimedCommand baseline{baseline_binary_, task_.run_args, inputs_->benchmark.path,
                        task_.run_timeout_ms};
  TimedCommand candidate{binary, task_.run_args, inputs_->benchmark.path, candidate_timeout_ms()};
  baseline.cpus = candidate.cpus = cpus_of(cpu);
  if (settings.mode == "instructions") {
    InstructionComparison comparison = compare_instructions(
        baseline, candidate, scratch_, settings.count_functions, cancel_);
    evaluation.benchmark = comparison.stage;
    if (comparison.stage.status == StageStatus::ok) {
      evaluation.metrics["speedup"] = comparison.speedup;
      evaluation.metrics["ci_low"] = comparison.speedup;
      evaluation.metrics["ci_high"] = comparison.speedup;
      evaluation.metrics["pairs"] = 1;
      evaluation.metrics["metric"] = "estimated_cycles";
      evaluation.metrics["baseline_counts"] = to_json(comparison.baseline);
      evaluation.metrics["candidate_counts"] = to_json(comparison.candidate);
    }
    return evaluation;
  }
  BenchmarkOutcome outcome =
      benchmark_ab(baseline, candidate, settings, task_.metric, scratch_, seed, cancel_, cpu);
  evaluation.benchmark = outcome.stage;
  if (outcome.stage.status == StageStatus::ok) {
    evaluation.metrics["speedup"] = outcome.speedup;
    evaluation.metrics["ci_low"] = outcome.ci.low;
    evaluation.metrics["ci_high"] = outcome.ci.high;
    evaluation.metrics["pairs"] = outcome.pairs;
    evaluation.metrics["metric"] = task_.metric;
    evaluation.metrics["baseline_ms"] = outcome.baseline_ms;
    evaluation.metrics["candidate_ms"] = outcome.candidate_ms;
    evaluation.metrics["counters"] = outcome.counters;
  }
  evaluation.samples = std::move(outcome.samples);
  return evaluation;
}

Evaluation CascadeEvaluator::evaluate_baseline(uint64_t seed) {
  Evaluation evaluation;
  evaluation.build = {StageStatus::ok, "built", "", 0};
  evaluation.verify = {StageStatus::ok, "reference outputs", "", 0};
  return benchmark(baseline_binary_, std::move(evaluation), seed, settings_, /*cpu=*/-1);
}

Result<std::string> binary_hash(const std::filesystem::path& binary) {
  std::error_code ec;
  if (std::filesystem::is_symlink(binary, ec) || !std::filesystem::is_regular_file(binary, ec)) {
    return fail("'" + binary.string() + "' is not a regular file");
  }
  auto bytes = read_file(binary);
  if (!bytes) return Error{bytes.error()};
  return hash_hex(*bytes);
}

BuiltProgram CascadeEvaluator::build(const Program& program) {
  BuiltProgram built;
  built.dir = std::make_shared<TempDir>("build-", scratch_);
  std::string cache_key;
  std::optional<std::filesystem::path> cached;
  if (build_cache_.enabled() && !compiler_version_.empty()) {
    cache_key = build_cache_.key(task_, program, compiler_version_);
    cached = build_cache_.find(cache_key);
  }
  if (cached) {
    built.build = {StageStatus::ok, "cached build (" + cache_key + ")", "", 0};
    built.binary = *cached;
    built.cache_hit = true;
  } else {
    BuildOutput output = build_program(task_, program, built.dir->path(), cancel_);
    if (output.stage.status == StageStatus::ok && !cache_key.empty()) {
      build_cache_.store(cache_key, output.binary);
    }
    built.build = output.stage;
    built.binary = output.binary;
  }
  if (built.build.status != StageStatus::ok) return built;
  auto hash = binary_hash(built.binary);
  if (!hash) {
    built.build = {StageStatus::failed, hash.error(), built.build.log, built.build.seconds};
    return built;
  }
  built.binary_hash = *hash;
  return built;
}

Evaluation CascadeEvaluator::evaluate_with(const Program& program, BuiltProgram built,
                                           uint64_t seed, const BenchmarkSettings& settings,
                                           bool reuse_binaries, int cpu) {
  if (built.build.status == StageStatus::pending) built = build(program);
  Evaluation evaluation;
  if (built.cache_hit) evaluation.metrics["build_cache_hit"] = true;
  evaluation.build = built.build;
  if (built.build.status != StageStatus::ok) {
    evaluation.verify = skipped();
    evaluation.benchmark = skipped();
    return evaluation;
  }
  const std::string& hash = built.binary_hash;
  if (reuse_binaries) {
    std::lock_guard lock(results_mutex_);
    auto known = evaluations_by_binary_.find(hash);
    if (known != evaluations_by_binary_.end()) {
      Evaluation reused = known->second;
      reused.build = evaluation.build;
      reused.metrics["binary_reused"] = true;
      reused.samples.clear();  // the samples belong to the first candidate
      return reused;
    }
  }
  evaluation.verify = verify(program, built.binary, seed, cpu);
  if (evaluation.verify.status != StageStatus::ok) {
    evaluation.benchmark = skipped();
  } else {
    evaluation = benchmark(built.binary, std::move(evaluation), seed, settings, cpu);
  }
  evaluation.metrics["binary_hash"] = hash;
  if (reuse_binaries && !(cancel_ && *cancel_)) {
    std::lock_guard lock(results_mutex_);
    evaluations_by_binary_[hash] = evaluation;
  }
  return evaluation;
}

Evaluation CascadeEvaluator::evaluate(const Program& program, uint64_t seed) {
  return evaluate_with(program, build(program), seed, settings_, /*reuse_binaries=*/true, -1);
}

Evaluation CascadeEvaluator::evaluate_built(const Program& program, BuiltProgram built,
                                            uint64_t seed, int cpu) {
  return evaluate_with(program, std::move(built), seed, settings_, /*reuse_binaries=*/true, cpu);
}

Evaluation CascadeEvaluator::confirm(const Program& program, uint64_t seed, int cpu) {
  BenchmarkSettings precise = settings_;
  precise.min_pairs = settings_.min_pairs * 2;
  precise.max_pairs = std::max(settings_.max_pairs * 2, precise.min_pairs);
  precise.target_ci = settings_.target_ci / 2;
  precise.max_seconds = settings_.max_seconds * 2;
  return evaluate_with(program, build(program), seed, precise, /*reuse_binaries=*/false, cpu);
}

}  // namespace ratchet
