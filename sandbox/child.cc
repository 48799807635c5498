#include "sandbox/child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "sandbox/seccomp_filter.h"

namespace ratchet::sandbox {
namespace {

[[noreturn]] void child_fail(int status_fd, ChildStep step, int detail = 0) {
  ChildReport report{static_cast<int>(step), errno, detail};
  // If even this write fails, the exit status below still tells the parent.
  [[maybe_unused]] ssize_t written = write(status_fd, &report, sizeof report);
  _exit(kChildSetupExit);
}

void report(int status_fd, ChildStep step, int detail) {
  ChildReport message{static_cast<int>(step), 0, detail};
  [[maybe_unused]] ssize_t written = write(status_fd, &message, sizeof message);
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

// A child is cloned with a copy of ratchet's descriptors, among them those of
// runs being set up on other threads: the write ends of their start pipes
// (with a copy alive, a sibling whose ratchet was killed never sees EOF and
// waits forever) and the benchmark lock. Keep only 0..2 and `keep` (-1s are
// ignored); close everything else before waiting on anything.
bool close_foreign_descriptors(std::array<int, 6> keep, int max_fd) {
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;  // first descriptor not yet kept or closed
  auto close_up_to = [&](unsigned last) {  // closes [next, last]
    if (last < next) return true;
    if (close_range(next, last, 0) == 0) return true;
    if (errno != ENOSYS) return false;
    for (unsigned fd = next; fd <= last && fd < static_cast<unsigned>(max_fd); ++fd) close(static_cast<int>(fd));
    return true;
  };
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (!close_up_to(static_cast<unsigned>(fd) - 1)) return false;
    next = static_cast<unsigned>(fd) + 1;
  }
  return close_up_to(~0U);
}

// RLIMIT_NPROC counts every process of the real uid and is not enforced for
// root (or CAP_SYS_RESOURCE): in process-group mode on a root ratchet it is
// set but inert; isolated runs have a non-root uid and the pids cgroup.
void apply_limits(const ChildPlan& plan, int status_fd) {
  for (int i = 0; i < plan.limit_count; ++i) {
    if (setrlimit(plan.limits[i].resource, &plan.limits[i].value) < 0) {
      child_fail(status_fd, ChildStep::limits, i);
    }
  }
}

// Raw calls: glibc's set*id wrappers would try to synchronize with threads
// that only exist in the parent.
bool become_sandbox_user(const ChildPlan& plan) {
  if (syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) < 0) return false;
  if (syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) < 0) return false;
  // The uid change alone keeps the user namespace's capabilities until execve
  // (the namespace has no uid 0); drop them now, before the filter goes on.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  return syscall(SYS_capset, &header, data) == 0;
}

// The command, as pid 2. Runs on its own stack in the init's memory while the
// init is suspended (CLONE_VM | CLONE_VFORK): no page tables to copy.
int candidate_main(void* argument) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(argument);
  constexpr int status_fd = 3;
  if (!become_sandbox_user(plan)) child_fail(status_fd, ChildStep::credentials);
  if (chdir(plan.workdir.c_str()) < 0) child_fail(status_fd, ChildStep::workdir);
  umask(022);
  apply_limits(plan, status_fd);
  if (!install_seccomp(plan.seccomp)) child_fail(status_fd, ChildStep::seccomp);
  execve(plan.executable.c_str(), plan.argv.data(), plan.envp.data());
  child_fail(status_fd, ChildStep::exec);
}

// The parent's "kill the tree" (SIGUSR1; the command, another uid, cannot
// send it). Killing the processes from in here, rather than the init from
// outside, keeps their CPU time: the init reaps them and its wait4() adds it
// up, whereas the processes the kernel kills when an init dies are reaped
// with SIGCHLD ignored and their rusage is lost.
void kill_namespace(int) { kill(-1, SIGKILL); }

bool catch_kill_request() {
  struct sigaction action {};
  action.sa_handler = kill_namespace;
  return sigaction(SIGUSR1, &action, nullptr) == 0;
}

// Reaps every process of the namespace until the command exits, then kills
// and reaps the rest, so that wait4() on the init accounts for the whole tree.
[[noreturn]] void reap_until(pid_t command, int status_fd) {
  int command_status = 0;
  bool command_done = false;
  while (true) {
    int status = 0;
    pid_t done = wait4(-1, &status, __WALL, nullptr);
    if (done == command) {
      command_status = status;
      command_done = true;
      kill(-1, SIGKILL);
    } else if (done < 0 && errno == ECHILD) {
      if (command_done) report(status_fd, ChildStep::exited, command_status);
      _exit(0);
    } else if (done < 0 && errno != EINTR) {
      _exit(kChildSetupExit);
    }
  }
}

// Namespaces entered at clone time, then the mount tree, the hostname, and
// last the user namespace (mounts need the host's root, which the user
// namespace would take away). Rootless inits are in their user namespace
// from the start, where setgroups is denied (an unprivileged gid map needs it).
void enter_isolation(ChildPlan& plan, int status_fd) {
  umask(0);  // device nodes 0666, mount points as planned
  int step = apply_mounts(*plan.mounts, plan.rootless);
  if (step >= kPathStepBase) child_fail(status_fd, ChildStep::run_path, step - kPathStepBase);
  if (step != 0) child_fail(status_fd, ChildStep::isolation, step);
  if (sethostname("ratchet", 7) < 0) child_fail(status_fd, ChildStep::isolation, 20);
  if (!plan.rootless && syscall(SYS_setgroups, 0, nullptr) < 0) {
    child_fail(status_fd, ChildStep::isolation, 21);
  }
  // Non-dumpable: /proc/1 keeps the host's user namespace as its owner, so
  // the command cannot read our environment or memory (a copy of ratchet's),
  // even in rootless mode where it has our uid.
  if (prctl(PR_SET_DUMPABLE, 0) < 0) child_fail(status_fd, ChildStep::isolation, 22);
  if (!plan.rootless && unshare(CLONE_NEWUSER) < 0) {
    child_fail(status_fd, ChildStep::isolation, 23);
  }
}

// Spec::cpus, inherited by everything the command starts. A raw call: the
// glibc wrapper is one too, but the copy must not depend on that.
void pin_to_cpus(const ChildPlan& plan, int status_fd) {
  if (plan.pin && syscall(SYS_sched_setaffinity, 0, sizeof plan.cpus, &plan.cpus) < 0) {
    child_fail(status_fd, ChildStep::affinity);
  }
}

// One byte from the parent on `go_fd`; EOF (ratchet gone or gave up) ends us.
void wait_for_parent(int go_fd) {
  char go = 0;
  if (read(go_fd, &go, 1) != 1) _exit(kChildSetupExit);
}

}  // namespace

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
  if (!close_foreign_descriptors({plan.stdin_fd, plan.stdout_fd, plan.stderr_fd, status_fd,
                                  plan.go_fd, -1},
                                 plan.max_fd)) {
    child_fail(status_fd, ChildStep::descriptors);
  }
  if (plan.go_fd >= 0) wait_for_parent(plan.go_fd);
  pin_to_cpus(plan, status_fd);
  if (!install_descriptors(plan, status_fd)) child_fail(status_fd, ChildStep::descriptors);
  if (chdir(plan.workdir.c_str()) < 0) child_fail(status_fd, ChildStep::workdir);
  apply_limits(plan, status_fd);
  execve(plan.executable.c_str(), plan.argv.data(), plan.envp.data());
  child_fail(status_fd, ChildStep::exec);
}

[[noreturn]] void isolated_init_main(ChildPlan& plan) {
  int status_fd = plan.status_fd;
  if (setsid() < 0) child_fail(status_fd, ChildStep::session);
  if (!reset_signals()) child_fail(status_fd, ChildStep::signals);
  // getppid() is 0 outside our pid namespace; if ratchet is already gone,
  // the read of "go" below sees EOF instead.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) child_fail(status_fd, ChildStep::death_signal);
  if (!close_foreign_descriptors({plan.stdin_fd, plan.stdout_fd, plan.stderr_fd, status_fd,
                                  plan.go_fd, plan.join_network},
                                 plan.max_fd)) {
    child_fail(status_fd, ChildStep::descriptors);
  }
  if (!catch_kill_request()) child_fail(status_fd, ChildStep::signals);
  pin_to_cpus(plan, status_fd);
  // The slot's network namespace came with the slot thread; a run with
  // network access goes back to ratchet's.
  if (plan.join_network >= 0 && setns(plan.join_network, CLONE_NEWNET) < 0) {
    child_fail(status_fd, ChildStep::isolation, 25);
  }
  if (plan.rootless) wait_for_parent(plan.go_fd);  // our id maps are written
  enter_isolation(plan, status_fd);
  report(status_fd, ChildStep::ready, 0);
  wait_for_parent(plan.go_fd);
  if (!install_descriptors(plan, status_fd)) child_fail(status_fd, ChildStep::descriptors);
  char* stack_top = plan.candidate_stack.data() + plan.candidate_stack.size();
  // The command starts with default dispositions (the vfork child shares our
  // handler table only until execve, which resets caught signals).
  pid_t command = clone(candidate_main, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  if (command < 0) child_fail(status_fd, ChildStep::isolation, 24);
  // The streams belong to the command: EOF must not wait for the init.
  close(0);
  close(1);
  close(2);
  reap_until(command, status_fd);
}

}  // namespace ratchet::sandbox
