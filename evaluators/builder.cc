#include "evaluators/builder.h"

#include <algorithm>
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

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Flags of a gcc task's genome that clang-19 would reject or that do not
// change the IR are left out of the IR steps.
bool lowering_flag(const std::string& flag) {
  // -fsanitize: UBSan's checks are inserted by the front end, at lowering.
  for (const char* prefix : {"-D", "-U", "-I", "-std=", "-m", "-ffp-contract=", "-fsanitize=",
                             "-fno-sanitize"}) {
    if (starts_with(flag, prefix)) return true;
  }
  return flag == "-ffast-math" || flag == "-fno-fast-math" || flag == "-fopenmp";
}

bool ir_flag(const std::string& flag) {
  for (const char* prefix : {"-O", "-march=", "-mtune=", "-fsanitize=", "-fno-sanitize"}) {
    if (starts_with(flag, prefix)) return true;
  }
  return flag == "-g" || flag == "-fno-omit-frame-pointer";
}

// Runs one compiler command in `dir` with the compiler limits.
sandbox::Result run_compiler(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                             const std::atomic<bool>* cancel) {
  sandbox::Spec spec;
  spec.argv = argv;
  spec.workdir = dir;
  spec.limits = compiler_limits();
  spec.cancel = cancel;
  return sandbox::run(spec);
}

}  // namespace

std::string program_pipeline(const Program& program) {
  auto it = program.files.find(kPipelineFile);
  if (it == program.files.end()) return "";
  size_t first = it->second.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  size_t last = it->second.find_last_not_of(" \t\r\n");
  return it->second.substr(first, last - first + 1);
}

std::vector<std::string> ir_compile_command(const Program& program, const std::string& ir_file,
                                            const std::string& object) {
  std::vector<std::string> argv{kIrCompiler, "-c", "-w"};
  for (const auto& flag : program.flags) {
    if (ir_flag(flag)) argv.push_back(flag);
  }
  argv.insert(argv.end(), {ir_file, "-o", object});
  return argv;
}

namespace {

std::vector<std::string> lowering_command(const Task& task, const Program& program,
                                          const std::string& source, const std::string& output) {
  std::vector<std::string> argv{kIrCompiler, "-S", "-emit-llvm", "-w"};
  for (const auto* flags : {&task.fixed_flags, &program.flags}) {
    for (const auto& flag : *flags) {
      if (lowering_flag(flag)) argv.push_back(flag);
    }
  }
  argv.insert(argv.end(), {"-O2", "-Xclang", "-disable-llvm-passes", "-x",
                           task.language == "c" ? "c" : "c++", source, "-o", output});
  return argv;
}

// The commands that turn `source` into `source.o` through IR: lowering
// (unless the program carries its IR), the pipeline, the code generator.
std::vector<std::vector<std::string>> ir_build_steps(const Task& task, const Program& program,
                                                     const std::string& source,
                                                     const std::string& pipeline) {
  std::vector<std::vector<std::string>> steps;
  std::string ir = ir_file_of(source);
  if (!program.files.count(ir)) {
    ir = source + ".lowered.ll";
    steps.push_back(lowering_command(task, program, source, ir));
  }
  if (pipeline.empty()) {
    steps.push_back(ir_compile_command(program, ir, source + ".o"));
    return steps;
  }
  std::string optimized = source + ".opt.bc";
  steps.push_back({kOptTool, "-passes=" + pipeline, ir, "-o", optimized});
  std::vector<std::string> compile = ir_compile_command(program, optimized, source + ".o");
  // The pipeline is the middle end, except in a sanitizer build, whose
  // instrumentation passes (ASan) run in clang's own pipeline.
  bool sanitized = std::any_of(program.flags.begin(), program.flags.end(), [](const auto& flag) {
    return starts_with(flag, "-fsanitize=");
  });
  if (!sanitized) compile.insert(compile.end() - 3, {"-Xclang", "-disable-llvm-passes"});
  steps.push_back(std::move(compile));
  return steps;
}

}  // namespace

Result<std::string> lower_to_ir(const Task& task, const Program& program,
                                const std::string& source) {
  if (!program.files.count(source)) return fail("the program has no file '" + source + "'");
  TempDir dir("lower-ir-");
  if (auto written = write_program(program, dir.path()); !written) return fail(written.error());
  std::vector<std::string> argv = lowering_command(task, program, source, "lowered.ll");
  sandbox::Result result = run_compiler(argv, dir.path(), nullptr);
  if (stage_status_of(result) != StageStatus::ok) {
    return fail("lowering " + source + " to IR failed (" + result.describe() + "):\n$ " +
                shell_join(argv) + "\n" + truncate_middle(result.stderr_text, kMaxLogBytes));
  }
  return read_file(dir.path() / "lowered.ll");
}

std::vector<std::string> build_command(const Task& task, const Program& program,
                                       const std::string& output_name) {
  std::vector<std::string> argv{task.compiler};
  argv.insert(argv.end(), task.fixed_flags.begin(), task.fixed_flags.end());
  argv.insert(argv.end(), program.flags.begin(), program.flags.end());
  bool through_ir = !program_pipeline(program).empty();
  for (const auto& source : task.sources) {
    argv.push_back(through_ir || program.files.count(ir_file_of(source)) ? source + ".o" : source);
  }
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
  // The IR genome: each source's IR is compiled first; the link below uses
  // the objects. The log shows every command.
  std::string ir_log;
  std::string pipeline = program_pipeline(program);
  for (const auto& source : task.sources) {
    if (pipeline.empty() && !program.files.count(ir_file_of(source))) continue;
    for (const auto& argv : ir_build_steps(task, program, source, pipeline)) {
      sandbox::Result result = run_compiler(argv, dir, cancel);
      ir_log += "$ " + shell_join(argv) + "\n" + result.stderr_text + result.stdout_text;
      if (stage_status_of(result) != StageStatus::ok) {
        out.command = argv;
        out.stage.status = stage_status_of(result);
        out.stage.summary = std::string(argv[0] == kOptTool ? "opt: " : "IR compiler: ") +
                            result.describe();
        out.stage.log = truncate_middle(ir_log, kMaxLogBytes);
        return out;
      }
    }
  }
  out.command = build_command(task, program, "prog");
  sandbox::Result result = run_compiler(out.command, dir, cancel);

  out.stage.status = stage_status_of(result);
  out.stage.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string diagnostics = result.stderr_text + result.stdout_text;
  out.stage.log = truncate_middle(ir_log + "$ " + shell_join(out.command) + "\n" + diagnostics,
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
