// Counting a command's whole process tree with perf_event_open.
//
// The harness opens the counters, never the candidate (the seccomp filter
// refuses perf_event_open inside the sandbox): one counter per event on the
// run's direct child, before the command execs. inherit=1 makes every process
// started from then on count into it, enable_on_exec starts the count at the
// command's execve (so ratchet's setup in the child and the sandbox's init,
// which never execs, are not counted), and the counts of exited processes are
// folded into the counter the harness holds: read after the tree is reaped,
// it is the total.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "sandbox/fd.h"
#include "sandbox/sandbox.h"

namespace ratchet::sandbox {

class PerfCounters {
 public:
  // Opens every event Spec::count_events names (sandbox.h) on `pid`. An
  // event the kernel does not offer here (ENOENT, EOPNOTSUPP, ENODEV: no PMU,
  // as on most VMs; ENOSYS: no perf events at all) or does not allow (EACCES,
  // EPERM: perf_event_paranoid, a container's filter) is "unavailable"; any
  // other failure is an error.
  static ratchet::Result<PerfCounters> open(pid_t pid);

  // After `pid` and all its descendants are reaped. Counts multiplexed with
  // other users of the PMU are scaled by enabled/running time.
  void read(std::vector<Counter>& counters, std::vector<std::string>& unavailable) const;

 private:
  struct Open {
    const char* name;
    Fd fd;
  };
  std::vector<Open> open_;
  std::vector<std::string> unavailable_;
};

}  // namespace ratchet::sandbox
