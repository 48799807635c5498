#include "engine/progress.h"

#include <fmt/format.h>

namespace ratchet {

std::string format_speedup(const CandidateRecord& candidate) {
  const auto& m = candidate.metrics;
  if (!m.contains("speedup") || !m["speedup"].is_number()) return "-";
  return fmt::format("{:.3f}x [{:.3f}, {:.3f}]", m["speedup"].get<double>(),
                     m.value("ci_low", 0.0), m.value("ci_high", 0.0));
}

Progress::Progress(std::ostream& out, bool live, int64_t budget)
    : out_(out), live_(live), budget_(budget) {}

std::string Progress::status_line(const Member* best) const {
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  int64_t done_now = counts_.done - std::max<int64_t>(done_at_start_, 0);
  double rate = elapsed > 0 ? done_now / elapsed * 60 : 0;
  std::string best_text =
      best ? fmt::format("best {} #{}", format_speedup(*best), best->id) : "best: none yet";
  std::string line =
      fmt::format("[{}/{}] {:.1f}/min | {} | failed: build {} verify {} bench {} | dup {}",
                  counts_.done, budget_, rate, best_text, counts_.build_failed,
                  counts_.verify_failed, counts_.benchmark_failed, counts_.duplicates);
  if (in_flight_ > 1) line += fmt::format(" | in flight {}", in_flight_);
  if (llm_calls_ > 0) {
    line += fmt::format(" | llm {} calls, {} tokens, ${:.4f}", llm_calls_, llm_tokens_, llm_cost_);
  }
  return line;
}

void Progress::set_llm_spend(int64_t calls, int64_t tokens, double cost_usd) {
  llm_calls_ = calls;
  llm_tokens_ = tokens;
  llm_cost_ = cost_usd;
}

void Progress::draw() {
  if (!live_) return;
  out_ << "\r\033[K" << last_line_ << std::flush;
}

void Progress::candidate_finished(const CandidateRecord& candidate, const Member* best) {
  if (done_at_start_ < 0) done_at_start_ = counts_.done;
  ++counts_.done;
  switch (candidate.status) {
    case CandidateStatus::build_failed: ++counts_.build_failed; break;
    case CandidateStatus::verify_failed: ++counts_.verify_failed; break;
    case CandidateStatus::benchmark_failed: ++counts_.benchmark_failed; break;
    case CandidateStatus::refused: ++counts_.refused; break;
    default: break;
  }
  last_line_ = status_line(best);
  if (live_) {
    draw();
    return;
  }
  std::string outcome = candidate.status == CandidateStatus::evaluated
                            ? format_speedup(candidate)
                            : to_string(candidate.status);
  std::string summary = candidate.edit.is_object() ? candidate.edit.value("summary", "") : "";
  out_ << fmt::format("ratchet: [{}/{}] #{} {} ({}): {}\n", counts_.done, budget_, candidate.id,
                      candidate.proposer, summary, outcome)
       << std::flush;
}

void Progress::duplicate_skipped() { ++counts_.duplicates; }

void Progress::note(const std::string& line) {
  if (live_) out_ << "\r\033[K";
  out_ << "ratchet: " << line << "\n";
  draw();
}

void Progress::finish() {
  if (live_ && !last_line_.empty()) out_ << "\r\033[K" << last_line_ << "\n" << std::flush;
}

}  // namespace ratchet
