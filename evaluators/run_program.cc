#include "evaluators/run_program.h"

#include "common/files.h"

namespace ratchet {

sandbox::Result run_program(const TimedCommand& command, const std::filesystem::path& scratch,
                            int64_t output_bytes, const std::atomic<bool>* cancel) {
  TempDir work("run-", scratch);
  sandbox::Spec spec;
  spec.argv = {command.binary.string()};
  spec.argv.insert(spec.argv.end(), command.args.begin(), command.args.end());
  spec.workdir = work.path();
  spec.limits.wall_ms = command.timeout_ms;
  spec.limits.cpu_ms = command.timeout_ms;
  spec.limits.memory_mb = command.memory_mb;
  spec.limits.output_bytes = output_bytes;
  // A bare name ("valgrind") is found through PATH, which is visible anyway.
  if (command.binary.has_parent_path()) spec.read_only.push_back(command.binary);
  if (!command.input.empty()) {
    spec.stdin_file = command.input;
    spec.read_only.push_back(command.input);
  }
  for (const auto& path : command.extra_read_only) spec.read_only.push_back(path);
  spec.env = command.env;
  spec.cancel = cancel;
  spec.count_events = command.count_events;
  spec.cpus = command.cpus;
  return sandbox::run(spec);
}

}  // namespace ratchet
