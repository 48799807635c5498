// The child side of a run: everything between clone and execve.
//
// Without isolation the direct child sets itself up and execs the command.
// With isolation the direct child becomes the init (pid 1) of new pid, mount,
// net, ipc and uts namespaces (at level full it was born in the slot's cgroups
// and network namespace; see slot_thread.h): it builds the mount tree, enters
// a new user namespace, tells the parent it is ready (the parent then writes
// its uid and gid maps), and on the parent's "go" starts the command as pid 2
// under the sandbox uid, no_new_privs and the seccomp filter. Rootless, the
// user namespace comes first, with the clone, and the init waits for its id
// maps before it builds the mount tree. The init reaps everything in the namespace; when the
// command exits it reports the command's wait status and exits, which kills
// whatever the command left behind. Because the init reaps the whole tree,
// the parent's wait4() on the init sees the CPU time of every process.
//
// Everything here runs in a copy of a multi-threaded process: no allocation,
// no locks, raw system calls where glibc would synchronize with threads that
// do not exist in the copy.
#pragma once

#include <linux/filter.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <string>
#include <vector>

#include "sandbox/mount_tree.h"

namespace ratchet::sandbox {

// Child exit status when it fails before execve (same as a shell's).
constexpr int kChildSetupExit = 127;

enum class ChildStep : int {
  session,
  signals,
  death_signal,
  descriptors,
  isolation,
  workdir,
  limits,
  exec,
  run_path,    // a read-only / writable path could not be bound
  credentials, // the sandbox uid could not be taken
  seccomp,
  ready,       // not a failure: the init waits for its id maps
  exited,      // not a failure: the command's wait status, in detail
  affinity,    // Spec::cpus could not be set
};

// Sent over the status pipe; pipe writes this small are atomic.
struct ChildReport {
  int step;
  int error;
  int detail;  // limits: index into ChildPlan::limits; isolation: step; exited: status
};

struct LimitSetting {
  int resource = 0;
  const char* name = "";
  rlimit value{};
};

struct ChildPlan {
  pid_t parent = 0;
  std::string executable;  // resolved against the spec's PATH
  std::string workdir;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;  // null-terminated views of the storage above
  std::vector<char*> envp;
  std::array<LimitSetting, 6> limits{};
  int limit_count = 0;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int status_fd = -1;
  int max_fd = 1024;  // for the close loop when close_range is missing
  bool pin = false;   // Spec::cpus: set `cpus` as the affinity before exec
  cpu_set_t cpus{};

  // Read end: one byte once the parent is ready for the command to start
  // (isolated: the id maps are written; process-group: the perf counters are
  // open). Rootless inits read a first byte once their id maps are written,
  // before they build the mount tree. -1: start at once (process-group).
  int go_fd = -1;

  // Isolation (used by isolated_init_main only).
  MountPlan* mounts = nullptr;
  const sock_fprog* seccomp = nullptr;
  bool rootless = false;     // in a user namespace of ratchet's own uid
  int join_network = -1;     // a network namespace to join first (setns), or -1
  uid_t uid = 0;   // inside and outside the user namespace
  gid_t gid = 0;
  std::vector<char> candidate_stack;  // for the command's vfork-style clone
};

// Process-group mode: the direct child, after fork().
[[noreturn]] void child_main(const ChildPlan& plan);
// Isolated mode: the direct child, after clone() with namespace flags.
[[noreturn]] void isolated_init_main(ChildPlan& plan);

}  // namespace ratchet::sandbox
