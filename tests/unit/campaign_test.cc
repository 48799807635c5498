// The campaign loop against a real database file, with the evaluator
// replaced at its interface by an instant one whose speedups are a known
// function of the flags.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "common/files.h"
#include "engine/campaign.h"
#include "engine/database.h"

using namespace ratchet;

namespace {

class InstantEvaluator final : public Evaluator {
 public:
  Evaluation evaluate(const Program& program, uint64_t) override {
    ++calls[program_hash(program)];
    Evaluation evaluation;
    evaluation.build = {StageStatus::ok, "built", "", 0};
    if (has(program, "-O0")) {
      evaluation.verify = {StageStatus::failed, "wrong output on input 1", "", 0};
      evaluation.benchmark = {StageStatus::skipped, "", "", 0};
      return evaluation;
    }
    evaluation.verify = {StageStatus::ok, "ok", "", 0};
    double speedup = 1.0 + (has(program, "-O3") ? 0.3 : 0) + (has(program, "-march=native") ? 0.2 : 0);
    evaluation.benchmark = {StageStatus::ok, "ok", "", 0};
    evaluation.metrics = {{"speedup", speedup}, {"ci_low", speedup - 0.01},
                          {"ci_high", speedup + 0.01}, {"pairs", 5}};
    evaluation.samples.push_back({0, false, 10.0, 10.0 / speedup, 10.0, 10.0 / speedup});
    return evaluation;
  }
  Evaluation evaluate_baseline(uint64_t) override {
    Evaluation evaluation;
    evaluation.build = evaluation.verify = evaluation.benchmark = {StageStatus::ok, "", "", 0};
    evaluation.metrics = {{"speedup", 1.0}, {"ci_low", 0.99}, {"ci_high", 1.01}, {"pairs", 5}};
    return evaluation;
  }
  // Re-measurement of the winner is not a second evaluation of a program.
  Evaluation confirm(const Program& program, uint64_t seed) override {
    ++confirmations;
    Evaluation evaluation = evaluate(program, seed);
    --calls[program_hash(program)];
    return evaluation;
  }
  std::map<std::string, int> calls;
  int confirmations = 0;

 private:
  static bool has(const Program& program, const std::string& flag) {
    return std::find(program.flags.begin(), program.flags.end(), flag) != program.flags.end();
  }
};

struct Fixture {
  TempDir dir{"campaign-test-"};
  Task task = load_task(std::string(RATCHET_SOURCE_DIR) + "/tests/data/tasks/tiny");
  CampaignConfig config;
  std::atomic<bool> stop{false};
  std::ostringstream log;

  Fixture() {
    config.name = "unit";
    config.task_dir = task.dir;
    config.seed = 3;
    config.max_evals = 25;
    config.proposers = {ProposerConfig{}};
  }

  CampaignOutcome run(Database& db, InstantEvaluator& evaluator, bool resume) {
    Progress progress(log, false, config.max_evals);
    Campaign campaign(config, task, db, evaluator, make_proposers(config.proposers, task),
                      progress, stop);
    campaign.start(resume, nlohmann::json::object());
    return campaign.run();
  }
};

}  // namespace

TEST_CASE("campaign: each program is evaluated once and every candidate is recorded") {
  Fixture f;
  Database db = Database::open(f.dir.path() / "c.db", true);
  InstantEvaluator evaluator;
  CampaignOutcome outcome = f.run(db, evaluator, false);

  CHECK(outcome.counts.done == 25);
  for (const auto& [hash, calls] : evaluator.calls) CHECK(calls == 1);
  std::vector<CandidateRecord> candidates = db.candidates(outcome.campaign_id);
  REQUIRE(candidates.size() == 26);  // baseline + 25
  CHECK(candidates[0].proposer == "baseline");
  for (size_t i = 1; i < candidates.size(); ++i) {
    CHECK(candidates[i].parent_id.has_value());
    CHECK(candidates[i].status != CandidateStatus::pending);
    CHECK(candidates[i].edit["kind"] == "flags");
  }
  DatabaseStats stats = db.stats();
  CHECK(stats.duplicates_skipped == outcome.counts.duplicates);
  CHECK(db.campaign(outcome.campaign_id)->status == "finished");
}

TEST_CASE("campaign: the best candidate needs an interval above 1 and is the fastest such") {
  Fixture f;
  Database db = Database::open(f.dir.path() / "c.db", true);
  InstantEvaluator evaluator;
  CampaignOutcome outcome = f.run(db, evaluator, false);
  REQUIRE(outcome.best.has_value());
  double best = outcome.best->metrics["speedup"];
  for (const auto& candidate : db.candidates(outcome.campaign_id)) {
    if (candidate.status == CandidateStatus::evaluated) {
      CHECK(candidate.metrics["speedup"].get<double>() <= best);
    }
  }
  CHECK(best > 1.0);
  CHECK(evaluator.confirmations == 1);
  REQUIRE(outcome.confirmation.is_object());
  CHECK(outcome.confirmation["status"] == "ok");
  CHECK(db.candidate(outcome.best->id)->metrics["confirmed"]["speedup"] == best);
}

TEST_CASE("campaign: resume continues the same campaign up to the whole budget") {
  Fixture f;
  Database db = Database::open(f.dir.path() / "c.db", true);
  InstantEvaluator evaluator;
  f.config.max_evals = 10;
  CampaignOutcome first = f.run(db, evaluator, false);
  REQUIRE(first.counts.done == 10);

  f.config.max_evals = 20;
  CampaignOutcome second = f.run(db, evaluator, true);
  CHECK(second.campaign_id == first.campaign_id);
  CHECK(second.counts.done == 20);
  CHECK(db.candidates(first.campaign_id).size() == 21);
  CHECK(db.campaigns().size() == 1);
  for (const auto& [hash, calls] : evaluator.calls) CHECK(calls == 1);
}

TEST_CASE("campaign: a stop request ends the loop and marks the campaign interrupted") {
  Fixture f;
  Database db = Database::open(f.dir.path() / "c.db", true);
  InstantEvaluator evaluator;
  f.stop = true;
  CampaignOutcome outcome = f.run(db, evaluator, false);
  CHECK(outcome.interrupted);
  CHECK(outcome.counts.done == 0);
  CHECK(db.campaign(outcome.campaign_id)->status == "interrupted");
}

TEST_CASE("campaign: candidates spread over the configured islands") {
  Fixture f;
  f.config.search.islands = 3;
  f.config.search.migration_interval = 5;
  Database db = Database::open(f.dir.path() / "c.db", true);
  InstantEvaluator evaluator;
  CampaignOutcome outcome = f.run(db, evaluator, false);
  std::map<int, int> per_island;
  for (const auto& candidate : db.candidates(outcome.campaign_id)) {
    if (candidate.proposer != "baseline") ++per_island[candidate.island];
  }
  CHECK(per_island.size() == 3);
  for (const auto& [island, count] : per_island) CHECK(count >= 5);
}
