#include "evaluators/task.h"

#include <fmt/format.h>

#include "common/files.h"
#include "common/json_config.h"
#include "common/regions.h"
#include "common/result.h"

namespace ratchet {

namespace {

InputSpec read_input(JsonObjectReader reader) {
  InputSpec input;
  input.size = reader.integer("size", 0, INT64_MAX);
  input.seed = reader.integer("seed", 0, INT64_MAX);
  reader.finish();
  return input;
}

// A path inside the task folder: relative, no "..", and the file exists.
std::string task_file(const JsonObjectReader& reader, const std::string& key,
                      const std::string& relative, const std::filesystem::path& dir) {
  std::filesystem::path path(relative);
  bool escapes = path.is_absolute();
  for (const auto& part : path) escapes = escapes || part == "..";
  if (relative.empty() || escapes) {
    usage_error(fmt::format("{}: key '{}': expected a path inside the task folder, got \"{}\"",
                            reader.file(), reader.key_path(key), relative));
  }
  if (!std::filesystem::is_regular_file(dir / path)) {
    usage_error(fmt::format("{}: key '{}': file \"{}\" not found in {}", reader.file(),
                            reader.key_path(key), relative, dir.string()));
  }
  return path.lexically_normal().string();
}

void read_build(JsonObjectReader build, Task& task) {
  std::string default_compiler = task.language == "c" ? "gcc" : "g++";
  task.compiler = build.string_or("compiler", default_compiler);
  task.flags = build.strings_or("flags", {"-O2"});
  task.fixed_flags = build.strings_or("fixed_flags", {});
  task.libs = build.strings_or("libs", {});
  build.finish();
}

void read_inputs(JsonObjectReader inputs, Task& task) {
  task.generator = task_file(inputs, "generator", inputs.string("generator"), task.dir);
  for (auto& reader : inputs.objects("verify")) task.verify_inputs.push_back(read_input(reader));
  if (task.verify_inputs.empty()) inputs.fail("verify", "a non-empty array of {size, seed}");
  auto benchmark = inputs.object("benchmark");
  if (!benchmark) inputs.fail("benchmark", "an object {size, seed}");
  task.benchmark_input = read_input(*benchmark);
  inputs.finish();
}

void read_verify(JsonObjectReader verify, Task& task) {
  std::string mode = verify.choice_or("mode", {"exact", "numeric", "command"}, "exact");
  task.verify_mode = mode == "exact"     ? VerifyMode::exact
                     : mode == "numeric" ? VerifyMode::numeric
                                         : VerifyMode::command;
  if (task.verify_mode == VerifyMode::command) {
    task.verify_command = verify.strings("command");
    if (task.verify_command.empty()) verify.fail("command", "a non-empty array: the checker's argv");
    std::filesystem::path checker = task.dir / task.verify_command[0];
    if (std::filesystem::is_regular_file(checker)) task.verify_command[0] = checker.string();
  }
  if (task.verify_mode == VerifyMode::numeric) {
    task.abs_tol = verify.number_or("abs_tol", 0.0, 0.0, 1e300);
    task.rel_tol = verify.number_or("rel_tol", 0.0, 0.0, 1.0);
    if (task.abs_tol == 0 && task.rel_tol == 0) {
      verify.fail("abs_tol", "abs_tol or rel_tol above 0 for numeric mode");
    }
  }
  verify.finish();
}

void read_metric(JsonObjectReader metric, Task& task) {
  task.metric = metric.choice_or("name", {"cpu_time", "wall_time"}, "cpu_time");
  std::string direction = metric.choice_or("direction", {"minimize"}, "minimize");
  metric.finish();
}

void check_sources(const Task& task, const std::string& file) {
  size_t blocks = 0;
  for (const auto& source : task.sources) {
    auto text = read_file(task.dir / source);
    if (!text) usage_error(text.error());
    auto regions = find_regions(*text);
    if (!regions) usage_error(fmt::format("{}: {}", (task.dir / source).string(), regions.error()));
    blocks += regions->size();
  }
  if (blocks == 0) {
    usage_error(fmt::format("{}: no source has an EVOLVE-BLOCK-START / EVOLVE-BLOCK-END region "
                            "(mark the code that may change)", file));
  }
}

}  // namespace

Task load_task(const std::filesystem::path& dir_arg) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_arg, ec)) {
    usage_error(fmt::format("task folder '{}' not found", dir_arg.string()));
  }
  Task task;
  task.dir = std::filesystem::canonical(dir_arg);
  std::filesystem::path file = task.dir / "task.json";
  if (!std::filesystem::is_regular_file(file)) {
    usage_error(fmt::format("task folder '{}' has no task.json", dir_arg.string()));
  }
  nlohmann::json json = parse_json_file(file);
  JsonObjectReader root(json, file.string(), "");

  task.name = root.string("name");
  task.description = root.string_or("description", "");
  task.language = root.choice_or("language", {"c", "c++"}, "c");
  std::vector<std::string> sources = root.strings("sources");
  if (sources.empty()) root.fail("sources", "a non-empty array of file names");
  for (const auto& source : sources) task.sources.push_back(task_file(root, "sources", source, task.dir));

  if (auto build = root.object("build")) read_build(*build, task);
  else read_build(JsonObjectReader(nlohmann::json::object(), file.string(), "build"), task);

  auto inputs = root.object("inputs");
  if (!inputs) root.fail("inputs", "an object with generator, verify and benchmark");
  read_inputs(*inputs, task);

  if (auto run = root.object("run")) {
    task.run_args = run->strings_or("args", {});
    task.run_timeout_ms = run->integer_or("timeout_ms", 20'000, 1, 3'600'000);
    run->finish();
  }
  if (auto verify = root.object("verify")) read_verify(*verify, task);
  if (auto metric = root.object("metric")) read_metric(*metric, task);
  root.finish();

  check_sources(task, file.string());
  return task;
}

Program Task::baseline() const {
  Program program;
  for (const auto& source : sources) {
    auto text = read_file(dir / source);
    if (!text) runtime_error(text.error());
    program.files[source] = std::move(*text);
  }
  program.flags = flags;
  return program;
}

}  // namespace ratchet
