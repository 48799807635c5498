// The candidate database: one SQLite file (WAL mode) that keeps every
// campaign, candidate, edit, evaluation and raw benchmark sample. A candidate
// is inserted the moment it exists and updated after each stage, so a
// campaign killed at any point loses nothing.
//
// Numeric codes (StageStatus, CandidateStatus) are persisted: never renumber.
// The schema carries a version (PRAGMA user_version) and a list of
// migrations; a file written by a newer ratchet is refused with a clear error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/evaluation.h"
#include "common/program.h"

struct sqlite3;

namespace ratchet {

// StageStatus (pending, ok, failed, timeout, crashed, skipped) and its
// to_string come from common/evaluation.h, shared with the evaluators.

enum class CandidateStatus : int {
  pending = 0,           // inserted, stages still running (or interrupted)
  evaluated = 1,         // built, verified and benchmarked
  refused = 2,           // the edit could not be applied; reason in artifacts
  build_failed = 3,
  verify_failed = 4,
  benchmark_failed = 5,
};

const char* to_string(CandidateStatus status);
// The inverse of to_string; nullopt for a name that is not a status.
std::optional<StageStatus> stage_status_from_string(std::string_view name);
std::optional<CandidateStatus> candidate_status_from_string(std::string_view name);

struct CampaignRecord {
  int64_t id = 0;
  std::string name;
  std::string task_name;
  std::string task_dir;
  nlohmann::json config;       // the validated config, as loaded
  nlohmann::json environment;  // fingerprint: cpu, kernel, compiler …
  int64_t seed = 0;
  std::string status = "running";  // running | finished | interrupted | failed
  std::string started_at;          // ISO-8601 UTC, set by the database
  std::string finished_at;
  int64_t duplicates_skipped = 0;
};

struct CandidateRecord {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::optional<int64_t> parent_id;
  // The dedupe key. A campaign uses semantic_hash (rewriters/semantic_hash.h):
  // equal token streams and flags are one program.
  std::string program_hash;
  Program program;
  nlohmann::json edit;  // to_json(Edit); null for the baseline
  std::string proposer; // "baseline", "flags", …
  std::string model;    // LLM model name, empty for built-ins
  CandidateStatus status = CandidateStatus::pending;
  StageStatus build = StageStatus::pending;
  StageStatus verify = StageStatus::pending;
  StageStatus benchmark = StageStatus::pending;
  // speedup, ci_low, ci_high, pairs, baseline_cpu_ms, candidate_cpu_ms, …
  nlohmann::json metrics = nlohmann::json::object();
  // build_log, verify_diff, refusal, … (evidence for the next prompt)
  nlohmann::json artifacts = nlohmann::json::object();
  int island = 0;
  std::string created_at;
  std::string updated_at;

  std::optional<double> speedup() const;  // metrics["speedup"] when present
};

// Raw benchmark pairs are stored as the evaluators produce them.
using SampleRecord = BenchmarkSample;

// One call to an LLM endpoint (table llm_calls). Never holds an API key: the
// endpoint is the configured base URL, errors are redacted by the client.
struct LlmCallRecord {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::optional<int64_t> candidate_id;  // set once the proposal became a candidate
  std::string model;
  std::string endpoint;  // base URL
  std::string kind;      // openai | anthropic | replay
  std::string status;    // ok | http_error | timeout | connection | truncated | malformed | no_key | replay_miss
  int64_t http_status = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double latency_ms = 0;
  int64_t retries = 0;
  double cost_usd = 0;
  std::string request_key;              // replay cache key
  std::optional<std::string> prompt;    // absent when store_text is off
  std::optional<std::string> response;
  std::string error;
  std::string created_at;
};

// Calls, tokens and cost of one model (or of a whole campaign: model "").
struct LlmUsage {
  std::string model;
  int64_t calls = 0;
  int64_t failed = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  double latency_ms = 0;  // mean over calls
};

// A reusable transform rule (table transforms, schema 3). Wins and losses
// are derived from the candidates whose transform edit carries this rule.
struct TransformRecord {
  int64_t id = 0;
  std::string name;
  std::string rule_json;  // canonical (see canonical_rule_json); {"builtin":"NAME"} for a built-in
  std::string origin;     // builtin | llm | user
  std::optional<int64_t> candidate_id;  // the candidate that introduced it, if any
  std::string created_at;
  int64_t wins = 0;    // evaluated, and its interval's lower bound beat the parent's speedup
  int64_t losses = 0;  // evaluated but not better, refused, or a stage failed
};

struct DatabaseStats {
  struct StatusCount {
    std::string status;
    int64_t count = 0;
  };
  struct TaskBest {
    std::string task;
    int64_t candidate_id = 0;
    double speedup = 0;
    double ci_low = 0;
    double ci_high = 0;
  };
  int64_t campaigns = 0;
  int64_t candidates = 0;
  // Candidates with at least one stage run: build neither pending nor
  // skipped (the baseline counts; refused edits, all stages skipped, do not).
  int64_t evaluations = 0;
  int64_t duplicates_skipped = 0;
  // Candidates whose binary was byte-identical to one already evaluated:
  // their evaluation was reused, not repeated (the build cache's hits).
  int64_t binary_reuses = 0;
  // Candidates whose binary came from the build cache instead of a compile.
  int64_t build_cache_hits = 0;
  std::vector<StatusCount> by_status;        // CandidateStatus names
  std::vector<StatusCount> failures_by_stage;  // "build", "verify", "benchmark"
  std::vector<TaskBest> best_per_task;
  std::vector<LlmUsage> llm_by_model;  // every campaign, by model name
};

// One connection to the database file. Not thread-safe: use one Database per
// thread (SQLite's WAL mode lets several connections and processes read while
// one writes). Programming errors (a duplicate program hash in a campaign, an
// unknown id passed to an update) throw std::logic_error; SQLite failures
// throw FatalError(kExitRuntime) naming the file and what was being done.
class Database {
 public:
  // Opens (creating if missing when `create`) and migrates to the current
  // schema. Throws FatalError(kExitRuntime) naming the path when the file is
  // not a ratchet database, is newer than this build, or cannot be opened;
  // FatalError(kExitUsage) when !create and the file does not exist.
  static Database open(const std::filesystem::path& path, bool create);

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  static int schema_version();  // the version this build writes

  int64_t create_campaign(CampaignRecord& campaign);  // fills id, started_at
  std::optional<CampaignRecord> campaign(int64_t id) const;
  std::vector<CampaignRecord> campaigns() const;
  // `status`: finished | interrupted | failed; sets finished_at.
  void finish_campaign(int64_t id, const std::string& status);
  void add_duplicate_skipped(int64_t campaign_id);

  // Inserts and fills id/created_at. File contents are stored once per
  // content hash (table blobs), so 100,000 candidates of one task stay small.
  // Fills program_hash from the program when empty. A program hash already in
  // the campaign is a programming error (check find_by_hash first):
  // std::logic_error, and nothing is written.
  int64_t insert_candidate(CandidateRecord& candidate);
  // A campaign step's record, in one transaction (one commit per step): the
  // candidate, as insert_candidate does, unless the campaign has its program
  // hash already; then the duplicate is counted and `step` kept under the meta
  // key `step_key` instead (a resumed campaign continues after it). `call`,
  // when given, is the LLM call behind the step: recorded too, linked to the
  // candidate; its id and created_at are filled. Returns false for a duplicate.
  bool record_step(CandidateRecord& candidate, const std::string& step_key, int64_t step,
                   LlmCallRecord* call = nullptr);
  // Writes status, stage statuses, metrics and artifacts of an existing row
  // and sets its updated_at (not the record's: it is const). An unknown id is
  // a programming error (std::logic_error).
  void update_candidate(const CandidateRecord& candidate);
  // An evaluation's record in one transaction (one commit per evaluation):
  // the outcome, as update_candidate writes it, and the benchmark samples. A
  // crash cannot leave the outcome without its samples; an unknown id or a
  // pair number already stored for the candidate writes neither
  // (std::logic_error).
  void record_evaluation(const CandidateRecord& candidate,
                         const std::vector<SampleRecord>& samples);
  std::optional<CandidateRecord> candidate(int64_t id) const;
  std::vector<CandidateRecord> candidates(int64_t campaign_id) const;
  std::optional<int64_t> find_by_hash(int64_t campaign_id, const std::string& hash) const;

  // Evaluated candidates (not baselines) ordered by speedup, best first (ties:
  // oldest first); `task` filters on the campaign's task. Empty when limit <= 0.
  std::vector<CandidateRecord> top(const std::optional<std::string>& task, int limit) const;

  std::vector<SampleRecord> samples(int64_t candidate_id) const;  // by pair

  DatabaseStats stats() const;

  // ---- LLM calls (schema 2) ----
  // A call with no candidate to go with it (record_step writes the others).
  int64_t insert_llm_call(LlmCallRecord& call);  // fills id, created_at
  std::vector<LlmCallRecord> llm_calls(int64_t campaign_id) const;  // by id
  LlmUsage llm_usage(int64_t campaign_id) const;                    // model ""
  // The latest refused or failed candidates of a campaign, newest first (a
  // resumed campaign's evidence for its next prompts); an index walk, flat in
  // campaign size.
  // Only the evidence is read: ids, edit, proposer, statuses and artifacts;
  // program, metrics and program_hash stay empty.
  std::vector<CandidateRecord> recent_failures(int64_t campaign_id, int limit) const;
  // The ids of those failures, newest first: one walk of the failure index,
  // which holds failed candidates only.
  std::vector<int64_t> recent_failure_ids(int64_t campaign_id, int limit) const;
  // One candidate's evidence as recent_failures reads it; nullopt for an
  // unknown id.
  std::optional<CandidateRecord> failure_record(int64_t id) const;

  // ---- Transform rules (schema 3) ----
  // The form rules are stored and matched in: compact JSON, keys sorted; ""
  // when `rule_json` is not JSON. A transform edit's text in this form is
  // counted for its rule whatever the spacing or key order it arrived in.
  static std::string canonical_rule_json(const std::string& rule_json);
  // Idempotent by rule content: a rule already stored keeps its row (id,
  // name, origin, candidate, created_at are filled from it). Fills id,
  // created_at and the canonical rule_json. Not JSON, or an origin other than
  // builtin | llm | user: std::logic_error.
  int64_t add_transform(TransformRecord& rule);
  // Every rule, by id, with wins and losses across all campaigns and tasks.
  std::vector<TransformRecord> transforms() const;
  // Stores the rules that candidates' transform edits carry but the table
  // lacks (an LLM that answered with a rule; origin llm when the candidate's
  // proposer is "llm", user otherwise; the earliest such candidate introduced
  // it). Built-in references and texts that are not rule objects are skipped.
  // Returns how many rules were added.
  int64_t adopt_transform_edits();

  const std::filesystem::path& path() const { return path_; }

  // ---- small campaign state (the meta table; no schema change) ----
  // A campaign's search position, e.g. "campaign.7.step", kept as text.
  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;
  // The campaign's candidates in id order, one at a time (candidates() holds
  // them all at once). `visit` must not write to this connection.
  void for_each_candidate(int64_t campaign_id,
                          const std::function<void(CandidateRecord&&)>& visit) const;

 private:
  Database(sqlite3* db, std::filesystem::path path);
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  // Prepared-statement cache and query helpers (defined in database.cc).
  // Const queries reuse cached statements through this pointer.
  struct Impl;
  std::unique_ptr<Impl> impl_;
  // Single rows, inside a caller's transaction.
  struct Inserted;
  Inserted insert_candidate_row(const CandidateRecord& candidate);
  Inserted insert_llm_call_row(const LlmCallRecord& call);
};

}  // namespace ratchet
