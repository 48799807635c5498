#include "evaluators/benchmark.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <fmt/format.h>
#include <map>
#include <random>
#include <set>

#include "evaluators/stage_status.h"
#include "sandbox/sandbox.h"

namespace ratchet {

namespace {

// Who may time at the same moment, across threads and across ratchet
// processes on the machine (flock; each BenchmarkLock opens its own file
// description, so two threads of one process exclude each other too). An
// unpinned benchmark holds the machine: no other benchmark runs. A benchmark
// pinned to a core shares the machine with benchmarks on other cores and
// holds its core alone.
class BenchmarkLock {
 public:
  explicit BenchmarkLock(int cpu) {
    if (cpu < 0) {
      machine_ = take("ratchet-benchmark.lock", LOCK_EX);
    } else {
      machine_ = take("ratchet-benchmark.lock", LOCK_SH);
      core_ = take(fmt::format("ratchet-benchmark.cpu{}.lock", cpu), LOCK_EX);
    }
  }
  ~BenchmarkLock() {
    // Closing releases the flock; the core before the machine.
    if (core_ >= 0) ::close(core_);
    if (machine_ >= 0) ::close(machine_);
  }
  BenchmarkLock(const BenchmarkLock&) = delete;
  BenchmarkLock& operator=(const BenchmarkLock&) = delete;

 private:
  // Without a lock file (TMPDIR unwritable) the benchmark runs unlocked, as
  // it would with another TMPDIR: there is no shared place to meet.
  static int take(const std::string& name, int operation) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + name;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd >= 0) {
      while (::flock(fd, operation) != 0 && errno == EINTR) {
      }
    }
    return fd;
  }
  int machine_ = -1;
  int core_ = -1;
};

struct Timing {
  sandbox::Result result;
  double metric_ms = 0;
};

Timing run_once(const TimedCommand& command, const std::string& metric,
                const std::filesystem::path& scratch, const std::atomic<bool>* cancel) {
  // Benchmark output is discarded, but a flood must still end the run.
  Timing timing{run_program(command, scratch, 64 << 20, cancel), 0};
  timing.metric_ms = metric == "wall_time" ? timing.result.wall_ms : timing.result.cpu_ms;
  return timing;
}

// Perf counts of the timed runs, per event, for their medians.
struct CounterSamples {
  std::map<std::string, std::vector<double>> baseline, candidate;
  std::set<std::string> unavailable;

  void add(const sandbox::Result& result, bool is_candidate) {
    auto& into = is_candidate ? candidate : baseline;
    for (const auto& counter : result.counters) into[counter.name].push_back(counter.value);
    unavailable.insert(result.unavailable_counters.begin(), result.unavailable_counters.end());
  }

  nlohmann::json medians() const {
    auto of = [](const std::map<std::string, std::vector<double>>& samples) {
      nlohmann::json json = nlohmann::json::object();
      for (const auto& [name, values] : samples) json[name] = median(values);
      return json;
    };
    return {{"baseline", of(baseline)},
            {"candidate", of(candidate)},
            {"unavailable", std::vector<std::string>(unavailable.begin(), unavailable.end())}};
  }
};

TimedCommand counted(TimedCommand command) {
  command.count_events = true;
  return command;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const char* verdict(const Interval& ci, double min_effect) {
  if (ci.low > 1.0 + min_effect) return "faster";
  if (ci.high < 1.0 - min_effect) return "slower";
  return "same";
}

BenchmarkOutcome benchmark_ab(const TimedCommand& baseline, const TimedCommand& candidate,
                              const BenchmarkSettings& settings, const std::string& metric,
                              const std::filesystem::path& scratch, uint64_t seed,
                              const std::atomic<bool>* cancel, int cpu) {
  BenchmarkOutcome out;
  BenchmarkLock lock(cpu);
  auto start = std::chrono::steady_clock::now();
  std::mt19937_64 rng(seed);

  // A failed run ends the stage: the candidate is not timed further.
  auto failed = [&](const Timing& timing, const char* which) {
    out.stage.status = stage_status_of(timing.result);
    if (out.stage.status == StageStatus::ok) out.stage.status = StageStatus::failed;
    out.stage.summary = fmt::format("{} run: {}", which, timing.result.describe());
    out.stage.log = timing.result.stderr_text.substr(0, 4096);
    out.stage.seconds = seconds_since(start);
    return out;
  };

  for (int i = 0; i < settings.warmup_runs; ++i) {
    Timing a = run_once(baseline, metric, scratch, cancel);
    if (!a.result.exited_ok()) return failed(a, "baseline");
    Timing b = run_once(candidate, metric, scratch, cancel);
    if (!b.result.exited_ok()) return failed(b, "candidate");
  }

  // Both sides counted alike, so the counters' small cost is in both times.
  const TimedCommand timed_baseline = counted(baseline), timed_candidate = counted(candidate);
  std::vector<double> ratios;
  std::vector<double> baseline_ms, candidate_ms;
  CounterSamples counters;
  for (int pair = 0; pair < settings.max_pairs; ++pair) {
    bool candidate_first = (rng() & 1) != 0;
    Timing first =
        run_once(candidate_first ? timed_candidate : timed_baseline, metric, scratch, cancel);
    if (!first.result.exited_ok()) return failed(first, candidate_first ? "candidate" : "baseline");
    Timing second =
        run_once(candidate_first ? timed_baseline : timed_candidate, metric, scratch, cancel);
    if (!second.result.exited_ok()) return failed(second, candidate_first ? "baseline" : "candidate");
    const Timing& b = candidate_first ? second : first;
    const Timing& c = candidate_first ? first : second;
    counters.add(b.result, false);
    counters.add(c.result, true);

    BenchmarkSample sample;
    sample.pair = pair;
    sample.candidate_first = candidate_first;
    sample.baseline_cpu_ms = b.result.cpu_ms;
    sample.candidate_cpu_ms = c.result.cpu_ms;
    sample.baseline_wall_ms = b.result.wall_ms;
    sample.candidate_wall_ms = c.result.wall_ms;
    out.samples.push_back(sample);
    // A run too short for the clock to see counts as one microsecond.
    ratios.push_back(std::max(b.metric_ms, 1e-3) / std::max(c.metric_ms, 1e-3));
    baseline_ms.push_back(b.metric_ms);
    candidate_ms.push_back(c.metric_ms);

    if (static_cast<int>(ratios.size()) < settings.min_pairs) continue;
    out.speedup = median(ratios);
    out.ci = bootstrap_median_ci(ratios, settings.confidence, 2000, seed ^ ratios.size());
    double half_width = (out.ci.high - out.ci.low) / 2;
    if (half_width <= settings.target_ci * out.speedup) break;
    if (seconds_since(start) >= settings.max_seconds) break;
  }
  if (ratios.empty()) {
    out.stage = {StageStatus::failed, "no benchmark pairs were taken", "", seconds_since(start)};
    return out;
  }
  out.speedup = median(ratios);
  out.ci = bootstrap_median_ci(ratios, settings.confidence, 2000, seed ^ ratios.size());
  out.pairs = static_cast<int>(ratios.size());
  out.baseline_ms = median(baseline_ms);
  out.candidate_ms = median(candidate_ms);
  out.counters = counters.medians();
  out.stage.status = StageStatus::ok;
  out.stage.summary = fmt::format("speedup {:.3f}x [{:.3f}, {:.3f}] over {} pairs", out.speedup,
                                  out.ci.low, out.ci.high, out.pairs);
  out.stage.seconds = seconds_since(start);
  return out;
}

}  // namespace ratchet
