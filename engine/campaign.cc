#include "engine/campaign.h"

#include <fmt/format.h>

#include "common/hash.h"
#include "rewriters/apply_edit.h"

namespace ratchet {

namespace {

// After this many proposals in a row that repeat known programs, the search
// space reachable from the population is taken as exhausted.
constexpr int64_t kMaxConsecutiveDuplicates = 500;

CandidateStatus status_of(const Evaluation& evaluation) {
  if (evaluation.build.status != StageStatus::ok) return CandidateStatus::build_failed;
  if (evaluation.verify.status != StageStatus::ok) return CandidateStatus::verify_failed;
  if (evaluation.benchmark.status != StageStatus::ok) return CandidateStatus::benchmark_failed;
  return CandidateStatus::evaluated;
}

// How the AST-aware rewriters parse this task's files: its language, fixed
// flags and the program's flags; text edits are re-parsed too.
RewriteContext rewrite_context(const Task& task, const Program& program) {
  RewriteContext context;
  context.language = task.language;
  context.flags = task.fixed_flags;
  context.flags.insert(context.flags.end(), program.flags.begin(), program.flags.end());
  context.compiler = task.compiler;
  context.directory = task.dir;
  context.validate = true;
  return context;
}

nlohmann::json stage_artifact(const StageResult& stage) {
  nlohmann::json json = {{"status", to_string(stage.status)},
                         {"summary", stage.summary},
                         {"seconds", stage.seconds}};
  if (!stage.log.empty()) json["log"] = stage.log;
  return json;
}

}  // namespace

Campaign::Campaign(const CampaignConfig& config, const Task& task, Database& db,
                   Evaluator& evaluator, std::vector<WeightedProposer> proposers,
                   Progress& progress, const std::atomic<bool>& stop)
    : config_(config),
      task_(task),
      db_(db),
      evaluator_(evaluator),
      proposers_(std::move(proposers)),
      progress_(progress),
      stop_(stop),
      genes_(flag_genes(compiler_family(task.compiler), task.allows_unsafe_math())),
      rng_(config.seed) {}

void Campaign::start(bool resume, const nlohmann::json& environment) {
  start_ = std::chrono::steady_clock::now();
  if (resume) {
    std::optional<CampaignRecord> latest;
    for (auto& record : db_.campaigns()) {
      if (record.name == config_.name && record.task_dir == task_.dir.string()) latest = record;
    }
    if (!latest) {
      usage_error(fmt::format("--resume: no campaign named '{}' on task '{}' in {}", config_.name,
                              task_.name, db_.path().string()));
    }
    resume_from_database(*latest);
    return;
  }

  CampaignRecord record;
  record.name = config_.name;
  record.task_name = task_.name;
  record.task_dir = task_.dir.string();
  record.config = config_.raw;
  record.environment = environment;
  record.seed = static_cast<int64_t>(config_.seed);
  campaign_id_ = db_.create_campaign(record);

  CandidateRecord baseline;
  baseline.campaign_id = campaign_id_;
  baseline.program = task_.baseline();
  baseline.program.flags = canonical_flags(baseline.program.flags, genes_);
  baseline.program_hash = program_hash(baseline.program);
  baseline.proposer = "baseline";
  db_.insert_candidate(baseline);
  progress_.note(fmt::format("campaign '{}' (#{}) on task '{}': measuring the baseline against "
                             "itself (noise floor)", config_.name, campaign_id_, task_.name));
  Evaluation evaluation = evaluator_.evaluate_baseline(rng_());
  baseline.status = status_of(evaluation);
  baseline.build = evaluation.build.status;
  baseline.verify = evaluation.verify.status;
  baseline.benchmark = evaluation.benchmark.status;
  baseline.metrics = evaluation.metrics;
  baseline.artifacts["benchmark"] = stage_artifact(evaluation.benchmark);
  db_.update_candidate(baseline);
  db_.add_samples(baseline.id, evaluation.samples);
  islands_.add(baseline);
  baseline_ = baseline;
  progress_.note(fmt::format("baseline #{}: A/A {} ({})", baseline.id, format_speedup(baseline),
                             evaluation.benchmark.summary));
}

void Campaign::resume_from_database(const CampaignRecord& record) {
  campaign_id_ = record.id;
  // A different stream from the first run's, or every proposal would repeat.
  std::vector<CandidateRecord> candidates = db_.candidates(campaign_id_);
  rng_.seed(config_.seed ^ (0x9e3779b97f4a7c15ULL * (candidates.size() + 1)));
  ProgressCounts counts;
  counts.duplicates = record.duplicates_skipped;
  for (auto& candidate : candidates) {
    if (candidate.proposer == "baseline") baseline_ = candidate;
    if (candidate.status == CandidateStatus::pending) {
      progress_.note(fmt::format("resuming: re-evaluating candidate #{} left pending",
                                 candidate.id));
      evaluate_and_record(candidate);
      if (stop_) return;
    }
    if (candidate.proposer != "baseline") {
      ++counts.done;
      if (candidate.status == CandidateStatus::build_failed) ++counts.build_failed;
      if (candidate.status == CandidateStatus::verify_failed) ++counts.verify_failed;
      if (candidate.status == CandidateStatus::benchmark_failed) ++counts.benchmark_failed;
      if (candidate.status == CandidateStatus::refused) ++counts.refused;
    }
    islands_.add(candidate);
  }
  if (!baseline_) runtime_error(fmt::format("campaign #{} has no baseline candidate", record.id));
  progress_.set_counts(counts);
  progress_.note(fmt::format("resumed campaign '{}' (#{}): {} candidates so far", record.name,
                             record.id, counts.done));
}

// LLM hook: the llm_calls row of a proposal names the candidate it became.
void Campaign::link_llm_call(const Proposal& proposal, const CandidateRecord& candidate) {
  if (proposal.llm_call_id && candidate.id != 0) {
    db_.set_llm_call_candidate(*proposal.llm_call_id, candidate.id);
  }
}

// LLM hook: a proposer may end the campaign (budget spent, endpoints down).
std::string Campaign::proposer_stop_reason() const {
  for (const auto& entry : proposers_) {
    std::string reason = entry.proposer->stop_reason();
    if (!reason.empty()) return reason;
  }
  return "";
}

bool Campaign::budget_left() const {
  if (stop_ || exhausted_) return false;
  if (!proposer_stop_reason().empty()) return false;
  if (progress_.counts().done >= config_.max_evals) return false;
  if (config_.max_wall_seconds > 0) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed >= config_.max_wall_seconds) return false;
  }
  return true;
}

void Campaign::evaluate_and_record(CandidateRecord& candidate) {
  Evaluation evaluation = evaluator_.evaluate(candidate.program, rng_());
  // Interrupted mid-stage: the result is not the candidate's fault. Leave it
  // pending; --resume evaluates it again.
  if (stop_) return;
  candidate.status = status_of(evaluation);
  candidate.build = evaluation.build.status;
  candidate.verify = evaluation.verify.status;
  candidate.benchmark = evaluation.benchmark.status;
  candidate.metrics = evaluation.metrics;
  candidate.artifacts["build"] = stage_artifact(evaluation.build);
  candidate.artifacts["verify"] = stage_artifact(evaluation.verify);
  candidate.artifacts["benchmark"] = stage_artifact(evaluation.benchmark);
  db_.update_candidate(candidate);
  if (!evaluation.samples.empty()) db_.add_samples(candidate.id, evaluation.samples);
}

void Campaign::record_refusal(CandidateRecord& candidate, const std::string& reason) {
  candidate.status = CandidateStatus::refused;
  candidate.build = candidate.verify = candidate.benchmark = StageStatus::skipped;
  candidate.artifacts["refusal"] = reason;
  // One row per distinct refused edit: the same bad edit is not recorded twice.
  candidate.program_hash = "refused-" + hash_hex(candidate.edit.dump());
  if (db_.find_by_hash(campaign_id_, candidate.program_hash)) {
    db_.add_duplicate_skipped(campaign_id_);
    progress_.duplicate_skipped();
    return;
  }
  db_.insert_candidate(candidate);
  db_.update_candidate(candidate);
  progress_.candidate_finished(candidate, islands_.best());
}

void Campaign::step() {
  // 1. Select: a parent from the next island (exploit, explore or diversify).
  ParentChoice choice = islands_.select(rng_);
  const CandidateRecord& parent = *choice.parent;
  // 2. Propose: an edit from a proposer drawn by weight.
  std::optional<Proposal> proposal =
      pick_proposer(proposers_, rng_)
          .propose({task_, parent, rng_, &db_, campaign_id_, choice.inspirations});
  if (!proposal) return;
  if (!proposal->note.empty()) progress_.note(proposal->note);  // e.g. an endpoint failed
  CandidateRecord candidate;
  candidate.campaign_id = campaign_id_;
  candidate.parent_id = parent.id;
  candidate.island = choice.island;
  candidate.edit = to_json(proposal->edit);
  candidate.proposer = proposal->proposer;
  candidate.model = proposal->model;
  // 3. Rewrite: the parent's program with the edit applied, or why not.
  // (An LLM answer that held no usable edit arrives already refused.)
  Result<Program> child = !proposal->refusal.empty()
                              ? Result<Program>(fail(proposal->refusal))
                              : apply_edit(parent.program, proposal->edit, genes_,
                                           rewrite_context(task_, parent.program));
  if (!child) {
    candidate.program = parent.program;
    record_refusal(candidate, child.error());
    return link_llm_call(*proposal, candidate);
  }
  candidate.program = std::move(*child);
  // 4. Dedupe: the same program is never built twice.
  candidate.program_hash = program_hash(candidate.program);
  if (db_.find_by_hash(campaign_id_, candidate.program_hash)) {
    db_.add_duplicate_skipped(campaign_id_);
    progress_.duplicate_skipped();
    exhausted_ = ++consecutive_duplicates_ >= kMaxConsecutiveDuplicates;
    return;
  }
  consecutive_duplicates_ = 0;
  // 5. Record: the candidate exists from now on, pending.
  db_.insert_candidate(candidate);
  link_llm_call(*proposal, candidate);
  // 6-7. Evaluate in the sandbox (build → verify → benchmark) and record.
  evaluate_and_record(candidate);
  if (stop_) return;
  // 8. Learn: evaluated candidates become possible parents.
  islands_.add(candidate);
  progress_.candidate_finished(candidate, islands_.best());
}

// A search keeps the luckiest of many noisy measurements; the winner is
// measured again, with more pairs, before it is reported.
nlohmann::json Campaign::confirm_best(CandidateRecord& best) {
  progress_.note(fmt::format("confirming the best candidate #{} at higher precision", best.id));
  Evaluation evaluation = evaluator_.confirm(best.program, rng_());
  if (stop_) return nullptr;
  nlohmann::json confirmation = evaluation.metrics;
  confirmation["status"] = evaluation.passed() ? "ok" : "failed";
  confirmation["summary"] = evaluation.passed() ? evaluation.benchmark.summary
                            : evaluation.verify.status != StageStatus::ok
                                ? evaluation.verify.summary
                                : evaluation.benchmark.summary;
  best.metrics["confirmed"] = confirmation;
  db_.update_candidate(best);
  return confirmation;
}

CampaignOutcome Campaign::run() {
  while (budget_left()) step();
  progress_.finish();

  CampaignOutcome outcome;
  outcome.campaign_id = campaign_id_;
  outcome.interrupted = stop_.load();
  outcome.exhausted = exhausted_;
  outcome.stop_reason = proposer_stop_reason();
  if (const CandidateRecord* best = islands_.best()) {
    outcome.best = *best;
    if (!outcome.interrupted) outcome.confirmation = confirm_best(*outcome.best);
  }
  if (const CandidateRecord* highest = islands_.highest()) outcome.highest = *highest;
  outcome.baseline = baseline_;
  outcome.counts = progress_.counts();
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  db_.finish_campaign(campaign_id_, outcome.interrupted ? "interrupted" : "finished");
  return outcome;
}

}  // namespace ratchet
