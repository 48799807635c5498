// `ratchet run CONFIG`: run (or resume) a campaign and print its summary.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>

#include "common/files.h"
#include "common/text.h"
#include "engine/campaign.h"
#include "engine/cli.h"
#include "engine/environment.h"
#include "engine/stop_signal.h"

namespace ratchet {

namespace {

struct RunOptions {
  std::string config;
  std::string db = "ratchet.db";
  std::optional<int64_t> max_evals;
  std::optional<uint64_t> seed;
  bool resume = false;
};

std::string format_duration(double seconds) {
  int total = static_cast<int>(seconds + 0.5);
  if (total < 60) return fmt::format("{}s", total);
  return fmt::format("{}m{:02}s", total / 60, total % 60);
}

void print_summary(const CampaignConfig& config, const CampaignOutcome& outcome,
                   const std::string& db_path) {
  const ProgressCounts& c = outcome.counts;
  std::string ending = outcome.interrupted ? "stopped (interrupted; continue with --resume)"
                       : outcome.exhausted ? "finished (proposals kept repeating known programs)"
                                           : "finished";
  std::cout << fmt::format(
      "\nratchet: campaign '{}' (#{}) {} after {}\n"
      "  candidates {} | evaluated {} | failed: build {}, verify {}, benchmark {} | refused {} | "
      "duplicates skipped {}\n",
      config.name, outcome.campaign_id, ending, format_duration(outcome.seconds), c.done,
      c.done - c.build_failed - c.verify_failed - c.benchmark_failed - c.refused, c.build_failed,
      c.verify_failed, c.benchmark_failed, c.refused, c.duplicates);
  std::string baseline_flags = outcome.baseline ? join(outcome.baseline->program.flags, " ") : "";
  if (outcome.best) {
    const CandidateRecord& best = *outcome.best;
    std::cout << fmt::format(
        "  best: candidate #{}, {} faster than the baseline ({}, {} pairs, 95% interval)\n"
        "        flags: {}   (baseline: {})\n"
        "  see it: ratchet db show {} --diff --db {}\n",
        best.id, format_speedup(best), best.metrics.value("metric", "cpu_time"),
        best.metrics.value("pairs", 0), join(best.program.flags, " "), baseline_flags, best.id,
        shell_quote(db_path));
    const nlohmann::json& confirmed = outcome.confirmation;
    if (confirmed.is_object() && confirmed.value("status", "") == "ok") {
      std::cout << fmt::format("  confirmed: {:.3f}x [{:.3f}, {:.3f}] over {} pairs, re-measured "
                               "after the search\n",
                               confirmed.value("speedup", 0.0), confirmed.value("ci_low", 0.0),
                               confirmed.value("ci_high", 0.0), confirmed.value("pairs", 0));
    } else if (confirmed.is_object()) {
      std::cout << "  not confirmed on re-measurement: " << confirmed.value("summary", "") << "\n";
    }
  } else {
    std::cout << "  no candidate beat the baseline with 95% confidence";
    if (outcome.highest && outcome.highest->proposer != "baseline") {
      std::cout << fmt::format(" (highest: #{} at {})", outcome.highest->id,
                               format_speedup(*outcome.highest));
    }
    std::cout << "\n";
  }
}

int run(const RunOptions& options) {
  const std::atomic<bool>& stop = install_stop_handlers();
  CampaignConfig config = load_config(options.config);
  if (options.max_evals) config.max_evals = *options.max_evals;
  if (options.seed) config.seed = *options.seed;
  Task task = load_task(config.task_dir);

  // Refuse a broken task before anything is written to the database.
  TempDir scratch("ratchet-campaign-");
  CascadeEvaluator evaluator(task, config.benchmark, config.verification, scratch.path(), &stop);
  if (Status prepared = evaluator.prepare(); !prepared) runtime_error(prepared.error());
  if (stop) runtime_error("interrupted before the campaign started");

  Database db = Database::open(options.db, /*create=*/true);
  Progress progress(std::cerr, isatty(STDERR_FILENO) != 0, config.max_evals);
  Campaign campaign(config, task, db, evaluator, make_proposers(config.proposers, task), progress,
                    stop);
  campaign.start(options.resume, environment_fingerprint(task.compiler));
  CampaignOutcome outcome = campaign.run();
  print_summary(config, outcome, options.db);
  return outcome.interrupted ? 130 : kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Run (or resume) an optimization campaign");
  command->add_option("config", options->config, "Campaign config file (JSON)")->required();
  command->add_option("--db", options->db, "Candidate database (default ./ratchet.db)");
  command->add_option("--max-evals", options->max_evals,
                      "Candidates to evaluate in the whole campaign (overrides budget.max_evals)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--seed", options->seed, "Random seed (overrides seed)");
  command->add_flag("--resume", options->resume,
                    "Continue the latest campaign of this name in the database");
  command->callback([options, &exit_code] { exit_code = run(*options); });
}

}  // namespace ratchet
