#include "sandbox/seccomp_filter.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "sandbox/fd.h"

namespace ratchet::sandbox {
namespace {

// Calls that let a process leave or reshape its box, reach into another
// process, or widen the kernel's attack surface (sched_setaffinity: a run
// pinned to a benchmark slot's core must not spill onto another slot's). Names, not numbers, so that
// calls this libseccomp does not know are skipped rather than misnumbered.
constexpr const char* kRefused[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "kexec_load", "kexec_file_load",
    "bpf", "keyctl", "add_key", "request_key", "unshare", "setns", "perf_event_open",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "syslog", "name_to_handle_at", "open_by_handle_at", "fanotify_init",
    "lookup_dcookie", "vhangup", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
    "sched_setaffinity",
};

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID,
                                             CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
                                             CLONE_NEWCGROUP};

struct Built {
  std::vector<sock_filter> code;
  sock_fprog program{};
  std::string error;
};

bool add_rules(scmp_filter_ctx ctx, bool network) {
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kRefused) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (seccomp_rule_add(ctx, eperm, nr, 0) < 0) return false;
  }
  if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0) return false;
  for (unsigned long flag : kNamespaceFlags) {
    if (seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)) < 0) {
      return false;
    }
  }
  if (network) return true;
  return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                          SCMP_A0(SCMP_CMP_NE, AF_UNIX)) == 0;
}

// libseccomp 2.5 exports only to a descriptor; a memfd brings it back.
bool export_program(scmp_filter_ctx ctx, Built& built) {
  Fd memory(memfd_create("ratchet-seccomp", MFD_CLOEXEC));
  if (!memory.valid() || seccomp_export_bpf(ctx, memory.get()) < 0) return false;
  off_t size = lseek(memory.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) return false;
  built.code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(memory.get(), built.code.data(), size, 0) != size) return false;
  built.program.len = static_cast<unsigned short>(built.code.size());
  built.program.filter = built.code.data();
  return true;
}

void build(Built& built, bool network) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) {
    built.error = "seccomp_init failed";
    return;
  }
  // A binary tree instead of a linear scan keeps the per-call cost flat.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (!add_rules(ctx, network) || !export_program(ctx, built)) {
    built.error = "cannot build the seccomp filter";
    built.code.clear();
  }
  seccomp_release(ctx);
}

}  // namespace

ratchet::Result<const sock_fprog*> seccomp_program(bool network) {
  static Built filters[2];
  static std::once_flag once[2];
  Built& built = filters[network ? 1 : 0];
  std::call_once(once[network ? 1 : 0], [&] { build(built, network); });
  if (built.code.empty()) return ratchet::fail(built.error);
  return &built.program;
}

bool install_seccomp(const sock_fprog* program) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return false;
  // SPEC_ALLOW: without it kernels in "seccomp" mitigation mode force
  // speculative-store-bypass protection on the task, slowing the candidate.
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, program) == 0) {
    return true;
  }
  if (errno != EINVAL) return false;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, program) == 0;
}

}  // namespace ratchet::sandbox
