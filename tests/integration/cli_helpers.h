// Helpers for end-to-end tests: run the real `ratchet` binary, capture its
// output, and clean up every process it started.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/files.h"

namespace ratchet::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// A ratchet process started in the background; killed (with its process
// group) if still running when destroyed.
class Background {
 public:
  Background(pid_t pid, std::filesystem::path out, std::filesystem::path err);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo) const;
  // Waits up to `timeout` for the process to exit; exit_code -1 on timeout.
  CommandResult wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_;
  bool reaped_ = false;
  std::filesystem::path out_, err_;
};

class Ratchet {
 public:
  Ratchet();  // a scoped temp dir becomes the working directory of each run

  // Runs `ratchet ARGS...` to completion (killed after 10 minutes).
  CommandResult run(const std::vector<std::string>& args) const;
  std::unique_ptr<Background> start(const std::vector<std::string>& args) const;

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path db() const { return dir_.path() / "test.db"; }

  // Writes a config next to the database; `task` is a folder under
  // tests/data/tasks or corpora (absolute paths are used as given).
  std::filesystem::path write_config(const std::string& name, const nlohmann::json& config) const;

 private:
  TempDir dir_;
};

// An absolute path inside the source tree.
std::filesystem::path source_path(const std::string& relative);

// A campaign config for a fast run on the tiny test task.
nlohmann::json tiny_config(int max_evals);

}  // namespace ratchet::testing
