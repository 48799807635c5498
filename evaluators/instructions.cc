#include "evaluators/instructions.h"

#include <chrono>
#include <fmt/format.h>
#include <map>
#include <sstream>
#include <tuple>

#include "common/text.h"
#include "evaluators/stage_status.h"

namespace ratchet {

namespace {

// Valgrind is 5-8x slower than the program; give it room.
constexpr int64_t kSlowdownAllowance = 30;

std::string after_colon(const std::string& line) {
  auto colon = line.find(':', line.find("==", 2));
  return colon == std::string::npos ? "" : line.substr(colon + 1);
}

}  // namespace

double InstructionCounts::estimated_cycles() const {
  double accesses = static_cast<double>(ir + dr + dw);
  double l1_misses = static_cast<double>(i1mr + d1mr + d1mw);
  double ll_misses = static_cast<double>(ilmr + dlmr + dlmw);
  return (accesses - l1_misses) + 5 * (l1_misses - ll_misses) + 35 * ll_misses;
}

Result<InstructionCounts> parse_callgrind_summary(const std::string& stderr_text) {
  struct Summary {
    std::vector<std::string> events;
    std::vector<uint64_t> collected;
  };
  std::map<std::string, Summary> by_process;  // "==123==" prefix → its last summary
  for (const auto& line : split_lines(stderr_text)) {
    if (line.rfind("==", 0) != 0) continue;
    size_t prefix_end = line.find("==", 2);
    if (prefix_end == std::string::npos) continue;
    Summary& summary = by_process[line.substr(0, prefix_end + 2)];
    if (line.find("Events    :") != std::string::npos) {
      std::istringstream in(after_colon(line));
      summary.events.clear();
      for (std::string name; in >> name;) summary.events.push_back(name);
    } else if (line.find("Collected :") != std::string::npos) {
      std::istringstream in(after_colon(line));
      summary.collected.clear();
      for (uint64_t value; in >> value;) summary.collected.push_back(value);
    }
  }
  InstructionCounts counts;
  const std::pair<const char*, uint64_t*> fields[] = {
      {"Ir", &counts.ir},     {"Dr", &counts.dr},     {"Dw", &counts.dw},
      {"I1mr", &counts.i1mr}, {"D1mr", &counts.d1mr}, {"D1mw", &counts.d1mw},
      {"ILmr", &counts.ilmr}, {"DLmr", &counts.dlmr}, {"DLmw", &counts.dlmw}};
  bool found = false;
  for (const auto& [process, summary] : by_process) {
    if (summary.events.empty() || summary.collected.empty()) continue;
    found = true;
    // Callgrind leaves out trailing zero counts.
    for (size_t i = 0; i < summary.events.size() && i < summary.collected.size(); ++i) {
      for (const auto& [name, field] : fields) {
        if (summary.events[i] == name) *field += summary.collected[i];
      }
    }
  }
  if (!found) return fail("no callgrind summary in the output (did valgrind run?)");
  if (counts.ir == 0) return fail("callgrind counted no instructions");
  return counts;
}

CountedRun count_instructions(const TimedCommand& command, const std::filesystem::path& scratch,
                              const std::vector<std::string>& functions,
                              const std::atomic<bool>* cancel) {
  TimedCommand counted = command;
  counted.binary = "valgrind";
  counted.args = {"--tool=callgrind", "--cache-sim=yes", "--trace-children=yes",
                  "--callgrind-out-file=/dev/null"};
  for (const auto& function : functions) counted.args.push_back("--toggle-collect=" + function);
  counted.args.push_back(command.binary.string());
  counted.args.insert(counted.args.end(), command.args.begin(), command.args.end());
  counted.timeout_ms = command.timeout_ms * kSlowdownAllowance;
  counted.extra_read_only.push_back(command.binary);

  CountedRun out;
  out.run = run_program(counted, scratch, 64 << 20, cancel);
  if (!out.run.exited_ok()) {
    out.counts = fail(fmt::format("under valgrind: {}", out.run.describe()));
    return out;
  }
  out.counts = parse_callgrind_summary(out.run.stderr_text);
  return out;
}

InstructionComparison compare_instructions(const TimedCommand& baseline,
                                           const TimedCommand& candidate,
                                           const std::filesystem::path& scratch,
                                           const std::vector<std::string>& functions,
                                           const std::atomic<bool>* cancel) {
  InstructionComparison out;
  auto start = std::chrono::steady_clock::now();
  for (auto [command, which, counts] :
       {std::tuple{&baseline, "baseline", &out.baseline},
        std::tuple{&candidate, "candidate", &out.candidate}}) {
    CountedRun run = count_instructions(*command, scratch, functions, cancel);
    if (!run.counts) {
      StageStatus status = stage_status_of(run.run);
      out.stage = {status == StageStatus::ok ? StageStatus::failed : status,
                   fmt::format("{} run: {}", which, run.counts.error()),
                   run.run.stderr_text.substr(0, 4096), 0};
      return out;
    }
    *counts = *run.counts;
  }
  out.speedup = out.baseline.estimated_cycles() / out.candidate.estimated_cycles();
  out.stage.status = StageStatus::ok;
  out.stage.summary = fmt::format("speedup {:.4f}x in estimated cycles ({} vs {} instructions)",
                                  out.speedup, out.baseline.ir, out.candidate.ir);
  out.stage.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

nlohmann::json to_json(const InstructionCounts& counts) {
  return {{"instructions", counts.ir},
          {"data_reads", counts.dr},
          {"data_writes", counts.dw},
          {"l1_misses", counts.i1mr + counts.d1mr + counts.d1mw},
          {"ll_misses", counts.ilmr + counts.dlmr + counts.dlmw},
          {"estimated_cycles", counts.estimated_cycles()}};
}

}  // namespace ratchet
