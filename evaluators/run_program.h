// Running a built program once on one input, in the sandbox, in a fresh
// work dir that is removed afterwards (nothing survives from run to run).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace ratchet {

struct TimedCommand {
  std::filesystem::path binary;
  std::vector<std::string> args;
  std::filesystem::path input;  // stdin; empty: /dev/null
  int64_t timeout_ms = 20'000;
  std::vector<std::filesystem::path> extra_read_only;  // besides binary and input
  int64_t memory_mb = 2048;  // address-space limit; 0: none (sanitizers reserve terabytes)
  std::vector<std::pair<std::string, std::string>> env;  // beyond the sandbox defaults
  bool count_events = false;  // sandbox::Spec::count_events (perf counters)
  std::vector<int> cpus;      // sandbox::Spec::cpus: the core(s) it is pinned to
};

sandbox::Result run_program(const TimedCommand& command, const std::filesystem::path& scratch,
                            int64_t output_bytes, const std::atomic<bool>* cancel);

}  // namespace ratchet
