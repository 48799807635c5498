#include "engine/environment.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "common/files.h"
#include "sandbox/sandbox.h"

namespace ratchet {

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Whether the kernel lets this process count its own instructions: false on
// VMs that expose no PMU (like the ones this project is developed on).
bool hardware_counters_available() {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_HARDWARE;
  attr.size = sizeof(attr);
  attr.config = PERF_COUNT_HW_INSTRUCTIONS;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return false;
  close(static_cast<int>(fd));
  return true;
}

}  // namespace

nlohmann::json environment_fingerprint(const std::string& compiler) {
  nlohmann::json env;
  env["cpu_model"] = cpu_model();
  env["cores"] = sysconf(_SC_NPROCESSORS_ONLN);
  utsname name{};
  if (uname(&name) == 0) env["kernel"] = std::string(name.sysname) + " " + name.release;
  auto governor = read_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  env["governor"] = governor ? first_line(*governor) : "unavailable";
  env["hardware_counters"] = hardware_counters_available();

  TempDir work("env-");
  sandbox::Spec spec;
  spec.argv = {compiler, "--version"};
  spec.workdir = work.path();
  spec.limits.wall_ms = 10'000;
  sandbox::Result result = sandbox::run(spec);
  env["compiler"] = result.exited_ok() ? first_line(result.stdout_text) : compiler + " (unknown)";
  return env;
}

}  // namespace ratchet
