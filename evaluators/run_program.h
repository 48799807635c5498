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
  std::filesystem::path input;  // stdin
  int64_t timeout_ms = 20'000;
};

sandbox::Result run_program(const TimedCommand& command, const std::filesystem::path& scratch,
                            int64_t output_bytes, const std::atomic<bool>* cancel);

}  // namespace ratchet
