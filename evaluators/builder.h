// The build stage: write a Program into a fresh folder and compile it, in
// the sandbox, with the task's recipe:
//   COMPILER FIXED_FLAGS FLAGS SOURCES -o prog LIBS
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "common/evaluation.h"
#include "common/program.h"
#include "common/result.h"
#include "evaluators/task.h"

namespace ratchet {

struct BuildOutput {
  StageResult stage;
  std::filesystem::path binary;  // valid when stage.status == ok
  std::vector<std::string> command;
};

std::vector<std::string> build_command(const Task& task, const Program& program,
                                       const std::string& output_name);

// `dir` must exist and be empty; the program's files and the binary go there.
BuildOutput build_program(const Task& task, const Program& program,
                          const std::filesystem::path& dir,
                          const std::atomic<bool>* cancel = nullptr);

// Writes the program's files below `dir`, refusing paths that leave it.
Status write_program(const Program& program, const std::filesystem::path& dir);

}  // namespace ratchet
