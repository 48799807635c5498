// The `ratchet` command line: one table of subcommands (cli.cc), each
// defined in its own file. main() only calls run_cli().
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace ratchet {

// Adds one subcommand to `app`; the callback stores the command's exit code.
using AddCommand = void (*)(CLI::App& app, int& exit_code);

struct CommandEntry {
  const char* name;
  AddCommand add;
};

void add_run_command(CLI::App& app, int& exit_code);
void add_task_command(CLI::App& app, int& exit_code);
void add_db_command(CLI::App& app, int& exit_code);
void add_measure_command(CLI::App& app, int& exit_code);
void add_sandbox_command(CLI::App& app, int& exit_code);
void add_rewrite_command(CLI::App& app, int& exit_code);
void add_ir_command(CLI::App& app, int& exit_code);

// Parses argv and runs the command. Returns the process exit code: 0
// success, 2 usage or configuration error, 1 runtime failure. Errors are
// printed to stderr as "ratchet: error: ...".
int run_cli(int argc, char** argv);

}  // namespace ratchet
