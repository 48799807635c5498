// Cgroup v1 memory and pids limits, one cgroup pair per evaluation slot.
//
// Creating and removing a cgroup per run costs a 16 ms tail (rmdir waits for
// RCU), so each concurrent run borrows a slot, created once under ratchet's
// own cgroup (so outer limits still apply) as ratchet-sandbox-<pid>-<n>, with
// its control files kept open; a run only rewrites the limits when they
// change, resets the peak, and writes the init's pid into cgroup.procs.
// Slots are removed when ratchet exits; slots of dead ratchet processes are
// removed when the pool starts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "common/result.h"
#include "sandbox/sandbox.h"

namespace ratchet::sandbox {

struct Slot;

struct CgroupUsage {
  int64_t peak_kb = 0;      // cgroup peak during the run (page cache and tmpfs included)
  bool oom_killed = false;  // the cgroup's OOM killer fired during the run
};

// A borrowed slot; returned to the pool on destruction.
class CgroupLease {
 public:
  explicit CgroupLease(Slot* slot) : slot_(slot) {}
  ~CgroupLease();
  CgroupLease(CgroupLease&& other) noexcept : slot_(other.slot_) { other.slot_ = nullptr; }
  CgroupLease(const CgroupLease&) = delete;
  CgroupLease& operator=(const CgroupLease&) = delete;
  CgroupLease& operator=(CgroupLease&&) = delete;

  // Before the run: limits (memory_mb, processes + `extra_pids`) and the peak reset.
  ratchet::Status prepare(const Limits& limits, int extra_pids);
  // Moves `pid` (not yet running the command) into both cgroups.
  ratchet::Status attach(pid_t pid);
  // After every process of the run is reaped.
  CgroupUsage finish();

 private:
  Slot* slot_;
};

// A slot, or why cgroups cannot be used here (the caller warns once).
ratchet::Result<CgroupLease> acquire_cgroup();

}  // namespace ratchet::sandbox
