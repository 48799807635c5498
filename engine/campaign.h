// A campaign: the steady-state evolutionary search over one task, run as a
// pipeline of four stages on oneTBB (engine/campaign.cc):
//
//   1. propose  (serial)   select a parent → propose an edit → rewrite →
//                          dedupe → record the candidate, pending
//   2. build    (parallel) compile in the sandbox, up to the tokens in flight
//   3. evaluate (serial)   verify + benchmark, one at a time; with
//                          `benchmark.slots` N > 1 (parallel), up to N at
//                          once, each pinned to its slot's core
//   4. learn    (serial)   record the evaluation, add it to the islands
//
// `search.in_flight` bounds the candidates between stage 1 and stage 4. With
// one in flight the stages run strictly one after another, candidate by
// candidate: the sequential loop, deterministic for a seed. With more, stage
// 1 proposes while earlier candidates build and benchmark, so a parent is
// chosen before the results still in flight are known.
//
// Every step k draws its randomness from a generator seeded by (seed, k) and
// the step is stored with what it produced (the candidate's artifacts, or
// the meta table for a duplicate), so a campaign killed at any moment (even
// SIGKILL) resumes exactly: pending candidates are evaluated again, islands
// are rebuilt from the database in id order, and the search goes on at step
// k + 1 with the same stream it would have used.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include "engine/benchmark_slots.h"
#include "engine/config.h"
#include "engine/database.h"
#include "engine/islands.h"
#include "engine/progress.h"
#include "engine/proposer.h"
#include "evaluators/cascade.h"
#include "rewriters/flag_genome.h"

namespace ratchet {

// One elite re-measured after the search (search.confirm_top of them).
struct ConfirmedElite {
  CandidateRecord candidate;  // metrics["confirmed"] holds the re-measurement
  nlohmann::json confirmation;
};

struct CampaignOutcome {
  int64_t campaign_id = 0;
  bool interrupted = false;
  bool exhausted = false;  // the proposers kept repeating programs already seen
  std::optional<CandidateRecord> best;     // improvement with confidence
  // The best re-measured at higher precision after the search; metrics of
  // the confirmation, or empty when there was nothing to confirm.
  nlohmann::json confirmation;
  // The top elites re-measured, ranked by their confirmed speedup (failed
  // confirmations last).
  std::vector<ConfirmedElite> confirmed;
  // Objective "pareto": the non-dominated candidates over search.pareto
  // (objectives signed so that larger is better), by id.
  std::vector<Member> pareto_front;
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
  ~Campaign();

  // Creates the campaign record and evaluates the baseline, or (resume)
  // reloads the latest campaign of the same name and task from the database.
  void start(bool resume, const nlohmann::json& environment);

  // Runs until the evaluation budget, the time budget or a stop request.
  CampaignOutcome run();

 private:
  struct Work;  // one candidate moving through the pipeline

  // The four stages.
  std::shared_ptr<Work> propose_next();
  void build(Work& work);
  void evaluate(Work& work);
  void learn(Work& work);

  // Stage 1's parts.
  std::optional<CandidateRecord> propose_one(int64_t step);
  bool is_known_program(CandidateRecord& candidate, int64_t step);
  void record_refusal(CandidateRecord& candidate, const std::string& reason);
  bool can_issue() const;
  bool budget_left() const;

  void record_evaluation(CandidateRecord& candidate, const Evaluation& evaluation);
  // LLM hooks (engine/llm_proposer.h): link a call to its candidate; a
  // proposer's request to stop.
  void link_llm_call(const Proposal& proposal, const CandidateRecord& candidate);
  std::string proposer_stop_reason() const;
  void resume_from_database(const CampaignRecord& record);
  std::vector<ConfirmedElite> confirm_elites();
  // A candidate chosen as parent or inspiration, from the database (the
  // islands hold ids and scores only); the last few are kept. Caller holds
  // mutex_.
  std::shared_ptr<const CandidateRecord> load(int64_t id);
  std::mt19937_64 step_rng(int64_t step) const;
  uint64_t evaluation_seed(int64_t step) const;
  std::string step_key() const;

  const CampaignConfig& config_;
  const Task& task_;
  Database& db_;
  Evaluator& evaluator_;
  std::vector<WeightedProposer> proposers_;
  Progress& progress_;
  const std::atomic<bool>& stop_;

  // Stage 1 and stage 4 run at the same time on different threads: this
  // guards the database connection, the islands and the progress line.
  mutable std::mutex mutex_;
  // Proposers read evidence and record LLM calls through a connection of
  // their own while the pipeline has more than one candidate in flight, so
  // a slow LLM answer never holds the lock that recording needs.
  std::optional<Database> proposal_db_;

  BenchmarkSlots slots_;
  std::map<int64_t, std::shared_ptr<const CandidateRecord>> loaded_;
  std::vector<Gene> genes_;
  Islands islands_{config_.search, config_.benchmark.min_effect};
  int64_t campaign_id_ = 0;
  std::optional<CandidateRecord> baseline_;
  int64_t next_step_ = 1;
  int64_t in_flight_ = 0;  // issued by stage 1, not yet through stage 4
  int64_t consecutive_duplicates_ = 0;
  bool exhausted_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ratchet
