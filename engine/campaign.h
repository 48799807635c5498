// A campaign: the steady-state evolutionary loop over one task.
//
// Each step is one candidate: select a parent → propose an edit → apply it →
// dedupe by program hash → record the candidate → evaluate (build, verify,
// benchmark in the sandbox) → record the evaluation → add it to the
// population. The database sees the candidate before its evaluation starts,
// so a campaign killed at any point loses nothing; --resume picks up the
// same campaign and re-evaluates candidates left pending.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "engine/config.h"
#include "engine/database.h"
#include "engine/islands.h"
#include "engine/progress.h"
#include "engine/proposer.h"
#include "evaluators/cascade.h"
#include "rewriters/flag_genome.h"

namespace ratchet {

struct CampaignOutcome {
  int64_t campaign_id = 0;
  bool interrupted = false;
  bool exhausted = false;  // the proposers kept repeating programs already seen
  std::optional<CandidateRecord> best;     // improvement with confidence
  // The best re-measured at higher precision after the search; metrics of
  // the confirmation, or empty when there was nothing to confirm.
  nlohmann::json confirmation;
  std::optional<CandidateRecord> highest;  // highest speedup, confident or not
  std::optional<CandidateRecord> baseline;
  ProgressCounts counts;
  double seconds = 0;
  std::string stop_reason;  // a proposer ended it early (LLM budget, endpoints down)
};

class Campaign {
 public:
  Campaign(const CampaignConfig& config, const Task& task, Database& db, Evaluator& evaluator,
           std::vector<WeightedProposer> proposers, Progress& progress,
           const std::atomic<bool>& stop);

  // Creates the campaign record and evaluates the baseline, or (resume)
  // reloads the latest campaign of the same name and task from the database.
  void start(bool resume, const nlohmann::json& environment);

  // Runs until the evaluation budget, the time budget or a stop request.
  CampaignOutcome run();

 private:
  void step();
  void evaluate_and_record(CandidateRecord& candidate);
  void record_refusal(CandidateRecord& candidate, const std::string& reason);
  bool budget_left() const;
  // LLM hooks (engine/llm_proposer.h): link a call to its candidate; a
  // proposer's request to stop.
  void link_llm_call(const Proposal& proposal, const CandidateRecord& candidate);
  std::string proposer_stop_reason() const;
  void resume_from_database(const CampaignRecord& record);
  nlohmann::json confirm_best(CandidateRecord& best);

  const CampaignConfig& config_;
  const Task& task_;
  Database& db_;
  Evaluator& evaluator_;
  std::vector<WeightedProposer> proposers_;
  Progress& progress_;
  const std::atomic<bool>& stop_;

  std::vector<Gene> genes_;
  std::mt19937_64 rng_;
  Islands islands_{config_.search, config_.benchmark.min_effect};
  int64_t campaign_id_ = 0;
  std::optional<CandidateRecord> baseline_;
  int64_t consecutive_duplicates_ = 0;
  bool exhausted_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ratchet
