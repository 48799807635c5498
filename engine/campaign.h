// A campaign: the steady-state evolutionary search over one task, run as a
// pipeline of six stages on oneTBB (engine/campaign.cc), one search step per
// token:
//
//   1. select   (serial)   take the step number, select a parent, load it
//   2. propose  (parallel) propose an edit (may wait on an LLM) → rewrite →
//                          hash, up to the tokens in flight at once
//   3. record   (serial)   dedupe → record the candidate, pending (or the
//                          refusal, or count the duplicate)
//   4. build    (parallel) compile in the sandbox, up to the tokens in flight
//   5. evaluate (serial)   verify + benchmark, one at a time; with
//                          `benchmark.slots` N > 1 (parallel), up to N at
//                          once, each pinned to its slot's core
//   6. learn    (serial)   record the evaluation, add it to the islands
//
// A step that ends at stage 3 (refusal, duplicate, no proposal) passes on as
// an empty item. `search.in_flight` bounds the steps between stage 1 and
// stage 6. With one in flight the stages run strictly one after another,
// step by step: the sequential loop, deterministic for a seed. With more,
// several proposals (LLM calls) are in flight together while earlier
// candidates build and benchmark, so a parent is chosen before the results
// still in flight are known.
//
// Every step k draws its randomness from a generator seeded by (seed, k) and
// the step is stored with what it produced (the candidate's artifacts, or
// the meta table for a duplicate), so a campaign killed at any moment (even
// SIGKILL) resumes exactly: pending candidates are evaluated again, islands
// are rebuilt from the database in id order, and the search goes on at step
// k + 1 with the same stream it would have used.
#pragma once

#include <atomic>
#include <condition_variable>
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
  struct Work;  // one search step moving through the pipeline

  // The six stages.
  void run_pipeline(int tokens);
  std::shared_ptr<Work> select_next();
  void propose(Work& work);
  void record(Work& work);
  void build(Work& work);
  void evaluate(Work& work);
  void learn(Work& work);

  // Stages 1-3's parts.
  bool record_step(Work& work);
  void note_failure(const CandidateRecord& candidate);
  void record_unrecorded_calls();
  void release_step();  // a step that ended before stage 4; caller holds mutex_
  static void mark_refused(CandidateRecord& candidate, const std::string& reason);
  bool can_issue() const;
  bool budget_left() const;

  void record_evaluation(CandidateRecord& candidate, const Evaluation& evaluation);
  // LLM hooks (engine/llm_proposer.h): a step's call counted into the spend;
  // a proposer's request to stop.
  void count_llm_spend(const LlmCallRecord& call);
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

  // The serial stages run at the same time on different threads: this
  // guards the database connection, the islands, the progress line and the
  // step counters.
  mutable std::mutex mutex_;
  // Stage 1 waits here while the steps in flight could still fill the budget.
  std::condition_variable step_done_;
  // Proposers read evidence and record LLM calls through connections of
  // their own while the pipeline has more than one step in flight (a
  // Database is not thread-safe): one per proposal running, kept for reuse,
  // so a slow LLM answer never holds the lock that recording needs.
  class ProposalDb;  // one proposal's connection, back to the pool when it ends
  std::mutex proposal_dbs_mutex_;
  std::vector<std::unique_ptr<Database>> proposal_dbs_;  // idle
  bool parallel_ = false;  // more than one token
  // LLM spend of the campaign, for the progress line (loaded once, then
  // counted from the proposals). Caller holds mutex_.
  std::optional<LlmUsage> llm_spend_;
  // Step → its LLM call, from the end of stage 2 until stage 3 records it
  // with the step's candidate (mutex_).
  std::map<int64_t, LlmCallRecord> unrecorded_calls_;
  // The latest refused or failed candidates, newest first, for the proposals'
  // evidence (mutex_).
  std::vector<std::shared_ptr<const CandidateRecord>> recent_failures_;

  BenchmarkSlots slots_;
  std::map<int64_t, std::shared_ptr<const CandidateRecord>> loaded_;
  std::vector<Gene> genes_;
  Islands islands_{config_.search, config_.benchmark.min_effect};
  int64_t campaign_id_ = 0;
  std::optional<CandidateRecord> baseline_;
  int64_t next_step_ = 1;
  int64_t in_flight_ = 0;  // steps issued by stage 1, not yet ended
  int64_t consecutive_duplicates_ = 0;
  bool exhausted_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ratchet
