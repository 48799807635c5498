// Vocabulary of the sandbox: names of terminations and isolation levels, and
// the one-line description of a result.
#include "sandbox/sandbox.h"

#include <string.h>

#include <string>

namespace ratchet::sandbox {
namespace {

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

const char* to_string(Isolation isolation) {
  switch (isolation) {
    case Isolation::process_group: return "process-group+rlimits";
    case Isolation::rootless: return "rootless";
    case Isolation::namespaces: return "namespaces";
    case Isolation::full: return "full";
  }
  return "unknown";
}

const char* to_string(Termination termination) {
  switch (termination) {
    case Termination::ok: return "ok";
    case Termination::wall_timeout: return "wall-timeout";
    case Termination::cpu_timeout: return "cpu-timeout";
    case Termination::memory: return "memory";
    case Termination::output_limit: return "output-limit";
    case Termination::signal: return "signal";
    case Termination::setup_error: return "setup-error";
    case Termination::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string Result::describe() const {
  auto limit_or = [&](double measured) {
    return std::to_string(limit > 0 ? limit : static_cast<int64_t>(measured));
  };
  switch (termination) {
    case Termination::ok: return "exit " + std::to_string(exit_code);
    case Termination::wall_timeout: return "wall-clock timeout after " + limit_or(wall_ms) + " ms";
    case Termination::cpu_timeout: return "CPU time limit (" + limit_or(cpu_ms) + " ms) exceeded";
    case Termination::memory:
      return limit > 0 ? "out of memory (limit " + std::to_string(limit) + " MB)"
                       : "out of memory";
    case Termination::output_limit:
      return limit > 0 ? "output limit (" + std::to_string(limit) + " bytes) exceeded"
                       : "output limit exceeded";
    case Termination::signal: return "killed by " + signal_name(signal);
    case Termination::setup_error: return "sandbox setup failed: " + setup_error;
    case Termination::cancelled: return "cancelled";
  }
  return "unknown termination";
}

}  // namespace ratchet::sandbox
