#include "sandbox/slot_thread.h"

#include <unistd.h>

#include <future>
#include <thread>

namespace ratchet::sandbox {

ratchet::Result<SlotThread*> SlotThread::start(std::function<ratchet::Status()> setup) {
  auto* slot = new SlotThread;
  std::promise<ratchet::Status> started;
  auto ready = started.get_future();
  std::thread([slot, setup = std::move(setup), started = std::move(started)]() mutable {
    slot->tid_ = gettid();
    auto status = setup();
    bool ok = static_cast<bool>(status);
    started.set_value(std::move(status));
    if (ok) slot->loop();
  }).detach();
  auto status = ready.get();
  if (!status) {
    // The thread returns right after set_value, touching nothing of `slot`.
    delete slot;
    return ratchet::Error{status.error()};
  }
  return slot;
}

void SlotThread::run(const std::function<void()>& job) {
  std::unique_lock lock(mutex_);
  job_ = &job;
  wake_.notify_one();
  done_.wait(lock, [&] { return job_ == nullptr; });
}

void SlotThread::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return job_ != nullptr; });
    (*job_)();
    job_ = nullptr;
    done_.notify_one();
  }
}

}  // namespace ratchet::sandbox
