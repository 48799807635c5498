// The campaign's benchmark slots (`benchmark.slots`): which core each
// candidate's verification and benchmark run on.
//
// One slot is the classic setup: a benchmark holds the whole machine (cpu -1)
// and compiles fill the other cores. N slots own N cores, one each, the first
// of ratchet's affinity mask; a candidate takes a free slot for its
// verify + benchmark stage, so N benchmarks run at once, never two on one
// core (evaluators/benchmark.h has the locks that enforce that across
// processes too).
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

namespace ratchet {

class BenchmarkSlots {
 public:
  // `cpus`: the cores ratchet may use (sandbox::allowed_cpus()); `slots` must
  // be 1 or at most their number (the config checks).
  BenchmarkSlots(int slots, const std::vector<int>& cpus);

  // A slot held for one candidate's stage 3; gives it back when destroyed.
  class Lease {
   public:
    Lease(BenchmarkSlots& owner, int cpu) : owner_(&owner), cpu_(cpu) {}
    Lease(Lease&& other) noexcept : owner_(other.owner_), cpu_(other.cpu_) {
      other.owner_ = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (owner_) owner_->give_back(cpu_);
    }
    int cpu() const { return cpu_; }  // -1: the whole machine

   private:
    BenchmarkSlots* owner_;
    int cpu_;
  };

  // Waits for a free slot.
  Lease take();
  int count() const { return count_; }

 private:
  void give_back(int cpu);

  int count_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<int> free_;
};

}  // namespace ratchet
