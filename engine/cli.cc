#include "engine/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/result.h"

namespace ratchet {

namespace {

// Every subcommand, in the order --help lists them.
const CommandEntry kCommands[] = {
    {"run", add_run_command},
    {"task", add_task_command},
    {"db", add_db_command},
    {"measure", add_measure_command},
    {"sandbox", add_sandbox_command},
    {"rewrite", add_rewrite_command},
    {"ir", add_ir_command},
};

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"ratchet: an evolutionary optimizer for C and C++ programs", "ratchet"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ratchet 0.1.0");
  int exit_code = kExitOk;
  for (const auto& command : kCommands) command.add(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ratchet: error: " << e.what() << "\n"
              << "Run 'ratchet --help' (or 'ratchet COMMAND --help') for usage.\n";
    return kExitUsage;
  } catch (const FatalError& e) {
    std::cerr << "ratchet: error: " << e.what() << "\n";
    return e.exit_code();
  }
  return exit_code;
}

}  // namespace ratchet
