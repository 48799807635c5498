// The system-call filter every isolated candidate runs under.
//
// Built once per process with libseccomp (which allocates, so never in a
// forked child) and exported as a classic BPF program; the child installs it
// with one seccomp() call right before execve.
#pragma once

#include <linux/filter.h>

#include "common/result.h"

namespace ratchet::sandbox {

// The filter for candidates with (`network`) or without network access.
// Refused with EPERM: ptrace, mount family, pivot_root, chroot, kexec, bpf,
// keyctl family, unshare, setns, perf_event_open, io_uring_*, userfaultfd,
// module loading, and clone() with namespace flags; clone3 answers ENOSYS so
// that glibc falls back to clone(); socket() outside AF_UNIX answers
// EAFNOSUPPORT unless `network`. Thread-safe.
ratchet::Result<const sock_fprog*> seccomp_program(bool network);

// Child side, async-signal-safe: no_new_privs, then the filter. Returns false
// with errno set on failure.
bool install_seccomp(const sock_fprog* program);

}  // namespace ratchet::sandbox
