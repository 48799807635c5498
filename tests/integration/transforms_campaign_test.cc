// The transforms proposer end to end: the real binary runs it on the bundled
// matmul task (configs/transforms.json's task and proposer, a smaller budget
// and benchmark), the real sandbox evaluates, and `ratchet db transforms`
// reports the rules with the outcomes of their edits.
#include <catch2/catch.hpp>

#include "tests/integration/cli_helpers.h"

using namespace ratchet::testing;
using Catch::Matchers::Contains;

TEST_CASE("transforms campaign: built-in transforms are applied, evaluated and counted") {
  Ratchet ratchet;
  std::string db = ratchet.db().string();
  auto config = ratchet.write_config(
      "transforms.json",
      {{"name", "transforms-test"},
       {"task", source_path("corpora/matmul").string()},
       {"seed", 3},
       {"budget", {{"max_evals", 3}}},
       {"proposers", {{{"kind", "transforms"}}}},
       {"benchmark", {{"warmup_runs", 0}, {"min_pairs", 3}, {"max_pairs", 3}}}});
  CommandResult run = ratchet.run({"run", config.string(), "--db", db});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("campaign 'transforms-test' (#1) finished"));

  CommandResult listed = ratchet.run({"db", "transforms", "--db", db, "--format", "json"});
  REQUIRE(listed.exit_code == 0);
  nlohmann::json rules = nlohmann::json::parse(listed.out);
  REQUIRE(rules.size() >= 5);  // every built-in is stored on first use
  int64_t outcomes = 0;
  for (const auto& rule : rules) {
    CHECK(rule["origin"] == "builtin");
    CHECK(rule["rule"].contains("builtin"));
    outcomes += rule["wins"].get<int64_t>() + rule["losses"].get<int64_t>();
  }

  // Every transform candidate is counted for exactly one rule.
  CommandResult top = ratchet.run({"db", "top", "--db", db, "--limit", "100", "--format", "json"});
  REQUIRE(top.exit_code == 0);
  nlohmann::json stats =
      nlohmann::json::parse(ratchet.run({"db", "stats", "--db", db, "--format", "json"}).out);
  int64_t transform_candidates = 0;
  for (int64_t id = 2; id <= stats["candidates"].get<int64_t>(); ++id) {
    CommandResult show =
        ratchet.run({"db", "show", std::to_string(id), "--db", db, "--format", "json"});
    REQUIRE(show.exit_code == 0);
    nlohmann::json candidate = nlohmann::json::parse(show.out);
    if (candidate["proposer"] != "transforms") continue;
    ++transform_candidates;
    CHECK(candidate["edit"]["kind"] == "transform");
    CHECK_THAT(candidate["edit"]["summary"].get<std::string>(), Contains("(builtin, "));
    if (candidate["status"] == "refused") continue;
    // The pragma or qualifier is in the program that was built.
    std::string source = candidate["files"]["matmul.c"];
    CHECK((source.find("__restrict__") != std::string::npos ||
           source.find("#pragma GCC") != std::string::npos));
  }
  CHECK(transform_candidates == 3);
  CHECK(outcomes == transform_candidates);

  CommandResult table = ratchet.run({"db", "transforms", "--db", db});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("restrict-pointer-params") && Contains("builtin"));
}

TEST_CASE("transforms campaign: db transforms --add stores a user rule once, refuses a bad one") {
  Ratchet ratchet;
  std::string db = ratchet.db().string();
  // --add creates the database when it is missing.
  auto rule = ratchet.write_config(
      "halve.json", {{"name", "halve"},
                     {"match", "binaryOperator(hasOperatorName(\"/\"), hasLHS(expr().bind(\"a\")), "
                               "hasRHS(floatLiteral(equals(2.0))))"},
                     {"replace", "${a} * 0.5"}});
  CommandResult added = ratchet.run({"db", "transforms", "--db", db, "--add", rule.string()});
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  CHECK_THAT(added.out, Contains("'halve' (user)"));
  CHECK(ratchet.run({"db", "transforms", "--db", db, "--add", rule.string()}).out == added.out);

  auto bad = ratchet.write_config("bad.json", {{"name", "bad"}, {"match", "calee()"},
                                               {"replace", "x"}});
  CommandResult refused = ratchet.run({"db", "transforms", "--db", db, "--add", bad.string()});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("bad.json: bad matcher: 1:1: Matcher not found: calee"));
  CommandResult listed = ratchet.run({"db", "transforms", "--db", db, "--format", "json"});
  nlohmann::json rules = nlohmann::json::parse(listed.out);
  REQUIRE(rules.size() == 1);
  CHECK(rules[0]["name"] == "halve");
  CHECK(rules[0]["origin"] == "user");
  CHECK(rules[0]["wins"] == 0);
}
