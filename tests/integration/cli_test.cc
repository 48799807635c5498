// The command line's contract: subcommands with --help, exit codes (0 ok,
// 2 usage/config, 1 runtime) and one-line errors that name the bad value.
#include <catch2/catch.hpp>

#include "tests/integration/cli_helpers.h"

using namespace ratchet::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

int count_lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("cli: --help lists every subcommand") {
  Ratchet ratchet;
  CommandResult result = ratchet.run({"--help"});
  REQUIRE(result.exit_code == 0);
  for (const char* command : {"run", "task", "db", "sandbox"}) {
    CHECK_THAT(result.out, Contains(command));
  }
  for (auto args : std::vector<std::vector<std::string>>{
           {"run", "--help"}, {"task", "check", "--help"}, {"db", "top", "--help"},
           {"db", "show", "--help"}, {"db", "stats", "--help"}, {"sandbox", "run", "--help"}}) {
    CommandResult help = ratchet.run(args);
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Contains("--"));
  }
}

TEST_CASE("cli: usage errors exit 2 with ratchet: error:") {
  Ratchet ratchet;
  CommandResult none = ratchet.run({});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, StartsWith("ratchet: error:"));

  CommandResult missing_config = ratchet.run({"run"});
  CHECK(missing_config.exit_code == 2);
  CHECK_THAT(missing_config.err, Contains("config"));

  CommandResult bad_option = ratchet.run({"db", "top", "--format", "yaml"});
  CHECK(bad_option.exit_code == 2);
  CHECK_THAT(bad_option.err, Contains("yaml"));

  CommandResult unknown = ratchet.run({"frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, StartsWith("ratchet: error:"));
}

TEST_CASE("cli: a config with an unknown key exits 2 naming it and the near miss") {
  Ratchet ratchet;
  auto config = tiny_config(1);
  config["budget"]["max_eval"] = 3;
  auto path = ratchet.write_config("typo.json", config);
  CommandResult result = ratchet.run({"run", path.string(), "--db", ratchet.db().string()});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "ratchet: error: " + path.string() +
                          ": unknown key 'budget.max_eval' (did you mean 'max_evals'?)\n");
  CHECK_FALSE(std::filesystem::exists(ratchet.db()));
}

TEST_CASE("cli: a config with a wrong type exits 2 naming key and value") {
  Ratchet ratchet;
  auto config = tiny_config(1);
  config["seed"] = "seven";
  auto path = ratchet.write_config("type.json", config);
  CommandResult result = ratchet.run({"run", path.string()});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "ratchet: error: " + path.string() +
                          ": key 'seed': expected an integer >= 0, got \"seven\"\n");
}

TEST_CASE("cli: a config whose task folder is missing exits 2 naming it") {
  Ratchet ratchet;
  auto config = tiny_config(1);
  config["task"] = "no/such/task";
  auto path = ratchet.write_config("missing.json", config);
  CommandResult result = ratchet.run({"run", path.string()});
  CHECK(result.exit_code == 2);
  CHECK(count_lines(result.err) == 1);
  CHECK_THAT(result.err, Contains("key 'task'"));
  CHECK_THAT(result.err, Contains("\"no/such/task\" not found"));
}

TEST_CASE("cli: a config file that does not exist or is not JSON exits 2") {
  Ratchet ratchet;
  CommandResult missing = ratchet.run({"run", "nope.json"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("nope.json"));

  auto path = ratchet.dir() / "broken.json";
  REQUIRE(ratchet::write_file(path, "{\n  \"task\": \"x\",,\n}\n"));
  CommandResult broken = ratchet.run({"run", path.string()});
  CHECK(broken.exit_code == 2);
  CHECK_THAT(broken.err, Contains(path.string() + ":2:"));
  CHECK_THAT(broken.err, Contains("invalid JSON"));
}

TEST_CASE("cli: db commands on a missing database exit 2") {
  Ratchet ratchet;
  for (auto args : std::vector<std::vector<std::string>>{
           {"db", "top"}, {"db", "stats"}, {"db", "show", "1"}}) {
    args.push_back("--db");
    args.push_back((ratchet.dir() / "absent.db").string());
    CommandResult result = ratchet.run(args);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("absent.db"));
  }
  CHECK_FALSE(std::filesystem::exists(ratchet.dir() / "absent.db"));
}

TEST_CASE("cli: task check refuses a baseline that does not build, quoting the compiler") {
  Ratchet ratchet;
  CommandResult result =
      ratchet.run({"task", "check", source_path("tests/data/tasks/broken_build").string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, StartsWith("ratchet: error: task check failed: the baseline of task "
                                    "'broken_build' does not build"));
  CHECK_THAT(result.err, Contains("expected ';' before '}' token"));
}

TEST_CASE("cli: run refuses a baseline that does not build, before touching the database") {
  Ratchet ratchet;
  auto config = tiny_config(1);
  config["task"] = source_path("tests/data/tasks/broken_build").string();
  auto path = ratchet.write_config("broken.json", config);
  CommandResult result = ratchet.run({"run", path.string(), "--db", ratchet.db().string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Contains("expected ';' before '}' token"));
  CHECK_FALSE(std::filesystem::exists(ratchet.db()));
}

TEST_CASE("cli: task check refuses a nondeterministic baseline with the verifier's message") {
  Ratchet ratchet;
  CommandResult result =
      ratchet.run({"task", "check", source_path("tests/data/tasks/nondeterministic").string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Contains("is not deterministic on input 1 (size 0, seed 1)"));
  CHECK_THAT(result.err, Contains("line 1 differs"));
}

TEST_CASE("cli: task check reports a sound task and its noise") {
  Ratchet ratchet;
  CommandResult result = ratchet.run({"task", "check", "--format", "json", "--pairs", "4",
                                      source_path("tests/data/tasks/tiny").string()});
  REQUIRE(result.exit_code == 0);
  auto json = nlohmann::json::parse(result.out);
  CHECK(json["task"] == "tiny");
  CHECK(json["ok"] == true);
  CHECK(json["pairs"] == 4);
  CHECK(json["baseline_ms"].get<double>() > 0);
  CHECK(json["aa_ci_low"].get<double>() <= json["aa_ci_high"].get<double>());
}

TEST_CASE("cli: task check on a missing folder exits 2") {
  Ratchet ratchet;
  CommandResult result = ratchet.run({"task", "check", "/no/such/task"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "ratchet: error: task folder '/no/such/task' not found\n");
}
