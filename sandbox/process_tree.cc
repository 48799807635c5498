#include "sandbox/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/fd.h"

namespace ratchet::sandbox {

using ratchet::fail;

// ---------------------------------------------------------------------------
// Process-wide state.

Registry& registry() {
  static Registry instance;
  return instance;
}

ratchet::Status become_subreaper() {
  static const int error = prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ? errno : 0;
  if (error) return fail("cannot become a child subreaper: " + error_text(error));
  return ratchet::Ok{};
}

// ---------------------------------------------------------------------------
// /proc helpers (parent side only).

struct ProcStat {
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  long long utime = 0, stime = 0, cutime = 0, cstime = 0;  // clock ticks
};

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char buffer[1024];
  ssize_t n;
  do {
    n = read(fd.get(), buffer, sizeof buffer - 1);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  buffer[n] = '\0';
  // comm (field 2) may contain spaces and parentheses; fields resume after
  // the last ')'.
  const char* rest = std::strrchr(buffer, ')');
  if (!rest) return std::nullopt;
  ProcStat stat;
  char state;
  int fields = std::sscanf(rest + 1,
                           " %c %d %d %d %*d %*d %*u %*u %*u %*u %*u %lld %lld %lld %lld",
                           &state, &stat.ppid, &stat.pgrp, &stat.session, &stat.utime,
                           &stat.stime, &stat.cutime, &stat.cstime);
  if (fields != 8) return std::nullopt;
  return stat;
}

template <class Visit>
void for_each_numeric_entry(const char* directory, Visit visit) {
  DIR* dir = opendir(directory);
  if (!dir) return;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long value = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && value > 0) visit(static_cast<pid_t>(value));
  }
  closedir(dir);
}

// Every child of this process, whichever thread forked or adopted it.
std::vector<pid_t> list_children() {
  std::vector<pid_t> children;
  bool have_children_files = false;
  for_each_numeric_entry("/proc/self/task", [&](pid_t tid) {
    std::string path = "/proc/self/task/" + std::to_string(tid) + "/children";
    FILE* file = std::fopen(path.c_str(), "re");
    if (!file) return;
    have_children_files = true;
    int pid;
    while (std::fscanf(file, "%d", &pid) == 1) children.push_back(pid);
    std::fclose(file);
  });
  if (have_children_files) return children;
  // Kernels without CONFIG_PROC_CHILDREN: scan every process's parent.
  const pid_t self = getpid();
  for_each_numeric_entry("/proc", [&](pid_t pid) {
    auto stat = read_proc_stat(pid);
    if (stat && stat->ppid == self) children.push_back(pid);
  });
  return children;
}

void kill_ignoring_gone(pid_t target) {
  // ESRCH: already gone, which is the goal. EPERM cannot happen for our own
  // descendants; there is nothing better to do than carry on either way.
  (void)kill(target, SIGKILL);
}

// Blocks until `pid` (already SIGKILLed) is reaped. ECHILD means someone
// reaped it first, which is fine.
void reap(pid_t pid, int* status, rusage* usage) {
  int ignored_status;
  rusage ignored_usage;
  while (wait4(pid, status ? status : &ignored_status, 0, usage ? usage : &ignored_usage) < 0 &&
         errno == EINTR) {
  }
}

// Is this child of ours an adopted orphan of the run whose direct child is
// `own`? Not when it is another run's direct child or lives in another run's
// session or group (that run will collect it), nor when it is in ratchet's own
// session: every run() child calls setsid(), so such a process was forked by
// other ratchet code. A setsid'd orphan of a concurrent run cannot be told
// apart from ours and is killed early; isolating runs in PID namespaces
// (later) removes that ambiguity.
bool belongs_to_run(pid_t child, pid_t own, const std::set<pid_t>& direct_children,
                    const ProcStat& stat, pid_t ratchet_session) {
  auto foreign = [&](pid_t id) { return id != own && direct_children.count(id) > 0; };
  if (direct_children.count(child)) return false;
  if (stat.session == ratchet_session) return false;
  return !foreign(stat.session) && !foreign(stat.pgrp);
}

// Kills and reaps every orphan of this run. Each round kills the current
// orphans (with their process groups); their own children are reparented to
// us when they die and are caught by the next round, so when a round finds
// nothing the whole tree is gone. Runs under the registry lock so that no
// run forks (and no pid is reused) while we decide whom to kill.
void collect_orphans(pid_t own) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  const pid_t ratchet_session = getsid(0);
  while (true) {
    std::vector<pid_t> victims;
    for (pid_t child : list_children()) {
      auto stat = read_proc_stat(child);
      if (!stat || !belongs_to_run(child, own, reg.direct_children, *stat, ratchet_session)) {
        continue;
      }
      // pgrp > 1 guards against kill(0)/kill(-1), which would hit ratchet.
      if (stat->pgrp > 1) kill_ignoring_gone(-stat->pgrp);
      kill_ignoring_gone(child);
      victims.push_back(child);
    }
    if (victims.empty()) return;
    for (pid_t victim : victims) reap(victim);
  }
}


namespace {

int64_t stat_ticks(const ProcStat& stat) {
  return stat.utime + stat.stime + stat.cutime + stat.cstime;
}

}  // namespace

std::optional<int64_t> polled_cpu_ms(pid_t pid) {
  static const long ticks_per_second = sysconf(_SC_CLK_TCK);
  auto stat = read_proc_stat(pid);
  if (!stat || ticks_per_second <= 0) return std::nullopt;
  int64_t ticks = stat_ticks(*stat);
  std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children";
  if (FILE* file = std::fopen(path.c_str(), "re")) {
    int child;
    while (std::fscanf(file, "%d", &child) == 1) {
      if (auto child_stat = read_proc_stat(child)) ticks += stat_ticks(*child_stat);
    }
    std::fclose(file);
  }
  return ticks * 1000 / ticks_per_second;
}

}  // namespace ratchet::sandbox
