#include "sandbox/plan.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "sandbox/fd.h"

namespace ratchet::sandbox {
namespace {

namespace fs = std::filesystem;
template <class T>
using Expected = ratchet::Result<T>;
using ratchet::fail;

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

std::string cannot_execute(const std::string& name, int error) {
  return "cannot execute '" + name + "': " + error_text(error);
}

// Requested limits, clamped to the current hard limits (an unprivileged
// ratchet may not raise them).
ratchet::Status add_limit(ChildPlan& plan, int resource, const char* name, rlim_t soft,
                          rlim_t hard) {
  rlimit current;
  if (getrlimit(resource, &current) < 0) {
    return fail(std::string("cannot read ") + name + ": " + error_text(errno));
  }
  if (current.rlim_max != RLIM_INFINITY) {
    soft = std::min(soft, current.rlim_max);
    hard = std::min(hard, current.rlim_max);
  }
  plan.limits[plan.limit_count++] = LimitSetting{resource, name, rlimit{soft, hard}};
  return ratchet::Ok{};
}

}  // namespace

bool contains_nul(const std::string& text) { return text.find('\0') != std::string::npos; }


Expected<std::vector<std::string>> build_environment(const Spec& spec, const fs::path& workdir,
                                                     std::string& path_value) {
  std::vector<std::pair<std::string, std::string>> vars = {
      {"PATH", kDefaultPath}, {"HOME", workdir.string()}, {"LANG", "C"}};
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos || contains_nul(name) ||
        contains_nul(value)) {
      return fail("invalid environment variable name '" + name + "'");
    }
    auto existing = std::find_if(vars.begin(), vars.end(),
                                 [&](const auto& var) { return var.first == name; });
    if (existing != vars.end()) {
      existing->second = value;
    } else {
      vars.emplace_back(name, value);
    }
  }
  std::vector<std::string> entries;
  for (const auto& [name, value] : vars) {
    if (name == "PATH") path_value = value;
    entries.push_back(name + "=" + value);
  }
  return entries;
}

// execvp semantics, but against the command's PATH rather than ratchet's;
// relative entries (and the empty entry) are relative to the workdir, where
// the command will run.
Expected<std::string> resolve_executable(const std::string& name, const std::string& path_value,
                                         const fs::path& workdir) {
  if (name.empty()) return fail("empty command name");
  if (name.find('/') != std::string::npos) {
    fs::path path(name);
    return (path.is_absolute() ? path : workdir / path).string();
  }
  int error = ENOENT;
  size_t begin = 0;
  while (begin <= path_value.size()) {
    size_t end = path_value.find(':', begin);
    if (end == std::string::npos) end = path_value.size();
    fs::path dir = path_value.substr(begin, end - begin);
    begin = end + 1;
    if (dir.empty() || dir.is_relative()) dir = workdir / dir;
    std::string candidate = (dir / name).string();
    struct stat info;
    if (stat(candidate.c_str(), &info) < 0 || !S_ISREG(info.st_mode)) continue;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    error = EACCES;  // like execvp: a non-executable match is reported as such
  }
  return fail(cannot_execute(name, error));
}


ratchet::Status plan_limits(ChildPlan& plan, const Limits& limits) {
  constexpr rlim_t kMiB = rlim_t{1} << 20;
  struct Wanted {
    int resource;
    const char* name;
    int64_t amount;
    rlim_t unit;
  };
  const Wanted wanted[] = {
      {RLIMIT_AS, "RLIMIT_AS", limits.memory_mb, kMiB},
      {RLIMIT_NPROC, "RLIMIT_NPROC", limits.processes, 1},
      {RLIMIT_NOFILE, "RLIMIT_NOFILE", limits.open_files, 1},
      {RLIMIT_FSIZE, "RLIMIT_FSIZE", limits.file_size_mb, kMiB},
  };
  for (const auto& limit : wanted) {
    if (limit.amount <= 0) continue;
    rlim_t value = static_cast<rlim_t>(limit.amount) * limit.unit;
    auto status = add_limit(plan, limit.resource, limit.name, value, value);
    if (!status) return status;
  }
  if (limits.cpu_ms > 0) {
    // Whole seconds, rounded up. The soft limit sends SIGXCPU, the hard one
    // a second later SIGKILL; the parent's polling usually acts first.
    rlim_t seconds = static_cast<rlim_t>((limits.cpu_ms + 999) / 1000);
    auto status = add_limit(plan, RLIMIT_CPU, "RLIMIT_CPU", seconds, seconds + 1);
    if (!status) return status;
  }
  return add_limit(plan, RLIMIT_CORE, "RLIMIT_CORE", 0, 0);
}

ratchet::Status plan_cpus(ChildPlan& plan, const std::vector<int>& cpus) {
  if (cpus.empty()) return ratchet::Ok{};
  std::vector<int> allowed = allowed_cpus();
  CPU_ZERO(&plan.cpus);
  for (int cpu : cpus) {
    if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
      std::string list;
      for (int i : allowed) list += (list.empty() ? "" : ",") + std::to_string(i);
      return fail("cpu " + std::to_string(cpu) + " is not one ratchet may run on (allowed: " +
                  list + ")");
    }
    CPU_SET(cpu, &plan.cpus);
  }
  plan.pin = true;
  return ratchet::Ok{};
}

void drop_limit(ChildPlan& plan, int resource) {
  auto end = plan.limits.begin() + plan.limit_count;
  auto kept = std::remove_if(plan.limits.begin(), end,
                             [&](const LimitSetting& limit) { return limit.resource == resource; });
  plan.limit_count = static_cast<int>(kept - plan.limits.begin());
}

std::string describe_child_failure(const ChildReport& report, const ChildPlan& plan,
                                   const std::string& command) {
  std::string reason = error_text(report.error);
  switch (static_cast<ChildStep>(report.step)) {
    case ChildStep::exec: return cannot_execute(command, report.error);
    case ChildStep::workdir: return "cannot enter workdir '" + plan.workdir + "': " + reason;
    case ChildStep::limits:
      if (report.detail >= 0 && report.detail < plan.limit_count) {
        return std::string("cannot set ") + plan.limits[report.detail].name + ": " + reason;
      }
      return "cannot set a resource limit: " + reason;
    case ChildStep::session: return "setsid failed: " + reason;
    case ChildStep::signals: return "cannot reset signal handling: " + reason;
    case ChildStep::death_signal: return "cannot set the parent-death signal: " + reason;
    case ChildStep::descriptors: return "cannot set up file descriptors: " + reason;
    case ChildStep::isolation:
      return "isolation step " + std::to_string(report.detail) + " failed: " + reason;
    case ChildStep::run_path:
      if (report.detail >= 0 && size_t(report.detail) < plan.mounts->paths.size()) {
        return std::string("cannot make '") + plan.mounts->paths[report.detail].path +
               "' visible in the sandbox: " + reason;
      }
      return "cannot make a path visible in the sandbox: " + reason;
    case ChildStep::credentials: return "cannot switch to the sandbox uid: " + reason;
    case ChildStep::seccomp: return "cannot install the seccomp filter: " + reason;
    case ChildStep::affinity: return "cannot pin the command to its CPUs: " + reason;
    case ChildStep::ready:
    case ChildStep::exited: break;
  }
  return "child setup failed: " + reason;
}

bool looks_out_of_memory(const Result& result, const Limits& limits) {
  // Under RLIMIT_AS an allocation failure surfaces as the program's own
  // message (C++, libc, awk, sort, gcc...) or as a crash; the messages are the
  // reliable evidence, a peak RSS near the limit the fallback.
  static constexpr std::string_view kMarkers[] = {"std::bad_alloc", "cannot allocate memory",
                                                  "out of memory", "memory exhausted"};
  std::string text = result.stderr_text;
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto marker : kMarkers) {
    if (text.find(marker) != std::string::npos) return true;
  }
  return limits.memory_mb > 0 && result.peak_memory_kb >= limits.memory_mb * 1024 * 9 / 10;
}


std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) < 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace ratchet::sandbox
