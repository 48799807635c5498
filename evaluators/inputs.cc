#include "evaluators/inputs.h"

#include <fmt/format.h>

#include "common/files.h"
#include "common/text.h"
#include "sandbox/sandbox.h"

namespace ratchet {

namespace {

constexpr int64_t kMaxInputBytes = 512LL << 20;

Result<std::filesystem::path> build_generator(const Task& task, const std::filesystem::path& dir,
                                              const std::atomic<bool>* cancel) {
  std::filesystem::path build_dir = dir / "gen-build";
  std::filesystem::create_directories(build_dir);
  std::filesystem::path source = task.generator;
  std::filesystem::copy_file(task.dir / source, build_dir / source.filename(),
                             std::filesystem::copy_options::overwrite_existing);
  sandbox::Spec spec;
  spec.argv = {"gcc", "-O2", source.filename().string(), "-o", "gen", "-lm"};
  spec.workdir = build_dir;
  spec.limits.wall_ms = 120'000;
  spec.limits.cpu_ms = 120'000;
  spec.limits.memory_mb = 4096;
  spec.cancel = cancel;
  sandbox::Result result = sandbox::run(spec);
  if (!result.exited_ok()) {
    return fail(fmt::format("input generator '{}' does not build ({}):\n{}", task.generator,
                            result.describe(),
                            truncate_middle(result.stderr_text + result.setup_error, 8192)));
  }
  return build_dir / "gen";
}

}  // namespace

Result<InputFile> generate_input(const std::filesystem::path& generator, const InputSpec& input,
                                 const std::filesystem::path& dir, const std::string& name,
                                 const std::atomic<bool>* cancel) {
  TempDir work("gen-run-", dir);
  sandbox::Spec spec;
  spec.argv = {generator.string(), std::to_string(input.size), std::to_string(input.seed)};
  spec.workdir = work.path();
  spec.limits.wall_ms = 300'000;
  spec.limits.cpu_ms = 300'000;
  spec.limits.output_bytes = kMaxInputBytes;
  spec.read_only = {generator};
  spec.cancel = cancel;
  sandbox::Result result = sandbox::run(spec);
  if (!result.exited_ok()) {
    return fail(fmt::format("input generator failed for size {} seed {} ({}):\n{}", input.size,
                            input.seed, result.describe(),
                            truncate_middle(result.stderr_text + result.setup_error, 8192)));
  }
  InputFile file{input, dir / name};
  if (auto written = write_file(file.path, result.stdout_text); !written) return Error{written.error()};
  return file;
}

Result<InputSet> prepare_inputs(const Task& task, const std::filesystem::path& dir,
                                const std::atomic<bool>* cancel) {
  auto generator = build_generator(task, dir, cancel);
  if (!generator) return Error{generator.error()};
  InputSet inputs;
  inputs.generator = *generator;
  for (size_t i = 0; i < task.verify_inputs.size(); ++i) {
    auto file = generate_input(*generator, task.verify_inputs[i], dir,
                         fmt::format("verify-{}.in", i + 1), cancel);
    if (!file) return Error{file.error()};
    inputs.verify.push_back(std::move(*file));
  }
  auto bench = generate_input(*generator, task.benchmark_input, dir, "benchmark.in", cancel);
  if (!bench) return Error{bench.error()};
  inputs.benchmark = std::move(*bench);
  return inputs;
}

}  // namespace ratchet
