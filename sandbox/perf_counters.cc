#include "sandbox/perf_counters.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace ratchet::sandbox {
namespace {

struct Event {
  const char* name;
  uint32_t type;
  uint64_t config;
};

constexpr Event kEvents[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
};

int open_event(const Event& event, pid_t pid, bool exclude_kernel) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = event.type;
  attr.config = event.config;
  attr.disabled = 1;
  attr.inherit = 1;
  attr.enable_on_exec = 1;
  attr.exclude_hv = 1;
  attr.exclude_kernel = exclude_kernel ? 1 : 0;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  return static_cast<int>(
      syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

bool unavailable_error(int error) {
  return error == ENOENT || error == EOPNOTSUPP || error == ENODEV || error == ENOSYS ||
         error == EACCES || error == EPERM;
}

}  // namespace

ratchet::Result<PerfCounters> PerfCounters::open(pid_t pid) {
  PerfCounters counters;
  for (const auto& event : kEvents) {
    int fd = open_event(event, pid, false);
    // perf_event_paranoid >= 2 lets an unprivileged user count user space only.
    if (fd < 0 && (errno == EACCES || errno == EPERM)) fd = open_event(event, pid, true);
    if (fd >= 0) {
      counters.open_.push_back({event.name, Fd(fd)});
    } else if (unavailable_error(errno)) {
      counters.unavailable_.emplace_back(event.name);
    } else {
      return ratchet::fail(std::string("cannot open the perf counter '") + event.name +
                           "': " + error_text(errno));
    }
  }
  return counters;
}

void PerfCounters::read(std::vector<Counter>& counters,
                        std::vector<std::string>& unavailable) const {
  for (const auto& counter : open_) {
    uint64_t values[3] = {0, 0, 0};  // value, time enabled, time running
    if (::read(counter.fd.get(), values, sizeof values) != static_cast<ssize_t>(sizeof values)) {
      unavailable.emplace_back(counter.name);
      continue;
    }
    double value = static_cast<double>(values[0]);
    if (values[2] > 0 && values[2] < values[1]) {
      value *= static_cast<double>(values[1]) / static_cast<double>(values[2]);
    }
    counters.push_back({counter.name, value});
  }
  unavailable.insert(unavailable.end(), unavailable_.begin(), unavailable_.end());
}

}  // namespace ratchet::sandbox
