#include "engine/benchmark_slots.h"

#include <algorithm>

namespace ratchet {

BenchmarkSlots::BenchmarkSlots(int slots, const std::vector<int>& cpus)
    : count_(std::max(slots, 1)) {
  if (count_ == 1 || cpus.size() < static_cast<size_t>(count_)) {
    count_ = 1;
    free_ = {-1};
    return;
  }
  free_.assign(cpus.begin(), cpus.begin() + count_);
}

BenchmarkSlots::Lease BenchmarkSlots::take() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return !free_.empty(); });
  int cpu = free_.back();
  free_.pop_back();
  return Lease(*this, cpu);
}

void BenchmarkSlots::give_back(int cpu) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(cpu);
  }
  freed_.notify_one();
}

}  // namespace ratchet
