#include "engine/campaign.h"

#include <algorithm>
#include <thread>
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include "common/hash.h"
#include "engine/remote_rewriters.h"
#include "evaluators/builder.h"
#include "sandbox/sandbox.h"

namespace ratchet {

namespace {

// After this many proposals in a row that repeat known programs, the search
// space reachable from the population is taken as exhausted.
constexpr int64_t kMaxConsecutiveDuplicates = 500;

// Streams of evaluation seeds apart from the steps': the baseline's A/A
// test and the re-measurement of elites.
constexpr int64_t kBaselineStream = 0;
constexpr int64_t kConfirmStream = -1;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

CandidateStatus status_of(const Evaluation& evaluation) {
  if (evaluation.build.status != StageStatus::ok) return CandidateStatus::build_failed;
  if (evaluation.verify.status != StageStatus::ok) return CandidateStatus::verify_failed;
  if (evaluation.benchmark.status != StageStatus::ok) return CandidateStatus::benchmark_failed;
  return CandidateStatus::evaluated;
}

// How the AST-aware rewriters parse this task's files: its language, fixed
// flags and the program's flags; text edits are re-parsed too. IR edits lower
// a file with the task's compiler, in the sandbox.
RewriteContext rewrite_context(const Task& task, const Program& program) {
  RewriteContext context;
  context.language = task.language;
  context.flags = task.fixed_flags;
  context.flags.insert(context.flags.end(), program.flags.begin(), program.flags.end());
  context.compiler = task.compiler;
  context.directory = task.dir;
  context.validate = true;
  context.lower_to_ir = [&task](const Program& p, const std::string& file) {
    return lower_to_ir(task, p, file);
  };
  return context;
}

// The candidates' program_hash: their token streams and flags, so programs
// that differ only in comments or layout are one program (never built twice).
std::string dedupe_hash(const Task& task, const Program& program) {
  return remote::semantic_hash(program, rewrite_context(task, program));
}

nlohmann::json stage_artifact(const StageResult& stage) {
  nlohmann::json json = {{"status", to_string(stage.status)},
                         {"summary", stage.summary},
                         {"seconds", stage.seconds}};
  if (!stage.log.empty()) json["log"] = stage.log;
  return json;
}

// The search step stored with a candidate (artifacts.search.step), or 0.
int64_t step_of(const CandidateRecord& candidate) {
  auto search = candidate.artifacts.find("search");
  if (search == candidate.artifacts.end() || !search->is_object()) return 0;
  return search->value("step", int64_t{0});
}

}  // namespace

struct Campaign::Work {
  int64_t step = 0;
  std::mt19937_64 rng;
  // Stage 1: the parent and the inspirations.
  ParentChoice choice;
  std::shared_ptr<const CandidateRecord> parent;
  std::vector<std::shared_ptr<const CandidateRecord>> inspirations;
  // Stage 2: the proposal and the candidate it makes (or why not).
  std::optional<Proposal> proposal;
  std::optional<std::string> refusal;
  CandidateRecord candidate;
  // Stage 3: a pending candidate to build, evaluate and learn from.
  bool live = false;
  BuiltProgram built;
  Evaluation evaluation;
};

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
      slots_(config.benchmark.slots, sandbox::allowed_cpus()),
      genes_(flag_genes(compiler_family(task.compiler), task.allows_unsafe_math())) {}

Campaign::~Campaign() = default;

// Step k's generator depends on the seed and k only, so a resumed campaign
// draws at step k what the uninterrupted one would have drawn.
std::mt19937_64 Campaign::step_rng(int64_t step) const {
  uint64_t k = static_cast<uint64_t>(step);
  std::seed_seq seq{static_cast<uint32_t>(config_.seed), static_cast<uint32_t>(config_.seed >> 32),
                    static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32)};
  return std::mt19937_64(seq);
}

uint64_t Campaign::evaluation_seed(int64_t step) const {
  return splitmix64(config_.seed ^ splitmix64(static_cast<uint64_t>(step) ^ 0x5bd1e995ULL));
}

std::string Campaign::step_key() const { return fmt::format("campaign.{}.step", campaign_id_); }

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
  baseline.program_hash = dedupe_hash(task_, baseline.program);
  baseline.proposer = "baseline";
  db_.insert_candidate(baseline);
  progress_.note(fmt::format("campaign '{}' (#{}) on task '{}': measuring the baseline against "
                             "itself (noise floor)", config_.name, campaign_id_, task_.name));
  Evaluation evaluation = evaluator_.evaluate_baseline(evaluation_seed(kBaselineStream));
  baseline.status = status_of(evaluation);
  baseline.build = evaluation.build.status;
  baseline.verify = evaluation.verify.status;
  baseline.benchmark = evaluation.benchmark.status;
  baseline.metrics = evaluation.metrics;
  baseline.artifacts["benchmark"] = stage_artifact(evaluation.benchmark);
  db_.record_evaluation(baseline, evaluation.samples);
  islands_.add(baseline);
  baseline_ = baseline;
  progress_.note(fmt::format("baseline #{}: A/A {} ({})", baseline.id, format_speedup(baseline),
                             evaluation.benchmark.summary));
}

// Rebuilds the islands by adding every candidate again in id order (the
// order stage 6 added them), evaluating those left pending on the way, and
// continues after the last step recorded.
void Campaign::resume_from_database(const CampaignRecord& record) {
  campaign_id_ = record.id;
  int64_t last_step = 0;
  bool steps_known = true;
  if (auto stored = db_.meta(step_key())) last_step = std::stoll(*stored);
  ProgressCounts counts;
  counts.duplicates = record.duplicates_skipped;
  int64_t seen = 0;
  auto count = [&](const CandidateRecord& candidate) {
    if (candidate.proposer == "baseline") return;
    ++counts.done;
    if (candidate.status == CandidateStatus::build_failed) ++counts.build_failed;
    if (candidate.status == CandidateStatus::verify_failed) ++counts.verify_failed;
    if (candidate.status == CandidateStatus::benchmark_failed) ++counts.benchmark_failed;
    if (candidate.status == CandidateStatus::refused) ++counts.refused;
  };
  // Streamed: only the pending candidates are held (they were in flight, so
  // every candidate learned from comes before them; stage 6 is in order).
  std::vector<CandidateRecord> pending;
  db_.for_each_candidate(campaign_id_, [&](CandidateRecord&& candidate) {
    ++seen;
    if (candidate.proposer == "baseline") {
      baseline_ = candidate;
    } else {
      int64_t step = step_of(candidate);
      if (step == 0) steps_known = false;  // written before steps were stored
      last_step = std::max(last_step, step);
    }
    if (candidate.status == CandidateStatus::pending) {
      pending.push_back(std::move(candidate));
      return;
    }
    count(candidate);
    islands_.add(candidate);
  });
  if (!baseline_) runtime_error(fmt::format("campaign #{} has no baseline candidate", record.id));
  // The prompts' evidence so far: one walk of the failure index.
  for (const CandidateRecord& failure : db_.recent_failures(campaign_id_, kRecentFailures)) {
    note_failure(failure);
  }
  for (auto& candidate : pending) {
    progress_.note(fmt::format("resuming: re-evaluating candidate #{} left pending",
                               candidate.id));
    Work work;
    work.candidate = candidate;
    work.step = step_of(candidate);
    work.live = true;
    build(work);
    evaluate(work);
    if (stop_) break;
    record_evaluation(work.candidate, work.evaluation);
    count(work.candidate);
    note_failure(work.candidate);
    islands_.add(work.candidate);
  }
  // An older database without steps: a fresh stream past every candidate.
  next_step_ = steps_known ? last_step + 1 : std::max(last_step, seen) + 1'000'000;
  progress_.set_counts(counts);
  progress_.note(fmt::format("resumed campaign '{}' (#{}): {} candidates so far, continuing at "
                             "step {}", record.name, record.id, counts.done, next_step_));
}

// LLM hook: a step's LLM call counts into the campaign's spend on the
// progress line. The spend is read once when run() starts (a resumed
// campaign's included), then counted from the steps: no aggregate over
// llm_calls per candidate. (The budgets themselves are the proposers'.)
// Caller holds mutex_.
void Campaign::count_llm_spend(const LlmCallRecord& call) {
  if (!llm_spend_) llm_spend_ = db_.llm_usage(campaign_id_);
  llm_spend_->calls += 1;
  llm_spend_->tokens_in += call.tokens_in + call.tokens_out;  // the line shows the sum
  llm_spend_->cost_usd += call.cost_usd;
  progress_.set_llm_spend(llm_spend_->calls, llm_spend_->tokens_in + llm_spend_->tokens_out,
                          llm_spend_->cost_usd);
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

// Candidates in flight count against the evaluation budget already.
bool Campaign::can_issue() const {
  return budget_left() && progress_.counts().done + in_flight_ < config_.max_evals;
}

void Campaign::record_evaluation(CandidateRecord& candidate, const Evaluation& evaluation) {
  candidate.status = status_of(evaluation);
  candidate.build = evaluation.build.status;
  candidate.verify = evaluation.verify.status;
  candidate.benchmark = evaluation.benchmark.status;
  candidate.metrics = evaluation.metrics;
  candidate.artifacts["build"] = stage_artifact(evaluation.build);
  candidate.artifacts["verify"] = stage_artifact(evaluation.verify);
  candidate.artifacts["benchmark"] = stage_artifact(evaluation.benchmark);
  db_.record_evaluation(candidate, evaluation.samples);
}

void Campaign::mark_refused(CandidateRecord& candidate, const std::string& reason) {
  candidate.status = CandidateStatus::refused;
  candidate.build = candidate.verify = candidate.benchmark = StageStatus::skipped;
  candidate.artifacts["refusal"] = reason;
  // One row per distinct refused edit: the same bad edit is not recorded twice.
  candidate.program_hash = "refused-" + hash_hex(candidate.edit.dump());
}

// The dedupe step, before anything expensive, and the step's record, in one
// transaction: a program already in the campaign (evaluated, in flight or
// refused), equal token for token, is counted and skipped with the step that
// proposed it; any other becomes a candidate. The step's LLM call is written
// with it either way. Returns whether the candidate was inserted.
// Caller holds mutex_.
bool Campaign::record_step(Work& work) {
  CandidateRecord& candidate = work.candidate;
  if (candidate.program_hash.empty()) candidate.program_hash = dedupe_hash(task_, candidate.program);
  auto call = unrecorded_calls_.find(work.step);
  LlmCallRecord* record = call == unrecorded_calls_.end() ? nullptr : &call->second;
  bool inserted = db_.record_step(candidate, step_key(), work.step, record);
  if (record) {
    count_llm_spend(*record);
    unrecorded_calls_.erase(call);
  }
  if (!inserted) progress_.duplicate_skipped();
  return inserted;
}

// The calls of steps that will never reach stage 3, because an error in
// another step ended the pipeline: they were answered (and paid for), so they
// are recorded, with no candidate. The error that ended the pipeline is the
// one to report, so a failure here is only noted. Caller holds mutex_.
void Campaign::record_unrecorded_calls() {
  for (auto& [step, call] : unrecorded_calls_) {
    try {
      db_.insert_llm_call(call);
    } catch (const std::exception& error) {
      progress_.note(
          fmt::format("the LLM call of step {} is not recorded: {}", step, error.what()));
    }
  }
  unrecorded_calls_.clear();
}

// A refused or failed candidate joins the latest failures that the next
// proposals see (newest first, as the database's failure index orders them),
// without its program. Caller holds mutex_.
void Campaign::note_failure(const CandidateRecord& candidate) {
  if (static_cast<int>(candidate.status) < static_cast<int>(CandidateStatus::refused)) return;
  if (recent_failures_.size() >= static_cast<size_t>(kRecentFailures) &&
      candidate.id < recent_failures_.back()->id) {
    return;
  }
  auto evidence = std::make_shared<CandidateRecord>(candidate);
  evidence->program = {};
  auto newer = [](const auto& a, const auto& b) { return a->id > b->id; };
  auto at = std::upper_bound(recent_failures_.begin(), recent_failures_.end(), evidence, newer);
  recent_failures_.insert(at, std::move(evidence));
  if (recent_failures_.size() > static_cast<size_t>(kRecentFailures)) recent_failures_.pop_back();
}

std::shared_ptr<const CandidateRecord> Campaign::load(int64_t id) {
  constexpr size_t kKept = 64;  // tournaments keep picking the same few
  if (auto it = loaded_.find(id); it != loaded_.end()) return it->second;
  std::optional<CandidateRecord> record = db_.candidate(id);
  if (!record) runtime_error(fmt::format("candidate #{} is in the islands but not in {}", id,
                                         db_.path().string()));
  if (loaded_.size() >= kKept) {  // drop the lowest id but the baseline's
    auto victim = loaded_.begin();
    if (baseline_ && victim->first == baseline_->id) ++victim;
    loaded_.erase(victim);
  }
  auto shared = std::make_shared<const CandidateRecord>(std::move(*record));
  loaded_[id] = shared;
  return shared;
}

// The proposal stage's connection: the campaign's own with one step in flight
// (nothing else runs then), else one of the pool's, given back when the
// proposal ends (returned or thrown).
class Campaign::ProposalDb {
 public:
  explicit ProposalDb(Campaign& campaign) : campaign_(campaign) {
    if (!campaign.parallel_) return;
    std::lock_guard lock(campaign.proposal_dbs_mutex_);
    if (campaign.proposal_dbs_.empty()) {
      own_ = std::make_unique<Database>(Database::open(campaign.db_.path(), /*create=*/false));
    } else {
      own_ = std::move(campaign.proposal_dbs_.back());
      campaign.proposal_dbs_.pop_back();
    }
  }
  ~ProposalDb() {
    if (!own_) return;
    std::lock_guard lock(campaign_.proposal_dbs_mutex_);
    campaign_.proposal_dbs_.push_back(std::move(own_));
  }
  ProposalDb(const ProposalDb&) = delete;
  ProposalDb& operator=(const ProposalDb&) = delete;
  Database* get() { return own_ ? own_.get() : &campaign_.db_; }

 private:
  Campaign& campaign_;
  std::unique_ptr<Database> own_;
};

// Caller holds mutex_.
void Campaign::release_step() {
  progress_.set_in_flight(--in_flight_);
  step_done_.notify_all();
}

// Stage 1 (serial): the next step number and its parent, or nullptr when the
// budget ends. A step holds a place in the evaluation budget from here until
// it ends (at stage 3 for a refusal, a duplicate or no proposal), so max_evals
// is never overshot; while the steps in flight could fill the budget this
// waits for one to end instead of stopping early.
std::shared_ptr<Campaign::Work> Campaign::select_next() {
  std::unique_lock lock(mutex_);
  while (!can_issue()) {
    if (!budget_left()) return nullptr;
    // Wakes on a step ending; the timeout notices Ctrl-C and the wall clock.
    step_done_.wait_for(lock, std::chrono::milliseconds(50));
  }
  auto work = std::make_shared<Work>();
  work->step = next_step_++;
  ++in_flight_;
  // Every draw of step k comes from (seed, k): parent, proposer, edit.
  work->rng = step_rng(work->step);
  // Select: a parent from the step's island (exploit, explore or diversify).
  work->choice = islands_.select(work->rng, work->step);
  work->parent = load(work->choice.parent);
  for (int64_t id : work->choice.inspirations) work->inspirations.push_back(load(id));
  return work;
}

// Stage 2 (parallel): propose → rewrite → hash, outside the lock, with a
// database connection of its own for the proposer's evidence and LLM calls.
void Campaign::propose(Work& work) {
  if (stop_) return;
  const CandidateRecord& parent = *work.parent;
  std::vector<const CandidateRecord*> inspirations;
  for (const auto& record : work.inspirations) inspirations.push_back(record.get());
  // The latest failures as of now, not as of stage 1: steps in flight before
  // this one may have failed since.
  std::vector<std::shared_ptr<const CandidateRecord>> latest;
  {
    std::lock_guard lock(mutex_);
    latest = recent_failures_;
  }
  std::vector<const CandidateRecord*> failures;
  for (const auto& record : latest) failures.push_back(record.get());
  // Propose: an edit from a proposer drawn by weight (may wait on an LLM).
  {
    ProposalDb evidence(*this);
    work.proposal =
        pick_proposer(proposers_, work.rng)
            .propose({task_, parent, work.rng, evidence.get(), campaign_id_, inspirations,
                      std::move(failures)});
  }
  if (!work.proposal) return;
  if (work.proposal->llm_call) {  // the campaign's until stage 3 records it
    std::lock_guard lock(mutex_);
    unrecorded_calls_.emplace(work.step, std::move(*work.proposal->llm_call));
    work.proposal->llm_call.reset();
  }
  const Proposal& proposal = *work.proposal;
  CandidateRecord& candidate = work.candidate;
  candidate.campaign_id = campaign_id_;
  candidate.parent_id = parent.id;
  candidate.island = work.choice.island;
  candidate.edit = to_json(proposal.edit);
  candidate.proposer = proposal.proposer;
  candidate.model = proposal.model;
  candidate.artifacts["search"] = {{"step", work.step}};
  // Rewrite: the parent's program with the edit applied, or why not.
  // (An LLM answer that held no usable edit arrives already refused.)
  Result<Program> child = !proposal.refusal.empty()
                              ? Result<Program>(fail(proposal.refusal))
                              : remote::apply_edit(parent.program, proposal.edit, genes_,
                                                   rewrite_context(task_, parent.program));
  if (!child) {
    candidate.program = parent.program;
    work.refusal = child.error();
    return;
  }
  candidate.program = std::move(*child);
  // The dedupe key, computed here, in parallel; stage 3 looks it up.
  candidate.program_hash = dedupe_hash(task_, candidate.program);
}

// Stage 3 (serial, in order): dedupe and record, one transaction. The step
// becomes a pending candidate, a refusal, a counted duplicate, or nothing (no
// proposal). Candidates get their ids in step order.
void Campaign::record(Work& work) {
  std::lock_guard lock(mutex_);
  if (!work.proposal) {
    release_step();
    return;
  }
  const Proposal& proposal = *work.proposal;
  CandidateRecord& candidate = work.candidate;
  if (!proposal.note.empty()) progress_.note(proposal.note);  // e.g. an endpoint failed
  if (work.refusal) {
    mark_refused(candidate, *work.refusal);
    if (record_step(work)) {
      note_failure(candidate);
      progress_.candidate_finished(candidate, islands_.best());
    }
    release_step();
    return;
  }
  // The same program is never built twice.
  if (!record_step(work)) {
    exhausted_ = ++consecutive_duplicates_ >= kMaxConsecutiveDuplicates;
    release_step();
    return;
  }
  consecutive_duplicates_ = 0;
  // The candidate exists from now on, pending, with its step.
  work.live = true;
}

// Stage 4 (parallel): compile in the sandbox.
void Campaign::build(Work& work) {
  if (!work.live || stop_) return;
  work.built = evaluator_.build(work.candidate.program);
}

// Stage 5: verify and benchmark in a benchmark slot (one at a time unless
// `benchmark.slots` gives each of several cores its own).
void Campaign::evaluate(Work& work) {
  if (!work.live || stop_) return;
  BenchmarkSlots::Lease slot = slots_.take();
  work.evaluation = evaluator_.evaluate_built(work.candidate.program, std::move(work.built),
                                              evaluation_seed(work.step), slot.cpu());
  work.built = {};  // the build folder goes now, not when the token is recycled
}

// Stage 6 (serial, in order): record the evaluation and learn from it.
void Campaign::learn(Work& work) {
  if (!work.live) return;
  std::lock_guard lock(mutex_);
  release_step();
  // Interrupted mid-stage: the result is not the candidate's fault. Leave it
  // pending; --resume evaluates it again.
  if (stop_) return;
  record_evaluation(work.candidate, work.evaluation);
  note_failure(work.candidate);
  islands_.add(work.candidate);
  progress_.candidate_finished(work.candidate, islands_.best());
}

// A search keeps the luckiest of many noisy measurements; the best and the
// next fastest elites are measured again, with more pairs, before they are
// reported, and ranked by the re-measurement.
std::vector<ConfirmedElite> Campaign::confirm_elites() {
  // Candidates whose flags change nothing share one binary: measuring it twice
  // would rank noise, so each binary is confirmed once.
  std::vector<int64_t> chosen;
  std::vector<std::string> binaries;
  auto choose = [&](int64_t id) {
    if (std::find(chosen.begin(), chosen.end(), id) != chosen.end()) return;
    std::string binary = load(id)->metrics.value("binary_hash", "");
    if (!binary.empty()) {
      if (std::find(binaries.begin(), binaries.end(), binary) != binaries.end()) return;
      binaries.push_back(binary);
    }
    chosen.push_back(id);
  };
  if (const Member* best = islands_.best()) choose(best->id);
  int wanted = std::max(config_.search.confirm_top, 1);
  for (const Member& elite : islands_.top(wanted * 4)) {
    if (static_cast<int>(chosen.size()) >= wanted) break;
    if (elite.speedup > 1.0) choose(elite.id);
  }
  // The re-measurements run on the benchmark slots, as many at once as there
  // are slots (one at a time with one); the records are loaded first, since
  // the database connection is not the slots' to share.
  std::vector<ConfirmedElite> elites;
  for (int64_t id : chosen) elites.push_back({*load(id), nullptr});
  std::vector<std::optional<Evaluation>> evaluations(elites.size());
  std::atomic<size_t> next{0};
  auto confirm_next = [&] {
    for (size_t i = next++; i < elites.size() && !stop_; i = next++) {
      BenchmarkSlots::Lease slot = slots_.take();
      {
        std::lock_guard lock(mutex_);
        progress_.note(fmt::format("confirming candidate #{} at higher precision ({}/{})",
                                   elites[i].candidate.id, i + 1, elites.size()));
      }
      Evaluation evaluation =
          evaluator_.confirm(elites[i].candidate.program,
                             evaluation_seed(kConfirmStream - static_cast<int64_t>(i)), slot.cpu());
      if (!stop_) evaluations[i] = std::move(evaluation);
    }
  };
  std::vector<std::thread> helpers;
  for (int s = 1; s < std::min<int>(slots_.count(), static_cast<int>(elites.size())); ++s) {
    helpers.emplace_back(confirm_next);
  }
  confirm_next();
  for (std::thread& helper : helpers) helper.join();

  std::vector<ConfirmedElite> confirmed;
  for (size_t i = 0; i < elites.size() && evaluations[i]; ++i) {
    const Evaluation& evaluation = *evaluations[i];
    ConfirmedElite& elite = elites[i];
    nlohmann::json confirmation = evaluation.metrics;
    confirmation["status"] = evaluation.passed() ? "ok" : "failed";
    confirmation["summary"] = evaluation.passed() ? evaluation.benchmark.summary
                              : evaluation.verify.status != StageStatus::ok
                                  ? evaluation.verify.summary
                                  : evaluation.benchmark.summary;
    elite.candidate.metrics["confirmed"] = confirmation;
    elite.confirmation = confirmation;
    db_.update_candidate(elite.candidate);
    confirmed.push_back(std::move(elite));
  }
  auto rank = [](const ConfirmedElite& e) {
    return e.confirmation.value("status", "") == "ok" ? e.confirmation.value("speedup", 0.0)
                                                       : -1.0;
  };
  std::stable_sort(confirmed.begin(), confirmed.end(),
                   [&](const ConfirmedElite& a, const ConfirmedElite& b) { return rank(a) > rank(b); });
  nlohmann::json ranking = nlohmann::json::array();
  for (const auto& elite : confirmed) {
    ranking.push_back({{"id", elite.candidate.id},
                       {"status", elite.confirmation.value("status", "")},
                       {"speedup", elite.confirmation.value("speedup", 0.0)},
                       {"ci_low", elite.confirmation.value("ci_low", 0.0)},
                       {"ci_high", elite.confirmation.value("ci_high", 0.0)}});
  }
  if (!confirmed.empty()) {
    db_.set_meta(fmt::format("campaign.{}.confirmed", campaign_id_), ranking.dump());
  }
  return confirmed;
}

// The six stages over `tokens` steps in flight.
void Campaign::run_pipeline(int tokens) {
  // The stages' threads mostly wait on sandboxed children (compilers,
  // benchmarks, LLM answers), so there is a thread per token, not per core.
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(tokens + 1));
  tbb::task_arena arena(tokens + 1);
  using WorkPtr = std::shared_ptr<Work>;
  arena.execute([&] {
    tbb::parallel_pipeline(
        static_cast<size_t>(tokens),
        tbb::make_filter<void, WorkPtr>(tbb::filter_mode::serial_in_order,
                                        [&](tbb::flow_control& control) {
                                          WorkPtr work = select_next();
                                          if (!work) control.stop();
                                          return work;
                                        }) &
            tbb::make_filter<WorkPtr, WorkPtr>(tbb::filter_mode::parallel,
                                               [&](WorkPtr work) {
                                                 propose(*work);
                                                 return work;
                                               }) &
            tbb::make_filter<WorkPtr, WorkPtr>(tbb::filter_mode::serial_in_order,
                                               [&](WorkPtr work) {
                                                 record(*work);
                                                 return work;
                                               }) &
            tbb::make_filter<WorkPtr, WorkPtr>(tbb::filter_mode::parallel,
                                               [&](WorkPtr work) {
                                                 build(*work);
                                                 return work;
                                               }) &
            tbb::make_filter<WorkPtr, WorkPtr>(slots_.count() > 1
                                                   ? tbb::filter_mode::parallel
                                                   : tbb::filter_mode::serial_in_order,
                                               [&](WorkPtr work) {
                                                 evaluate(*work);
                                                 return work;
                                               }) &
            tbb::make_filter<WorkPtr, void>(tbb::filter_mode::serial_in_order,
                                            [&](WorkPtr work) { learn(*work); }));
  });
}

CampaignOutcome Campaign::run() {
  int tokens = std::max(1, config_.search.in_flight);
  parallel_ = tokens > 1;
  llm_spend_ = db_.llm_usage(campaign_id_);
  try {
    run_pipeline(tokens);
  } catch (...) {
    std::lock_guard lock(mutex_);
    record_unrecorded_calls();
    throw;
  }
  progress_.finish();
  // Rules LLMs answered with join the database's reusable transforms, for the
  // transforms proposer of any later campaign.
  db_.adopt_transform_edits();

  CampaignOutcome outcome;
  outcome.campaign_id = campaign_id_;
  outcome.interrupted = stop_.load();
  outcome.exhausted = exhausted_;
  outcome.stop_reason = proposer_stop_reason();
  if (const Member* best = islands_.best()) outcome.best = *load(best->id);
  if (!outcome.interrupted) outcome.confirmed = confirm_elites();
  for (const auto& elite : outcome.confirmed) {
    if (outcome.best && elite.candidate.id == outcome.best->id) {
      outcome.best = elite.candidate;
      outcome.confirmation = elite.confirmation;
    }
  }
  outcome.pareto_front = islands_.pareto_front();
  if (!outcome.pareto_front.empty()) {
    nlohmann::json front = nlohmann::json::array();
    for (const Member& member : outcome.pareto_front) {
      nlohmann::json objectives = nlohmann::json::object();
      for (size_t i = 0; i < config_.search.pareto.size(); ++i) {
        const auto& [name, maximize] = config_.search.pareto[i];
        objectives[name] = maximize ? member.objectives[i] : -member.objectives[i];
      }
      front.push_back({{"id", member.id}, {"objectives", objectives}});
    }
    db_.set_meta(fmt::format("campaign.{}.pareto", campaign_id_), front.dump());
  }
  if (const Member* highest = islands_.highest()) outcome.highest = *load(highest->id);
  outcome.baseline = baseline_;
  outcome.counts = progress_.counts();
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  db_.finish_campaign(campaign_id_, outcome.interrupted ? "interrupted" : "finished");
  return outcome;
}

}  // namespace ratchet
