// Campaign progress: a live status line when stderr is a terminal, plain
// log lines (one per candidate) otherwise, e.g. in CI.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "engine/database.h"
#include "engine/member.h"

namespace ratchet {

struct ProgressCounts {
  int64_t done = 0;  // candidates finished in this campaign (baseline excluded)
  int64_t build_failed = 0;
  int64_t verify_failed = 0;
  int64_t benchmark_failed = 0;
  int64_t refused = 0;
  int64_t duplicates = 0;
};

class Progress {
 public:
  Progress(std::ostream& out, bool live, int64_t budget);

  // `best`: the campaign's best so far (nullptr when none beats the baseline).
  void candidate_finished(const CandidateRecord& candidate, const Member* best);
  void duplicate_skipped();
  // A line of its own (the live line is redrawn after it).
  void note(const std::string& line);
  void finish();

  // LLM spend of the campaign so far (shown once there was a call).
  void set_llm_spend(int64_t calls, int64_t tokens, double cost_usd);
  // Candidates proposed and not yet recorded (the pipeline's depth).
  void set_in_flight(int64_t in_flight) { in_flight_ = in_flight; }

  const ProgressCounts& counts() const { return counts_; }
  void set_counts(const ProgressCounts& counts) { counts_ = counts; }

 private:
  std::string status_line(const Member* best) const;
  void draw();

  std::ostream& out_;
  bool live_;
  int64_t budget_;
  ProgressCounts counts_;
  int64_t done_at_start_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::string last_line_;
  int64_t llm_calls_ = 0;
  int64_t llm_tokens_ = 0;
  double llm_cost_ = 0;
  int64_t in_flight_ = 0;
};

// "1.423x [1.380, 1.451]" from a candidate's metrics, or "-" without them.
std::string format_speedup(const CandidateRecord& candidate);

}  // namespace ratchet
