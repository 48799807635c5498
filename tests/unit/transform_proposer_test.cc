// The transforms proposer on a real corpus task (matmul) with a real
// database: built-ins are stored and drawn, rules that won are favoured,
// rules stored by other tasks are tried, and nothing is proposed where no
// rule changes the evolvable regions.
#include "engine/transform_proposer.h"

#include <catch2/catch.hpp>
#include <map>

#include "common/files.h"
#include "rewriters/apply_edit.h"
#include "rewriters/transform_rule.h"

using namespace ratchet;
using Catch::Matchers::Contains;

namespace {

Task matmul() { return load_task(std::string(RATCHET_SOURCE_DIR) + "/corpora/matmul"); }

CandidateRecord parent_of(const Program& program, int64_t id) {
  CandidateRecord parent;
  parent.id = id;
  parent.program = program;
  return parent;
}

// matmul's accumulator starts at 0.0; this rewrites the literal (a change
// that matches in the region and nowhere else).
const std::string kZeroRule =
    R"js({"match": "floatLiteral(equals(0.0)).bind(\"zero\")", "name": "zero-literal", "replace": "0.0e0"})js";

// Records `count` candidates of `campaign` that applied `rule` and won.
void record_wins(Database& db, int64_t campaign, const std::string& rule, int count) {
  CandidateRecord base;
  base.campaign_id = campaign;
  base.program.files["m.c"] = "base";
  base.proposer = "baseline";
  base.status = CandidateStatus::evaluated;
  base.metrics = {{"speedup", 1.0}, {"ci_low", 0.99}, {"ci_high", 1.01}};
  db.insert_candidate(base);
  db.update_candidate(base);
  for (int i = 0; i < count; ++i) {
    CandidateRecord c;
    c.campaign_id = campaign;
    c.parent_id = base.id;
    c.program.files["m.c"] = "won " + std::to_string(i);
    c.proposer = "transforms";
    c.edit = {{"kind", "transform"}, {"text", rule}};
    c.status = CandidateStatus::evaluated;
    c.metrics = {{"speedup", 1.6}, {"ci_low", 1.5}, {"ci_high", 1.7}};
    db.insert_candidate(c);
    db.update_candidate(c);
  }
}

}  // namespace

TEST_CASE("transforms proposer: built-ins are stored, drawn and applied inside the regions") {
  TempDir dir("transform-proposer-");
  Database db = Database::open(dir.path() / "t.db", true);
  Task task = matmul();
  TransformProposer proposer(task);
  std::mt19937_64 rng(5);
  CandidateRecord parent = parent_of(task.baseline(), 1);
  ProposalContext context{task, parent, rng, &db, 0};

  std::optional<Proposal> proposal = proposer.propose(context);
  REQUIRE(proposal);
  CHECK(proposal->proposer == "transforms");
  CHECK(proposal->edit.kind == EditKind::transform);
  CHECK_THAT(proposal->edit.summary, Contains("(builtin, 0 won / 0 lost)"));
  // Every built-in is in the database, with counts, for this and later campaigns.
  CHECK(db.transforms().size() == builtin_transforms().size());
  // C task: the C++-only built-ins are not drawn.
  for (const auto& choice : proposer.choices()) {
    for (const auto& builtin : builtin_transforms()) {
      if (builtin.name == choice.name) CHECK_FALSE(builtin.cxx_only);
    }
  }
  // The edit applies (the campaign applies it again) and changes only the region.
  RewriteContext rewrite;
  rewrite.language = "c";
  rewrite.flags = task.fixed_flags;
  rewrite.directory = task.dir;
  Result<Program> child = apply_edit(parent.program, proposal->edit, {}, rewrite);
  REQUIRE(child);
  const std::string& before = parent.program.files.at("matmul.c");
  const std::string& after = child->files.at("matmul.c");
  CHECK(after != before);
  size_t region_start = before.find("EVOLVE-BLOCK-START");
  CHECK(after.compare(0, region_start, before, 0, region_start) == 0);

  // The same parent never gets the same rule twice; after a few proposals
  // every rule that matches it has been offered once, then nothing more.
  std::map<std::string, int> offered{{proposal->edit.text, 1}};
  while (auto next = proposer.propose(context)) ++offered[next->edit.text];
  CHECK(offered.size() >= 3);  // restrict, unroll and vectorize all match matmul
  for (const auto& [rule, times] : offered) CHECK(times == 1);
  CHECK_FALSE(offered.count(R"js({"builtin":"pow-square"})js"));  // no pow() in matmul
}

TEST_CASE("transforms proposer: a rule that won elsewhere is favoured on another task") {
  TempDir dir("transform-proposer-");
  Database db = Database::open(dir.path() / "t.db", true);
  CampaignRecord other;
  other.name = other.task_name = "another-task";
  other.task_dir = "/elsewhere";
  other.config = other.environment = nlohmann::json::object();
  db.create_campaign(other);
  TransformRecord rule{0, "zero-literal", kZeroRule, "llm"};
  db.add_transform(rule);
  record_wins(db, other.id, rule.rule_json, 20);

  Task task = matmul();
  TransformProposer proposer(task);
  std::mt19937_64 rng(11);
  int chosen = 0;
  const int parents = 20;
  for (int id = 1; id <= parents; ++id) {
    CandidateRecord parent = parent_of(task.baseline(), id);
    std::optional<Proposal> proposal = proposer.propose({task, parent, rng, &db, 0});
    REQUIRE(proposal);
    if (proposal->edit.text == rule.rule_json) {
      ++chosen;
      CHECK(proposal->edit.summary == "transform zero-literal (llm, 20 won / 0 lost)");
    }
  }
  // Beta(21, 1) against untried built-ins' Beta(1, 1): first most of the time,
  // not always.
  CHECK(chosen >= parents * 3 / 4);
  CHECK(chosen < parents);
}

TEST_CASE("transforms proposer: nothing is proposed where no rule changes the regions") {
  Task task = matmul();
  Program plain = task.baseline();
  std::string& text = plain.files.at("matmul.c");
  size_t start = text.find('\n', text.find("EVOLVE-BLOCK-START")) + 1;
  size_t end = text.rfind('\n', text.find("EVOLVE-BLOCK-END")) + 1;
  text.replace(start, end - start,
               "void matmul(const double *A, const double *B, const double *C, int n)\n"
               "{ (void)A; (void)B; (void)C; (void)n; }\n");
  TransformProposer proposer(task);  // no database: the built-ins only
  std::mt19937_64 rng(3);
  CandidateRecord parent = parent_of(plain, 7);
  std::optional<Proposal> proposal = proposer.propose({task, parent, rng, nullptr, 0});
  INFO((proposal ? proposal->edit.summary : std::string()));
  CHECK_FALSE(proposal);
  CHECK_FALSE(proposer.choices().empty());
}
