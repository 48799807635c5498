// One run: prepare, spawn, supervise, kill the whole tree, reap, classify.
//
// Life of a run:
//   choose_level() the highest isolation level this process can still reach
//               (each refused kernel step lowers it once, with a warning).
//   prepare()   everything that allocates or can fail in ordinary ways happens
//               here, in the parent: environment, executable lookup, rlimit
//               values, pipes, stdin, the mount plan, the seccomp filter, a
//               cgroup slot. The child must not allocate.
//   spawn()     fork (process-group level) or clone into new namespaces under
//               the registry lock (at level full on the slot thread, so the
//               init is born in the slot's cgroups and network namespace);
//               open the perf counters if asked; with namespaces, wait for
//               the init to be ready, write its id maps, say "go".
//   supervise() poll the output pipes, the status pipe and a pidfd until the
//               direct child exits, enforcing wall, CPU, output and
//               cancellation (SIGKILL to the direct child and its group; with
//               namespaces the direct child is the pid namespace's init, whose
//               death kills every process in it, setsid or not).
//   finish()    kill what is left of the group and every orphan adopted by us
//               as subreaper, drain the pipes, reap the child with wait4().
//   classify()  turn the wait status and what we did into a Termination.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>

#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox/fd.h"
#include "sandbox/namespaces.h"
#include "sandbox/perf_counters.h"
#include "sandbox/plan.h"
#include "sandbox/process_tree.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_filter.h"

namespace ratchet::sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using ratchet::fail;

// Cancellation and CPU time are polled; the brief allows 50 ms of latency.
constexpr Millis kTick{50};
// Once the tree is dead every writer is gone and EOF is immediate; the bound
// only matters if a pipe end leaked somewhere we cannot kill.
constexpr Millis kDrainGrace{250};
// How long the init may take to build its mount tree before we give up.
constexpr Millis kSetupTimeout{10'000};
// How long the init may take to kill and reap its namespace.
constexpr Millis kKillGrace{1'000};
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kCandidateStack = 64 * 1024;

double to_ms(const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; }

// ---------------------------------------------------------------------------
// What this process can reach. Starts at full (for root) and only goes down,
// each step with one warning.

std::atomic<int> g_available{-1};

int initial_level() {
  if (geteuid() != 0) {
    std::fprintf(stderr,
                 "ratchet: warning: sandbox: running as uid %d, not root: rootless mode "
                 "(a user namespace of uid %d with pid, mount, net, ipc and uts namespaces, "
                 "the sandbox's mount tree, no_new_privs and seccomp; no cgroups, so memory "
                 "is limited per process by RLIMIT_AS and processes by RLIMIT_NPROC, and "
                 "commands run as uid %d on the host); isolation level rootless\n",
                 static_cast<int>(geteuid()), static_cast<int>(geteuid()),
                 static_cast<int>(geteuid()));
    return static_cast<int>(Isolation::rootless);
  }
  return static_cast<int>(Isolation::full);
}

// The next level down from `level`. Root skips rootless: its user namespace
// would map the sandbox onto host root.
int level_below(int level) {
  int below = level - 1;
  if (below == static_cast<int>(Isolation::rootless) && geteuid() == 0) --below;
  return below;
}

Isolation available_level() {
  static std::once_flag once;
  std::call_once(once, [] { g_available = initial_level(); });
  return static_cast<Isolation>(g_available.load());
}

// Lowers the reachable level to below `failed`, warning once per level.
void refuse_level(Isolation failed, const std::string& reason) {
  int level = static_cast<int>(failed);
  int current = g_available.load();
  while (current >= level && !g_available.compare_exchange_weak(current, level_below(level))) {
  }
  if (current < level) return;  // another thread lowered it already
  std::fprintf(stderr, "ratchet: warning: sandbox: %s; continuing at isolation level %s\n",
               reason.c_str(), to_string(static_cast<Isolation>(level_below(level))));
}

// ---------------------------------------------------------------------------

enum class KillReason { none, cancelled, wall, cpu, output };

struct Stream {
  Fd fd;
  std::string* text = nullptr;
  bool* truncated = nullptr;
};

class Runner {
 public:
  Runner(const Spec& spec, Isolation level) : spec_(spec), level_(level) {}

  Result execute() {
    result_.isolation = to_string(level_);
    if (auto status = prepare(); !status) return setup_failed(status.error());
    if (auto status = spawn(); !status) return setup_failed(status.error());
    supervise();
    finish();
    classify();
    return std::move(result_);
  }

  // Set when the kernel refused an isolation step before the command started:
  // run() then retries at the lower level.
  std::optional<Isolation> refused() const { return refused_; }

 private:
  bool isolated() const { return level_ >= Isolation::rootless; }
  bool rootless() const { return level_ == Isolation::rootless; }
  Result setup_failed(const std::string& message) {
    result_.termination = Termination::setup_error;
    result_.setup_error = message;
    return std::move(result_);
  }

  ratchet::Status prepare();
  ratchet::Status prepare_isolation();
  ratchet::Status open_stdin();
  ratchet::Status spawn();
  void start_child();
  int clone_flags() const;
  bool wait_until_ready();
  bool open_counters();
  bool say_go();
  void release_init();
  void supervise();
  bool child_exited();
  void enforce_limits(Clock::time_point deadline);
  void wait_for_events(Clock::time_point deadline);
  bool read_stream(Stream& stream);
  void read_reports();
  void kill_tree(KillReason reason);
  void enforce_kill();
  void drain_streams();
  void finish();
  void classify();
  bool classify_killed();

  const Spec& spec_;
  Isolation level_;
  std::optional<Isolation> refused_;
  Result result_;
  ChildPlan plan_;
  std::optional<MountPlan> mounts_;
  std::optional<CgroupLease> cgroup_;
  CgroupUsage cgroup_usage_;
  std::optional<PerfCounters> counters_;
  std::string counter_error_;
  Fd stdin_;
  Pipe status_pipe_, go_pipe_;
  Fd stdout_write_, stderr_write_;
  Stream stdout_, stderr_;
  pid_t pid_ = -1;
  int spawn_error_ = 0;  // errno of a failed clone or fork
  Fd pidfd_;  // readable when the child exits; invalid on kernels without pidfd
  Clock::time_point start_;
  KillReason killed_ = KillReason::none;
  std::optional<Clock::time_point> kill_sent_;  // SIGUSR1 to the init
  std::optional<ChildReport> child_failure_;
  std::optional<int> command_status_;  // reported by the init
  bool ready_ = false;
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
  workdir = workdir.lexically_normal();
  if (workdir.has_filename() == false && workdir != workdir.root_path()) {
    workdir = workdir.parent_path();
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
  if (auto status = plan_cpus(plan_, spec_.cpus); !status) return status;
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    plan_.max_fd = static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20));
  }
  if (isolated()) {
    if (auto status = prepare_isolation(); !status) return status;
  } else if (spec_.count_events) {
    // The child waits until the counters are open before it execs.
    auto go = make_pipe(/*blocking_read=*/true);
    if (!go) return fail(go.error());
    go_pipe_ = std::move(*go);
    plan_.go_fd = go_pipe_.read.get();
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

// The mount plan (bad paths are the caller's setup errors), the work dir for
// the sandbox uid, the filter, the go pipe, and a cgroup slot (whose absence
// lowers the level rather than failing the run).
ratchet::Status Runner::prepare_isolation() {
  auto mounts = plan_mounts(plan_.workdir, spec_.read_only, spec_.writable);
  if (!mounts) return fail(mounts.error());
  mounts_ = std::move(*mounts);
  // Rootless: the work dir is already ours, and our uid is the sandbox uid
  // inside the user namespace.
  if (!rootless()) {
    if (auto status = give_workdir(plan_.workdir); !status) return status;
  }
  auto filter = seccomp_program(spec_.network);
  if (!filter) return fail(filter.error());
  auto go = make_pipe(/*blocking_read=*/true);
  if (!go) return fail(go.error());
  go_pipe_ = std::move(*go);
  plan_.mounts = &*mounts_;
  plan_.seccomp = *filter;
  plan_.go_fd = go_pipe_.read.get();
  plan_.uid = kSandboxUid;
  plan_.gid = kSandboxGid;
  plan_.rootless = rootless();
  plan_.candidate_stack.resize(kCandidateStack);
  if (level_ < Isolation::full) return ratchet::Ok{};
  auto lease = acquire_cgroup();
  if (lease) {
    cgroup_.emplace(std::move(*lease));
    // +1: the init counts against pids.max too.
    auto status = cgroup_->prepare(spec_.limits, 1);
    if (status && spec_.network && cgroup_->host_network() < 0) {
      status = fail("cannot open ratchet's network namespace");
    }
    if (status) {
      // The cgroup limits what the tree really uses; an address-space limit
      // per process would only break big reservations (sanitizers, JITs).
      drop_limit(plan_, RLIMIT_AS);
      if (spec_.network) plan_.join_network = cgroup_->host_network();
      return ratchet::Ok{};
    }
    cgroup_.reset();
    refuse_level(Isolation::full, "cgroup limits refused (" + status.error() + ")");
  } else {
    refuse_level(Isolation::full, "no cgroups (" + lease.error() + ")");
  }
  level_ = Isolation::namespaces;
  result_.isolation = to_string(level_);
  if (level_ < spec_.required) return fail("isolation level 'full' is required but cgroups are unavailable");
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

// With a cgroup slot the network namespace comes from the slot thread (see
// cgroup.h); rootless inits create their user namespace first, which owns
// the others.
int Runner::clone_flags() const {
  int flags = namespace_clone_flags(spec_.network || cgroup_.has_value());
  return rootless() ? flags | CLONE_NEWUSER : flags;
}

void Runner::start_child() {
  auto start = [this] {
    Registry& reg = registry();
    std::lock_guard lock(reg.mutex);
    start_ = Clock::now();
    if (isolated()) {
      pid_ = clone_into_namespaces(clone_flags());
      if (pid_ == 0) isolated_init_main(plan_);
    } else {
      pid_ = fork();
      if (pid_ == 0) child_main(plan_);
    }
    spawn_error_ = errno;
    if (pid_ > 0) reg.direct_children.insert(pid_);
  };
  if (cgroup_) {
    cgroup_->spawn(start);
  } else {
    start();
  }
}

ratchet::Status Runner::spawn() {
  start_child();
  if (pid_ < 0) {
    int error = spawn_error_;
    if (isolated() && (error == EPERM || error == EINVAL || error == ENOSPC)) {
      Isolation failed = rootless() ? Isolation::rootless : Isolation::namespaces;
      refused_ = failed;
      refuse_level(failed, "cannot create namespaces (" + error_text(error) + ")");
    }
    return fail("cannot start the command: " + error_text(error));
  }
  // Our copies of the child's ends: keeping them would hide EOF.
  stdin_.reset();
  stdout_write_.reset();
  stderr_write_.reset();
  status_pipe_.write.reset();
  go_pipe_.read.reset();
  // Safe: the child is ours and unreaped, so its pid cannot be reused.
  // Raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C". ENOSYS on old
  // kernels leaves pidfd_ invalid and exit is then noticed at the next tick.
  pidfd_ = Fd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
  if (isolated()) {
    release_init();
  } else if (spec_.count_events) {
    if (open_counters()) say_go();
    go_pipe_.write.reset();
  }
  return ratchet::Ok{};
}

// On the direct child, which has not exec'd yet (it waits for "go"). A
// failure kills the child; classify() reports the setup error.
bool Runner::open_counters() {
  auto counters = PerfCounters::open(pid_);
  if (!counters) {
    counter_error_ = counters.error();
    kill_tree(KillReason::none);
    return false;
  }
  counters_.emplace(std::move(*counters));
  return true;
}

bool Runner::say_go() {
  char go = 1;
  if (write(go_pipe_.write.get(), &go, 1) == 1) return true;
  kill_tree(KillReason::none);
  return false;
}

// Rootless: writes the init's id maps first (it builds its mount tree only
// then: files it creates need a mapped owner). Otherwise writes them once the
// init has built its mount tree and entered its user namespace. Then lets it
// start the command. The counters are opened while the init waits for us
// (attaching to a task that is not running needs no IPI to its CPU, which
// on a loaded VM costs milliseconds), and, rootless, before it turns
// non-dumpable (which would stop an unprivileged ratchet from opening them).
// Any failure here kills the init; supervise() then reaps it.
void Runner::release_init() {
  if (rootless()) {
    if (spec_.count_events && !open_counters()) return;
    if (auto status = write_id_maps(pid_, /*rootless=*/true); !status) {
      refused_ = Isolation::rootless;
      refuse_level(Isolation::rootless, status.error());
      return kill_tree(KillReason::none);
    }
    if (!say_go()) return;
  }
  if (!wait_until_ready()) return kill_tree(KillReason::none);
  if (!rootless()) {
    if (spec_.count_events && !open_counters()) return;
    if (auto status = write_id_maps(pid_, /*rootless=*/false); !status) {
      refused_ = Isolation::namespaces;
      refuse_level(Isolation::namespaces, status.error());
      return kill_tree(KillReason::none);
    }
  }
  say_go();
  go_pipe_.write.reset();
}

bool Runner::wait_until_ready() {
  const auto deadline = Clock::now() + kSetupTimeout;
  while (!ready_ && !child_failure_ && status_pipe_.read.valid()) {
    auto left = std::chrono::ceil<Millis>(deadline - Clock::now());
    if (left <= Millis(0)) return false;
    pollfd fd{status_pipe_.read.get(), POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    read_reports();
  }
  if (child_failure_ && child_failure_->step == static_cast<int>(ChildStep::isolation)) {
    Isolation failed = rootless() ? Isolation::rootless : Isolation::namespaces;
    refused_ = failed;
    refuse_level(failed, describe_child_failure(*child_failure_, plan_, spec_.argv[0]));
  }
  return ready_;
}

void Runner::supervise() {
  const Clock::time_point deadline =
      spec_.limits.wall_ms > 0 ? start_ + Millis(spec_.limits.wall_ms) : Clock::time_point::max();
  while (!child_exited()) {
    if (killed_ == KillReason::none && !kill_sent_) {
      enforce_limits(deadline);
    } else {
      enforce_kill();
    }
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
  if (status_pipe_.read.valid()) read_reports();
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

// Reports come from the child before exec (a failure), and with isolation
// from the init ("ready", then the command's exit status). The pipe closes
// when the last holder execs or exits.
void Runner::read_reports() {
  while (status_pipe_.read.valid()) {
    ChildReport report;
    ssize_t n = read(status_pipe_.read.get(), &report, sizeof report);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n != sizeof report) {
      status_pipe_.read.reset();
      return;
    }
    if (report.step == static_cast<int>(ChildStep::ready)) {
      ready_ = true;
    } else if (report.step == static_cast<int>(ChildStep::exited)) {
      command_status_ = report.detail;
    } else if (!child_failure_) {
      child_failure_ = report;
    }
  }
}

void Runner::kill_tree(KillReason reason) {
  if (killed_ == KillReason::none) killed_ = reason;
  if (isolated() && !kill_sent_) {
    // The init kills the namespace and reaps it, keeping the CPU time
    // accounted; enforce_kill() falls back to SIGKILL if it does not.
    kill_sent_ = Clock::now();
    if (kill(pid_, SIGUSR1) == 0) return;
  }
  // The group may not exist yet if the child has not reached setsid(), hence
  // the direct kill too; both ids are reserved while the child is unreaped.
  kill_ignoring_gone(-pid_);
  kill_ignoring_gone(pid_);
}

// An init that does not finish within the grace period dies with everything
// in its namespace.
void Runner::enforce_kill() {
  if (kill_sent_ && Clock::now() - *kill_sent_ > kKillGrace) {
    kill_ignoring_gone(-pid_);
    kill_ignoring_gone(pid_);
  }
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
  // The command is done; whatever it left running in its group goes now
  // (with isolation the init has already killed and reaped everything).
  kill_ignoring_gone(-pid_);
  collect_orphans(pid_);
  drain_streams();
  if (status_pipe_.read.valid()) read_reports();  // written before exit, so already there
  {
    Registry& reg = registry();
    std::lock_guard lock(reg.mutex);
    if (!child_lost_) reap(pid_, &wait_status_, &usage_);
    // Unregistered only once reaped: until then a collector must keep its hands off.
    reg.direct_children.erase(pid_);
  }
  if (cgroup_) cgroup_usage_ = cgroup_->finish();
  if (counters_) counters_->read(result_.counters, result_.unavailable_counters);
}

// What we did takes precedence: a SIGKILL from us is not the command's crash.
bool Runner::classify_killed() {
  Result& r = result_;
  const Limits& limits = spec_.limits;
  switch (killed_) {
    case KillReason::cancelled: r.termination = Termination::cancelled; return true;
    case KillReason::wall:
      r.termination = Termination::wall_timeout;
      r.limit = limits.wall_ms;
      return true;
    case KillReason::cpu:
      r.termination = Termination::cpu_timeout;
      r.limit = limits.cpu_ms;
      return true;
    case KillReason::output:
      r.termination = Termination::output_limit;
      r.limit = limits.output_bytes;
      return true;
    case KillReason::none: return false;
  }
  return false;
}

void Runner::classify() {
  Result& r = result_;
  if (!counter_error_.empty()) {
    r.termination = Termination::setup_error;
    r.setup_error = counter_error_;
    return;
  }
  if (child_failure_) {
    r.termination = Termination::setup_error;
    r.setup_error = describe_child_failure(*child_failure_, plan_, spec_.argv[0]);
    return;
  }
  if (child_lost_ || (isolated() && !command_status_ && killed_ == KillReason::none &&
                      !cgroup_usage_.oom_killed)) {
    r.termination = Termination::setup_error;
    r.setup_error = child_lost_ ? "the command's process was reaped outside the sandbox"
                                : "the sandbox's init ended before the command";
    return;
  }
  r.user_ms = to_ms(usage_.ru_utime);
  r.sys_ms = to_ms(usage_.ru_stime);
  r.cpu_ms = r.user_ms + r.sys_ms;
  // ru_maxrss is no measure with a cgroup at hand: an exec'd child's maxrss
  // keeps its pre-exec size, a fork of ratchet itself (the init, or the
  // command's parent), so every run would look as big as the controller.
  r.peak_memory_kb = cgroup_ ? cgroup_usage_.peak_kb : usage_.ru_maxrss;
  int status = command_status_.value_or(wait_status_);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (!command_status_ && isolated()) r.signal = SIGKILL;  // the init died, so did the command
  // The OOM killer having struck is the root cause of whatever followed
  // (a crash, or a parent waiting forever for its killed child).
  if (cgroup_usage_.oom_killed && killed_ != KillReason::cancelled) {
    r.termination = Termination::memory;
    r.limit = spec_.limits.memory_mb;
    return;
  }
  if (classify_killed()) return;

  const Limits& limits = spec_.limits;
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

Result below_required(const Spec& spec, Isolation reachable) {
  Result result;
  result.isolation = to_string(reachable);
  result.setup_error = std::string("isolation level '") + to_string(spec.required) +
                       "' is required but only '" + to_string(reachable) +
                       "' is available (see the warnings above)";
  return result;
}

}  // namespace

Result run(const Spec& spec) {
  while (true) {
    Isolation level = std::min(spec.isolation, available_level());
    if (level == Isolation::rootless && geteuid() == 0) level = Isolation::process_group;
    if (level < spec.required) return below_required(spec, level);
    Runner runner(spec, level);
    Result result = runner.execute();
    // A refused step happens before the command starts, so a retry is safe.
    if (!runner.refused()) return result;
  }
}

}  // namespace ratchet::sandbox
