// Engine-only throughput: the campaign loop with the built-in flag proposer
// and an evaluator that answers instantly, against a real SQLite file. What
// it measures is the controller: selection, proposal, edit application,
// dedupe and database writes per candidate. Then the database at that size:
// file size and the time of a top-k query.
//
//   ratchet_engine_bench [CANDIDATES] [IN_FLIGHT] [ISLANDS]
//                                  (defaults 100000, 3, 1)
// Peak memory is the controller's: islands and archives hold small records
// (engine/member.h); programs stay in the database. clang and LLVM live in the
// rewriter worker (engine/rewriter_client.h), whose peak RSS is printed apart.
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "common/files.h"
#include "engine/campaign.h"
#include "engine/database.h"
#include "engine/heap.h"
#include "engine/rewriter_client.h"

using namespace ratchet;

namespace {

// Speedup is a deterministic function of the flags, so the search has
// something to climb; no process is started.
class InstantEvaluator final : public Evaluator {
 public:
  Evaluation evaluate(const Program& program, uint64_t) override {
    double speedup = 1.0;
    for (const auto& flag : program.flags) speedup += static_cast<double>(flag.size() % 7) / 100;
    return result(speedup);
  }
  Evaluation evaluate_baseline(uint64_t) override { return result(1.0); }

 private:
  static Evaluation result(double speedup) {
    Evaluation evaluation;
    evaluation.build = evaluation.verify = evaluation.benchmark = {StageStatus::ok, "", "", 0};
    evaluation.metrics = {{"speedup", speedup}, {"ci_low", speedup - 0.01},
                          {"ci_high", speedup + 0.01}, {"pairs", 5}};
    return evaluation;
  }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Bytes the allocator has handed out and not taken back: the controller's
// own memory, without the shared libraries' pages.
// mallinfo2 sums the allocator's arenas (the pipeline's threads use their own).
double heap_mb() {
  struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd) / (1 << 20);
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// A process's peak RSS (VmHWM) in kB, or 0 when it is not running.
long peak_rss_kb_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_heap();  // as the ratchet binary does
  int64_t count = argc > 1 ? std::atoll(argv[1]) : 100'000;
  TempDir dir("engine-bench-");
  Task task = load_task(std::string(RATCHET_SOURCE_DIR) + "/tests/data/tasks/tiny");
  CampaignConfig config;
  config.name = "bench";
  config.task_dir = task.dir;
  config.max_evals = count;
  config.proposers = {ProposerConfig{}};
  config.proposers[0].max_genes = 4;
  config.search.in_flight = argc > 2 ? std::atoi(argv[2]) : 3;
  config.search.islands = argc > 3 ? std::atoi(argv[3]) : 1;
  std::atomic<bool> stop{false};
  // Progress lines go nowhere: kept in a string they would grow with every
  // candidate (8 MB at 100,000) and count as the controller's memory.
  std::ofstream log("/dev/null");

  Database db = Database::open(dir.path() / "bench.db", true);
  InstantEvaluator evaluator;
  Progress progress(log, false, count);
  Campaign campaign(config, task, db, evaluator, make_proposers(config.proposers, task),
                    progress, stop);
  auto start = std::chrono::steady_clock::now();
  campaign.start(false, nlohmann::json::object());
  double heap_at_start = heap_mb();
  long rss_at_start = peak_rss_kb();
  CampaignOutcome outcome = campaign.run();
  double seconds = seconds_since(start);
  double heap_at_end = heap_mb();

  std::printf("in flight           %d, islands %d\n", config.search.in_flight,
              config.search.islands);
  std::printf("candidates          %lld (duplicates skipped %lld)\n",
              static_cast<long long>(outcome.counts.done),
              static_cast<long long>(outcome.counts.duplicates));
  std::printf("throughput          %.0f candidates/s (%.3f ms each)\n",
              outcome.counts.done / seconds, seconds * 1000 / outcome.counts.done);
  auto query = std::chrono::steady_clock::now();
  auto top = db.top(std::nullopt, 10);
  std::printf("top-10 query        %.2f ms\n", seconds_since(query) * 1000);
  query = std::chrono::steady_clock::now();
  DatabaseStats stats = db.stats();
  std::printf("stats query         %.2f ms (%lld candidates)\n", seconds_since(query) * 1000,
              static_cast<long long>(stats.candidates));
  std::error_code ec;
  std::printf("database size       %.1f MB (+ WAL %.1f MB)\n",
              std::filesystem::file_size(dir.path() / "bench.db", ec) / 1e6,
              std::filesystem::file_size(dir.path() / "bench.db-wal", ec) / 1e6);
  std::printf("peak memory         %.1f MB RSS (%.1f MB before the search: code and libraries)\n",
              peak_rss_kb() / 1024.0, rss_at_start / 1024.0);
  std::printf("controller heap     %.1f MB after the search (%.1f MB before)\n", heap_at_end,
              heap_at_start);
  RewriterClient& rewriter = rewriter_client();
  std::printf("rewriter worker     %.1f MB peak RSS, %d requests, %d started\n",
              peak_rss_kb_of(rewriter.pid()) / 1024.0, rewriter.requests(), rewriter.starts());
  return top.empty() ? 1 : 0;
}
