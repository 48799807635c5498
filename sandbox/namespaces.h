// Namespaces and the sandbox's identity on the host.
//
// Candidates run as uid/gid 61000 (kSandboxUid), the same number inside their
// user namespace and on the host: an unprivileged id that owns nothing on the
// host but the work dirs ratchet hands to it. Never uid 0 on the host (bwrap
// and nsjail map the sandbox to host root when started as root). 61000 lies
// above Debian's dynamic range (1000-59999) and below nobody (65534). In
// rootless mode 61000 inside maps onto ratchet's own (unprivileged) uid.
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "common/result.h"

namespace ratchet::sandbox {

constexpr uid_t kSandboxUid = 61000;
constexpr gid_t kSandboxGid = 61000;

// pid, mount, ipc, uts, and net unless `keep_network` (a run with network
// access, or one whose init inherits its slot's namespace from the slot
// thread). The user namespace is entered later, by the init itself (see
// child.h), except in rootless mode.
int namespace_clone_flags(bool keep_network);

// fork()-like clone into new namespaces: returns the child's pid in the
// parent, 0 in the child (which must then only make async-signal-safe calls).
pid_t clone_into_namespaces(int flags);

// Maps kSandboxUid/Gid (only) in the user namespace of `pid`: onto the same
// ids on the host, or, `rootless`, onto ratchet's own uid and gid (the only
// ids an unprivileged process may map; setgroups is denied first, as the
// kernel requires for that).
ratchet::Status write_id_maps(pid_t pid, bool rootless);

// Hands the work dir (the directory itself, not its contents, never through
// a symlink) to the sandbox uid so the command can write there.
ratchet::Status give_workdir(const std::filesystem::path& workdir);

}  // namespace ratchet::sandbox
