// Cgroup v1 memory and pids limits, one cgroup pair per evaluation slot.
//
// Creating and removing a cgroup per run costs a 16 ms tail (rmdir waits for
// RCU), and even moving a process into an existing v1 cgroup waits for an RCU
// grace period (about 1.7 ms). So each concurrent run borrows a slot, created
// once under ratchet's own cgroup (so outer limits still apply) as
// ratchet-sandbox-<pid>-<n>, with its control files kept open and a slot
// thread (slot_thread.h) that sits in the slot's cgroups and in the slot's own
// network namespace: the run's init is cloned by that thread and so is born
// in both. A run only rewrites the limits when they change and resets the
// peak. Slots are removed when ratchet exits; slots of dead ratchet processes
// are removed when the pool starts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
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

  // Before the run: limits (memory_mb; processes + `extra_pids` + the slot
  // thread, which counts against pids.max too) and the peak reset.
  ratchet::Status prepare(const Limits& limits, int extra_pids);
  // Runs `clone_job` on the slot thread: what it clones is born in the
  // slot's cgroups and network namespace (empty, loopback down). `clone_job`
  // must not throw.
  void spawn(const std::function<void()>& clone_job);
  // ratchet's own network namespace (for runs with network access, whose
  // init joins it with setns); -1 if it could not be opened.
  int host_network() const;
  // After every process of the run is reaped.
  CgroupUsage finish();

 private:
  Slot* slot_;
};

// A slot, or why cgroups cannot be used here (the caller warns once).
ratchet::Result<CgroupLease> acquire_cgroup();

}  // namespace ratchet::sandbox
