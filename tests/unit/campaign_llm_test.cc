// A real campaign (engine/campaign.h) with the LLM proposer against the
// loopback endpoint (tests/llm_test_server.h) and an instant evaluator: the
// proposal stage is parallel, so several LLM requests are in flight at once.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <sstream>

#include "common/files.h"
#include "engine/campaign.h"
#include "engine/database.h"
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
  Task task = load_task(std::string(RATCHET_SOURCE_DIR) + "/tests/data/tasks/tiny");
  CampaignConfig config;
  config.name = "parallel-llm";
  config.task_dir = task.dir;
  config.seed = 5;
  config.max_evals = 7;
  config.search.in_flight = kInFlight;
  config.proposers = {ProposerConfig{"llm"}};
  LlmModelConfig model;
  model.base_url = server.base_url();
  model.model = "loopback";
  model.timeout_ms = 20'000;
  model.concurrency = kInFlight;
  config.llm.models = {model};

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
