// A long-lived thread of ratchet that starts the processes of one evaluation
// slot.
//
// A new process is born in the cgroups and namespaces of the *thread* that
// creates it. A thread that moved once into the slot's cgroups (cgroup v1
// moves single threads through `tasks`) and unshared a network namespace
// therefore gives every init it clones both for free: no cgroup.procs write
// per run (a v1 attach waits for an RCU grace period, about 1.7 ms here) and
// no network namespace created and torn down per run (about 1 ms).
//
// The thread only clones: the run that asked for the clone supervises, waits
// for and reaps the child from its own thread (any thread of a process may
// wait for the children of another). The thread lives until ratchet exits,
// so a child's parent-death signal (tied to the creating thread) fires only
// when ratchet dies.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <mutex>

#include "common/result.h"

namespace ratchet::sandbox {

class SlotThread {
 public:
  // Starts the thread and runs `setup` on it first; its failure is returned
  // (and the thread ends). The object must outlive the thread: it is never
  // destroyed once started (see the pool in cgroup.cc).
  static ratchet::Result<SlotThread*> start(std::function<ratchet::Status()> setup);

  // Runs `job` on the thread and returns when it is done. Callers serialize
  // themselves (one lease holder per slot); `job` must not throw.
  void run(const std::function<void()>& job);

  pid_t tid() const { return tid_; }

 private:
  SlotThread() = default;
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void()>* job_ = nullptr;
  pid_t tid_ = 0;
};

}  // namespace ratchet::sandbox
