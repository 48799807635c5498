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
  std::string llm_base_url;  // shortcut for one OpenAI-compatible endpoint
  std::string llm_model;
  std::string llm_api_key_env;
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
                       : !outcome.stop_reason.empty() ? "stopped early: " + outcome.stop_reason
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
  if (!outcome.pareto_front.empty()) {
    std::cout << "  Pareto front (no candidate is better in every objective):\n";
    for (const Member& member : outcome.pareto_front) {
      std::string values;
      for (size_t i = 0; i < config.search.pareto.size(); ++i) {
        const auto& [name, maximize] = config.search.pareto[i];
        values += fmt::format("{}{} {:g}", i ? ", " : "", name,
                              maximize ? member.objectives[i] : -member.objectives[i]);
      }
      std::cout << fmt::format("    #{}{}: {}\n", member.id, member.baseline ? " (baseline)" : "",
                               values);
    }
  }
  if (outcome.confirmed.size() > 1) {
    std::cout << "  confirmed ranking (re-measured after the search):\n";
    int rank = 0;
    for (const ConfirmedElite& elite : outcome.confirmed) {
      const nlohmann::json& c = elite.confirmation;
      if (c.value("status", "") == "ok") {
        std::cout << fmt::format("    {}. #{} {:.3f}x [{:.3f}, {:.3f}] (search: {})\n", ++rank,
                                 elite.candidate.id, c.value("speedup", 0.0),
                                 c.value("ci_low", 0.0), c.value("ci_high", 0.0),
                                 format_speedup(elite.candidate));
      } else {
        std::cout << fmt::format("    -. #{} not confirmed: {}\n", elite.candidate.id,
                                 c.value("summary", ""));
      }
    }
  }
}

int run(const RunOptions& options) {
  const std::atomic<bool>& stop = install_stop_handlers();
  CampaignConfig config = load_config(options.config);
  if (options.max_evals) config.max_evals = *options.max_evals;
  if (options.seed) config.seed = *options.seed;
  if (!options.llm_base_url.empty() || !options.llm_model.empty() ||
      !options.llm_api_key_env.empty()) {
    if (options.llm_base_url.empty() || options.llm_model.empty()) {
      usage_error("--llm-base-url and --llm-model go together (and --llm-api-key-env unless the "
                  "endpoint needs no key)");
    }
    add_llm_shortcut(config, options.llm_base_url, options.llm_model, options.llm_api_key_env);
  }
  Task task = load_task(config.task_dir);

  // Refuse a broken task before anything is written to the database.
  TempDir scratch("ratchet-campaign-");
  CascadeEvaluator evaluator(task, config.benchmark, config.verification, scratch.path(), &stop);
  // Built binaries are kept beside the database and reused across runs.
  evaluator.use_build_cache(BuildCache(std::filesystem::absolute(options.db).string() + ".cache"));
  if (Status prepared = evaluator.prepare(); !prepared) runtime_error(prepared.error());
  if (stop) runtime_error("interrupted before the campaign started");

  Database db = Database::open(options.db, /*create=*/true);
  Progress progress(std::cerr, isatty(STDERR_FILENO) != 0, config.max_evals);
  Campaign campaign(config, task, db, evaluator, make_proposers(config.proposers, task, config.llm), progress,
                    stop);
  campaign.start(options.resume, environment_fingerprint(task.compiler));
  CampaignOutcome outcome = campaign.run();
  print_summary(config, outcome, options.db);
  if (LlmUsage usage = db.llm_usage(outcome.campaign_id); usage.calls > 0) {
    std::cout << fmt::format("  llm: {} calls ({} failed), {} tokens in, {} out, ${:.4f}\n",
                             usage.calls, usage.failed, usage.tokens_in, usage.tokens_out,
                             usage.cost_usd);
  }
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
  command->add_option("--llm-base-url", options->llm_base_url,
                      "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (adds an llm "
                      "proposer)");
  command->add_option("--llm-model", options->llm_model, "Model name for --llm-base-url");
  command->add_option("--llm-api-key-env", options->llm_api_key_env,
                      "NAME of the environment variable holding the key (never the key)");
  command->callback([options, &exit_code] { exit_code = run(*options); });
}

}  // namespace ratchet
