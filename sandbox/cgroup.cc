#include "sandbox/cgroup.h"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "sandbox/fd.h"
#include "sandbox/slot_thread.h"

namespace ratchet::sandbox {

struct Slot {
  std::string memory_dir, pids_dir;
  Fd max_usage, usage, oom_control, memory_limit, pids_max;
  int64_t applied_memory = -2;  // the values last written (-1: unlimited)
  int64_t applied_pids = -2;
  int64_t usage_at_start = 0;
  int64_t oom_kills_at_start = 0;
  SlotThread* thread = nullptr;
  bool busy = false;
};

namespace {

constexpr const char* kRoot = "/sys/fs/cgroup";
constexpr const char* kPrefix = "ratchet-sandbox-";

using ratchet::fail;

// The v1 path of this process in `controller`'s hierarchy, from /proc/self/cgroup
// lines such as "4:memory:/some/path".
std::string own_cgroup(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    if (line.substr(first + 1, second - first - 1) == controller) return line.substr(second + 1);
  }
  return {};
}

bool write_text(int fd, const std::string& text) {
  return pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
}

std::string read_text(int fd) {
  char buffer[512];
  ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

int64_t read_number(int fd) {
  std::string text = read_text(fd);
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

int64_t read_oom_kills(int fd) {
  std::string text = read_text(fd);
  auto at = text.find("oom_kill ");
  if (at == std::string::npos) return 0;
  int64_t value = 0;
  std::from_chars(text.data() + at + 9, text.data() + text.size(), value);
  return value;
}

Fd open_control(const std::string& dir, const char* name, int flags) {
  return Fd(open((dir + "/" + name).c_str(), flags | O_CLOEXEC));
}

// Slots left by ratchet processes that died without removing them.
void remove_stale(const std::string& base) {
  DIR* dir = opendir(base.c_str());
  if (!dir) return;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.rfind(kPrefix, 0) != 0) continue;
    long pid = std::strtol(name.c_str() + std::strlen(kPrefix), nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) < 0 && errno == ESRCH) {
      rmdir((base + "/" + name).c_str());
    }
  }
  closedir(dir);
}

// Moves thread `tid` into the cgroup at `dir` (v1 `tasks` takes one thread).
ratchet::Status move_thread(const std::string& dir, pid_t tid) {
  Fd tasks = open_control(dir, "tasks", O_WRONLY);
  if (!tasks.valid() || !write_text(tasks.get(), std::to_string(tid))) {
    return fail("cannot move the slot thread into cgroup '" + dir + "': " + error_text(errno));
  }
  return ratchet::Ok{};
}

class Pool {
 public:
  Pool() : host_network_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    error_ = locate();
  }
  // At exit. The slot threads are blocked in their loops and die with the
  // process; they are moved back out so that their cgroups can be removed,
  // and the slots are left allocated because the threads still use them.
  ~Pool() {
    for (Slot* slot : slots_) {
      if (slot->thread) {
        (void)move_thread(memory_base_, slot->thread->tid());
        (void)move_thread(pids_base_, slot->thread->tid());
      }
      rmdir(slot->memory_dir.c_str());
      rmdir(slot->pids_dir.c_str());
    }
  }

  int host_network() const { return host_network_.get(); }

  ratchet::Result<Slot*> acquire() {
    std::lock_guard lock(mutex_);
    if (!error_.empty()) return fail(error_);
    for (Slot* slot : slots_) {
      if (!slot->busy) {
        slot->busy = true;
        return slot;
      }
    }
    auto slot = create(slots_.size());
    if (!slot) return fail(slot.error());
    slots_.push_back(slot->release());
    slots_.back()->busy = true;
    return slots_.back();
  }

  void release(Slot* slot) {
    std::lock_guard lock(mutex_);
    slot->busy = false;
  }

 private:
  std::string locate() {
    std::string memory = own_cgroup("memory"), pids = own_cgroup("pids");
    if (memory.empty() || pids.empty()) return "no cgroup v1 memory and pids hierarchies";
    memory_base_ = std::string(kRoot) + "/memory" + memory;
    pids_base_ = std::string(kRoot) + "/pids" + pids;
    struct stat info;
    for (const auto& base : {memory_base_, pids_base_}) {
      if (stat((base + "/cgroup.procs").c_str(), &info) < 0) {
        return "cgroup '" + base + "' is not reachable: " + error_text(errno);
      }
      remove_stale(base);
    }
    return {};
  }

  ratchet::Result<std::unique_ptr<Slot>> create(size_t index) {
    auto slot = std::make_unique<Slot>();
    std::string name = kPrefix + std::to_string(getpid()) + "-" + std::to_string(index);
    slot->memory_dir = memory_base_ + "/" + name;
    slot->pids_dir = pids_base_ + "/" + name;
    for (const auto& dir : {slot->memory_dir, slot->pids_dir}) {
      if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
        return fail("cannot create cgroup '" + dir + "': " + error_text(errno));
      }
    }
    slot->memory_limit = open_control(slot->memory_dir, "memory.limit_in_bytes", O_WRONLY);
    slot->max_usage = open_control(slot->memory_dir, "memory.max_usage_in_bytes", O_RDWR);
    slot->usage = open_control(slot->memory_dir, "memory.usage_in_bytes", O_RDONLY);
    slot->oom_control = open_control(slot->memory_dir, "memory.oom_control", O_RDONLY);
    slot->pids_max = open_control(slot->pids_dir, "pids.max", O_WRONLY);
    for (const Fd* fd : {&slot->memory_limit, &slot->max_usage, &slot->usage, &slot->oom_control,
                         &slot->pids_max}) {
      if (!fd->valid()) return fail("cannot open the control files of cgroup '" + name + "'");
    }
    auto thread = SlotThread::start([&slot = *slot] {
      if (auto status = move_thread(slot.memory_dir, gettid()); !status) return status;
      if (auto status = move_thread(slot.pids_dir, gettid()); !status) return status;
      if (unshare(CLONE_NEWNET) < 0) {
        return ratchet::Status(fail("cannot create the slot's network namespace: " +
                                    error_text(errno)));
      }
      return ratchet::Status(ratchet::Ok{});
    });
    if (!thread) {
      rmdir(slot->memory_dir.c_str());
      rmdir(slot->pids_dir.c_str());
      return fail(thread.error());
    }
    slot->thread = *thread;
    return slot;
  }

  Fd host_network_;
  std::mutex mutex_;
  std::string error_;
  std::string memory_base_, pids_base_;
  std::vector<Slot*> slots_;  // never freed: see ~Pool
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

CgroupLease::~CgroupLease() {
  if (slot_) pool().release(slot_);
}

ratchet::Status CgroupLease::prepare(const Limits& limits, int extra_pids) {
  Slot& s = *slot_;
  int64_t memory = limits.memory_mb > 0 ? limits.memory_mb << 20 : -1;
  if (memory != s.applied_memory) {
    if (!write_text(s.memory_limit.get(), std::to_string(memory))) {
      return fail("cannot set memory.limit_in_bytes: " + error_text(errno));
    }
    s.applied_memory = memory;
  }
  int64_t pids = limits.processes > 0 ? limits.processes + extra_pids + 1 : -1;
  if (pids != s.applied_pids) {
    if (!write_text(s.pids_max.get(), pids > 0 ? std::to_string(pids) : "max")) {
      return fail("cannot set pids.max: " + error_text(errno));
    }
    s.applied_pids = pids;
  }
  if (!write_text(s.max_usage.get(), "0")) {
    return fail("cannot reset memory.max_usage_in_bytes: " + error_text(errno));
  }
  s.usage_at_start = read_number(s.usage.get());
  s.oom_kills_at_start = read_oom_kills(s.oom_control.get());
  return ratchet::Ok{};
}

void CgroupLease::spawn(const std::function<void()>& clone_job) { slot_->thread->run(clone_job); }

int CgroupLease::host_network() const { return pool().host_network(); }

CgroupUsage CgroupLease::finish() {
  CgroupUsage usage;
  int64_t peak = read_number(slot_->max_usage.get()) - slot_->usage_at_start;
  usage.peak_kb = peak > 0 ? peak / 1024 : 0;
  usage.oom_killed = read_oom_kills(slot_->oom_control.get()) > slot_->oom_kills_at_start;
  return usage;
}

ratchet::Result<CgroupLease> acquire_cgroup() {
  auto slot = pool().acquire();
  if (!slot) return Error{slot.error()};
  return CgroupLease(*slot);
}

}  // namespace ratchet::sandbox
