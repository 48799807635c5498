// The candidate's file-system view: a fresh tmpfs root holding read-only
// binds of what programs and compilers need, devices, a fresh /proc, a
// private /tmp, and the run's own paths at the same places they have on the
// host. Everything else of the host is out of reach.
//
// The plan is computed in the parent (which may allocate); apply() runs in
// the forked child and only makes system calls. Order of apply():
//   1. make every mount private (nothing we do propagates to the host), and
//      open the run's paths with O_PATH|O_NOFOLLOW while the host is visible;
//   2. mount a tmpfs over /tmp and build the system part inside it;
//   3. pivot_root into it, the old root kept at /.oldroot;
//   4. bind the run's paths from the descriptors of step 1 (so a symlink
//      planted in between cannot redirect them), creating their mount points
//      inside the new tree, where absolute symlinks can no longer reach the host;
//   5. detach the old root and make the root read-only.
#pragma once

#include <sys/types.h>

#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace ratchet::sandbox {

struct SystemOp {
  enum class Kind { mkdir, symlink, mknod, bind, proc, tmpfs };
  Kind kind;
  const char* target;  // relative to the new root
  const char* source;  // bind: host path; symlink: link text; tmpfs: options
  dev_t device = 0;
};

struct RunPath {
  const char* path;  // absolute, normalized; same path inside and outside
  bool writable;
};

struct MountPlan {
  std::vector<RunPath> paths;  // parents before children
  std::vector<int> fds;        // step 1 descriptors; written by the child
  std::deque<std::string> storage;
};

// The system part (computed once per process) is shared by every plan.
// `workdir` is writable; `read_only` and `writable` must exist and not be
// symbolic links.
ratchet::Result<MountPlan> plan_mounts(const std::filesystem::path& workdir,
                                       const std::vector<std::filesystem::path>& read_only,
                                       const std::vector<std::filesystem::path>& writable);

// Child side. Returns 0, or the failed step's number with errno set; a step
// numbered kPathStepBase + i failed on the run's i-th path (a setup error of
// the run, not a missing kernel feature).
// `rootless`: in a user namespace, where mknod of devices is refused, the
// device nodes are binds of the host's.
constexpr int kPathStepBase = 1000;
int apply_mounts(MountPlan& plan, bool rootless);

}  // namespace ratchet::sandbox
