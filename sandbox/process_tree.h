// Parent-side bookkeeping of the processes run() starts: the registry of
// direct children, subreaper orphan collection, CPU polling, reaping.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>

#include "common/result.h"

namespace ratchet::sandbox {

// Direct children started by run(), so that one run's orphan collection never
// reaps another run's child. Spawning and registration happen under the same
// lock as orphan collection, so a collector never sees an unregistered child.
struct Registry {
  std::mutex mutex;
  std::set<pid_t> direct_children;
};
Registry& registry();

// Orphans of a command (double-forked daemons, setsid'd grandchildren) are
// reparented to the nearest subreaper; being one is what lets us kill them.
ratchet::Status become_subreaper();

// CPU time of `pid`, the children it has reaped, and its live children (with
// what they reaped): with isolation `pid` is the init and the command its child.
std::optional<int64_t> polled_cpu_ms(pid_t pid);

void kill_ignoring_gone(pid_t target);

// Blocks until `pid` (already SIGKILLed or exiting) is reaped. ECHILD means
// someone reaped it first, which is fine.
void reap(pid_t pid, int* status = nullptr, rusage* usage = nullptr);

// Kills and reaps every orphan of the run whose direct child is `own`.
void collect_orphans(pid_t own);

}  // namespace ratchet::sandbox
