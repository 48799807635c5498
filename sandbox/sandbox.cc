// Process-level runner: fork, limit, supervise, kill the whole tree, reap.
//
// Life of a run:
//   prepare()   everything that allocates or can fail in ordinary ways happens
//               here, in the parent: environment, executable lookup, rlimit
//               values, pipes, stdin. The child must not allocate.
//   spawn()     fork under the registry lock; the child runs child_main(),
//               which only makes async-signal-safe calls, then execve().
//   supervise() poll the output pipes, the exec-status pipe and a pidfd until
//               the direct child exits, enforcing wall, CPU, output and
//               cancellation (SIGKILL to the whole process group).
//   finish()    kill what is left of the group and every orphan adopted by us
//               as subreaper, drain the pipes, reap the child with wait4().
//   classify()  turn the wait status and what we did into a Termination.
#include "sandbox/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace ratchet::sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// ratchet::Result<T> is hidden by sandbox::Result inside this namespace.
template <class T>
using Expected = ratchet::Result<T>;
using ratchet::fail;

constexpr const char* kIsolation = "process-group+rlimits";
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
// Cancellation and CPU time are polled; the brief allows 50 ms of latency.
constexpr Millis kTick{50};
// Once the tree is dead every writer is gone and EOF is immediate; the bound
// only matters if a pipe end leaked somewhere we cannot kill.
constexpr Millis kDrainGrace{250};
constexpr size_t kReadChunk = 64 * 1024;
// Child exit status when it fails before execve (same as a shell's).
constexpr int kChildSetupExit = 127;

std::string error_text(int error) {
  // strerrordesc_np is thread-safe, unlike strerror.
  const char* text = strerrordesc_np(error);
  return text ? text : "error " + std::to_string(error);
}

double to_ms(const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; }

// ---------------------------------------------------------------------------
// Small RAII file descriptor.

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // close() errors are not actionable: on Linux the descriptor is released
  // even when close reports EINTR or EIO.
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// Both ends close-on-exec so that a concurrent run's child never keeps our
// pipe open past its own execve; the read end is non-blocking for poll().
Expected<Pipe> make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return fail("cannot create a pipe: " + error_text(errno));
  Pipe pipe{Fd(fds[0]), Fd(fds[1])};
  int flags = fcntl(pipe.read.get(), F_GETFL);
  if (flags < 0 || fcntl(pipe.read.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return fail("cannot make a pipe non-blocking: " + error_text(errno));
  }
  return pipe;
}

// ---------------------------------------------------------------------------
// Process-wide state.

// Direct children started by run(), so that one run's orphan collection never
// reaps another run's child. fork() and registration happen under the same
// lock as orphan collection, so a collector never sees an unregistered child.
struct Registry {
  std::mutex mutex;
  std::set<pid_t> direct_children;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

// Orphans of a command (double-forked daemons, setsid'd grandchildren) are
// reparented to the nearest subreaper; being one is what lets us kill them.
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

// CPU time of the direct child plus the children it has already reaped.
std::optional<int64_t> polled_cpu_ms(pid_t pid) {
  static const long ticks_per_second = sysconf(_SC_CLK_TCK);
  auto stat = read_proc_stat(pid);
  if (!stat || ticks_per_second <= 0) return std::nullopt;
  long long ticks = stat->utime + stat->stime + stat->cutime + stat->cstime;
  return ticks * 1000 / ticks_per_second;
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
void reap(pid_t pid, int* status = nullptr, rusage* usage = nullptr) {
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

// ---------------------------------------------------------------------------
// The child side. Everything here runs between fork and execve in a copy of a
// multi-threaded process: only async-signal-safe calls, no allocation.

enum class ChildStep : int {
  session,
  signals,
  death_signal,
  descriptors,
  isolation,
  workdir,
  limits,
  exec,
};

// Sent over the close-on-exec status pipe when the child fails before exec;
// EOF without a report means execve succeeded.
struct ChildReport {
  int step;
  int error;
  int detail;  // ChildStep::limits: index into ChildPlan::limits
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
};

[[noreturn]] void child_fail(int status_fd, ChildStep step, int detail = 0) {
  ChildReport report{static_cast<int>(step), errno, detail};
  // If even this write fails, the exit status below still tells the parent.
  [[maybe_unused]] ssize_t written = write(status_fd, &report, sizeof report);
  _exit(kChildSetupExit);
}

// Ignored signals and the blocked mask survive execve; the command must start
// with default dispositions (e.g. SIGPIPE ignored by a parent would break
// `yes | head`).
bool reset_signals() {
  sigset_t empty;
  if (sigemptyset(&empty) < 0 || sigprocmask(SIG_SETMASK, &empty, nullptr) < 0) return false;
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    // glibc reserves a few real-time signals and answers EINVAL for them.
    if (sigaction(sig, &action, nullptr) < 0 && errno != EINVAL) return false;
  }
  return true;
}

// dup2 onto 0..3 must not clobber a source that already sits there.
bool move_above(int& fd, int minimum) {
  if (fd >= minimum) return true;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, minimum);
  if (moved < 0) return false;
  fd = moved;
  return true;
}

// stdin/stdout/stderr on 0..2, the status pipe on 3 (still close-on-exec),
// everything else closed.
bool install_descriptors(const ChildPlan& plan, int& status_fd) {
  int in = plan.stdin_fd, out = plan.stdout_fd, err = plan.stderr_fd;
  constexpr int kFirstFree = 4;
  if (!move_above(in, kFirstFree) || !move_above(out, kFirstFree) ||
      !move_above(err, kFirstFree) || !move_above(status_fd, kFirstFree)) {
    return false;
  }
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) return false;
  if (dup3(status_fd, 3, O_CLOEXEC) < 0) return false;
  status_fd = 3;
  if (close_range(kFirstFree, ~0U, 0) == 0) return true;
  if (errno != ENOSYS) return false;
  for (int fd = kFirstFree; fd < plan.max_fd; ++fd) close(fd);
  return true;
}

[[noreturn]] void child_main(const ChildPlan& plan) {
  int status_fd = plan.status_fd;
  // A new session and process group: kill(-pid) then reaches the command and
  // every descendant that does not leave the group itself.
  if (setsid() < 0) child_fail(status_fd, ChildStep::session);
  if (!reset_signals()) child_fail(status_fd, ChildStep::signals);
  // Dies with ratchet. The "parent" here is the forking *thread*; run() blocks
  // that thread until the child is reaped, so it cannot exit first.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) child_fail(status_fd, ChildStep::death_signal);
  if (getppid() != plan.parent) _exit(kChildSetupExit);  // ratchet died before the prctl
  if (!install_descriptors(plan, status_fd)) child_fail(status_fd, ChildStep::descriptors);

  // Isolation goes here (later task): unshare namespaces, set up mounts and
  // pivot_root, join the cgroup. Ordering constraints: chdir must follow
  // pivot_root, and seccomp must be the last step before execve.

  if (chdir(plan.workdir.c_str()) < 0) child_fail(status_fd, ChildStep::workdir);
  // RLIMIT_NPROC counts every process of the real uid and is not enforced for
  // root (or CAP_SYS_RESOURCE), which is how the dev machines run: there it is
  // set but inert; cgroups' pids.max will enforce it later.
  for (int i = 0; i < plan.limit_count; ++i) {
    if (setrlimit(plan.limits[i].resource, &plan.limits[i].value) < 0) {
      child_fail(status_fd, ChildStep::limits, i);
    }
  }
  execve(plan.executable.c_str(), plan.argv.data(), plan.envp.data());
  child_fail(status_fd, ChildStep::exec);
}

// ---------------------------------------------------------------------------
// Preparation (parent side, before fork).

bool contains_nul(const std::string& text) { return text.find('\0') != std::string::npos; }

std::string cannot_execute(const std::string& name, int error) {
  return "cannot execute '" + name + "': " + error_text(error);
}

// Exactly PATH, HOME and LANG, then spec.env (which may override them).
Expected<std::vector<std::string>> build_environment(const Spec& spec, const fs::path& workdir,
                                                     std::string& path_value) {
  std::vector<std::pair<std::string, std::string>> vars = {
      {"PATH", kDefaultPath}, {"HOME", workdir.string()}, {"LANG", "C"}};
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos || contains_nul(name) ||
        contains_nul(value)) {
      return fail("invalid environment variable name '" + name + "'");
    }
    auto existing = std::find_if(vars.begin(), vars.end(),
                                 [&](const auto& var) { return var.first == name; });
    if (existing != vars.end()) {
      existing->second = value;
    } else {
      vars.emplace_back(name, value);
    }
  }
  std::vector<std::string> entries;
  for (const auto& [name, value] : vars) {
    if (name == "PATH") path_value = value;
    entries.push_back(name + "=" + value);
  }
  return entries;
}

// execvp semantics, but against the command's PATH rather than ratchet's;
// relative entries (and the empty entry) are relative to the workdir, where
// the command will run.
Expected<std::string> resolve_executable(const std::string& name, const std::string& path_value,
                                         const fs::path& workdir) {
  if (name.empty()) return fail("empty command name");
  if (name.find('/') != std::string::npos) {
    fs::path path(name);
    return (path.is_absolute() ? path : workdir / path).string();
  }
  int error = ENOENT;
  size_t begin = 0;
  while (begin <= path_value.size()) {
    size_t end = path_value.find(':', begin);
    if (end == std::string::npos) end = path_value.size();
    fs::path dir = path_value.substr(begin, end - begin);
    begin = end + 1;
    if (dir.empty() || dir.is_relative()) dir = workdir / dir;
    std::string candidate = (dir / name).string();
    struct stat info;
    if (stat(candidate.c_str(), &info) < 0 || !S_ISREG(info.st_mode)) continue;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    error = EACCES;  // like execvp: a non-executable match is reported as such
  }
  return fail(cannot_execute(name, error));
}

// Requested limits, clamped to the current hard limits (an unprivileged
// ratchet may not raise them).
ratchet::Status add_limit(ChildPlan& plan, int resource, const char* name, rlim_t soft,
                          rlim_t hard) {
  rlimit current;
  if (getrlimit(resource, &current) < 0) {
    return fail(std::string("cannot read ") + name + ": " + error_text(errno));
  }
  if (current.rlim_max != RLIM_INFINITY) {
    soft = std::min(soft, current.rlim_max);
    hard = std::min(hard, current.rlim_max);
  }
  plan.limits[plan.limit_count++] = LimitSetting{resource, name, rlimit{soft, hard}};
  return ratchet::Ok{};
}

ratchet::Status plan_limits(ChildPlan& plan, const Limits& limits) {
  constexpr rlim_t kMiB = rlim_t{1} << 20;
  struct Wanted {
    int resource;
    const char* name;
    int64_t amount;
    rlim_t unit;
  };
  const Wanted wanted[] = {
      {RLIMIT_AS, "RLIMIT_AS", limits.memory_mb, kMiB},
      {RLIMIT_NPROC, "RLIMIT_NPROC", limits.processes, 1},
      {RLIMIT_NOFILE, "RLIMIT_NOFILE", limits.open_files, 1},
      {RLIMIT_FSIZE, "RLIMIT_FSIZE", limits.file_size_mb, kMiB},
  };
  for (const auto& limit : wanted) {
    if (limit.amount <= 0) continue;
    rlim_t value = static_cast<rlim_t>(limit.amount) * limit.unit;
    auto status = add_limit(plan, limit.resource, limit.name, value, value);
    if (!status) return status;
  }
  if (limits.cpu_ms > 0) {
    // Whole seconds, rounded up. The soft limit sends SIGXCPU, the hard one
    // a second later SIGKILL; the parent's polling usually acts first.
    rlim_t seconds = static_cast<rlim_t>((limits.cpu_ms + 999) / 1000);
    auto status = add_limit(plan, RLIMIT_CPU, "RLIMIT_CPU", seconds, seconds + 1);
    if (!status) return status;
  }
  return add_limit(plan, RLIMIT_CORE, "RLIMIT_CORE", 0, 0);
}

std::string describe_child_failure(const ChildReport& report, const ChildPlan& plan,
                                   const std::string& command) {
  std::string reason = error_text(report.error);
  switch (static_cast<ChildStep>(report.step)) {
    case ChildStep::exec: return cannot_execute(command, report.error);
    case ChildStep::workdir: return "cannot enter workdir '" + plan.workdir + "': " + reason;
    case ChildStep::limits:
      if (report.detail >= 0 && report.detail < plan.limit_count) {
        return std::string("cannot set ") + plan.limits[report.detail].name + ": " + reason;
      }
      return "cannot set a resource limit: " + reason;
    case ChildStep::session: return "setsid failed: " + reason;
    case ChildStep::signals: return "cannot reset signal handling: " + reason;
    case ChildStep::death_signal: return "cannot set the parent-death signal: " + reason;
    case ChildStep::descriptors: return "cannot set up file descriptors: " + reason;
    case ChildStep::isolation: return "isolation failed: " + reason;
  }
  return "child setup failed: " + reason;
}

bool looks_out_of_memory(const Result& result, const Limits& limits) {
  // Under RLIMIT_AS an allocation failure surfaces as the program's own
  // message (C++, libc, awk, sort, gcc...) or as a crash; the messages are the
  // reliable evidence, a peak RSS near the limit the fallback.
  static constexpr std::string_view kMarkers[] = {"std::bad_alloc", "cannot allocate memory",
                                                  "out of memory", "memory exhausted"};
  std::string text = result.stderr_text;
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto marker : kMarkers) {
    if (text.find(marker) != std::string::npos) return true;
  }
  return limits.memory_mb > 0 && result.peak_memory_kb >= limits.memory_mb * 1024 * 9 / 10;
}

// ---------------------------------------------------------------------------
// One run.

enum class KillReason { none, cancelled, wall, cpu, output };

struct Stream {
  Fd fd;
  std::string* text = nullptr;
  bool* truncated = nullptr;
};

class Runner {
 public:
  explicit Runner(const Spec& spec) : spec_(spec) { result_.isolation = kIsolation; }

  Result execute() {
    if (auto status = prepare(); !status) return setup_failed(status.error());
    if (auto status = spawn(); !status) return setup_failed(status.error());
    supervise();
    finish();
    classify();
    return std::move(result_);
  }

 private:
  Result setup_failed(const std::string& message) {
    result_.termination = Termination::setup_error;
    result_.setup_error = message;
    return std::move(result_);
  }

  ratchet::Status prepare();
  ratchet::Status open_stdin();
  ratchet::Status spawn();
  void supervise();
  bool child_exited();
  void enforce_limits(Clock::time_point deadline);
  void wait_for_events(Clock::time_point deadline);
  bool read_stream(Stream& stream);
  void read_status();
  void kill_tree(KillReason reason);
  void drain_streams();
  void finish();
  void classify();

  const Spec& spec_;
  Result result_;
  ChildPlan plan_;
  Fd stdin_;
  Pipe status_pipe_;
  Fd stdout_write_, stderr_write_;
  Stream stdout_, stderr_;
  pid_t pid_ = -1;
  Fd pidfd_;  // readable when the child exits; invalid on kernels without pidfd
  Clock::time_point start_;
  KillReason killed_ = KillReason::none;
  std::optional<ChildReport> child_failure_;
  bool child_lost_ = false;  // reaped behind our back (SIGCHLD ignored, waitpid(-1))
  int wait_status_ = 0;
  rusage usage_{};
};

ratchet::Status Runner::prepare() {
  if (auto status = become_subreaper(); !status) return status;
  if (spec_.argv.empty()) return fail("empty command");
  for (const auto& arg : spec_.argv) {
    if (contains_nul(arg)) return fail("command argument contains a NUL byte");
  }
  std::error_code error;
  fs::path workdir = fs::absolute(spec_.workdir, error);
  if (spec_.workdir.empty() || error || !fs::is_directory(workdir, error)) {
    return fail("workdir '" + spec_.workdir.string() + "' does not exist or is not a directory");
  }
  plan_.workdir = workdir.string();
  plan_.parent = getpid();

  std::string path_value;
  auto env = build_environment(spec_, workdir, path_value);
  if (!env) return fail(env.error());
  auto executable = resolve_executable(spec_.argv[0], path_value, workdir);
  if (!executable) return fail(executable.error());
  plan_.executable = *executable;
  plan_.env_storage = std::move(*env);
  plan_.argv_storage = spec_.argv;
  for (auto& arg : plan_.argv_storage) plan_.argv.push_back(arg.data());
  plan_.argv.push_back(nullptr);
  for (auto& entry : plan_.env_storage) plan_.envp.push_back(entry.data());
  plan_.envp.push_back(nullptr);

  if (auto status = plan_limits(plan_, spec_.limits); !status) return status;
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    plan_.max_fd = static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20));
  }

  if (auto status = open_stdin(); !status) return status;
  auto out = make_pipe();
  if (!out) return fail(out.error());
  auto err = make_pipe();
  if (!err) return fail(err.error());
  auto status_pipe = make_pipe();
  if (!status_pipe) return fail(status_pipe.error());
  stdout_ = Stream{std::move(out->read), &result_.stdout_text, &result_.stdout_truncated};
  stderr_ = Stream{std::move(err->read), &result_.stderr_text, &result_.stderr_truncated};
  stdout_write_ = std::move(out->write);
  stderr_write_ = std::move(err->write);
  status_pipe_ = std::move(*status_pipe);

  plan_.stdin_fd = stdin_.get();
  plan_.stdout_fd = stdout_write_.get();
  plan_.stderr_fd = stderr_write_.get();
  plan_.status_fd = status_pipe_.write.get();
  return ratchet::Ok{};
}

ratchet::Status Runner::open_stdin() {
  std::string path = spec_.stdin_file ? spec_.stdin_file->string() : "/dev/null";
  // O_NONBLOCK so that a FIFO without a writer cannot hang ratchet here; it
  // is cleared again so the command sees an ordinary blocking stdin.
  stdin_ = Fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!stdin_.valid()) return fail("cannot open stdin file '" + path + "': " + error_text(errno));
  int flags = fcntl(stdin_.get(), F_GETFL);
  if (flags < 0 || fcntl(stdin_.get(), F_SETFL, flags & ~O_NONBLOCK) < 0) {
    return fail("cannot configure stdin file '" + path + "': " + error_text(errno));
  }
  return ratchet::Ok{};
}

ratchet::Status Runner::spawn() {
  Registry& reg = registry();
  {
    std::lock_guard lock(reg.mutex);
    start_ = Clock::now();
    pid_ = fork();
    if (pid_ == 0) child_main(plan_);
    if (pid_ < 0) return fail("cannot fork: " + error_text(errno));
    reg.direct_children.insert(pid_);
  }
  // Our copies of the child's ends: keeping them would hide EOF.
  stdin_.reset();
  stdout_write_.reset();
  stderr_write_.reset();
  status_pipe_.write.reset();
  // Safe: the child is ours and unreaped, so its pid cannot be reused.
  // Raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C". ENOSYS on old
  // kernels leaves pidfd_ invalid and exit is then noticed at the next tick.
  pidfd_ = Fd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
  return ratchet::Ok{};
}

void Runner::supervise() {
  const Clock::time_point deadline =
      spec_.limits.wall_ms > 0 ? start_ + Millis(spec_.limits.wall_ms) : Clock::time_point::max();
  while (!child_exited()) {
    if (killed_ == KillReason::none) enforce_limits(deadline);
    wait_for_events(deadline);
  }
}

// Without reaping (WNOWAIT): the zombie keeps the pid and the process group id
// reserved, so finish() can still signal -pid safely.
bool Runner::child_exited() {
  siginfo_t info{};
  while (waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
    if (errno == EINTR) continue;
    child_lost_ = true;
    return true;
  }
  return info.si_pid == pid_;
}

void Runner::enforce_limits(Clock::time_point deadline) {
  if (spec_.cancel && spec_.cancel->load(std::memory_order_acquire)) {
    kill_tree(KillReason::cancelled);
  } else if (Clock::now() >= deadline) {
    kill_tree(KillReason::wall);
  } else if (spec_.limits.cpu_ms > 0) {
    auto cpu = polled_cpu_ms(pid_);
    if (cpu && *cpu > spec_.limits.cpu_ms) kill_tree(KillReason::cpu);
  }
}

void Runner::wait_for_events(Clock::time_point deadline) {
  auto timeout = kTick;
  if (killed_ == KillReason::none && deadline != Clock::time_point::max()) {
    auto left = std::chrono::ceil<Millis>(deadline - Clock::now());
    timeout = std::clamp(left, Millis(0), kTick);
  }
  std::array<pollfd, 4> fds{};
  nfds_t count = 0;
  for (int fd : {stdout_.fd.get(), stderr_.fd.get(), status_pipe_.read.get(), pidfd_.get()}) {
    if (fd >= 0) fds[count++] = pollfd{fd, POLLIN, 0};
  }
  if (poll(fds.data(), count, static_cast<int>(timeout.count())) <= 0) return;  // EINTR: loop
  if (stdout_.fd.valid() && !read_stream(stdout_)) kill_tree(KillReason::output);
  if (stderr_.fd.valid() && !read_stream(stderr_)) kill_tree(KillReason::output);
  if (status_pipe_.read.valid()) read_status();
}

// Reads what is available. Returns false when the stream went over its cap:
// the excess is discarded, the stream closed and flagged truncated.
bool Runner::read_stream(Stream& stream) {
  const int64_t cap = spec_.limits.output_bytes;
  char buffer[kReadChunk];
  while (true) {
    ssize_t n = read(stream.fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) {  // EOF, or an error that makes the pipe useless
      stream.fd.reset();
      return true;
    }
    size_t keep = static_cast<size_t>(n);
    if (cap > 0) {
      size_t room = static_cast<size_t>(cap) - std::min(stream.text->size(), size_t(cap));
      keep = std::min(keep, room);
    }
    stream.text->append(buffer, keep);
    if (keep < static_cast<size_t>(n)) {
      *stream.truncated = true;
      stream.fd.reset();
      return false;
    }
  }
}

void Runner::read_status() {
  ChildReport report;
  ssize_t n;
  do {
    n = read(status_pipe_.read.get(), &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return;
  if (n == sizeof report) child_failure_ = report;
  status_pipe_.read.reset();  // EOF (exec succeeded), a report, or unusable
}

void Runner::kill_tree(KillReason reason) {
  if (killed_ == KillReason::none) killed_ = reason;
  // The group may not exist yet if the child has not reached setsid(), hence
  // the direct kill too; both ids are reserved while the child is unreaped.
  kill_ignoring_gone(-pid_);
  kill_ignoring_gone(pid_);
}

void Runner::drain_streams() {
  const auto deadline = Clock::now() + kDrainGrace;
  while (stdout_.fd.valid() || stderr_.fd.valid()) {
    auto left = std::chrono::ceil<Millis>(deadline - Clock::now());
    if (left <= Millis(0)) break;
    std::array<pollfd, 2> fds{};
    nfds_t count = 0;
    for (int fd : {stdout_.fd.get(), stderr_.fd.get()}) {
      if (fd >= 0) fds[count++] = pollfd{fd, POLLIN, 0};
    }
    if (poll(fds.data(), count, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    if (stdout_.fd.valid() && !read_stream(stdout_) && killed_ == KillReason::none) {
      killed_ = KillReason::output;
    }
    if (stderr_.fd.valid() && !read_stream(stderr_) && killed_ == KillReason::none) {
      killed_ = KillReason::output;
    }
  }
  stdout_.fd.reset();
  stderr_.fd.reset();
}

void Runner::finish() {
  result_.wall_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
  // The command is done; whatever it left running in its group goes now.
  kill_ignoring_gone(-pid_);
  collect_orphans(pid_);
  drain_streams();
  if (status_pipe_.read.valid()) read_status();  // written before exit, so already there
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  if (!child_lost_) reap(pid_, &wait_status_, &usage_);
  // Unregistered only once reaped: until then a collector must keep its hands off.
  reg.direct_children.erase(pid_);
}

void Runner::classify() {
  Result& r = result_;
  if (child_failure_) {
    r.termination = Termination::setup_error;
    r.setup_error = describe_child_failure(*child_failure_, plan_, spec_.argv[0]);
    return;
  }
  if (child_lost_) {
    r.termination = Termination::setup_error;
    r.setup_error = "the command's process was reaped outside the sandbox";
    return;
  }
  r.user_ms = to_ms(usage_.ru_utime);
  r.sys_ms = to_ms(usage_.ru_stime);
  r.cpu_ms = r.user_ms + r.sys_ms;
  r.peak_memory_kb = usage_.ru_maxrss;  // kilobytes on Linux
  if (WIFEXITED(wait_status_)) r.exit_code = WEXITSTATUS(wait_status_);
  if (WIFSIGNALED(wait_status_)) r.signal = WTERMSIG(wait_status_);

  const Limits& limits = spec_.limits;
  // What we did takes precedence: a SIGKILL from us is not the command's crash.
  switch (killed_) {
    case KillReason::cancelled: r.termination = Termination::cancelled; return;
    case KillReason::wall:
      r.termination = Termination::wall_timeout;
      r.limit = limits.wall_ms;
      return;
    case KillReason::cpu:
      r.termination = Termination::cpu_timeout;
      r.limit = limits.cpu_ms;
      return;
    case KillReason::output:
      r.termination = Termination::output_limit;
      r.limit = limits.output_bytes;
      return;
    case KillReason::none: break;
  }
  // RLIMIT_CPU fired: SIGXCPU at the soft limit, SIGKILL at the hard one.
  bool over_cpu = limits.cpu_ms > 0 && r.cpu_ms >= limits.cpu_ms;
  if (r.signal == SIGXCPU || (r.signal == SIGKILL && over_cpu)) {
    r.termination = Termination::cpu_timeout;
    r.limit = limits.cpu_ms;
  } else if ((r.signal != 0 || r.exit_code != 0) && looks_out_of_memory(r, limits)) {
    r.termination = Termination::memory;
    r.limit = limits.memory_mb;
  } else if (r.signal != 0) {
    r.termination = Termination::signal;
  } else {
    r.termination = Termination::ok;
  }
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

const char* to_string(Termination termination) {
  switch (termination) {
    case Termination::ok: return "ok";
    case Termination::wall_timeout: return "wall-timeout";
    case Termination::cpu_timeout: return "cpu-timeout";
    case Termination::memory: return "memory";
    case Termination::output_limit: return "output-limit";
    case Termination::signal: return "signal";
    case Termination::setup_error: return "setup-error";
    case Termination::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string Result::describe() const {
  auto limit_or = [&](double measured) {
    return std::to_string(limit > 0 ? limit : static_cast<int64_t>(measured));
  };
  switch (termination) {
    case Termination::ok: return "exit " + std::to_string(exit_code);
    case Termination::wall_timeout: return "wall-clock timeout after " + limit_or(wall_ms) + " ms";
    case Termination::cpu_timeout: return "CPU time limit (" + limit_or(cpu_ms) + " ms) exceeded";
    case Termination::memory:
      return limit > 0 ? "out of memory (limit " + std::to_string(limit) + " MB)"
                       : "out of memory";
    case Termination::output_limit:
      return limit > 0 ? "output limit (" + std::to_string(limit) + " bytes) exceeded"
                       : "output limit exceeded";
    case Termination::signal: return "killed by " + signal_name(signal);
    case Termination::setup_error: return "sandbox setup failed: " + setup_error;
    case Termination::cancelled: return "cancelled";
  }
  return "unknown termination";
}

Result run(const Spec& spec) { return Runner(spec).execute(); }

}  // namespace ratchet::sandbox
