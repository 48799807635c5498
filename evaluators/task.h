// A Task: what to optimize, loaded strictly from <dir>/task.json (format in
// docs/tasks.md). Loading errors are usage errors naming the file and key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/program.h"

namespace ratchet {

struct InputSpec {
  int64_t size = 0;
  int64_t seed = 0;
};

// exact: bytes; numeric: tokens, numbers within tolerance; command: the
// task's own checker decides.
enum class VerifyMode { exact, numeric, command };

struct Task {
  std::filesystem::path dir;  // absolute
  std::string name;
  std::string description;
  std::string language;  // "c" or "c++"
  std::vector<std::string> sources;

  std::string compiler;
  std::vector<std::string> flags;        // baseline flag genome
  std::vector<std::string> fixed_flags;  // always passed
  std::vector<std::string> libs;

  std::string generator;  // C source, relative to dir
  std::vector<InputSpec> verify_inputs;
  InputSpec benchmark_input;

  std::vector<std::string> run_args;
  int64_t run_timeout_ms = 20'000;

  VerifyMode verify_mode = VerifyMode::exact;
  double abs_tol = 0;
  double rel_tol = 0;
  // mode command: argv of the checker, run as `ARGV... INPUT EXPECTED ACTUAL`
  // (paths to the input, the baseline's output and the candidate's output);
  // exit 0 accepts, anything else rejects with the checker's output as the
  // reason. A first word naming a file in the task folder is made absolute.
  std::vector<std::string> verify_command;

  std::string metric = "cpu_time";  // cpu_time | wall_time

  // Numeric verification tolerates rounding differences, so value-changing
  // float optimizations (-ffast-math) may be tried; the verifier still
  // rejects any that go beyond the tolerance.
  bool allows_unsafe_math() const { return verify_mode == VerifyMode::numeric; }

  // The baseline program: the task's sources and baseline flags.
  Program baseline() const;
};

// Throws a usage FatalError for a missing folder, bad JSON, unknown keys,
// wrong types, missing sources or unbalanced EVOLVE-BLOCK markers.
Task load_task(const std::filesystem::path& dir);

}  // namespace ratchet
