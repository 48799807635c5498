// `ratchet ir check FILE.ll`: parse and verify an LLVM IR module.
// `ratchet ir pipeline PIPELINE [FILE.ll]`: check an `opt` pass pipeline (new
// pass manager syntax) and, given a module, run it and print the result.
// A missing file is a usage error (exit 2); an invalid module or pipeline a
// runtime failure (exit 1) quoting LLVM's message with line:column.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>

#include "common/files.h"
#include "engine/cli.h"
#include "engine/remote_rewriters.h"

namespace ratchet {

namespace {

struct IrOptions {
  std::string file;
  std::string pipeline;
};

std::string read_module(const std::string& path) {
  auto text = read_file(path);
  if (!text) usage_error(fmt::format("ir: {}", text.error()));
  return *text;
}

// "FILE:3:12: error: …" for parser errors, "FILE: verifier: …" otherwise.
std::string located(const std::string& file, const std::string& error) {
  bool has_position = !error.empty() && std::isdigit(static_cast<unsigned char>(error[0]));
  return file + (has_position ? ":" : ": ") + error;
}

int check(const IrOptions& options) {
  std::string text = read_module(options.file);
  auto functions = remote::verify_ir(text);
  if (!functions) runtime_error(located(options.file, functions.error()));
  std::cout << fmt::format("{}: ok ({} function definitions)\n", options.file, *functions);
  return kExitOk;
}

int pipeline(const IrOptions& options) {
  if (Status ok = remote::check_pipeline(options.pipeline); !ok) runtime_error(ok.error());
  if (options.file.empty()) {
    std::cout << fmt::format("pipeline ok: {}\n", options.pipeline);
    return kExitOk;
  }
  auto optimized = remote::run_pipeline(read_module(options.file), options.pipeline);
  if (!optimized) runtime_error(located(options.file, optimized.error()));
  std::cout << *optimized;
  return kExitOk;
}

}  // namespace

void add_ir_command(CLI::App& app, int& exit_code) {
  CLI::App* ir = app.add_subcommand("ir", "Check LLVM IR modules and pass pipelines");
  ir->require_subcommand(1);
  auto options = std::make_shared<IrOptions>();
  CLI::App* check_command = ir->add_subcommand("check", "Parse and verify an IR module");
  check_command->add_option("file", options->file, "The module (.ll)")->required();
  check_command->callback([options, &exit_code] { exit_code = check(*options); });
  CLI::App* pipeline_command =
      ir->add_subcommand("pipeline", "Check a pass pipeline; run it on a module if given");
  pipeline_command->add_option("pipeline", options->pipeline, "e.g. 'function(sroa),default<O2>'")
      ->required();
  pipeline_command->add_option("file", options->file, "A module (.ll) to optimize");
  pipeline_command->callback([options, &exit_code] { exit_code = pipeline(*options); });
}

}  // namespace ratchet
