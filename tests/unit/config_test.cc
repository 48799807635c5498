#include "engine/config.h"

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "common/files.h"
#include "common/result.h"
#include "sandbox/sandbox.h"
#include "tests/unit/usage_error_check.h"

namespace fs = std::filesystem;
using ratchet::CampaignConfig;
using ratchet::load_config;

namespace {


// A temp dir with an (empty) task folder "task" beside the config file.
class ConfigDir {
 public:
  ConfigDir() { fs::create_directory(dir_.path() / "task"); }

  // Writes config.json with `body` as the members after "task" and returns its path.
  fs::path write(const std::string& text) const {
    fs::path file = dir_.path() / "config.json";
    REQUIRE(ratchet::write_file(file, text).ok());
    return file;
  }
  fs::path with_task(const std::string& members) const {
    return write("{\n  \"task\": \"task\"" + (members.empty() ? "" : ",\n  " + members) + "\n}\n");
  }
  std::string file() const { return (dir_.path() / "config.json").string(); }
  const fs::path& path() const { return dir_.path(); }

 private:
  ratchet::TempDir dir_;
};

}  // namespace

TEST_CASE("config: load_config reads configs/quickstart.json") {
  fs::path file = std::string(RATCHET_SOURCE_DIR) + "/configs/quickstart.json";
  CampaignConfig config = load_config(file);
  CHECK(config.file == file);
  CHECK(config.name == "quickstart");
  CHECK(config.task_dir.is_absolute());
  CHECK(config.task_dir == fs::canonical(std::string(RATCHET_SOURCE_DIR) + "/corpora/stencil"));
  CHECK(config.task_dir.filename() == "stencil");
  CHECK(config.task_dir.parent_path().filename() == "corpora");
  CHECK(config.seed == 1);
  CHECK(config.max_evals == 24);
  CHECK(config.max_wall_seconds == 900);
  CHECK(config.search.exploration == 0.2);
  CHECK(config.search.tournament_size == 3);
  REQUIRE(config.proposers.size() == 1);
  CHECK(config.proposers[0].kind == "flags");
  CHECK(config.proposers[0].weight == 1.0);
  CHECK(config.proposers[0].max_genes == 2);
  CHECK(config.benchmark.warmup_runs == 1);
  CHECK(config.benchmark.min_pairs == 5);
  CHECK(config.benchmark.max_pairs == 15);
  CHECK(config.benchmark.target_ci == 0.02);
  CHECK(config.benchmark.max_seconds == 20);
  CHECK(config.benchmark.confidence == 0.95);  // not in the file: the default
  CHECK(config.raw.at("name") == "quickstart");
  CHECK(config.raw.at("budget").at("max_evals") == 24);
}

TEST_CASE("config: load_config reads configs/transforms.json") {
  fs::path file = std::string(RATCHET_SOURCE_DIR) + "/configs/transforms.json";
  CampaignConfig config = load_config(file);
  CHECK(config.name == "transforms");
  CHECK(config.task_dir == fs::canonical(std::string(RATCHET_SOURCE_DIR) + "/corpora/matmul"));
  REQUIRE(config.proposers.size() == 2);
  CHECK(config.proposers[0].kind == "transforms");
  CHECK(config.proposers[0].weight == 3.0);
  CHECK(config.proposers[1].kind == "flags");
}

TEST_CASE("config: load_config fills defaults and resolves the task next to the file") {
  ConfigDir dir;
  CampaignConfig config = load_config(dir.with_task(""));
  CHECK(config.name == "config");  // the file's stem
  CHECK(config.task_dir == fs::canonical(dir.path() / "task"));
  CHECK(config.seed == 1);
  CHECK(config.max_evals == 50);
  CHECK(config.max_wall_seconds == 0);
  CHECK(config.search.exploration == 0.2);
  CHECK(config.search.tournament_size == 3);
  REQUIRE(config.proposers.size() == 1);
  CHECK(config.proposers[0].kind == "flags");
  CHECK(config.proposers[0].weight == 1.0);
  CHECK(config.benchmark.min_pairs == ratchet::BenchmarkSettings{}.min_pairs);
  CHECK(config.benchmark.max_pairs == ratchet::BenchmarkSettings{}.max_pairs);
}

TEST_CASE("config: load_config accepts an absolute task path") {
  ConfigDir dir;
  std::string task = fs::canonical(dir.path() / "task").string();
  CampaignConfig config = load_config(dir.write("{\"task\": \"" + task + "\"}"));
  CHECK(config.task_dir == task);
}

TEST_CASE("config: an unknown top-level key suggests the near miss") {
  ConfigDir dir;
  auto file = dir.with_task(R"("budjet": {"max_evals": 10})");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ": unknown key 'budjet' (did you mean 'budget'?)");
}

TEST_CASE("config: an unknown nested key names its path and suggests the near miss") {
  ConfigDir dir;
  auto file = dir.with_task(R"("budget": {"max_eval": 10})");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ": unknown key 'budget.max_eval' (did you mean 'max_evals'?)");
}

TEST_CASE("config: a wrong type names the key and the value") {
  ConfigDir dir;
  SECTION("budget.max_evals") {
    auto file = dir.with_task(R"("budget": {"max_evals": "ten"})");
    CHECK_USAGE_ERROR(load_config(file),
                      dir.file() + ": key 'budget.max_evals': expected an integer from 0 to "
                                   "100000000, got \"ten\"");
  }
  SECTION("search.exploration") {
    auto file = dir.with_task(R"("search": {"exploration": 2})");
    CHECK_USAGE_ERROR(load_config(file),
                      dir.file() + ": key 'search.exploration': expected a number from 0 to 1, "
                                   "got 2");
  }
  SECTION("budget is not an object") {
    auto file = dir.with_task(R"("budget": 10)");
    CHECK_USAGE_ERROR(load_config(file),
                      dir.file() + ": key 'budget': expected an object, got 10");
  }
  SECTION("task is not a string") {
    auto file = dir.write(R"({"task": ["task"]})");
    CHECK_USAGE_ERROR(load_config(file),
                      dir.file() + ": key 'task': expected a string, got [\"task\"]");
  }
}

TEST_CASE("config: a missing task key is named") {
  ConfigDir dir;
  auto file = dir.write(R"({"name": "x"})");
  CHECK_USAGE_ERROR(load_config(file), dir.file() + ": missing key 'task' (a string)");
}

TEST_CASE("config: a missing task folder names the key and the folder") {
  ConfigDir dir;
  auto file = dir.write(R"({"task": "../nowhere/stencil"})");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ": key 'task': task folder \"../nowhere/stencil\" not found "
                                 "(looked in " +
                        (dir.path().parent_path() / "nowhere/stencil").string() + ")");
}

TEST_CASE("config: max_pairs below min_pairs is refused") {
  ConfigDir dir;
  auto file = dir.with_task(R"("benchmark": {"min_pairs": 10, "max_pairs": 5})");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ": key 'benchmark.max_pairs': expected an integer >= min_pairs "
                                 "(10), got 5");
}

TEST_CASE("config: proposers whose weights are all zero are refused") {
  ConfigDir dir;
  auto file = dir.with_task(R"("proposers": [{"kind": "flags", "weight": 0}])");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ": key 'proposers': expected at least one proposer with weight "
                                 "above 0, got [{\"kind\":\"flags\",\"weight\":0}]");
}

TEST_CASE("config: an unknown proposer kind suggests the near miss") {
  ConfigDir dir;
  auto file = dir.with_task(R"("proposers": [{"kind": "flag"}])");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ": key 'proposers[0].kind': expected one of \"flags\", \"llm\", \"pipeline\", \"transforms\" (did you "
                                 "mean \"flags\"?), got \"flag\"");
}

TEST_CASE("config: an unknown proposer key names the proposer's index") {
  ConfigDir dir;
  auto file = dir.with_task(R"("proposers": [{"kind": "flags"}, {"kind": "flags", "max_gene": 3}])");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ": unknown key 'proposers[1].max_gene' (did you mean "
                                 "'max_genes'?)");
}

TEST_CASE("config: invalid JSON is reported with line:column") {
  // The column is the last character of the unexpected token ("seed").
  ConfigDir dir;
  auto file = dir.write("{\n  \"task\": \"task\"\n  \"seed\": 1\n}\n");
  CHECK_USAGE_ERROR(load_config(file),
                    dir.file() + ":3:8: invalid JSON: syntax error while parsing object - "
                                 "unexpected string literal; expected '}'");
}

TEST_CASE("config: a missing config file is named") {
  ConfigDir dir;
  fs::path file = dir.path() / "absent.json";
  CHECK_USAGE_ERROR(load_config(file),
                    "cannot read '" + file.string() + "': No such file or directory");
}

TEST_CASE("config: the search section sets islands, moves, features and weights") {
  ConfigDir dir;
  CampaignConfig config = load_config(dir.with_task(
      R"("search": {"strategy": "hill_climb", "islands": 3, "migration_interval": 7,
         "exploitation": 0.5, "exploration": 0.3, "diversity": 0.2, "inspirations": 2,
         "features": [{"name": "code_size", "bins": [100, 200]}],
         "weights": {"speedup": 1.0, "code_size": -0.001}})"));
  CHECK(config.search.strategy == "hill_climb");
  CHECK(config.search.islands == 3);
  CHECK(config.search.migration_interval == 7);
  CHECK(config.search.inspirations == 2);
  REQUIRE(config.search.features.size() == 1);
  CHECK(config.search.features[0].edges == std::vector<double>{100, 200});
  CHECK(config.search.weights.at("code_size") == -0.001);
}

TEST_CASE("config: the search section sets the pipeline, confirmation and a Pareto objective") {
  ConfigDir dir;
  CampaignConfig config = load_config(dir.with_task(
      R"("search": {"in_flight": 1, "confirm_top": 5, "objective": "pareto",
         "pareto": {"speedup": "max", "code_size": "min"}})"));
  CHECK(config.search.in_flight == 1);
  CHECK(config.search.confirm_top == 5);
  CHECK(config.search.objective == "pareto");
  REQUIRE(config.search.pareto.size() == 2);
  CHECK(config.search.pareto[0] == std::pair<std::string, bool>{"code_size", false});
  CHECK(config.search.pareto[1] == std::pair<std::string, bool>{"speedup", true});
  CampaignConfig defaults = load_config(dir.with_task(R"("search": {"objective": "pareto"})"));
  CHECK(defaults.search.pareto.size() == 2);
  CHECK(load_config(dir.with_task(R"("search": {})")).search.in_flight == 3);
}

TEST_CASE("config: bad search settings name the key") {
  ConfigDir dir;
  CHECK_USAGE_ERROR(load_config(dir.with_task(R"("search": {"strategy": "hill_climbing"})")),
                    dir.file() + ": key 'search.strategy': expected one of \"evolution\", "
                                 "\"best_of_n\", \"hill_climb\" (did you mean \"hill_climb\"?), "
                                 "got \"hill_climbing\"");
  CHECK_USAGE_ERROR(
      load_config(dir.with_task(R"("search": {"features": [{"name": "x", "bins": [3, 1]}]})")),
      dir.file() + ": key 'search.features[0].bins': expected a non-empty array of ascending "
                   "numbers, got [3,1]");
  CHECK_USAGE_ERROR(load_config(dir.with_task(R"("search": {"weights": {"speedup": "high"}})")),
                    dir.file() + ": key 'search.weights': expected an object of feature name "
                                 "to number, got {\"speedup\":\"high\"}");
  CHECK_USAGE_ERROR(
      load_config(dir.with_task(R"("search": {"pareto": {"speedup": "max"}})")),
      dir.file() + ": key 'search.pareto': expected an object of two or more feature names to "
                   "\"max\" or \"min\", got {\"speedup\":\"max\"}");
  CHECK_USAGE_ERROR(
      load_config(dir.with_task(R"("search": {"pareto": {"speedup": "up", "code_size": "min"}})")),
      dir.file() + ": key 'search.pareto': expected an object of two or more feature names to "
                   "\"max\" or \"min\", got {\"code_size\":\"min\",\"speedup\":\"up\"}");
  CHECK_USAGE_ERROR(load_config(dir.with_task(R"("search": {"in_flight": 0})")),
                    dir.file() + ": key 'search.in_flight': expected an integer from 1 to 64, got 0");
  CHECK_USAGE_ERROR(load_config(dir.with_task(R"("search": {"islands": 0})")),
                    dir.file() + ": key 'search.islands': expected an integer from 1 to 64, got 0");
}

TEST_CASE("config: benchmark slots are at most the cores ratchet may use") {
  ConfigDir dir;
  CHECK(load_config(dir.with_task(R"("benchmark": {})")).benchmark.slots == 1);
  size_t cpus = ratchet::sandbox::allowed_cpus().size();
  REQUIRE(cpus >= 1);
  std::string all = std::to_string(cpus);
  CHECK(load_config(dir.with_task(R"("benchmark": {"slots": )" + all + "}")).benchmark.slots ==
        static_cast<int>(cpus));
  std::string one_more = std::to_string(cpus + 1);
  CHECK_USAGE_ERROR(load_config(dir.with_task(R"("benchmark": {"slots": )" + one_more + "}")),
                    dir.file() + ": key 'benchmark.slots': expected at most the " + all +
                        " CPUs ratchet may run on (a slot owns a core), or \"auto\", got " +
                        one_more);
  CHECK_USAGE_ERROR(load_config(dir.with_task(R"("benchmark": {"slots": 0})")),
                    dir.file() + ": key 'benchmark.slots': expected an integer from 1 to 64, or "
                                 "\"auto\", got 0");
  CHECK_USAGE_ERROR(load_config(dir.with_task(R"("benchmark": {"slots": "all"})")),
                    dir.file() + ": key 'benchmark.slots': expected an integer from 1 to 64, or "
                                 "\"auto\", got \"all\"");
  CHECK(load_config(dir.with_task(R"("benchmark": {"slots": "auto"})")).benchmark.slots ==
        static_cast<int>(cpus));
}
