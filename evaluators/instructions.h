// The `instructions` measurement backend: counts from valgrind's callgrind
// with its cache simulator, run in the sandbox with a fixed environment, so
// the same binary on the same input gives the same numbers on any machine
// load. Instruction counts alone understate memory-bound speedups, so the
// figure that decides is an estimated cycle count weighting cache misses the
// way iai-callgrind and CodSpeed do:
//
//   L1 hits  = Ir + Dr + Dw - (I1mr + D1mr + D1mw)
//   LL hits  = (I1mr + D1mr + D1mw) - (ILmr + DLmr + DLmw)
//   RAM hits = ILmr + DLmr + DLmw
//   estimated cycles = L1 hits + 5 * LL hits + 35 * RAM hits
//
// Example: Ir 1,000,000, Dr+Dw 400,000, 10,000 L1 misses of which 1,000 miss
// the last level too: 1,390,000 + 5 * 9,000 + 35 * 1,000 = 1,470,000.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/evaluation.h"
#include "common/result.h"
#include "evaluators/run_program.h"

namespace ratchet {

struct InstructionCounts {
  uint64_t ir = 0, dr = 0, dw = 0;
  uint64_t i1mr = 0, d1mr = 0, d1mw = 0;
  uint64_t ilmr = 0, dlmr = 0, dlmw = 0;

  double estimated_cycles() const;
};

// Reads callgrind's closing "==PID== Events : …" / "==PID== Collected : …"
// lines from its stderr and adds up the processes (children are traced, so
// work moved into a forked child still counts). Per process the last summary
// wins: valgrind prints it after the program has exited, so a program cannot
// forge one that comes later; a forged line for a made-up process can only
// add to the count, never make a program look faster.
Result<InstructionCounts> parse_callgrind_summary(const std::string& stderr_text);

struct CountedRun {
  sandbox::Result run;
  Result<InstructionCounts> counts = Error{"not run"};
};

// Runs `command` under callgrind (--cache-sim=yes). With `functions`, counts
// only inside them (--toggle-collect), e.g. the evolvable functions; note
// that a function inlined into its caller then counts nothing.
CountedRun count_instructions(const TimedCommand& command, const std::filesystem::path& scratch,
                              const std::vector<std::string>& functions,
                              const std::atomic<bool>* cancel);

struct InstructionComparison {
  StageResult stage;
  InstructionCounts baseline;
  InstructionCounts candidate;
  double speedup = 0;  // baseline estimated cycles / candidate estimated cycles
};

// One counted run of each: the counts repeat exactly, so one is enough.
InstructionComparison compare_instructions(const TimedCommand& baseline,
                                           const TimedCommand& candidate,
                                           const std::filesystem::path& scratch,
                                           const std::vector<std::string>& functions,
                                           const std::atomic<bool>* cancel);

nlohmann::json to_json(const InstructionCounts& counts);

}  // namespace ratchet
