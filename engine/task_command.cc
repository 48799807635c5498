// `ratchet task check TASKDIR`: is this task sound enough for a campaign?
// The baseline must build, run on every verify input, agree with itself
// across two runs, and run on the benchmark input; then an A/A benchmark
// (the baseline against itself) shows how much noise a speedup must beat.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>

#include "common/files.h"
#include "common/text.h"
#include "engine/cli.h"
#include "engine/stop_signal.h"
#include "evaluators/builder.h"
#include "evaluators/cascade.h"

namespace ratchet {

namespace {

struct CheckOptions {
  std::string task_dir;
  std::string format = "text";
  int pairs = 10;
};

int check(const CheckOptions& options) {
  const std::atomic<bool>& stop = install_stop_handlers();
  Task task = load_task(options.task_dir);
  TempDir scratch("ratchet-check-");
  BenchmarkSettings settings;
  settings.min_pairs = options.pairs;
  settings.max_pairs = options.pairs;
  CascadeEvaluator evaluator(task, settings, VerifySettings{}, scratch.path(), &stop);
  if (Status prepared = evaluator.prepare(); !prepared) {
    runtime_error(fmt::format("task check failed: {}", prepared.error()));
  }
  Evaluation noise = evaluator.evaluate_baseline(1);
  if (noise.benchmark.status != StageStatus::ok) {
    runtime_error(fmt::format("task check failed: benchmark: {}\n{}", noise.benchmark.summary,
                              noise.benchmark.log));
  }
  const auto& m = noise.metrics;
  double low = m["ci_low"], high = m["ci_high"];
  double noise_pct = std::max(1.0 - low, high - 1.0) * 100;
  if (options.format == "json") {
    nlohmann::json json = {{"task", task.name},
                           {"ok", true},
                           {"build", shell_join(build_command(task, task.baseline(), "prog"))},
                           {"verify_inputs", task.verify_inputs.size()},
                           {"metric", task.metric},
                           {"baseline_ms", m["baseline_ms"]},
                           {"aa_speedup", m["speedup"]},
                           {"aa_ci_low", low},
                           {"aa_ci_high", high},
                           {"pairs", m["pairs"]},
                           {"noise_percent", noise_pct}};
    std::cout << json.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format(
      "task '{}' ({}): ok\n"
      "  build      {}\n"
      "  verify     {} inputs; the baseline's outputs agree across two runs ({} comparison)\n"
      "  benchmark  baseline {:.1f} ms {} (median)\n"
      "  noise      A/A speedup {:.3f} [{:.3f}, {:.3f}] over {} pairs: a speedup must clear "
      "about {:.1f}% to count\n",
      task.name, task.dir.string(), shell_join(build_command(task, task.baseline(), "prog")),
      task.verify_inputs.size(), task.verify_mode == VerifyMode::exact ? "exact" : "numeric",
      m["baseline_ms"].get<double>(), task.metric, m["speedup"].get<double>(), low, high,
      m["pairs"].get<int>(), noise_pct);
  return kExitOk;
}

}  // namespace

void add_task_command(CLI::App& app, int& exit_code) {
  CLI::App* task = app.add_subcommand("task", "Work with task folders");
  task->require_subcommand(1);
  auto options = std::make_shared<CheckOptions>();
  CLI::App* check_command =
      task->add_subcommand("check", "Check that a task's baseline builds, verifies and times");
  check_command->add_option("taskdir", options->task_dir, "Task folder (with task.json)")
      ->required();
  check_command->add_option("--format", options->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  check_command->add_option("--pairs", options->pairs, "A/A benchmark pairs (default 10)")
      ->check(CLI::Range(2, 1000));
  check_command->callback([options, &exit_code] { exit_code = check(*options); });
}

}  // namespace ratchet
