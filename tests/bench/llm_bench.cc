// Not a test: the controller's cost per LLM candidate.
//
//   ratchet_llm_bench [max_candidates=100000] [per_size=500]
//
// An OpenAI-compatible endpoint on 127.0.0.1 (tests/llm_test_server.h, in
// this process) answers instantly with a fresh SEARCH/REPLACE edit; the task
// is tests/data/tasks/tiny; evaluation is instant (a made-up speedup). One
// database per size (50, 1,000, 10,000, 100,000 candidates, up to
// max_candidates) is filled first; then `per_size` candidates go through the
// whole controller path on each: prompt built from the island's inspirations
// and the latest failures (in memory, as in a campaign), HTTP round trip on
// the curl multi client, answer parsed, edit applied, program hashed, then
// dedupe, candidate and LLM call in one transaction, then the evaluation
// (outcome and five benchmark pairs) in another, as the campaign records
// them. It prints the controller thread's CPU time per candidate
// (CLOCK_THREAD_CPUTIME_ID: the server's threads are not counted) and
// candidates per second of wall time, and the share of the machine's CPU
// time the hypervisor stole while the batches ran: on a shared VM the
// system time rises with it.
//
// The sizes are measured interleaved, in batches of 50, one batch per size in
// turn (the first size moves on each round), as ratchet pairs a candidate's
// runs with the baseline's: this VM's neighbours change its speed by half
// for seconds at a time, and sizes measured one after the other would carry
// those changes as if the database size caused them. Besides the mean, the
// median batch, which such a burst moves less (the mean is the honest total,
// the median the typical cost). The fill writes its databases' 100,000-odd
// candidates in a minute, gigabytes a campaign writes over days: it is
// synced to disk before the measured batches start.
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "common/files.h"
#include "engine/database.h"
#include "engine/heap.h"
#include "engine/llm_proposer.h"
#include "evaluators/stats.h"
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

// The machine's CPU time so far and the part of it the hypervisor stole
// (/proc/stat's first line, in clock ticks). On this shared VM the
// controller's system time grows with the steal: spinning on locks that a
// descheduled vCPU holds, waking a thread on a vCPU that is not running.
struct CpuTicks {
  uint64_t total = 0, steal = 0;
};

CpuTicks machine_ticks() {
  CpuTicks ticks;
  std::FILE* stat = std::fopen("/proc/stat", "r");
  if (!stat) return ticks;
  // cpu user nice system idle iowait irq softirq steal (guest time is in user)
  unsigned long long field[8] = {};
  if (std::fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &field[0], &field[1],
                  &field[2], &field[3], &field[4], &field[5], &field[6], &field[7]) == 8) {
    for (unsigned long long f : field) ticks.total += f;
    ticks.steal = field[7];
  }
  std::fclose(stat);
  return ticks;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// An evaluation as the campaign records it: outcome, metrics and the
// benchmark's pairs (five, as the metrics say).
struct Evaluated {
  CandidateRecord candidate;
  std::vector<SampleRecord> samples;
};

Evaluated evaluated(CandidateRecord c, std::mt19937_64& rng) {
  double speedup = std::uniform_real_distribution<double>(0.8, 1.3)(rng);
  c.status = CandidateStatus::evaluated;
  c.build = c.verify = c.benchmark = StageStatus::ok;
  c.metrics = {{"speedup", speedup}, {"ci_low", speedup - 0.02}, {"ci_high", speedup + 0.02},
               {"pairs", 5}};
  c.artifacts = {{"build", {{"status", "ok"}, {"summary", "built"}, {"seconds", 0.1}}}};
  std::vector<SampleRecord> samples;
  for (int pair = 0; pair < 5; ++pair) {
    samples.push_back({pair, pair % 2 == 0, 10.0, 10.0 / speedup, 10.5, 10.5 / speedup});
  }
  return {std::move(c), std::move(samples)};
}

// One database at one size, and what a campaign keeps in memory about it.
struct Subject {
  explicit Subject(int64_t size)
      : size(size), dir("ratchet-llm-bench-"), db(Database::open(dir.path() / "bench.db", true)) {}
  int64_t size;
  TempDir dir;
  Database db;
  CampaignRecord campaign;
  CandidateRecord baseline;
  CandidateRecord best;
  std::deque<CandidateRecord> failures;  // newest first, as the campaign keeps them
  int64_t made = 1;
  // The measured batches' CPU per candidate, and the phase's totals.
  std::vector<double> batches;
  int measured = 0;
  double cpu = 0, sys = 0, wall = 0;
};

}  // namespace

int main(int argc, char** argv) {
  keep_freed_heap();  // as the ratchet binary does
  int64_t max_candidates = argc > 1 ? std::atoll(argv[1]) : 100'000;
  int per_size = argc > 2 ? std::atoi(argv[2]) : 500;
  if (max_candidates < 50 || per_size < 1) {
    std::fprintf(stderr, "usage: ratchet_llm_bench [max_candidates >= 50] [per_size >= 1]\n");
    return 2;
  }

  ratchet::testing::LoopbackLlmServer server;
  auto counter = std::make_shared<std::atomic<int>>(0);
  server.script({}, [counter](const httplib::Request& request, httplib::Response& response) {
    int n = ++*counter;
    ratchet::testing::LoopbackLlmServer::ok(
        "Here:\n```c\n<<<<<<< SEARCH\n  return total;\n=======\n  return total; /* v" +
        std::to_string(n) + " */\n>>>>>>> REPLACE\n```\n")(request, response);
  });

  Task task = load_task(std::filesystem::path(RATCHET_SOURCE_DIR) / "tests/data/tasks/tiny");
  std::mt19937_64 rng(1);
  std::vector<std::unique_ptr<Subject>> subjects;
  for (int64_t size : {int64_t{50}, int64_t{1'000}, int64_t{10'000}, int64_t{100'000}}) {
    if (size > max_candidates) break;
    auto subject = std::make_unique<Subject>(size);
    CampaignRecord& campaign = subject->campaign;
    campaign.name = "bench";
    campaign.task_name = task.name;
    campaign.task_dir = task.dir.string();
    campaign.config = nlohmann::json::object();
    campaign.environment = nlohmann::json::object();
    subject->db.create_campaign(campaign);
    CandidateRecord& baseline = subject->baseline;
    baseline.campaign_id = campaign.id;
    baseline.program = task.baseline();
    baseline.proposer = "baseline";
    subject->db.insert_candidate(baseline);
    Evaluated evaluation = evaluated(baseline, rng);
    baseline = std::move(evaluation.candidate);
    subject->db.record_evaluation(baseline, evaluation.samples);
    subject->best = baseline;
    subjects.push_back(std::move(subject));
  }

  LlmConfig config;
  LlmModelConfig model;
  model.base_url = server.base_url();
  model.model = "instant";
  config.models.push_back(model);
  LlmProposer proposer(config, task, 2);

  // One candidate through the controller path on `s`; the parent fixed.
  auto one = [&](Subject& s, bool fill) {
    Database& db = s.db;
    const CandidateRecord& parent = s.baseline;
    // As in a campaign: the island's inspirations and the latest failures come
    // from memory, not a query.
    std::vector<const CandidateRecord*> inspirations = {&s.best};
    std::vector<const CandidateRecord*> latest;
    for (const CandidateRecord& failure : s.failures) latest.push_back(&failure);
    std::optional<Proposal> proposal =
        fill ? std::nullopt
             : proposer.propose({task, parent, rng, &db, s.campaign.id, inspirations, latest});
    CandidateRecord candidate;
    candidate.campaign_id = s.campaign.id;
    candidate.parent_id = parent.id;
    candidate.proposer = "llm";
    Edit edit;
    if (proposal) {
      edit = proposal->edit;
    } else {  // filling: the same kind of edit, no HTTP
      edit = *edit_from_answer("<<<<<<< SEARCH\n  return total;\n=======\n  return total; /* f" +
                                   std::to_string(s.made) + " */\n>>>>>>> REPLACE\n",
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
    if (!db.record_step(candidate, "bench.step", s.made, call)) return;
    Evaluated evaluation = evaluated(std::move(candidate), rng);
    candidate = std::move(evaluation.candidate);
    if (s.made % 7 == 0) {  // some failures, for the prompt's evidence
      evaluation.samples.clear();  // a failed build is not benchmarked
      candidate.status = CandidateStatus::build_failed;
      candidate.build = StageStatus::failed;
      candidate.artifacts["build"] = {{"status", "failed"},
                                      {"summary", "compile error"},
                                      {"log", "tiny.c:9:3: error: expected ';' before '}'"}};
    }
    db.record_evaluation(candidate, evaluation.samples);
    if (candidate.status != CandidateStatus::evaluated) {
      s.failures.push_front(candidate);
      s.failures.front().program = {};
      if (s.failures.size() > static_cast<size_t>(kRecentFailures)) s.failures.pop_back();
    }
    if (candidate.status == CandidateStatus::evaluated &&
        candidate.metrics["speedup"].get<double>() > s.best.metrics["speedup"].get<double>()) {
      s.best = candidate;
    }
    ++s.made;
  };

  for (auto& subject : subjects) {
    while (subject->made < subject->size) one(*subject, true);
  }
  sync();

  constexpr int kBatch = 50;
  CpuTicks ticks0 = machine_ticks();
  for (size_t round = 0; subjects.front()->measured < per_size; ++round) {
    for (size_t i = 0; i < subjects.size(); ++i) {
      Subject& s = *subjects[(round + i) % subjects.size()];
      int n = std::min(kBatch, per_size - s.measured);
      double cpu0 = thread_cpu_seconds(), sys0 = thread_system_seconds(), wall0 = wall_seconds();
      for (int k = 0; k < n; ++k) one(s, false);
      double batch = thread_cpu_seconds() - cpu0;
      s.cpu += batch;
      s.sys += thread_system_seconds() - sys0;
      s.wall += wall_seconds() - wall0;
      s.batches.push_back(batch / n);
      s.measured += n;
    }
  }

  // The last column is the flatness: this size's mean over the smallest's,
  // measured side by side.
  CpuTicks ticks1 = machine_ticks();
  std::printf("%12s %10s %14s %14s %14s %14s %10s\n", "candidates", "measured", "cpu mean",
              "cpu median", "system mean", "candidates/s", "vs first");
  double first = subjects.front()->cpu / subjects.front()->measured;
  for (const auto& s : subjects) {
    double mean = s->cpu / s->measured;
    std::printf("%12lld %10d %11.3f ms %11.3f ms %11.3f ms %14.0f %10.3f\n",
                static_cast<long long>(s->size), s->measured, mean * 1e3,
                median(s->batches) * 1e3, s->sys / s->measured * 1e3, s->measured / s->wall,
                mean / first);
  }
  if (ticks1.total > ticks0.total) {
    std::printf("host steal while measuring: %.1f%% of the vCPUs' time (/proc/stat)\n",
                100.0 * static_cast<double>(ticks1.steal - ticks0.steal) /
                    static_cast<double>(ticks1.total - ticks0.total));
  }
  return 0;
}
