// A real campaign (engine/campaign.h) with the LLM proposer against the
// loopback endpoint (tests/llm_test_server.h) and an instant evaluator: the
// proposal stage is parallel, so several LLM requests are in flight at once.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <sstream>

#include "common/files.h"
#include "engine/campaign.h"
#include "engine/database.h"
#include "engine/llm_proposer.h"
#include "tests/llm_test_server.h"

using namespace ratchet;
using ratchet::testing::LoopbackLlmServer;

namespace {

class InstantEvaluator final : public Evaluator {
 public:
  Evaluation evaluate(const Program&, uint64_t) override {
    Evaluation evaluation;
    evaluation.build = evaluation.verify = evaluation.benchmark = {StageStatus::ok, "ok", "", 0};
    evaluation.metrics = {{"speedup", 1.1}, {"ci_low", 1.05}, {"ci_high", 1.15}, {"pairs", 5}};
    return evaluation;
  }
  Evaluation evaluate_baseline(uint64_t) override {
    Evaluation evaluation;
    evaluation.build = evaluation.verify = evaluation.benchmark = {StageStatus::ok, "", "", 0};
    evaluation.metrics = {{"speedup", 1.0}, {"ci_low", 0.99}, {"ci_high", 1.01}, {"pairs", 5}};
    return evaluation;
  }
};

Task tiny() { return load_task(std::string(RATCHET_SOURCE_DIR) + "/tests/data/tasks/tiny"); }

// A campaign of `task` (seed 5) whose one proposer is the LLM at `server`,
// with up to `in_flight` steps and as many calls at once.
CampaignConfig llm_campaign(const std::string& name, const Task& task,
                            const LoopbackLlmServer& server, int max_evals, int in_flight) {
  CampaignConfig config;
  config.name = name;
  config.task_dir = task.dir;
  config.seed = 5;
  config.max_evals = max_evals;
  config.search.in_flight = in_flight;
  config.proposers = {ProposerConfig{"llm"}};
  LlmModelConfig model;
  model.base_url = server.base_url();
  model.model = "loopback";
  model.timeout_ms = 20'000;
  model.concurrency = in_flight;
  config.llm.models = {model};
  return config;
}

// Each answer is held until `wanted` requests are being served at once (or a
// timeout passes, so that a serial campaign fails the test instead of
// hanging); the most seen at once is kept. Every answer is a different
// program (one more variable, of another name).
struct Rendezvous {
  explicit Rendezvous(int wanted) : wanted(wanted) {}
  int wanted;
  std::mutex mutex;
  std::condition_variable changed;
  int active = 0;
  int most = 0;
  int answered = 0;
  bool reached = false;  // `wanted` were in flight together once

  LoopbackLlmServer::Step step() {
    return [this](const httplib::Request& request, httplib::Response& response) {
      int n = 0;
      {
        std::unique_lock lock(mutex);
        ++active;
        most = std::max(most, active);
        if (active >= wanted) reached = true;
        changed.notify_all();
        // Only until the first rendezvous: the budget's last steps come alone.
        changed.wait_for(lock, std::chrono::seconds(10), [&] { return reached; });
        --active;
        n = ++answered;
      }
      // A line the edit keeps, so that it applies to any parent.
      std::string line = "  unsigned long long total = 0;\n";
      LoopbackLlmServer::ok("```c\n<<<<<<< SEARCH\n" + line + "=======\n" + line +
                            "  unsigned long long spare" + std::to_string(n) +
                            " = 0;\n>>>>>>> REPLACE\n```\n")(request, response);
    };
  }
};

}  // namespace

TEST_CASE("campaign: LLM proposals are in flight together up to search.in_flight") {
  LoopbackLlmServer server;
  constexpr int kInFlight = 3;
  Rendezvous rendezvous(kInFlight);
  server.script({}, rendezvous.step());

  TempDir dir("campaign-llm-test-");
  Task task = tiny();
  CampaignConfig config = llm_campaign("parallel-llm", task, server, 7, kInFlight);

  Database db = Database::open(dir.path() / "c.db", true);
  InstantEvaluator evaluator;
  std::atomic<bool> stop{false};
  std::ostringstream log;
  Progress progress(log, false, config.max_evals);
  Campaign campaign(config, task, db, evaluator, make_proposers(config.proposers, task, config.llm),
                    progress, stop);
  campaign.start(false, nlohmann::json::object());
  CampaignOutcome outcome = campaign.run();
  INFO(log.str());

  // All three steps' requests were at the server at the same time.
  CHECK(rendezvous.reached);
  CHECK(rendezvous.most == kInFlight);
  // The budget is exact: every call became a candidate, none over the budget.
  CHECK(outcome.counts.done == config.max_evals);
  std::vector<CandidateRecord> candidates = db.candidates(outcome.campaign_id);
  REQUIRE(candidates.size() == static_cast<size_t>(config.max_evals + 1));
  std::vector<LlmCallRecord> calls = db.llm_calls(outcome.campaign_id);
  CHECK(calls.size() == static_cast<size_t>(config.max_evals));
  for (const auto& call : calls) {
    CHECK(call.status == "ok");
    CHECK(call.candidate_id.has_value());
  }
  // Ids follow the steps: the record stage is in order.
  int64_t step = 0;
  for (size_t i = 1; i < candidates.size(); ++i) {
    CHECK(candidates[i].proposer == "llm");
    CHECK(candidates[i].status == CandidateStatus::evaluated);
    int64_t next = candidates[i].artifacts["search"]["step"].get<int64_t>();
    CHECK(next > step);
    step = next;
  }
}

namespace {

// The LLM proposer, but the first of two proposals to arrive throws once the
// other's LLM proposal is back. When the thrower is the earlier step, the
// other step's proposal waits for stage 3, which runs in step order and so
// never comes to it; which of the two arrives first is the scheduler's choice.
class OneOfTwoFails final : public Proposer {
 public:
  OneOfTwoFails(const LlmConfig& llm, const Task& task) : llm_(llm, task, 2) {}
  std::string kind() const override { return "llm"; }
  std::optional<Proposal> propose(const ProposalContext& context) override {
    std::unique_lock lock(mutex_);
    if (++calls_ == 1) {
      other_back_.wait_for(lock, std::chrono::seconds(10), [&] { return other_done_; });
      throw std::runtime_error("a step's proposer failed");
    }
    lock.unlock();
    std::optional<Proposal> proposal = llm_.propose(context);
    lock.lock();
    other_done_ = true;
    other_back_.notify_all();
    return proposal;
  }

 private:
  LlmProposer llm_;
  std::mutex mutex_;
  std::condition_variable other_back_;
  int calls_ = 0;
  bool other_done_ = false;
};

}  // namespace

TEST_CASE("campaign: an LLM call whose step is cut short by another step's error is still recorded") {
  LoopbackLlmServer server;
  server.script({}, [](const httplib::Request& request, httplib::Response& response) {
    std::string line = "  unsigned long long total = 0;\n";
    LoopbackLlmServer::ok("<<<<<<< SEARCH\n" + line + "=======\n" + line +
                          "  unsigned long long spare = 0;\n>>>>>>> REPLACE\n")(request, response);
  });
  Task task = tiny();
  CampaignConfig config = llm_campaign("cut-short", task, server, 4, 2);

  // Until the earlier step was the one to fail (almost always the first try).
  bool cut_short = false;
  for (int attempt = 0; attempt < 10 && !cut_short; ++attempt) {
    TempDir dir("campaign-llm-test-");
    Database db = Database::open(dir.path() / "c.db", true);
    InstantEvaluator evaluator;
    std::atomic<bool> stop{false};
    std::ostringstream log;
    Progress progress(log, false, config.max_evals);
    std::vector<WeightedProposer> proposers;
    proposers.push_back({std::make_unique<OneOfTwoFails>(config.llm, task), 1.0});
    Campaign campaign(config, task, db, evaluator, std::move(proposers), progress, stop);
    campaign.start(false, nlohmann::json::object());
    CHECK_THROWS_WITH(campaign.run(), Catch::Contains("a step's proposer failed"));
    INFO(log.str());

    // The one call was answered and paid for: it is in the database either way.
    int64_t id = db.campaigns().at(0).id;
    std::vector<LlmCallRecord> calls = db.llm_calls(id);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].status == "ok");
    size_t candidates = db.candidates(id).size();
    if (calls[0].candidate_id) {  // the later step failed: the earlier became a candidate
      CHECK(candidates == 2);
    } else {  // the earlier step failed: the later never got to stage 3
      CHECK(candidates == 1);  // the baseline only
      cut_short = true;
    }
  }
  CHECK(cut_short);
}

TEST_CASE("campaign: the latest failures reach the next prompts, also after a resume") {
  LoopbackLlmServer server;
  std::string line = "  unsigned long long total = 0;\n";
  auto adds = [&](const std::string& name) {
    return LoopbackLlmServer::ok("<<<<<<< SEARCH\n" + line + "=======\n" + line +
                                 "  unsigned long long " + name + " = 0;\n>>>>>>> REPLACE\n");
  };
  // The first answer's SEARCH text is not in the program: a refusal, whose
  // reason is the evidence the next prompts must carry.
  server.script({LoopbackLlmServer::ok("<<<<<<< SEARCH\n  int no_such_line;\n=======\n"
                                       "  int other;\n>>>>>>> REPLACE\n"),
                 adds("first"), adds("second"), adds("third")});
  TempDir dir("campaign-llm-test-");
  Task task = tiny();
  // One step at a time: each prompt is made after the previous step's outcome.
  CampaignConfig config = llm_campaign("evidence", task, server, 2, 1);
  Database db = Database::open(dir.path() / "c.db", true);
  InstantEvaluator evaluator;
  std::atomic<bool> stop{false};
  auto run = [&](bool resume) {
    std::ostringstream log;
    Progress progress(log, false, config.max_evals);
    Campaign campaign(config, task, db, evaluator,
                      make_proposers(config.proposers, task, config.llm), progress, stop);
    campaign.start(resume, nlohmann::json::object());
    CampaignOutcome outcome = campaign.run();
    INFO(log.str());
    return outcome;
  };
  CampaignOutcome first = run(false);
  REQUIRE(first.counts.refused == 1);
  std::vector<CandidateRecord> candidates = db.candidates(first.campaign_id);
  REQUIRE(candidates.size() == 3);
  const CandidateRecord& refused = candidates[1];
  REQUIRE(refused.status == CandidateStatus::refused);
  std::string reason = refused.artifacts["refusal"].get<std::string>();
  std::string evidence = "#" + std::to_string(refused.id) + " refused";

  std::vector<LoopbackLlmServer::Seen> seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK_THAT(seen[0].body, Catch::Contains("Recent attempts that failed (do not repeat them)\\n(none)"));
  CHECK_THAT(seen[1].body, Catch::Contains(evidence));

  // A resumed campaign starts from the database's failures.
  config.max_evals = 3;
  run(true);
  seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK_THAT(seen[2].body, Catch::Contains(evidence));
}
