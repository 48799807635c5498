// Transform rules in the database (schema 3): storage, idempotence, win and
// loss counts derived from candidates, and the migration of a schema-2 file.
#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>

#include "common/files.h"
#include "engine/database.h"

namespace ratchet {
namespace {

CampaignRecord campaign_of(const std::string& task) {
  CampaignRecord campaign;
  campaign.name = task;
  campaign.task_name = task;
  campaign.task_dir = "/tasks/" + task;
  campaign.config = nlohmann::json::object();
  campaign.environment = nlohmann::json::object();
  return campaign;
}

// A candidate of `campaign` whose edit carries `rule` (or a flag edit when
// `rule` is empty), finished with `status` and, when evaluated, `ci_low`.
int64_t add_candidate(Database& db, int64_t campaign, std::optional<int64_t> parent,
                      const std::string& rule, CandidateStatus status, double speedup = 1.0,
                      double ci_low = 1.0) {
  static int serial = 0;
  CandidateRecord c;
  c.campaign_id = campaign;
  c.parent_id = parent;
  c.program.files["k.c"] = "int k = " + std::to_string(++serial) + ";\n";
  c.proposer = rule.empty() ? "flags" : "transforms";
  c.edit = rule.empty() ? nlohmann::json{{"kind", "flags"}, {"flags", {"-O3"}}}
                        : nlohmann::json{{"kind", "transform"}, {"text", rule}, {"file", "k.c"}};
  c.status = status;
  if (status == CandidateStatus::evaluated) {
    c.metrics = {{"speedup", speedup}, {"ci_low", ci_low}, {"ci_high", speedup + 0.1}};
  }
  db.insert_candidate(c);
  db.update_candidate(c);
  return c.id;
}

const TransformRecord& named(const std::vector<TransformRecord>& rules, const std::string& name) {
  for (const auto& rule : rules) {
    if (rule.name == name) return rule;
  }
  FAIL("no rule named " << name);
  throw std::logic_error("unreachable");
}

const std::string kHalve =
    R"js({"name": "halve", "match": "binaryOperator(hasOperatorName(\"/\"))", "replace": "x"})js";

}  // namespace

TEST_CASE("database transforms: adding a rule is idempotent by content") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "r.db", true);
  TransformRecord first{0, "halve", kHalve, "user"};
  int64_t id = db.add_transform(first);
  CHECK(first.rule_json ==
        R"js({"match":"binaryOperator(hasOperatorName(\"/\"))","name":"halve","replace":"x"})js");
  CHECK(first.created_at.size() == 24);

  // The same rule, other spacing and key order, from another origin: the first row stays.
  TransformRecord again{0, "renamed",
                        R"js({"replace":"x","name":"halve","match":"binaryOperator(hasOperatorName(\"/\"))"})js",
                        "llm", std::nullopt};
  CHECK(db.add_transform(again) == id);
  CHECK(again.origin == "user");
  CHECK(again.name == "halve");
  CHECK(db.transforms().size() == 1);

  TransformRecord other{0, "pow-square", R"js({"builtin": "pow-square"})js", "builtin"};
  CHECK(db.add_transform(other) != id);
  CHECK(db.transforms().size() == 2);
}

TEST_CASE("database transforms: bad rules and origins are programming errors") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "r.db", true);
  TransformRecord not_json{0, "x", "{not json", "user"};
  CHECK_THROWS_WITH(db.add_transform(not_json), "add_transform: the rule is not JSON");
  TransformRecord bad_origin{0, "x", kHalve, "friend"};
  CHECK_THROWS_WITH(db.add_transform(bad_origin),
                    "add_transform: origin 'friend' is not builtin, llm or user");
  CHECK(db.transforms().empty());
  CHECK(Database::canonical_rule_json("[1, 2]") == "[1,2]");
  CHECK(Database::canonical_rule_json("nope").empty());
}

TEST_CASE("database transforms: wins and losses come from the candidates, across tasks") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "r.db", true);
  CampaignRecord a = campaign_of("sum");
  CampaignRecord b = campaign_of("sort");
  db.create_campaign(a);
  db.create_campaign(b);
  const std::string pow = R"js({"builtin":"pow-square"})js";
  const std::string pow_spaced = R"js({ "builtin" : "pow-square" })js";
  TransformRecord rule{0, "pow-square", pow, "builtin"};
  TransformRecord unused{0, "halve", kHalve, "llm"};
  db.add_transform(rule);

  int64_t base_a = add_candidate(db, a.id, std::nullopt, "", CandidateStatus::evaluated, 1.0, 0.98);
  // Win: lower bound 1.2 above the baseline's 1.0.
  int64_t winner = add_candidate(db, a.id, base_a, pow, CandidateStatus::evaluated, 1.3, 1.2);
  // Loss: faster than the baseline, but its lower bound does not beat its parent's 1.3.
  add_candidate(db, a.id, winner, pow_spaced, CandidateStatus::evaluated, 1.4, 1.25);
  // Losses: a failed build and a refusal, in another task's campaign.
  int64_t base_b = add_candidate(db, b.id, std::nullopt, "", CandidateStatus::evaluated, 1.0, 0.97);
  add_candidate(db, b.id, base_b, pow, CandidateStatus::build_failed);
  add_candidate(db, b.id, base_b, pow_spaced, CandidateStatus::refused);
  // Not counted: still pending; another rule; a flag edit.
  add_candidate(db, b.id, base_b, pow, CandidateStatus::pending);
  add_candidate(db, b.id, base_b, kHalve, CandidateStatus::evaluated, 2.0, 1.9);
  add_candidate(db, b.id, base_b, "", CandidateStatus::evaluated, 2.0, 1.9);

  db.add_transform(unused);  // stored after its candidate: still counted
  auto rules = db.transforms();
  REQUIRE(rules.size() == 2);
  CHECK(named(rules, "pow-square").wins == 1);
  CHECK(named(rules, "pow-square").losses == 3);
  CHECK(named(rules, "halve").wins == 1);
  CHECK(named(rules, "halve").losses == 0);
  CHECK(named(rules, "halve").origin == "llm");
}

TEST_CASE("database transforms: rules carried by candidates' edits are adopted once") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "r.db", true);
  CampaignRecord a = campaign_of("sum");
  db.create_campaign(a);
  int64_t base = add_candidate(db, a.id, std::nullopt, "", CandidateStatus::evaluated, 1.0, 0.98);
  // add_candidate records its edits as proposer "transforms": origin user.
  int64_t first = add_candidate(db, a.id, base, kHalve, CandidateStatus::evaluated, 1.3, 1.2);
  add_candidate(db, a.id, base, kHalve + " ", CandidateStatus::build_failed);
  add_candidate(db, a.id, base, R"js({"builtin":"pow-square"})js", CandidateStatus::refused);
  add_candidate(db, a.id, base, "not json", CandidateStatus::refused);
  CHECK(db.adopt_transform_edits() == 1);
  CHECK(db.adopt_transform_edits() == 0);
  auto rules = db.transforms();
  REQUIRE(rules.size() == 1);
  CHECK(rules[0].name == "halve");
  CHECK(rules[0].origin == "user");
  CHECK(rules[0].candidate_id == first);
  CHECK(rules[0].wins == 1);
  CHECK(rules[0].losses == 1);
}

TEST_CASE("database transforms: a schema-2 file migrates to 3 and keeps its candidates") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "old.db";
  // Written by ratchet at schema 2, before transform rules existed.
  std::filesystem::copy_file(RATCHET_SOURCE_DIR "/tests/data/unit/schema2.sqlite", path);
  Database db = Database::open(path, false);
  REQUIRE(db.campaigns().size() == 1);
  auto candidates = db.candidates(db.campaigns()[0].id);
  REQUIRE(candidates.size() == 3);
  CHECK(candidates[1].edit["kind"] == "transform");
  CHECK(db.transforms().empty());

  // Its old transform candidates count for the rule once it is stored.
  TransformRecord rule{0, "pow-square", R"js({"builtin":"pow-square"})js", "builtin"};
  db.add_transform(rule);
  auto rules = db.transforms();
  REQUIRE(rules.size() == 1);
  CHECK(rules[0].wins == 1);
  CHECK(rules[0].losses == 1);

  // Reopening does not migrate again.
  Database again = Database::open(path, false);
  CHECK(again.transforms().size() == 1);
}

}  // namespace ratchet
