// Cost of one sandboxed run of /bin/true per isolation level, against a plain
// fork/exec, and the speed of a compute loop inside and outside the sandbox.
// Not a test: run it by hand (docs/sandbox.md has the figures).
//   ratchet_sandbox_bench [runs]
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "common/files.h"
#include "sandbox/sandbox.h"

extern char** environ;

namespace {

using ratchet::sandbox::Isolation;
using Clock = std::chrono::steady_clock;

struct Figures {
  double median = 0, p90 = 0;
};

Figures measure(int runs, const std::function<void()>& once) {
  for (int i = 0; i < 20; ++i) once();  // warm-up: caches, cgroup slot, filter
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    once();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 9 / 10]};
}

// The baseline: what any runner pays at least.
void plain_true() {
  pid_t pid;
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) == 0) {
    int status;
    waitpid(pid, &status, 0);
  }
}

ratchet::sandbox::Result sandboxed(const ratchet::TempDir& dir, Isolation level,
                                   std::vector<std::string> argv, bool count_events = false) {
  ratchet::sandbox::Spec spec;
  spec.argv = std::move(argv);
  spec.workdir = dir.path();
  spec.isolation = level;
  spec.count_events = count_events;
  return ratchet::sandbox::run(spec);
}

// A loop with no system calls: namespaces and seccomp must not slow it.
constexpr const char* kLoop =
    "#include <stdio.h>\n"
    "int main(void) { unsigned long x = 1; for (long i = 0; i < 400000000L; ++i)"
    " x = x * 6364136223846793005UL + 1442695040888963407UL; printf(\"%lu\\n\", x); }\n";

void compute_loop(const ratchet::TempDir& dir) {
  auto source = dir.path() / "loop.c";
  if (!ratchet::write_file(source, kLoop)) return;
  auto build = sandboxed(dir, Isolation::full, {"gcc", "-O1", "loop.c", "-o", "loop"});
  if (!build.exited_ok()) {
    std::printf("cannot build the loop: %s\n%s", build.describe().c_str(),
                build.stderr_text.c_str());
    return;
  }
  auto binary = (dir.path() / "loop").string();
  std::printf("\ncompute loop (CPU ms of the command, median of 5):\n");
  auto cpu = [&](Isolation level) {
    std::vector<double> ms;
    for (int i = 0; i < 5; ++i) ms.push_back(sandboxed(dir, level, {binary}).cpu_ms);
    std::sort(ms.begin(), ms.end());
    return ms[2];
  };
  for (Isolation level : {Isolation::process_group, Isolation::rootless, Isolation::namespaces,
                          Isolation::full}) {
    auto probe = sandboxed(dir, level, {"/bin/true"});
    if (probe.isolation != to_string(level)) continue;  // not reachable for this user
    std::printf("  %-24s %8.1f ms\n", to_string(level), cpu(level));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 500;
  ratchet::TempDir dir("ratchet-bench-");
  std::printf("cost per run of /bin/true, %d runs (ms)\n", runs);
  std::printf("  %-24s %8s %8s\n", "level", "median", "p90");
  auto print = [](const char* name, Figures f) {
    std::printf("  %-24s %8.2f %8.2f\n", name, f.median, f.p90);
  };
  print("plain posix_spawn", measure(runs, plain_true));
  for (Isolation level : {Isolation::process_group, Isolation::rootless, Isolation::namespaces,
                          Isolation::full}) {
    auto result = sandboxed(dir, level, {"/bin/true"});
    if (result.isolation != to_string(level)) {
      std::printf("  %-24s unavailable (got %s)\n", to_string(level), result.isolation.c_str());
      continue;
    }
    print(to_string(level), measure(runs, [&] { sandboxed(dir, level, {"/bin/true"}); }));
  }
  // The counters' cost, at the best level this user reaches.
  std::string reached = sandboxed(dir, Isolation::full, {"/bin/true"}).isolation;
  Isolation best = Isolation::process_group;
  for (Isolation level : {Isolation::rootless, Isolation::namespaces, Isolation::full}) {
    if (reached == to_string(level)) best = level;
  }
  std::string counted = std::string(to_string(best)) + " + perf counters";
  print(counted.c_str(), measure(runs, [&] { sandboxed(dir, best, {"/bin/true"}, true); }));
  compute_loop(dir);
}
