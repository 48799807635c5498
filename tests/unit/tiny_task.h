// The tiny test task (tests/data/tasks/tiny) and ways to vary it, for tests
// that run the evaluator cascade for real.
#pragma once

#include <string>

#include "common/program.h"
#include "evaluators/benchmark.h"
#include "evaluators/task.h"

namespace ratchet::testing {

inline Task tiny_task(int64_t run_timeout_ms) {
  Task task = load_task(std::string(RATCHET_SOURCE_DIR) + "/tests/data/tasks/tiny");
  task.run_timeout_ms = run_timeout_ms;
  return task;
}

// Three pairs, no warm-up: enough for a figure, quick enough for a test.
inline BenchmarkSettings quick_settings() {
  BenchmarkSettings settings;
  settings.warmup_runs = 0;
  settings.min_pairs = 3;
  settings.max_pairs = 3;
  return settings;
}

// The baseline with its EVOLVE block body replaced by `body`.
inline Program with_block(const Task& task, const std::string& body) {
  Program program = task.baseline();
  std::string& text = program.files.at("tiny.c");
  size_t start = text.find('\n', text.find("EVOLVE-BLOCK-START")) + 1;
  size_t end = text.rfind('\n', text.find("EVOLVE-BLOCK-END")) + 1;
  text.replace(start, end - start, body);
  return program;
}

// tiny.c's computation under another name, for edits that call it some of
// the time (evaluator hacks) or wrap it (sanitizer checks).
inline constexpr const char* kHonestChurn = R"(
static unsigned long long honest(const unsigned* values, long n, int passes) {
  unsigned long long total = 0;
  for (int p = 0; p < passes; ++p) {
    for (long i = 0; i < n; ++i) {
      unsigned long long v = values[i] + (unsigned)p;
      total += v * v % 7919 + (v ^ (total >> 3));
    }
  }
  return total;
}
)";

}  // namespace ratchet::testing
