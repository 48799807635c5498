// Running one command isolated and limited. Every build, verification and
// benchmark stage goes through run(); nothing else in ratchet forks a
// candidate's code.
//
// The contract: run() never throws for anything the command does. A command
// that exits non-zero, crashes, hangs or floods its output gives a Result with
// the matching Termination; only a failure of the sandbox itself (fork failed,
// workdir missing) gives Termination::setup_error, with the reason in
// setup_error. When the call returns, every process the command started is dead.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ratchet::sandbox {

// A limit <= 0 means "not limited" (RLIMIT_CORE is always 0).
struct Limits {
  int64_t wall_ms = 10'000;
  int64_t cpu_ms = 10'000;          // RLIMIT_CPU (rounded up to seconds) + polled
  int64_t memory_mb = 2048;         // address space
  int64_t processes = 64;           // RLIMIT_NPROC where it applies
  int64_t open_files = 256;         // RLIMIT_NOFILE
  int64_t file_size_mb = 256;       // RLIMIT_FSIZE
  int64_t output_bytes = 1 << 20;   // per stream; more is discarded and the run killed
};

// Isolation levels, weakest first. docs/sandbox.md says what each one means.
//   process_group: own session and process group, rlimits, scrubbed environment.
//   rootless:      what an unprivileged ratchet gets: + a user namespace of its
//                  own uid holding pid/mount/net/ipc/uts namespaces, the fresh
//                  read-only mount tree, no_new_privs and seccomp; no cgroups,
//                  and the command runs as ratchet's uid on the host.
//   namespaces:    + namespaces owned by the host (root's), the sandbox uid.
//   full:          + cgroup v1 memory and pids limits and the cgroup's peak memory.
// A root ratchet never uses rootless (it would map the sandbox to host root).
enum class Isolation : int { process_group = 0, rootless = 1, namespaces = 2, full = 3 };

// "process-group+rlimits", "rootless", "namespaces", "full": the form
// Result::isolation uses.
const char* to_string(Isolation isolation);

struct Spec {
  std::vector<std::string> argv;  // argv[0] is looked up in the spec's PATH
  std::filesystem::path workdir;  // must exist; the command's cwd and HOME
  // Variables beyond the defaults (PATH, HOME=workdir, LANG=C). The parent's
  // environment is never inherited, so an API key can never leak in.
  std::vector<std::pair<std::string, std::string>> env;
  std::optional<std::filesystem::path> stdin_file;  // /dev/null when absent
  Limits limits;
  // With isolation, the command sees only the system directories, its work
  // dir (read-write; run() hands the directory itself to the sandbox uid) and
  // these paths, at the same places as on the host. They must exist and must
  // not be symbolic links (a planted symlink could otherwise expose a host
  // file); writable paths must be writable by the sandbox uid (61000).
  std::vector<std::filesystem::path> read_only;
  std::vector<std::filesystem::path> writable;
  bool network = false;
  // When set and it becomes true, the run is killed and reported as cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // The level to aim for; lower it only for debugging and benchmarks. Where
  // the kernel refuses a step, run() warns once on stderr and continues at
  // the next lower level, unless that is below `required` (then the run is a
  // setup error naming the refused step).
  Isolation isolation = Isolation::full;
  Isolation required = Isolation::process_group;
  // Count the command's whole process tree with perf_event_open (opened by
  // the harness on the child before it execs; see perf_counters.h): cycles,
  // instructions, cache-references, cache-misses and branch-misses where the
  // machine has a PMU, and the software events task-clock (nanoseconds),
  // page-faults, context-switches and cpu-migrations.
  bool count_events = false;
  // Pin the command's whole process tree to these CPUs (sched_setaffinity,
  // set by the child before it execs and inherited); empty: wherever the
  // scheduler likes. A benchmark slot pins its runs to the core it owns.
  std::vector<int> cpus;
};

// Fixed set; numeric values are persisted and never renumbered.
enum class Termination : int {
  ok = 0,            // exited on its own (any exit code)
  wall_timeout = 1,
  cpu_timeout = 2,
  memory = 3,
  output_limit = 4,
  signal = 5,        // killed by a signal it did not get from us
  setup_error = 6,
  cancelled = 7,
};

const char* to_string(Termination termination);

struct Counter {
  std::string name;  // the perf name: "cycles", "task-clock", ...
  double value = 0;  // scaled by enabled/running time when multiplexed
};

struct Result {
  Termination termination = Termination::setup_error;
  int exit_code = -1;  // valid when termination == ok
  int signal = 0;      // the signal that ended it, if any
  double wall_ms = 0;
  double cpu_ms = 0;   // user + system of the whole process tree (wait4 rusage)
  double user_ms = 0;
  double sys_ms = 0;
  // With cgroups (isolation "full"), the cgroup's peak during the run, which
  // counts tmpfs and page cache too. Without, the biggest process's peak RSS
  // as the kernel reports it, which includes the size of the ratchet process
  // the command was forked from: an upper bound.
  int64_t peak_memory_kb = 0;
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::string isolation;    // what was achieved: to_string(Isolation)
  std::string setup_error;  // set when termination == setup_error
  // The limit a wall_timeout / cpu_timeout / memory / output_limit run hit, in
  // that limit's unit (ms, ms, MB, bytes); 0 otherwise. Used by describe().
  int64_t limit = 0;
  // With Spec::count_events: what was counted, and the events this kernel or
  // machine does not offer (no PMU, perf_event_paranoid), by name.
  std::vector<Counter> counters;
  std::vector<std::string> unavailable_counters;

  bool exited_ok() const { return termination == Termination::ok && exit_code == 0; }
  // One line: "exit 1", "killed by SIGSEGV", "wall-clock timeout after 2000 ms", …
  std::string describe() const;
};

// Thread-safe: several runs may proceed concurrently from different threads.
// Side effects: on first use the ratchet process becomes a child subreaper, and
// run() then kills and reaps any orphan it adopts; at level full each cgroup
// slot (one per concurrently running run()) starts a thread that lives until
// ratchet exits (slot_thread.h). Code elsewhere in ratchet
// must therefore not waitpid(-1) (it would steal a run's child); processes it
// forks stay in ratchet's session and are never touched by run().
Result run(const Spec& spec);

// The CPUs ratchet may run on (its affinity mask), ascending: what Spec::cpus
// may name.
std::vector<int> allowed_cpus();

}  // namespace ratchet::sandbox
