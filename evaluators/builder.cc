#include "evaluators/builder.h"

#include <chrono>
#include <fmt/format.h>

#include "common/files.h"
#include "common/text.h"
#include "evaluators/stage_status.h"
#include "sandbox/sandbox.h"

namespace ratchet {

namespace {

constexpr size_t kMaxLogBytes = 16 * 1024;

// Compilers get generous limits: template explosions and huge objects should
// fail the candidate, not take the machine down.
sandbox::Limits compiler_limits() {
  sandbox::Limits limits;
  limits.wall_ms = 120'000;
  limits.cpu_ms = 120'000;
  limits.memory_mb = 4096;
  limits.processes = 64;
  limits.file_size_mb = 512;
  limits.output_bytes = 1 << 20;
  return limits;
}

}  // namespace

std::vector<std::string> build_command(const Task& task, const Program& program,
                                       const std::string& output_name) {
  std::vector<std::string> argv{task.compiler};
  argv.insert(argv.end(), task.fixed_flags.begin(), task.fixed_flags.end());
  argv.insert(argv.end(), program.flags.begin(), program.flags.end());
  for (const auto& source : task.sources) argv.push_back(source);
  argv.push_back("-o");
  argv.push_back(output_name);
  argv.insert(argv.end(), task.libs.begin(), task.libs.end());
  return argv;
}

Status write_program(const Program& program, const std::filesystem::path& dir) {
  for (const auto& [relative, content] : program.files) {
    std::filesystem::path path(relative);
    for (const auto& part : path) {
      if (part == ".." || path.is_absolute()) {
        return fail("program file '" + relative + "' lies outside the build folder");
      }
    }
    std::error_code ec;
    std::filesystem::create_directories((dir / path).parent_path(), ec);
    if (ec) return fail("cannot create folder for '" + relative + "': " + ec.message());
    if (auto status = write_file(dir / path, content); !status) return status;
  }
  return Ok{};
}

BuildOutput build_program(const Task& task, const Program& program,
                          const std::filesystem::path& dir, const std::atomic<bool>* cancel) {
  BuildOutput out;
  auto start = std::chrono::steady_clock::now();
  if (auto written = write_program(program, dir); !written) {
    out.stage = {StageStatus::failed, written.error(), "", 0};
    return out;
  }
  out.command = build_command(task, program, "prog");
  sandbox::Spec spec;
  spec.argv = out.command;
  spec.workdir = dir;
  spec.limits = compiler_limits();
  spec.cancel = cancel;
  sandbox::Result result = sandbox::run(spec);

  out.stage.status = stage_status_of(result);
  out.stage.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string diagnostics = result.stderr_text + result.stdout_text;
  out.stage.log = truncate_middle("$ " + shell_join(out.command) + "\n" + diagnostics,
                                  kMaxLogBytes);
  if (out.stage.status == StageStatus::ok) {
    out.binary = dir / "prog";
    out.stage.summary = "built";
    if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(out.binary))) {
      out.stage.status = StageStatus::failed;
      out.stage.summary = "the compiler exited 0 but wrote no binary";
    }
  } else {
    out.stage.summary = result.termination == sandbox::Termination::setup_error
                            ? result.setup_error
                            : "compiler: " + result.describe();
  }
  return out;
}

}  // namespace ratchet
