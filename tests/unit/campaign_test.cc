// The campaign loop against a real database file, with the evaluator
// replaced at its interface by an instant one whose speedups are a known
// function of the flags.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <sstream>

#include "common/files.h"
#include "engine/campaign.h"
#include "engine/database.h"
#include "sandbox/sandbox.h"

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
  Evaluation confirm(const Program& program, uint64_t seed, int) override {
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

// The same speedups, but built and evaluated in two calls as the pipeline
// makes them; it counts how many of each run at once. Builds take a few
// milliseconds so that several can overlap.
class StagedEvaluator final : public Evaluator {
 public:
  Evaluation evaluate(const Program& program, uint64_t seed) override {
    return evaluate_built(program, build(program), seed, -1);
  }
  BuiltProgram build(const Program& program) override {
    int now = ++building;
    int seen = max_building.load();
    while (now > seen && !max_building.compare_exchange_weak(seen, now)) {}
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --building;
    BuiltProgram built;
    built.build = {StageStatus::ok, "built", "", 0};
    built.binary_hash = program_hash(program);
    return built;
  }
  Evaluation evaluate_built(const Program& program, BuiltProgram built, uint64_t seed,
                            int cpu) override {
    {
      std::lock_guard lock(mutex);
      if (++evaluating > 1) overlapped_evaluations = true;
      if (cpu >= 0 && !cpus_busy.insert(cpu).second) core_shared = true;
      cpus_seen.insert(cpu);
    }
    if (built.build.status != StageStatus::ok) wrong_order = true;
    // Long enough that a second slot's evaluation can start meanwhile.
    if (cpu >= 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::lock_guard lock(mutex);
    Evaluation evaluation = inner.evaluate(program, seed);
    seeds.push_back(seed);
    cpus_busy.erase(cpu);
    --evaluating;
    return evaluation;
  }
  Evaluation evaluate_baseline(uint64_t seed) override { return inner.evaluate_baseline(seed); }
  Evaluation confirm(const Program& program, uint64_t seed, int cpu) override {
    {
      std::lock_guard lock(mutex);
      if (++confirming > 1) overlapped_confirmations = true;
      confirm_cpus.insert(cpu);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard lock(mutex);
    --confirming;
    return inner.confirm(program, seed, cpu);
  }
  InstantEvaluator inner;
  std::atomic<int> building{0}, max_building{0}, evaluating{0};
  std::atomic<bool> overlapped_evaluations{false}, wrong_order{false};
  std::vector<uint64_t> seeds;
  std::mutex mutex;
  std::set<int> cpus_busy, cpus_seen, confirm_cpus;
  bool core_shared = false;  // two evaluations on one core at once
  int confirming = 0;
  bool overlapped_confirmations = false;
};

// What a campaign did, in id order, to compare two runs.
std::vector<std::string> history(Database& db, int64_t campaign_id) {
  std::vector<std::string> out;
  for (const auto& c : db.candidates(campaign_id)) {
    out.push_back(c.program_hash + " parent " + std::to_string(c.parent_id.value_or(0)) +
                  " island " + std::to_string(c.island) + " " + to_string(c.status));
  }
  return out;
}

int db_pending(Database& db, int64_t campaign_id) {
  int pending = 0;
  for (const auto& c : db.candidates(campaign_id)) pending += c.status == CandidateStatus::pending;
  return pending;
}

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

  CampaignOutcome run(Database& db, Evaluator& evaluator, bool resume) {
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
  // The best and the next fastest elites are re-measured (confirm_top 3).
  CHECK(evaluator.confirmations == static_cast<int>(outcome.confirmed.size()));
  CHECK(outcome.confirmed.size() >= 2);
  CHECK(outcome.confirmed.size() <= 3);
  for (size_t i = 1; i < outcome.confirmed.size(); ++i) {
    CHECK(outcome.confirmed[i - 1].confirmation["speedup"].get<double>() >=
          outcome.confirmed[i].confirmation["speedup"].get<double>());
  }
  auto ranking = nlohmann::json::parse(
      db.meta("campaign." + std::to_string(outcome.campaign_id) + ".confirmed").value());
  REQUIRE(ranking.size() == outcome.confirmed.size());
  CHECK(ranking[0]["id"] == outcome.confirmed[0].candidate.id);
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

TEST_CASE("campaign: with one candidate in flight the same seed gives the same campaign") {
  Fixture f;
  f.config.search.in_flight = 1;
  f.config.search.islands = 2;
  Database a = Database::open(f.dir.path() / "a.db", true);
  Database b = Database::open(f.dir.path() / "b.db", true);
  InstantEvaluator first, second;
  CampaignOutcome one = f.run(a, first, false);
  CampaignOutcome two = f.run(b, second, false);
  CHECK(history(a, one.campaign_id) == history(b, two.campaign_id));
  CHECK(one.counts.duplicates == two.counts.duplicates);
  f.config.seed = 4;
  Database c = Database::open(f.dir.path() / "c.db", true);
  InstantEvaluator third;
  CampaignOutcome three = f.run(c, third, false);
  CHECK(history(a, one.campaign_id) != history(c, three.campaign_id));
}

TEST_CASE("campaign: an interrupted campaign resumes exactly where it stopped") {
  // Uninterrupted, then stopped mid-evaluation (the candidate stays pending)
  // and resumed: the same candidates in the same order, each evaluated once.
  Fixture f;
  f.config.search.in_flight = 1;
  f.config.search.islands = 2;
  f.config.search.migration_interval = 4;
  f.config.max_evals = 20;
  Database whole = Database::open(f.dir.path() / "whole.db", true);
  InstantEvaluator straight;
  CampaignOutcome expected = f.run(whole, straight, false);

  struct StoppingEvaluator final : public Evaluator {
    InstantEvaluator inner;
    std::atomic<bool>* stop = nullptr;
    int stop_at = 0;  // evaluations before the stop request
    int evaluations = 0;
    Evaluation evaluate(const Program& program, uint64_t seed) override {
      if (++evaluations == stop_at) *stop = true;  // as Ctrl-C during the benchmark
      return inner.evaluate(program, seed);
    }
    Evaluation evaluate_baseline(uint64_t seed) override { return inner.evaluate_baseline(seed); }
    Evaluation confirm(const Program& program, uint64_t seed, int) override {
      return inner.confirm(program, seed, -1);
    }
  } stopping;
  stopping.stop = &f.stop;
  stopping.stop_at = 9;
  Database parts = Database::open(f.dir.path() / "parts.db", true);
  CampaignOutcome first = f.run(parts, stopping, false);
  REQUIRE(first.interrupted);
  REQUIRE(db_pending(parts, first.campaign_id) == 1);
  f.stop = false;
  stopping.stop_at = 0;
  CampaignOutcome second = f.run(parts, stopping, true);
  CHECK_FALSE(second.interrupted);
  CHECK(second.counts.done == 20);
  CHECK(history(parts, second.campaign_id) == history(whole, expected.campaign_id));
  CHECK(second.counts.duplicates == expected.counts.duplicates);
  // The pending candidate was evaluated twice (once cut short); no other.
  int repeated = 0;
  for (const auto& [hash, calls] : stopping.inner.calls) repeated += calls - 1;
  CHECK(repeated == 1);
}

TEST_CASE("campaign: the pipeline overlaps builds and keeps evaluations one at a time") {
  Fixture f;
  f.config.search.in_flight = 4;
  f.config.max_evals = 40;
  Database db = Database::open(f.dir.path() / "p.db", true);
  StagedEvaluator evaluator;
  CampaignOutcome outcome = f.run(db, evaluator, false);
  CHECK(outcome.counts.done == 40);
  CHECK(evaluator.max_building >= 2);
  CHECK_FALSE(evaluator.overlapped_evaluations);
  CHECK_FALSE(evaluator.wrong_order);
  for (const auto& [hash, calls] : evaluator.inner.calls) CHECK(calls == 1);
  std::vector<CandidateRecord> candidates = db.candidates(outcome.campaign_id);
  CHECK(candidates.size() == 41);
  for (const auto& candidate : candidates) CHECK(candidate.status != CandidateStatus::pending);
  // Recorded in the order they were proposed: stage 4 runs in order.
  std::set<uint64_t> distinct(evaluator.seeds.begin(), evaluator.seeds.end());
  CHECK(distinct.size() == evaluator.seeds.size());
  CHECK(evaluator.cpus_seen == std::set<int>{-1});  // one slot: the whole machine
  CHECK(evaluator.confirm_cpus == std::set<int>{-1});
  CHECK_FALSE(evaluator.overlapped_confirmations);
}

TEST_CASE("campaign: benchmark slots evaluate on their own cores at once, never two on one") {
  if (sandbox::allowed_cpus().size() < 2) return;  // one core: one slot is all there is
  Fixture f;
  f.config.search.in_flight = 6;
  f.config.max_evals = 40;
  f.config.benchmark.slots = 2;
  Database db = Database::open(f.dir.path() / "slots.db", true);
  StagedEvaluator evaluator;
  CampaignOutcome outcome = f.run(db, evaluator, false);
  CHECK(outcome.counts.done == 40);
  CHECK(evaluator.overlapped_evaluations);
  CHECK_FALSE(evaluator.core_shared);
  std::vector<int> cpus = sandbox::allowed_cpus();
  CHECK(evaluator.cpus_seen == std::set<int>{cpus[0], cpus[1]});
  // The elites are re-measured on both slots at once, and ranked as before.
  REQUIRE(outcome.confirmed.size() >= 2);
  CHECK(evaluator.overlapped_confirmations);
  CHECK(evaluator.confirm_cpus == std::set<int>{cpus[0], cpus[1]});
  CHECK_FALSE(evaluator.wrong_order);
  for (const auto& [hash, calls] : evaluator.inner.calls) CHECK(calls == 1);
  for (const auto& candidate : db.candidates(outcome.campaign_id)) {
    CHECK(candidate.status != CandidateStatus::pending);
  }
}

TEST_CASE("campaign: a stop request with candidates in flight leaves them pending for resume") {
  Fixture f;
  f.config.search.in_flight = 4;
  f.config.max_evals = 30;
  struct StopAfter final : public Evaluator {
    InstantEvaluator inner;
    std::atomic<bool>* stop = nullptr;
    std::atomic<int> builds{0};
    Evaluation evaluate(const Program& program, uint64_t seed) override {
      return inner.evaluate(program, seed);
    }
    BuiltProgram build(const Program&) override {
      if (++builds == 10) *stop = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return {};  // nothing built: evaluate_built evaluates whole
    }
    Evaluation evaluate_baseline(uint64_t seed) override { return inner.evaluate_baseline(seed); }
  } evaluator;
  evaluator.stop = &f.stop;
  Database db = Database::open(f.dir.path() / "s.db", true);
  CampaignOutcome first = f.run(db, evaluator, false);
  REQUIRE(first.interrupted);
  CHECK(db.campaign(first.campaign_id)->status == "interrupted");
  f.stop = false;
  evaluator.builds = -1'000'000;
  CampaignOutcome second = f.run(db, evaluator, true);
  CHECK(second.counts.done == 30);
  CHECK(db.candidates(first.campaign_id).size() == 31);
  CHECK(db_pending(db, first.campaign_id) == 0);
}

TEST_CASE("campaign: a Pareto objective reports the non-dominated candidates") {
  Fixture f;
  f.config.search.objective = "pareto";
  f.config.search.pareto = {{"speedup", true}, {"flag_count", false}};
  f.config.max_evals = 30;
  Database db = Database::open(f.dir.path() / "pareto.db", true);
  InstantEvaluator evaluator;
  CampaignOutcome outcome = f.run(db, evaluator, false);
  REQUIRE_FALSE(outcome.pareto_front.empty());
  std::vector<CandidateRecord> evaluated;
  for (const auto& c : db.candidates(outcome.campaign_id)) {
    if (c.status == CandidateStatus::evaluated) evaluated.push_back(c);
  }
  auto speed = [](const CandidateRecord& c) { return c.speedup().value_or(0); };
  auto flags = [](const CandidateRecord& c) { return c.program.flags.size(); };
  std::set<int64_t> expected;  // brute force over the database
  for (const auto& a : evaluated) {
    bool dominated = false;
    for (const auto& b : evaluated) {
      dominated |= speed(b) >= speed(a) && flags(b) <= flags(a) &&
                   (speed(b) > speed(a) || flags(b) < flags(a));
    }
    if (!dominated) expected.insert(a.id);
  }
  std::set<int64_t> front;
  for (const Member& member : outcome.pareto_front) front.insert(member.id);
  CHECK(front == expected);
  auto stored = nlohmann::json::parse(
      db.meta("campaign." + std::to_string(outcome.campaign_id) + ".pareto").value());
  CHECK(stored.size() == front.size());
}
