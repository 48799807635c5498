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
  spec.stdin_file = command.input;
  spec.limits.wall_ms = command.timeout_ms;
  spec.limits.cpu_ms = command.timeout_ms;
  spec.limits.output_bytes = output_bytes;
  spec.read_only = {command.binary, command.input};
  spec.cancel = cancel;
  return sandbox::run(spec);
}

}  // namespace ratchet
