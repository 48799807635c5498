// `ratchet measure --baseline 'CMD ARGS' -- CMD ARGS`: compare two commands
// the way the engine compares a candidate with its baseline (interleaved CPU
// time pairs with a bootstrap interval, or callgrind counts), in the sandbox.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>

#include "common/files.h"
#include "common/text.h"
#include "engine/cli.h"
#include "engine/stop_signal.h"
#include "evaluators/benchmark.h"
#include "evaluators/instructions.h"

namespace ratchet {

namespace {

struct MeasureOptions {
  std::string mode = "time";
  std::string baseline;
  std::vector<std::string> candidate;
  double max_seconds = 60;
  int min_pairs = 5;
  int max_pairs = 50;
  double target_ci = 0.01;
  double min_effect = 0.0;
  std::string metric = "cpu_time";
  std::string input;
  int64_t timeout_ms = 60'000;
  std::string format = "text";
  uint64_t seed = 1;
  int cpu = -1;  // time mode: pin both commands to this core (a benchmark slot)
};

// Relative program paths are resolved against the current directory, since
// each run starts in a fresh, empty work dir.
TimedCommand to_command(std::vector<std::string> words, const MeasureOptions& options,
                        const char* which) {
  if (words.empty()) usage_error(fmt::format("the {} command is empty", which));
  std::filesystem::path program = words[0];
  if (program.has_parent_path() && program.is_relative()) {
    program = std::filesystem::absolute(program).lexically_normal();
  }
  if (program.has_parent_path() && !std::filesystem::exists(program)) {
    usage_error(fmt::format("the {} command's program '{}' does not exist", which, words[0]));
  }
  TimedCommand command;
  command.binary = program;
  command.args.assign(words.begin() + 1, words.end());
  if (!options.input.empty()) command.input = std::filesystem::absolute(options.input);
  command.timeout_ms = options.timeout_ms;
  if (options.cpu >= 0) command.cpus = {options.cpu};
  return command;
}

nlohmann::json time_report(const BenchmarkOutcome& outcome, const MeasureOptions& options) {
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& s : outcome.samples) {
    samples.push_back({{"pair", s.pair},
                       {"candidate_first", s.candidate_first},
                       {"baseline_cpu_ms", s.baseline_cpu_ms},
                       {"candidate_cpu_ms", s.candidate_cpu_ms},
                       {"baseline_wall_ms", s.baseline_wall_ms},
                       {"candidate_wall_ms", s.candidate_wall_ms}});
  }
  return {{"mode", "time"},
          {"metric", options.metric},
          {"speedup", outcome.speedup},
          {"ci_low", outcome.ci.low},
          {"ci_high", outcome.ci.high},
          {"verdict", verdict(outcome.ci, options.min_effect)},
          {"pairs", outcome.pairs},
          {"baseline_ms", outcome.baseline_ms},
          {"candidate_ms", outcome.candidate_ms},
          {"seconds", outcome.stage.seconds},
          {"samples", samples}};
}

nlohmann::json instructions_report(const InstructionComparison& comparison,
                                   const MeasureOptions& options) {
  Interval point{comparison.speedup, comparison.speedup};
  return {{"mode", "instructions"},
          {"speedup", comparison.speedup},
          {"ci_low", comparison.speedup},
          {"ci_high", comparison.speedup},
          {"verdict", verdict(point, options.min_effect)},
          {"pairs", 1},
          {"baseline", to_json(comparison.baseline)},
          {"candidate", to_json(comparison.candidate)},
          {"seconds", comparison.stage.seconds},
          {"samples", nlohmann::json::array()}};
}

int measure(const MeasureOptions& options) {
  const std::atomic<bool>& stop = install_stop_handlers();
  auto baseline_words = split_shell_words(options.baseline);
  if (!baseline_words) usage_error(fmt::format("--baseline '{}': {}", options.baseline,
                                               baseline_words.error()));
  TimedCommand baseline = to_command(*baseline_words, options, "baseline");
  TimedCommand candidate = to_command(options.candidate, options, "candidate");
  TempDir scratch("ratchet-measure-");

  nlohmann::json report;
  if (options.mode == "instructions") {
    InstructionComparison comparison =
        compare_instructions(baseline, candidate, scratch.path(), {}, &stop);
    if (comparison.stage.status != StageStatus::ok) {
      runtime_error(comparison.stage.summary + "\n" + comparison.stage.log);
    }
    report = instructions_report(comparison, options);
  } else {
    BenchmarkSettings settings;
    settings.min_pairs = options.min_pairs;
    settings.max_pairs = std::max(options.max_pairs, options.min_pairs);
    settings.max_seconds = options.max_seconds;
    settings.target_ci = options.target_ci;
    BenchmarkOutcome outcome = benchmark_ab(baseline, candidate, settings, options.metric,
                                            scratch.path(), options.seed, &stop, options.cpu);
    if (outcome.stage.status != StageStatus::ok) {
      runtime_error(outcome.stage.summary + "\n" + outcome.stage.log);
    }
    report = time_report(outcome, options);
  }
  if (options.format == "json") {
    std::cout << report.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("{}: {:.4f}x [{:.4f}, {:.4f}] ({} {}, {:.1f} s)\n",
                           report["verdict"].get<std::string>(), report["speedup"].get<double>(),
                           report["ci_low"].get<double>(), report["ci_high"].get<double>(),
                           report["pairs"].get<int>(),
                           options.mode == "time" ? "pairs, " + options.metric : "counted run",
                           report["seconds"].get<double>());
  if (options.mode == "time") {
    std::cout << fmt::format("  baseline {:.2f} ms, candidate {:.2f} ms (medians)\n",
                             report["baseline_ms"].get<double>(),
                             report["candidate_ms"].get<double>());
  } else {
    std::cout << fmt::format("  estimated cycles: baseline {:.0f}, candidate {:.0f}\n",
                             report["baseline"]["estimated_cycles"].get<double>(),
                             report["candidate"]["estimated_cycles"].get<double>());
  }
  return kExitOk;
}

}  // namespace

void add_measure_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<MeasureOptions>();
  CLI::App* command = app.add_subcommand(
      "measure", "Compare two commands the way the engine compares a candidate to its baseline");
  command->add_option("--mode", options->mode, "time (CPU-time pairs) or instructions (callgrind)")
      ->check(CLI::IsMember({"time", "instructions"}));
  command->add_option("--baseline", options->baseline, "The baseline command, quoted")->required();
  command->add_option("--max-seconds", options->max_seconds, "Stop sampling after this long")
      ->check(CLI::PositiveNumber);
  command->add_option("--min-pairs", options->min_pairs, "Pairs before the interval may stop it")
      ->check(CLI::Range(2, 100000));
  command->add_option("--max-pairs", options->max_pairs, "At most this many pairs")
      ->check(CLI::Range(2, 100000));
  command->add_option("--target-ci", options->target_ci,
                      "Stop when the interval's half-width is within this fraction")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--min-effect", options->min_effect,
                      "Smallest change that counts as faster or slower (fraction)")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--metric", options->metric, "cpu_time or wall_time")
      ->check(CLI::IsMember({"cpu_time", "wall_time"}));
  command->add_option("--input", options->input, "File fed to both commands' stdin")
      ->check(CLI::ExistingFile);
  command->add_option("--timeout-ms", options->timeout_ms, "Limit for one run");
  command->add_option("--seed", options->seed, "Seed for the pair order");
  command->add_option("--cpu", options->cpu,
                      "Pin both commands to this core and wait only for benchmarks on it "
                      "(default: hold the whole machine)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--format", options->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  command->add_option("command", options->candidate, "The candidate command (after --)")
      ->required();
  command->callback([options, &exit_code] { exit_code = measure(*options); });
}

}  // namespace ratchet
