#include "evaluators/task.h"

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/files.h"
#include "common/regions.h"
#include "common/result.h"
#include "tests/unit/usage_error_check.h"

namespace fs = std::filesystem;
using ratchet::load_task;
using ratchet::Task;
using ratchet::VerifyMode;

namespace {


fs::path fixture(const std::string& name) {
  return fs::path(RATCHET_SOURCE_DIR) / "tests/data/unit/tasks" / name;
}

// The absolute path load_task uses in its messages.
std::string canonical(const std::string& name, const std::string& file = "") {
  fs::path dir = fs::canonical(fixture(name));
  return (file.empty() ? dir : dir / file).string();
}

std::string read(const fs::path& path) {
  auto text = ratchet::read_file(path);
  REQUIRE(text.ok());
  return *text;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("task: load_task reads every key of a valid task") {
  Task task = load_task(fixture("ok"));
  CHECK(task.dir == fs::canonical(fixture("ok")));
  CHECK(task.dir.is_absolute());
  CHECK(task.name == "unit-ok");
  CHECK(task.description == "Adds numbers.");
  CHECK(task.language == "c");
  CHECK(task.sources == Strings{"main.c", "kernel.c"});
  CHECK(task.compiler == "gcc");
  CHECK(task.flags == Strings{"-O3", "-march=native"});
  CHECK(task.fixed_flags == Strings{"-std=c11"});
  CHECK(task.libs == Strings{"-lm"});
  CHECK(task.generator == "gen.c");
  REQUIRE(task.verify_inputs.size() == 2);
  CHECK(task.verify_inputs[0].size == 0);
  CHECK(task.verify_inputs[0].seed == 1);
  CHECK(task.verify_inputs[1].size == 10);
  CHECK(task.verify_inputs[1].seed == 2);
  CHECK(task.benchmark_input.size == 1000);
  CHECK(task.benchmark_input.seed == 3);
  CHECK(task.run_args == Strings{"--quiet"});
  CHECK(task.run_timeout_ms == 5000);
  CHECK(task.verify_mode == VerifyMode::numeric);
  CHECK(task.abs_tol == 0);
  CHECK(task.rel_tol == 1e-6);
  CHECK(task.allows_unsafe_math());
  CHECK(task.metric == "wall_time");
}

TEST_CASE("task: load_task fills the defaults of a minimal task") {
  // A folder named through ".." segments is found, and its dir is canonical.
  Task task = load_task(fixture("no_region") / ".." / "ok");
  CHECK(task.dir == fs::canonical(fixture("ok")));
  ratchet::TempDir dir;
  REQUIRE(ratchet::write_file(dir.path() / "task.json", R"({
    "name": "minimal", "sources": ["k.cc"],
    "language": "c++",
    "inputs": {"generator": "gen.c", "verify": [{"size": 1, "seed": 1}],
               "benchmark": {"size": 2, "seed": 2}}})").ok());
  REQUIRE(ratchet::write_file(dir.path() / "k.cc", "// EVOLVE-BLOCK-START\n// EVOLVE-BLOCK-END\n").ok());
  REQUIRE(ratchet::write_file(dir.path() / "gen.c", "int main(void) { return 0; }\n").ok());
  Task minimal = load_task(dir.path());
  CHECK(minimal.description.empty());
  CHECK(minimal.compiler == "g++");
  CHECK(minimal.flags == Strings{"-O2"});
  CHECK(minimal.fixed_flags.empty());
  CHECK(minimal.libs.empty());
  CHECK(minimal.run_args.empty());
  CHECK(minimal.run_timeout_ms == 20'000);
  CHECK(minimal.verify_mode == VerifyMode::exact);
  CHECK_FALSE(minimal.allows_unsafe_math());
  CHECK(minimal.metric == "cpu_time");
}

TEST_CASE("task: baseline holds the sources' contents and the baseline flags") {
  Task task = load_task(fixture("ok"));
  ratchet::Program baseline = task.baseline();
  REQUIRE(baseline.files.size() == 2);
  CHECK(baseline.files.at("main.c") == read(fixture("ok") / "main.c"));
  CHECK(baseline.files.at("kernel.c") == read(fixture("ok") / "kernel.c"));
  CHECK(baseline.flags == Strings{"-O3", "-march=native"});
}

TEST_CASE("task: load_task refuses a missing folder") {
  std::string dir = fixture("does_not_exist").string();
  CHECK_USAGE_ERROR(load_task(dir), "task folder '" + dir + "' not found");
}

TEST_CASE("task: load_task refuses a folder without task.json") {
  std::string dir = fixture("no_task_json").string();
  CHECK_USAGE_ERROR(load_task(dir), "task folder '" + dir + "' has no task.json");
}

TEST_CASE("task: load_task names a missing source file") {
  CHECK_USAGE_ERROR(load_task(fixture("missing_source")),
                    canonical("missing_source", "task.json") +
                        ": key 'sources': file \"absent.c\" not found in " +
                        canonical("missing_source"));
}

TEST_CASE("task: load_task names the file and line of an unclosed EVOLVE block") {
  CHECK_USAGE_ERROR(load_task(fixture("unclosed_block")),
                    canonical("unclosed_block", "kernel.c") +
                        ": line 3: EVOLVE-BLOCK-START is never closed");
}

TEST_CASE("task: load_task refuses a task without an evolvable region") {
  CHECK_USAGE_ERROR(load_task(fixture("no_region")),
                    canonical("no_region", "task.json") +
                        ": no source has an EVOLVE-BLOCK-START / EVOLVE-BLOCK-END region (mark "
                        "the code that may change)");
}

TEST_CASE("task: load_task refuses a source path that leaves the task folder") {
  CHECK_USAGE_ERROR(load_task(fixture("dotdot_source")),
                    canonical("dotdot_source", "task.json") +
                        ": key 'sources': expected a path inside the task folder, got "
                        "\"../ok/kernel.c\"");
}

TEST_CASE("task: load_task refuses numeric verification with both tolerances 0") {
  CHECK_USAGE_ERROR(load_task(fixture("numeric_zero_tolerance")),
                    canonical("numeric_zero_tolerance", "task.json") +
                        ": key 'verify.abs_tol': expected abs_tol or rel_tol above 0 for numeric "
                        "mode, got 0");
}

TEST_CASE("task: load_task names an unknown key and its near miss") {
  CHECK_USAGE_ERROR(load_task(fixture("unknown_key")),
                    canonical("unknown_key", "task.json") +
                        ": unknown key 'descripton' (did you mean 'description'?)");
}

TEST_CASE("task: load_task refuses an absolute source path and a bad generator") {
  ratchet::TempDir dir;
  std::string file = (fs::canonical(dir.path()) / "task.json").string();
  REQUIRE(ratchet::write_file(dir.path() / "k.c", "// EVOLVE-BLOCK-START\n// EVOLVE-BLOCK-END\n").ok());
  SECTION("absolute source") {
    REQUIRE(ratchet::write_file(dir.path() / "task.json", R"({
      "name": "t", "sources": ["/etc/passwd"],
      "inputs": {"generator": "gen.c", "verify": [{"size": 1, "seed": 1}],
                 "benchmark": {"size": 2, "seed": 2}}})").ok());
    CHECK_USAGE_ERROR(load_task(dir.path()),
                      file + ": key 'sources': expected a path inside the task folder, got "
                             "\"/etc/passwd\"");
  }
  SECTION("missing generator") {
    REQUIRE(ratchet::write_file(dir.path() / "task.json", R"({
      "name": "t", "sources": ["k.c"],
      "inputs": {"generator": "gen.c", "verify": [{"size": 1, "seed": 1}],
                 "benchmark": {"size": 2, "seed": 2}}})").ok());
    CHECK_USAGE_ERROR(load_task(dir.path()),
                      file + ": key 'inputs.generator': file \"gen.c\" not found in " +
                          fs::canonical(dir.path()).string());
  }
  SECTION("no verify inputs") {
    REQUIRE(ratchet::write_file(dir.path() / "gen.c", "int main(void) { return 0; }\n").ok());
    REQUIRE(ratchet::write_file(dir.path() / "task.json", R"({
      "name": "t", "sources": ["k.c"],
      "inputs": {"generator": "gen.c", "verify": [], "benchmark": {"size": 2, "seed": 2}}})")
                .ok());
    CHECK_USAGE_ERROR(load_task(dir.path()),
                      file + ": key 'inputs.verify': expected a non-empty array of {size, seed}, "
                             "got []");
  }
  SECTION("unknown verify mode") {
    REQUIRE(ratchet::write_file(dir.path() / "gen.c", "int main(void) { return 0; }\n").ok());
    REQUIRE(ratchet::write_file(dir.path() / "task.json", R"({
      "name": "t", "sources": ["k.c"],
      "inputs": {"generator": "gen.c", "verify": [{"size": 1, "seed": 1}],
                 "benchmark": {"size": 2, "seed": 2}},
      "verify": {"mode": "numerical"}})").ok());
    CHECK_USAGE_ERROR(load_task(dir.path()),
                      file + ": key 'verify.mode': expected one of \"exact\", \"numeric\", "
                             "\"command\" (did you mean \"numeric\"?), got \"numerical\"");
  }
}

TEST_CASE("task: load_task loads every bundled corpus task") {
  for (const char* name : {"stencil", "matmul", "wordfreq", "kmer"}) {
    CAPTURE(name);
    fs::path dir = fs::path(RATCHET_SOURCE_DIR) / "corpora" / name;
    Task task = load_task(dir);
    CHECK(task.name == name);
    CHECK(task.dir == fs::canonical(dir));
    CHECK_FALSE(task.description.empty());
    CHECK((task.language == "c" || task.language == "c++"));
    CHECK_FALSE(task.sources.empty());
    CHECK(task.generator == "gen.c");
    CHECK_FALSE(task.verify_inputs.empty());
    CHECK(task.benchmark_input.size > 0);
    CHECK(task.flags == Strings{"-O2"});
    ratchet::Program baseline = task.baseline();
    CHECK(baseline.files.size() == task.sources.size());
    size_t regions = 0;
    for (const auto& [path, text] : baseline.files) {
      auto found = ratchet::find_regions(text);
      REQUIRE(found.ok());
      regions += found->size();
    }
    CHECK(regions >= 1);
  }
}

TEST_CASE("task: numeric corpus tasks allow unsafe math, exact ones do not") {
  auto root = fs::path(RATCHET_SOURCE_DIR) / "corpora";
  CHECK(load_task(root / "stencil").verify_mode == VerifyMode::numeric);
  CHECK(load_task(root / "matmul").allows_unsafe_math());
  CHECK(load_task(root / "wordfreq").verify_mode == VerifyMode::exact);
  CHECK_FALSE(load_task(root / "kmer").allows_unsafe_math());
}
