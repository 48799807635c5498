// `ratchet sandbox run -- CMD ARGS...`: run one command the way ratchet runs
// candidates and print the result as JSON. Exits 0 whenever the sandbox
// itself worked, whatever the command did.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>

#include "common/files.h"
#include "engine/cli.h"
#include "engine/stop_signal.h"
#include "sandbox/result_json.h"
#include "sandbox/sandbox.h"

namespace ratchet {

namespace {

struct SandboxOptions {
  sandbox::Limits limits;
  int64_t output_kb = 1024;
  std::vector<std::string> read_only;
  std::vector<std::string> writable;
  std::vector<std::string> env;
  std::string workdir;
  bool network = false;
  std::vector<std::string> command;
};

int run_sandboxed(SandboxOptions& options) {
  const std::atomic<bool>& stop = install_stop_handlers();
  sandbox::Spec spec;
  spec.argv = options.command;
  spec.limits = options.limits;
  spec.limits.output_bytes = options.output_kb * 1024;
  for (const auto& path : options.read_only) spec.read_only.emplace_back(path);
  for (const auto& path : options.writable) spec.writable.emplace_back(path);
  for (const auto& assignment : options.env) {
    auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      usage_error(fmt::format("--env '{}': expected NAME=VALUE", assignment));
    }
    spec.env.emplace_back(assignment.substr(0, equals), assignment.substr(equals + 1));
  }
  spec.network = options.network;
  spec.cancel = &stop;
  std::optional<TempDir> scratch;
  if (options.workdir.empty()) {
    scratch.emplace("ratchet-sandbox-");
    spec.workdir = scratch->path();
  } else {
    spec.workdir = options.workdir;
  }
  sandbox::Result result = sandbox::run(spec);
  std::cout << sandbox::to_json(result).dump(2) << "\n";
  if (result.termination == sandbox::Termination::setup_error) {
    runtime_error("sandbox setup failed: " + result.setup_error);
  }
  return kExitOk;
}

}  // namespace

void add_sandbox_command(CLI::App& app, int& exit_code) {
  CLI::App* sandbox = app.add_subcommand("sandbox", "Run commands the way candidates run");
  sandbox->require_subcommand(1);
  auto options = std::make_shared<SandboxOptions>();
  CLI::App* run = sandbox->add_subcommand("run", "Run one command in the sandbox; print JSON");
  run->add_option("--wall-ms", options->limits.wall_ms, "Wall-clock limit (ms)");
  run->add_option("--cpu-ms", options->limits.cpu_ms, "CPU time limit (ms)");
  run->add_option("--mem-mb", options->limits.memory_mb, "Memory limit (MiB)");
  run->add_option("--procs", options->limits.processes, "Process/thread limit");
  run->add_option("--files", options->limits.open_files, "Open file limit");
  run->add_option("--output-kb", options->output_kb, "Captured output limit per stream (KiB)");
  run->add_option("--ro", options->read_only, "Path visible read-only (repeatable)");
  run->add_option("--rw", options->writable, "Path visible read-write (repeatable)");
  run->add_flag("--net", options->network, "Allow network access");
  run->add_option("--env", options->env, "NAME=VALUE for the command (repeatable)");
  run->add_option("--workdir", options->workdir, "Work dir (default: a fresh temporary one)");
  run->add_option("command", options->command, "The command and its arguments (after --)")
      ->required();
  run->callback([options, &exit_code] { exit_code = run_sandboxed(*options); });
}

}  // namespace ratchet
