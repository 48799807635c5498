// Not a test: the controller's cost per LLM candidate.
//
//   ratchet_llm_bench [max_candidates=100000] [per_size=500]
//
// An OpenAI-compatible endpoint on 127.0.0.1 (tests/llm_test_server.h, in
// this process) answers instantly with a fresh SEARCH/REPLACE edit; the task
// is tests/data/tasks/tiny; evaluation is instant (a made-up speedup). For each
// database size (50, 1,000, 10,000, 100,000 candidates, filled in between) it
// runs `per_size` candidates through the whole controller path: prompt built
// from the island's inspirations and the latest failures (in memory, as in a
// campaign), HTTP round trip on the curl multi client, answer
// parsed, edit applied, program hashed, then dedupe, candidate and LLM call in
// one transaction, evaluation recorded. It prints the controller thread's CPU
// time per candidate (CLOCK_THREAD_CPUTIME_ID: the server's threads are not
// counted) and candidates per second of wall time. The measured candidates
// run in batches of 50: besides the mean, the median batch, which a burst of
// load from the VM's neighbours moves less (the mean is the honest total, the
// median the typical cost).
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <random>
#include <vector>
#include <algorithm>

#include "common/files.h"
#include "engine/database.h"
#include "engine/heap.h"
#include "engine/llm_proposer.h"
#include "evaluators/task.h"
#include "rewriters/search_replace.h"
#include "tests/llm_test_server.h"

using namespace ratchet;

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The controller thread's system time (rusage of this thread only).
double thread_system_seconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_stime.tv_sec) + static_cast<double>(usage.ru_stime.tv_usec) * 1e-6;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

CandidateRecord evaluated(CandidateRecord c, std::mt19937_64& rng) {
  double speedup = std::uniform_real_distribution<double>(0.8, 1.3)(rng);
  c.status = CandidateStatus::evaluated;
  c.build = c.verify = c.benchmark = StageStatus::ok;
  c.metrics = {{"speedup", speedup}, {"ci_low", speedup - 0.02}, {"ci_high", speedup + 0.02},
               {"pairs", 5}};
  c.artifacts = {{"build", {{"status", "ok"}, {"summary", "built"}, {"seconds", 0.1}}}};
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_heap();  // as the ratchet binary does
  int64_t max_candidates = argc > 1 ? std::atoll(argv[1]) : 100'000;
  int per_size = argc > 2 ? std::atoi(argv[2]) : 500;

  ratchet::testing::LoopbackLlmServer server;
  auto counter = std::make_shared<std::atomic<int>>(0);
  server.script({}, [counter](const httplib::Request& request, httplib::Response& response) {
    int n = ++*counter;
    ratchet::testing::LoopbackLlmServer::ok(
        "Here:\n```c\n<<<<<<< SEARCH\n  return total;\n=======\n  return total; /* v" +
        std::to_string(n) + " */\n>>>>>>> REPLACE\n```\n")(request, response);
  });

  Task task = load_task(std::filesystem::path(RATCHET_SOURCE_DIR) / "tests/data/tasks/tiny");
  TempDir dir("ratchet-llm-bench-");
  Database db = Database::open(dir.path() / "bench.db", true);
  CampaignRecord campaign;
  campaign.name = "bench";
  campaign.task_name = task.name;
  campaign.task_dir = task.dir.string();
  campaign.config = nlohmann::json::object();
  campaign.environment = nlohmann::json::object();
  db.create_campaign(campaign);

  std::mt19937_64 rng(1);
  CandidateRecord baseline;
  baseline.campaign_id = campaign.id;
  baseline.program = task.baseline();
  baseline.proposer = "baseline";
  db.insert_candidate(baseline);
  baseline = evaluated(baseline, rng);
  db.update_candidate(baseline);

  LlmConfig config;
  LlmModelConfig model;
  model.base_url = server.base_url();
  model.model = "instant";
  config.models.push_back(model);
  LlmProposer proposer(config, task, 2);

  // One candidate through the controller path; `count` and the parent fixed.
  int64_t made = 1;
  CandidateRecord best = baseline;
  std::deque<CandidateRecord> failures;  // newest first, as the campaign keeps them
  auto one = [&](bool fill) {
    const CandidateRecord& parent = baseline;
    // As in a campaign: the island's inspirations and the latest failures come
    // from memory, not a query.
    std::vector<const CandidateRecord*> inspirations = {&best};
    std::vector<const CandidateRecord*> latest;
    for (const CandidateRecord& failure : failures) latest.push_back(&failure);
    std::optional<Proposal> proposal =
        fill ? std::nullopt
             : proposer.propose({task, parent, rng, &db, campaign.id, inspirations, latest});
    CandidateRecord candidate;
    candidate.campaign_id = campaign.id;
    candidate.parent_id = parent.id;
    candidate.proposer = "llm";
    Edit edit;
    if (proposal) {
      edit = proposal->edit;
    } else {  // filling: the same kind of edit, no HTTP
      edit = *edit_from_answer("<<<<<<< SEARCH\n  return total;\n=======\n  return total; /* f" +
                                   std::to_string(made) + " */\n>>>>>>> REPLACE\n",
                               "tiny.c", 0);
    }
    candidate.edit = to_json(edit);
    auto child = apply_text_edit(parent.program, edit);
    if (!child) {
      std::fprintf(stderr, "edit refused: %s\n", child.error().c_str());
      std::exit(1);
    }
    candidate.program = std::move(*child);
    candidate.program_hash = program_hash(candidate.program);
    // As the campaign does: dedupe, the candidate and its LLM call in one
    // transaction.
    LlmCallRecord* call = proposal && proposal->llm_call ? &*proposal->llm_call : nullptr;
    if (!db.record_step(candidate, "bench.step", made, call)) return;
    candidate = evaluated(candidate, rng);
    if (made % 7 == 0) {  // some failures, for the prompt's evidence
      candidate.status = CandidateStatus::build_failed;
      candidate.build = StageStatus::failed;
      candidate.artifacts["build"] = {{"status", "failed"},
                                      {"summary", "compile error"},
                                      {"log", "tiny.c:9:3: error: expected ';' before '}'"}};
    }
    db.update_candidate(candidate);
    if (candidate.status != CandidateStatus::evaluated) {
      failures.push_front(candidate);
      failures.front().program = {};
      if (failures.size() > static_cast<size_t>(kRecentFailures)) failures.pop_back();
    }
    if (candidate.status == CandidateStatus::evaluated &&
        candidate.metrics["speedup"].get<double>() > best.metrics["speedup"].get<double>()) {
      best = candidate;
    }
    ++made;
  };

  std::printf("%12s %10s %14s %14s %14s %14s\n", "candidates", "measured", "cpu mean",
              "cpu median", "system mean", "candidates/s");
  constexpr int kBatch = 50;
  for (int64_t size : {int64_t{50}, int64_t{1'000}, int64_t{10'000}, int64_t{100'000}}) {
    if (size > max_candidates) break;
    while (made < size) one(true);
    std::vector<double> batches;
    double cpu = 0, sys = 0, wall = 0;
    for (int done = 0; done < per_size;) {
      int n = std::min(kBatch, per_size - done);
      double cpu0 = thread_cpu_seconds(), sys0 = thread_system_seconds(), wall0 = wall_seconds();
      for (int i = 0; i < n; ++i) one(false);
      double batch = thread_cpu_seconds() - cpu0;
      cpu += batch;
      sys += thread_system_seconds() - sys0;
      wall += wall_seconds() - wall0;
      batches.push_back(batch / n);
      done += n;
    }
    std::sort(batches.begin(), batches.end());
    double median = batches.size() % 2 ? batches[batches.size() / 2]
                                       : (batches[batches.size() / 2 - 1] + batches[batches.size() / 2]) / 2;
    std::printf("%12lld %10d %11.3f ms %11.3f ms %11.3f ms %14.0f\n", static_cast<long long>(size),
                per_size, cpu / per_size * 1e3, median * 1e3, sys / per_size * 1e3, per_size / wall);
    std::fflush(stdout);
  }
  return 0;
}
