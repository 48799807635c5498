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
#include "common/program_files.h"
#include "common/result.h"
#include "evaluators/task.h"

namespace ratchet {

struct BuildOutput {
  StageResult stage;
  std::filesystem::path binary;  // valid when stage.status == ok
  std::vector<std::string> command;
};

// The IR genome's build path: a program file "SRC.ll" beside the task source
// "SRC" (an `ir` edit puts it there) is that source's LLVM IR. It is compiled
// by clang-19 (kIrCompiler) to "SRC.o", which takes the source's place in the
// build command, so it links with the rest of the program whatever the task's
// compiler.
//
// The pass-pipeline genome: with a program file kPipelineFile, every source
// goes through IR: lowered (or its SRC.ll taken), run through
// `opt-19 -passes=PIPELINE`, and compiled without the compiler's own middle
// end (-Xclang -disable-llvm-passes), so the pipeline is the optimizer. The
// task's optimization flags then only steer code generation and the link.
// A sanitizer build (-fsanitize= flags) keeps clang's own pipeline after the
// given one, which is where ASan instruments.
inline constexpr const char* kIrCompiler = "clang-19";
inline constexpr const char* kOptTool = "opt-19";

// The command that compiles `ir_file` to `object`: -c, -w, and of the
// program's flags those that apply to IR (-O, -march/-mtune, -g, -fsanitize).
std::vector<std::string> ir_compile_command(const Program& program, const std::string& ir_file,
                                            const std::string& object);

// Lowers `source` of `program` to unoptimized but optimizable textual IR
// (clang-19 -S -emit-llvm -O2 -Xclang -disable-llvm-passes, with the task's and
// program's flags that change parsing), in the sandbox: the module text, or
// the compiler's diagnostics.
Result<std::string> lower_to_ir(const Task& task, const Program& program,
                                const std::string& source);

// The program's pass pipeline (kPipelineFile, trimmed), "" without one.
std::string program_pipeline(const Program& program);

// With a source's IR or a pipeline in the program, its object file stands in
// for the source.
std::vector<std::string> build_command(const Task& task, const Program& program,
                                       const std::string& output_name);

// `dir` must exist and be empty; the program's files and the binary go there.
BuildOutput build_program(const Task& task, const Program& program,
                          const std::filesystem::path& dir,
                          const std::atomic<bool>* cancel = nullptr);

// Writes the program's files below `dir`, refusing paths that leave it.
Status write_program(const Program& program, const std::filesystem::path& dir);

}  // namespace ratchet
