#include "engine/database.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>

#include "common/files.h"
#include "common/hash.h"
#include "common/result.h"

namespace ratchet {
namespace {

// A second, raw connection for checking what is really on disk.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) FAIL("cannot open " << path);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    std::string message = error ? error : "";
    sqlite3_free(error);
    if (rc != SQLITE_OK) FAIL(sql << ": " << message);
  }
  // The first column of the first row, as text ("NULL" for a null).
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      FAIL(sql << ": " << sqlite3_errmsg(db_));
    }
    std::string value = "<no row>";
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      auto text = sqlite3_column_text(stmt, 0);
      value = text ? reinterpret_cast<const char*>(text) : "NULL";
    }
    sqlite3_finalize(stmt);
    return value;
  }
  int64_t integer(const std::string& sql) { return std::stoll(scalar(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

// Runs `action`, which must throw FatalError; returns it.
FatalError fatal_from(const std::function<void()>& action) {
  try {
    action();
  } catch (const FatalError& error) {
    return error;
  }
  FAIL("expected a FatalError");
  throw std::logic_error("unreachable");
}

CampaignRecord make_campaign(const std::string& task = "sum") {
  CampaignRecord campaign;
  campaign.name = task + "-campaign";
  campaign.task_name = task;
  campaign.task_dir = "/tasks/" + task;
  campaign.config = {{"budget", {{"candidates", 50}}}, {"task", task}};
  campaign.environment = {{"cpu", "test cpu"}, {"cores", 2}};
  campaign.seed = 1234;
  return campaign;
}

Program make_program(const std::string& main_source, std::vector<std::string> flags = {"-O2"}) {
  Program program;
  program.files["main.c"] = main_source;
  program.files["util.h"] = "#pragma once\nint util(void);\n";
  program.flags = std::move(flags);
  return program;
}

CandidateRecord make_candidate(int64_t campaign_id, const Program& program,
                               const std::string& proposer = "flags") {
  CandidateRecord candidate;
  candidate.campaign_id = campaign_id;
  candidate.program = program;
  candidate.program_hash = program_hash(program);
  candidate.proposer = proposer;
  if (proposer != "baseline") {
    candidate.edit = {{"kind", "flags"}, {"flags", program.flags}, {"summary", "try flags"}};
  }
  return candidate;
}

// An evaluated candidate with the given speedup.
CandidateRecord evaluated(int64_t campaign_id, const std::string& source, double speedup,
                          const std::string& proposer = "flags") {
  CandidateRecord candidate = make_candidate(campaign_id, make_program(source), proposer);
  candidate.status = CandidateStatus::evaluated;
  candidate.build = candidate.verify = candidate.benchmark = StageStatus::ok;
  candidate.metrics = {{"speedup", speedup}, {"ci_low", speedup - 0.1}, {"ci_high", speedup + 0.1}};
  return candidate;
}

std::vector<int64_t> ids_of(const std::vector<CandidateRecord>& candidates) {
  std::vector<int64_t> ids;
  for (const auto& candidate : candidates) ids.push_back(candidate.id);
  return ids;
}

const std::regex kTimestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");

}  // namespace

TEST_CASE("database: create and reopen round-trips campaigns and candidates") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "ratchet.db";
  CampaignRecord campaign = make_campaign();
  CandidateRecord baseline, child;
  {
    Database db = Database::open(path, true);
    db.create_campaign(campaign);
    CHECK(campaign.id > 0);
    CHECK(std::regex_match(campaign.started_at, kTimestamp));

    baseline = make_candidate(campaign.id, make_program("int main() { return 0; }\n"), "baseline");
    baseline.status = CandidateStatus::evaluated;
    baseline.build = baseline.verify = baseline.benchmark = StageStatus::ok;
    db.insert_candidate(baseline);

    Program program = make_program("int main() {\n  return 0;\n}\n", {"-O3", "-march=native"});
    program.files["data.bin"] = std::string("\x00\x01\xff\xfe binary", 11);
    program.files["empty.txt"] = "";
    child = make_candidate(campaign.id, program, "llm");
    child.program_hash.clear();  // filled by insert_candidate
    child.parent_id = baseline.id;
    child.model = "test-model";
    child.island = 3;
    child.status = CandidateStatus::verify_failed;
    child.build = StageStatus::ok;
    child.verify = StageStatus::failed;
    child.benchmark = StageStatus::skipped;
    child.metrics = {{"build_ms", 120.5}};
    child.artifacts = {{"verify_diff", "expected 3, got 4"}, {"build_log", "warning: x"}};
    db.insert_candidate(child);
    CHECK(child.program_hash == program_hash(program));
    CHECK(std::regex_match(child.created_at, kTimestamp));
    CHECK(child.updated_at == child.created_at);

    db.add_duplicate_skipped(campaign.id);
    db.add_duplicate_skipped(campaign.id);
    db.finish_campaign(campaign.id, "interrupted");
  }

  Database db = Database::open(path, false);
  auto campaigns = db.campaigns();
  REQUIRE(campaigns.size() == 1);
  const CampaignRecord& stored = campaigns[0];
  CHECK(stored.id == campaign.id);
  CHECK(stored.name == "sum-campaign");
  CHECK(stored.task_name == "sum");
  CHECK(stored.task_dir == "/tasks/sum");
  CHECK(stored.config == campaign.config);
  CHECK(stored.environment == campaign.environment);
  CHECK(stored.seed == 1234);
  CHECK(stored.status == "interrupted");
  CHECK(stored.started_at == campaign.started_at);
  CHECK(std::regex_match(stored.finished_at, kTimestamp));
  CHECK(stored.duplicates_skipped == 2);
  CHECK(db.campaign(campaign.id)->name == "sum-campaign");
  CHECK_FALSE(db.campaign(campaign.id + 100).has_value());

  auto loaded = db.candidate(child.id);
  REQUIRE(loaded.has_value());
  CHECK(loaded->campaign_id == campaign.id);
  CHECK(loaded->parent_id == baseline.id);
  CHECK(loaded->program_hash == child.program_hash);
  CHECK(loaded->program == child.program);  // files restored from blobs, flags
  CHECK(loaded->program.files.at("data.bin").size() == 11);
  CHECK(loaded->edit == child.edit);
  CHECK(loaded->proposer == "llm");
  CHECK(loaded->model == "test-model");
  CHECK(loaded->status == CandidateStatus::verify_failed);
  CHECK(loaded->build == StageStatus::ok);
  CHECK(loaded->verify == StageStatus::failed);
  CHECK(loaded->benchmark == StageStatus::skipped);
  CHECK(loaded->metrics == child.metrics);
  CHECK(loaded->artifacts == child.artifacts);
  CHECK(loaded->island == 3);
  CHECK(loaded->created_at == child.created_at);
  CHECK(loaded->updated_at == child.updated_at);
  CHECK_FALSE(loaded->speedup().has_value());

  auto all = db.candidates(campaign.id);
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == baseline.id);
  CHECK_FALSE(all[0].parent_id.has_value());
  CHECK(all[0].edit.is_null());
  CHECK(all[0].program == baseline.program);
  CHECK(all[1].id == child.id);
  CHECK_FALSE(db.candidate(child.id + 100).has_value());
}

TEST_CASE("database: file contents are stored once per content hash") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "ratchet.db";
  {
    Database db = Database::open(path, true);
    CampaignRecord campaign = make_campaign();
    db.create_campaign(campaign);
    // Both share util.h; main.c differs; the flag-only variant adds no blob.
    auto first = make_candidate(campaign.id, make_program("int a;\n"));
    auto second = make_candidate(campaign.id, make_program("int b;\n"));
    auto third = make_candidate(campaign.id, make_program("int b;\n", {"-O3"}));
    db.insert_candidate(first);
    db.insert_candidate(second);
    db.insert_candidate(third);
    CHECK(db.candidate(third.id)->program == third.program);
  }
  RawDb raw(path);
  CHECK(raw.integer("SELECT count(*) FROM candidates") == 3);
  CHECK(raw.integer("SELECT count(*) FROM blobs") == 3);
  std::string util_hash = hash_hex("#pragma once\nint util(void);\n");
  CHECK(raw.integer("SELECT count(*) FROM blobs WHERE hash = '" + util_hash + "'") == 1);
  // The manifest refers to blobs by hash instead of holding the contents.
  std::string manifest = raw.scalar("SELECT program_json FROM candidates ORDER BY id LIMIT 1");
  CHECK(nlohmann::json::parse(manifest) ==
        nlohmann::json{{"files", {{"main.c", hash_hex("int a;\n")}, {"util.h", util_hash}}},
                       {"flags", {"-O2"}}});
}

TEST_CASE("database: WAL mode, schema version and foreign keys") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "ratchet.db";
  Database db = Database::open(path, true);
  CHECK(Database::schema_version() == 4);
  RawDb raw(path);
  CHECK(raw.scalar("PRAGMA journal_mode") == "wal");
  CHECK(raw.integer("PRAGMA user_version") == Database::schema_version());
  CHECK(raw.scalar("SELECT value FROM meta WHERE key = 'application'") == "ratchet");

  // foreign_keys = ON: a candidate of a campaign that does not exist is refused.
  auto orphan = make_candidate(42, make_program("int x;\n"));
  CHECK_THROWS_AS(db.insert_candidate(orphan), std::logic_error);
  CHECK(raw.integer("SELECT count(*) FROM candidates") == 0);
}

TEST_CASE("database: a file from a newer ratchet is refused") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "ratchet.db";
  { Database::open(path, true); }
  { RawDb(path).exec("PRAGMA user_version = 99"); }
  FatalError error = fatal_from([&] { Database::open(path, false); });
  CHECK(error.exit_code() == kExitRuntime);
  CHECK(std::string(error.what()) ==
        "database '" + path.string() +
            "' has schema version 99; this ratchet reads up to 4: upgrade ratchet");
}

TEST_CASE("database: a file that is not SQLite is refused, naming the path") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "notes.txt";
  std::string garbage = "these are my notes, not a database\n";
  REQUIRE(write_file(path, garbage).ok());
  FatalError error = fatal_from([&] { Database::open(path, true); });
  CHECK(error.exit_code() == kExitRuntime);
  CHECK_THAT(error.what(), Catch::Contains("'" + path.string() + "'") &&
                               Catch::Contains("file is not a database"));
  CHECK(read_file(path).value() == garbage);  // left untouched
}

TEST_CASE("database: an SQLite file of another application is refused and left untouched") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "other.db";
  { RawDb(path).exec("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')"); }
  FatalError error = fatal_from([&] { Database::open(path, true); });
  CHECK(error.exit_code() == kExitRuntime);
  CHECK(std::string(error.what()) == "database '" + path.string() +
                                         "' is not a ratchet database: it holds tables of "
                                         "another application");
  RawDb raw(path);
  CHECK(raw.scalar("PRAGMA journal_mode") == "delete");
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master") == 1);

  SECTION("even with a table called meta") {
    raw.exec("CREATE TABLE meta (name TEXT)");
    CHECK_THAT(fatal_from([&] { Database::open(path, true); }).what(),
               Catch::Contains("not a ratchet database"));
  }
}

TEST_CASE("database: a missing file without create is a usage error") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "missing.db";
  FatalError error = fatal_from([&] { Database::open(path, false); });
  CHECK(error.exit_code() == kExitUsage);
  CHECK(std::string(error.what()) == "no database at '" + path.string() +
                                         "' (run `ratchet run` first, or pass --db PATH)");
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("database: find_by_hash and duplicate inserts") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord one = make_campaign(), two = make_campaign();
  db.create_campaign(one);
  db.create_campaign(two);
  auto candidate = make_candidate(one.id, make_program("int a;\n"));
  db.insert_candidate(candidate);

  CHECK(db.find_by_hash(one.id, candidate.program_hash) == candidate.id);
  CHECK_FALSE(db.find_by_hash(two.id, candidate.program_hash).has_value());
  CHECK_FALSE(db.find_by_hash(one.id, "0000000000000000").has_value());

  // The same program in the same campaign: a programming error, nothing written.
  auto again = make_candidate(one.id, candidate.program);
  again.program.files["extra.c"] = "int extra;\n";  // a new blob, rolled back
  CHECK_THROWS_WITH(db.insert_candidate(again), Catch::Contains("already has a candidate"));
  CHECK(again.id == 0);
  CHECK(db.candidates(one.id).size() == 1);
  RawDb raw(db.path());
  CHECK(raw.integer("SELECT count(*) FROM blobs") == 2);

  // The same program in another campaign is a new candidate.
  auto other = make_candidate(two.id, candidate.program);
  db.insert_candidate(other);
  CHECK(db.find_by_hash(two.id, candidate.program_hash) == other.id);
}

namespace {

LlmCallRecord make_call(int64_t campaign_id, const std::string& model = "coder") {
  LlmCallRecord call;
  call.campaign_id = campaign_id;
  call.model = model;
  call.endpoint = "http://127.0.0.1:1/v1";
  call.kind = "openai";
  call.status = "ok";
  call.http_status = 200;
  call.tokens_in = 300;
  call.tokens_out = 40;
  call.cost_usd = 0.002;
  call.request_key = "00112233aabbccdd";
  call.prompt = "[user]\nmake it faster\n";
  call.response = "<<<<<<< SEARCH\n...";
  return call;
}

}  // namespace

TEST_CASE("database: record_step writes a new candidate and its LLM call together") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  auto candidate = make_candidate(campaign.id, make_program("int a;\n"), "llm");
  LlmCallRecord call = make_call(campaign.id);

  CHECK(db.record_step(candidate, "campaign.1.step", 3, &call));
  CHECK(candidate.id > 0);
  CHECK(std::regex_match(candidate.created_at, kTimestamp));
  CHECK(call.id > 0);
  CHECK(std::regex_match(call.created_at, kTimestamp));
  std::vector<LlmCallRecord> calls = db.llm_calls(campaign.id);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].id == call.id);
  CHECK(calls[0].candidate_id == candidate.id);
  CHECK(calls[0].tokens_in == 300);
  CHECK(calls[0].prompt == call.prompt);
  CHECK(db.find_by_hash(campaign.id, candidate.program_hash) == candidate.id);
  // Only duplicates keep their step in meta (a candidate carries its own).
  CHECK_FALSE(db.meta("campaign.1.step").has_value());

  // Without a call: the candidate alone.
  auto plain = make_candidate(campaign.id, make_program("int b;\n"));
  CHECK(db.record_step(plain, "campaign.1.step", 4));
  CHECK(db.candidate(plain.id).has_value());
  CHECK(db.llm_calls(campaign.id).size() == 1);
}

TEST_CASE("database: record_step counts a known program, keeps its step and still records the call") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  auto first = make_candidate(campaign.id, make_program("int a;\n"), "llm");
  REQUIRE(db.record_step(first, "campaign.1.step", 1));
  RawDb raw(db.path());
  int64_t blobs = raw.integer("SELECT count(*) FROM blobs");

  // The same dedupe hash with other text (equal token for token): nothing of
  // the program is stored, not even its new file contents.
  auto again = make_candidate(campaign.id, make_program("int  a; \n"), "llm");
  again.program_hash = first.program_hash;
  LlmCallRecord call = make_call(campaign.id);
  CHECK_FALSE(db.record_step(again, "campaign.1.step", 9, &call));
  CHECK(again.id == 0);
  CHECK(db.candidates(campaign.id).size() == 1);
  CHECK(raw.integer("SELECT count(*) FROM blobs") == blobs);
  CHECK(db.campaign(campaign.id)->duplicates_skipped == 1);
  CHECK(db.meta("campaign.1.step") == "9");
  // The call was paid for: it is recorded, with no candidate.
  std::vector<LlmCallRecord> calls = db.llm_calls(campaign.id);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].id == call.id);
  CHECK_FALSE(calls[0].candidate_id.has_value());
  CHECK(db.llm_usage(campaign.id).tokens_in == 300);
}

TEST_CASE("database: record_step is one transaction: a call that cannot be written takes the candidate with it") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  auto candidate = make_candidate(campaign.id, make_program("int a;\n"), "llm");
  LlmCallRecord call = make_call(campaign.id + 100);  // no such campaign: a foreign key fails

  CHECK_THROWS(db.record_step(candidate, "campaign.1.step", 2, &call));
  CHECK(candidate.id == 0);
  CHECK(call.id == 0);
  CHECK(db.candidates(campaign.id).empty());
  CHECK(db.llm_calls(campaign.id + 100).empty());
  RawDb raw(db.path());
  CHECK(raw.integer("SELECT count(*) FROM blobs") == 0);
  // The connection is usable afterwards: nothing was left half-open.
  call.campaign_id = campaign.id;
  CHECK(db.record_step(candidate, "campaign.1.step", 2, &call));
  CHECK(db.llm_calls(campaign.id).at(0).candidate_id == candidate.id);
}
TEST_CASE("database: top() ranks evaluated candidates, filters by task, skips baselines") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord sum = make_campaign("sum"), sort = make_campaign("sort");
  db.create_campaign(sum);
  db.create_campaign(sort);

  auto baseline = evaluated(sum.id, "base", 9.0, "baseline");  // never ranked
  auto slow = evaluated(sum.id, "slow", 1.1);
  auto fast = evaluated(sum.id, "fast", 2.5);
  auto tie = evaluated(sum.id, "tie", 1.1);  // same speedup as slow, inserted later
  auto sorted = evaluated(sort.id, "sorted", 3.0);
  auto pending = make_candidate(sum.id, make_program("pending"));
  pending.metrics = {{"speedup", 50.0}};  // not evaluated: never ranked
  auto failed = evaluated(sum.id, "failed", 40.0);
  failed.status = CandidateStatus::benchmark_failed;
  for (auto* c : {&baseline, &slow, &fast, &tie, &sorted, &pending, &failed}) {
    db.insert_candidate(*c);
  }

  CHECK(ids_of(db.top(std::nullopt, 10)) ==
        std::vector<int64_t>{sorted.id, fast.id, slow.id, tie.id});
  CHECK(ids_of(db.top(std::nullopt, 2)) == std::vector<int64_t>{sorted.id, fast.id});
  CHECK(ids_of(db.top(std::string("sum"), 10)) == std::vector<int64_t>{fast.id, slow.id, tie.id});
  CHECK(ids_of(db.top(std::string("sort"), 10)) == std::vector<int64_t>{sorted.id});
  CHECK(db.top(std::string("nothing"), 10).empty());
  CHECK(db.top(std::nullopt, 0).empty());

  auto best = db.top(std::string("sum"), 1);
  REQUIRE(best.size() == 1);
  CHECK(best[0].program == fast.program);
  CHECK(best[0].speedup() == 2.5);
}

TEST_CASE("database: recent failures are the newest failed candidates of one campaign") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord one = make_campaign("sum"), two = make_campaign("sort");
  db.create_campaign(one);
  db.create_campaign(two);
  std::vector<int64_t> failed;
  const CandidateStatus failures[] = {CandidateStatus::refused, CandidateStatus::build_failed,
                                      CandidateStatus::verify_failed,
                                      CandidateStatus::benchmark_failed};
  for (int i = 0; i < 8; ++i) {
    auto candidate = make_candidate(one.id, make_program("int f" + std::to_string(i) + ";\n"));
    db.insert_candidate(candidate);
    candidate.status = failures[i % 4];
    db.update_candidate(candidate);
    failed.push_back(candidate.id);
    auto good = evaluated(one.id, "good" + std::to_string(i), 1.5);
    db.insert_candidate(good);
  }
  auto pending = make_candidate(one.id, make_program("pending"));
  db.insert_candidate(pending);
  auto elsewhere = make_candidate(two.id, make_program("elsewhere"));
  elsewhere.status = CandidateStatus::build_failed;
  db.insert_candidate(elsewhere);

  CHECK(db.recent_failure_ids(one.id, 3) == std::vector<int64_t>{failed[7], failed[6], failed[5]});
  CHECK(db.recent_failure_ids(one.id, 100).size() == 8);
  CHECK(db.recent_failure_ids(two.id, 5) == std::vector<int64_t>{elsewhere.id});
  CHECK(db.recent_failure_ids(one.id, 0).empty());
}

TEST_CASE("database: a schema-3 file migrates to partial status indexes and keeps its rankings") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "ratchet.db";
  int64_t campaign_id = 0, fast_id = 0, slow_id = 0, failed_id = 0;
  {
    Database db = Database::open(path, true);
    CampaignRecord campaign = make_campaign();
    db.create_campaign(campaign);
    campaign_id = campaign.id;
    auto slow = evaluated(campaign.id, "slow", 1.2), fast = evaluated(campaign.id, "fast", 2.0);
    auto failed = make_candidate(campaign.id, make_program("broken"));
    failed.status = CandidateStatus::build_failed;
    auto pending = make_candidate(campaign.id, make_program("pending"));
    for (auto* c : {&slow, &fast, &failed, &pending}) db.insert_candidate(*c);
    fast_id = fast.id, slow_id = slow.id, failed_id = failed.id;
  }
  {
    // Schema 3 differed only in these two indexes.
    RawDb raw(path);
    raw.exec(
        "DROP INDEX candidates_by_rank; DROP INDEX candidates_failed; "
        "CREATE INDEX candidates_by_rank ON candidates (status, speedup DESC); "
        "CREATE INDEX candidates_by_campaign_status ON candidates (campaign_id, status); "
        "PRAGMA user_version = 3");
  }
  Database db = Database::open(path, false);
  RawDb raw(path);
  CHECK(raw.integer("PRAGMA user_version") == 4);
  CHECK(raw.scalar("SELECT sql FROM sqlite_master WHERE name = 'candidates_by_rank'") ==
        "CREATE INDEX candidates_by_rank ON candidates (speedup DESC) WHERE status = 1");
  CHECK(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = "
                   "'candidates_by_campaign_status'") == "0");
  CHECK(ids_of(db.top(std::nullopt, 10)) == std::vector<int64_t>{fast_id, slow_id});
  CHECK(ids_of(db.top(std::string("sum"), 1)) == std::vector<int64_t>{fast_id});
  CHECK(db.recent_failure_ids(campaign_id, 5) == std::vector<int64_t>{failed_id});
  DatabaseStats stats = db.stats();
  REQUIRE(stats.best_per_task.size() == 1);
  CHECK(stats.best_per_task[0].candidate_id == fast_id);
}

TEST_CASE("database: update_candidate writes status, stages, metrics and rank columns") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  auto candidate = make_candidate(campaign.id, make_program("int a;\n"));
  db.insert_candidate(candidate);
  CHECK(db.top(std::nullopt, 5).empty());

  candidate.status = CandidateStatus::evaluated;
  candidate.build = candidate.verify = candidate.benchmark = StageStatus::ok;
  candidate.metrics = {{"speedup", 1.75}, {"ci_low", 1.5}, {"ci_high", 2.0}, {"pairs", 20}};
  candidate.artifacts = {{"build_log", "ok"}};
  db.update_candidate(candidate);

  auto loaded = db.candidate(candidate.id);
  REQUIRE(loaded.has_value());
  CHECK(loaded->status == CandidateStatus::evaluated);
  CHECK(loaded->benchmark == StageStatus::ok);
  CHECK(loaded->metrics == candidate.metrics);
  CHECK(loaded->artifacts == candidate.artifacts);
  CHECK(loaded->updated_at >= loaded->created_at);
  CHECK(ids_of(db.top(std::nullopt, 5)) == std::vector<int64_t>{candidate.id});

  RawDb raw(db.path());
  std::string id = std::to_string(candidate.id);
  CHECK(raw.integer("SELECT status FROM candidates WHERE id = " + id) == 1);
  CHECK(raw.scalar("SELECT speedup FROM candidates WHERE id = " + id) == "1.75");
  CHECK(raw.scalar("SELECT ci_low FROM candidates WHERE id = " + id) == "1.5");
  CHECK(raw.scalar("SELECT ci_high FROM candidates WHERE id = " + id) == "2.0");

  // A metric that is not a number leaves the column null.
  candidate.metrics["speedup"] = "n/a";
  db.update_candidate(candidate);
  CHECK(raw.scalar("SELECT speedup FROM candidates WHERE id = " + id) == "NULL");

  CandidateRecord unknown = candidate;
  unknown.id = 999;
  CHECK_THROWS_AS(db.update_candidate(unknown), std::logic_error);
}

TEST_CASE("database: artifacts with invalid UTF-8 are stored, not refused") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  auto candidate = make_candidate(campaign.id, make_program("int a;\n"));
  // Program output in a verify diff can hold any bytes.
  candidate.artifacts = {{"verify_diff", std::string("got \xff\xfe here")}};
  db.insert_candidate(candidate);
  CHECK(db.candidate(candidate.id)->artifacts["verify_diff"] == "got \xEF\xBF\xBD\xEF\xBF\xBD here");
}

TEST_CASE("database: samples round-trip in pair order") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  auto candidate = make_candidate(campaign.id, make_program("int a;\n"));
  db.insert_candidate(candidate);

  std::vector<SampleRecord> samples = {{1, true, 10.5, 8.25, 11.0, 9.0},
                                       {0, false, 10.0, 8.0, 10.5, 8.5}};
  db.record_evaluation(candidate, samples);
  auto stored = db.samples(candidate.id);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].pair == 0);
  CHECK_FALSE(stored[0].candidate_first);
  CHECK(stored[0].baseline_cpu_ms == 10.0);
  CHECK(stored[0].candidate_cpu_ms == 8.0);
  CHECK(stored[0].baseline_wall_ms == 10.5);
  CHECK(stored[0].candidate_wall_ms == 8.5);
  CHECK(stored[1].pair == 1);
  CHECK(stored[1].candidate_first);
  CHECK(stored[1].candidate_cpu_ms == 8.25);
  CHECK(db.samples(candidate.id + 1).empty());

  // A pair stored twice: nothing of the batch is written.
  std::vector<SampleRecord> clash = {{2, false, 1, 1, 1, 1}, {1, false, 1, 1, 1, 1}};
  CHECK_THROWS_AS(db.record_evaluation(candidate, clash), std::logic_error);
  CHECK(db.samples(candidate.id).size() == 2);

  // More pairs than one INSERT writes (8): every row, in pair order; a clash
  // in a later INSERT takes the earlier ones back too.
  auto other = make_candidate(campaign.id, make_program("int b;\n"));
  db.insert_candidate(other);
  std::vector<SampleRecord> many;
  for (int pair = 18; pair >= 0; --pair) {
    many.push_back({pair, pair % 2 == 1, 10.0 + pair, 9.0, 11.0, 9.5});
  }
  db.record_evaluation(other, many);
  auto stored_many = db.samples(other.id);
  REQUIRE(stored_many.size() == 19);
  for (int pair = 0; pair < 19; ++pair) {
    CHECK(stored_many[static_cast<size_t>(pair)].pair == pair);
    CHECK(stored_many[static_cast<size_t>(pair)].baseline_cpu_ms == 10.0 + pair);
    CHECK(stored_many[static_cast<size_t>(pair)].candidate_first == (pair % 2 == 1));
  }
  std::vector<SampleRecord> late_clash;
  for (int pair = 19; pair < 28; ++pair) late_clash.push_back({pair, false, 1, 1, 1, 1});
  late_clash.push_back({3, false, 1, 1, 1, 1});  // the 10th row: the second INSERT
  CHECK_THROWS_WITH(
      db.record_evaluation(other, late_clash),
      Catch::Contains("cannot store pairs 27, 3 of candidate " + std::to_string(other.id)));
  CHECK(db.samples(other.id).size() == 19);
}

TEST_CASE("database: record_evaluation writes the outcome and its samples, or neither") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  auto candidate = make_candidate(campaign.id, make_program("int a;\n"));
  db.insert_candidate(candidate);
  RawDb raw(db.path());
  std::string id = std::to_string(candidate.id);

  candidate.status = CandidateStatus::evaluated;
  candidate.build = candidate.verify = candidate.benchmark = StageStatus::ok;
  candidate.metrics = {{"speedup", 1.25}, {"pairs", 2}};
  db.record_evaluation(candidate,
                       {{0, true, 10.0, 8.0, 10.5, 8.5}, {1, false, 10.0, 8.0, 10.5, 8.5}});
  CHECK(db.candidate(candidate.id)->metrics == candidate.metrics);
  CHECK(raw.scalar("SELECT speedup FROM candidates WHERE id = " + id) == "1.25");
  CHECK(db.samples(candidate.id).size() == 2);

  // A pair already stored: the outcome is not written either.
  CandidateRecord again = candidate;
  again.metrics["speedup"] = 3.0;
  CHECK_THROWS_AS(db.record_evaluation(again, {{2, false, 1, 1, 1, 1}, {1, false, 1, 1, 1, 1}}),
                  std::logic_error);
  CHECK(raw.scalar("SELECT speedup FROM candidates WHERE id = " + id) == "1.25");
  CHECK(db.samples(candidate.id).size() == 2);

  // An unknown candidate: its samples are not written.
  CandidateRecord unknown = candidate;
  unknown.id = 999;
  CHECK_THROWS_AS(db.record_evaluation(unknown, {{0, true, 1, 1, 1, 1}}), std::logic_error);
  CHECK(raw.integer("SELECT count(*) FROM samples WHERE candidate_id = 999") == 0);

  // No samples (a failed build): the outcome alone.
  candidate.status = CandidateStatus::build_failed;
  db.record_evaluation(candidate, {});
  CHECK(raw.integer("SELECT status FROM candidates WHERE id = " + id) ==
        static_cast<int>(CandidateStatus::build_failed));
}
TEST_CASE("database: stats() counts statuses, failures, duplicates and the best per task") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord sum = make_campaign("sum"), sort = make_campaign("sort"),
                 empty = make_campaign("empty");
  db.create_campaign(sum);
  db.create_campaign(sort);
  db.create_campaign(empty);
  db.add_duplicate_skipped(sum.id);
  db.add_duplicate_skipped(sum.id);
  db.add_duplicate_skipped(sort.id);

  auto baseline = evaluated(sum.id, "base", 1.0, "baseline");
  auto good = evaluated(sum.id, "good", 1.5);
  auto better = evaluated(sum.id, "better", 2.0);
  auto sort_best = evaluated(sort.id, "sorted", 1.2);
  auto zero = evaluated(empty.id, "zero", 0.0);  // no speedup > 0: task "empty" has no best
  good.metrics["binary_reused"] = true;  // its binary matched an earlier one
  better.metrics["build_cache_hit"] = true;  // its binary came from the cache
  auto build_failed = make_candidate(sum.id, make_program("bf"));
  build_failed.status = CandidateStatus::build_failed;
  build_failed.build = StageStatus::failed;
  build_failed.verify = build_failed.benchmark = StageStatus::skipped;
  auto build_timeout = make_candidate(sort.id, make_program("bt"));
  build_timeout.status = CandidateStatus::build_failed;
  build_timeout.build = StageStatus::timeout;
  auto verify_crash = make_candidate(sum.id, make_program("vc"));
  verify_crash.status = CandidateStatus::verify_failed;
  verify_crash.build = StageStatus::ok;
  verify_crash.verify = StageStatus::crashed;
  auto bench_failed = make_candidate(sum.id, make_program("bench"));
  bench_failed.status = CandidateStatus::benchmark_failed;
  bench_failed.build = bench_failed.verify = StageStatus::ok;
  bench_failed.benchmark = StageStatus::failed;
  auto refused = make_candidate(sum.id, make_program("refused"));
  refused.status = CandidateStatus::refused;
  auto pending = make_candidate(sum.id, make_program("pending"));
  for (auto* c : {&baseline, &good, &better, &sort_best, &zero, &build_failed, &build_timeout,
                  &verify_crash, &bench_failed, &refused, &pending}) {
    db.insert_candidate(*c);
  }

  DatabaseStats stats = db.stats();
  CHECK(stats.campaigns == 3);
  CHECK(stats.candidates == 11);
  CHECK(stats.evaluations == 9);  // all but refused and pending; the baseline counts
  CHECK(stats.duplicates_skipped == 3);
  CHECK(stats.binary_reuses == 1);
  CHECK(stats.build_cache_hits == 1);

  std::vector<std::pair<std::string, int64_t>> by_status;
  for (const auto& entry : stats.by_status) by_status.emplace_back(entry.status, entry.count);
  CHECK(by_status == std::vector<std::pair<std::string, int64_t>>{{"pending", 1},
                                                                   {"evaluated", 5},
                                                                   {"refused", 1},
                                                                   {"build_failed", 2},
                                                                   {"verify_failed", 1},
                                                                   {"benchmark_failed", 1}});

  std::vector<std::pair<std::string, int64_t>> failures;
  for (const auto& entry : stats.failures_by_stage) failures.emplace_back(entry.status, entry.count);
  CHECK(failures ==
        std::vector<std::pair<std::string, int64_t>>{{"build", 2}, {"verify", 1}, {"benchmark", 1}});

  REQUIRE(stats.best_per_task.size() == 2);
  CHECK(stats.best_per_task[0].task == "sort");
  CHECK(stats.best_per_task[0].candidate_id == sort_best.id);
  CHECK(stats.best_per_task[0].speedup == 1.2);
  CHECK(stats.best_per_task[1].task == "sum");
  CHECK(stats.best_per_task[1].candidate_id == better.id);
  CHECK(stats.best_per_task[1].speedup == 2.0);
  CHECK(stats.best_per_task[1].ci_low == Approx(1.9));
  CHECK(stats.best_per_task[1].ci_high == Approx(2.1));
}

TEST_CASE("database: stats() of an empty database") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  DatabaseStats stats = db.stats();
  CHECK(stats.campaigns == 0);
  CHECK(stats.candidates == 0);
  CHECK(stats.evaluations == 0);
  CHECK(stats.duplicates_skipped == 0);
  CHECK(stats.by_status.empty());
  CHECK(stats.failures_by_stage.size() == 3);
  CHECK(stats.best_per_task.empty());
}

TEST_CASE("database: campaign updates check their arguments") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord campaign = make_campaign();
  db.create_campaign(campaign);
  CHECK_THROWS_AS(db.finish_campaign(campaign.id, "done"), std::logic_error);
  CHECK_THROWS_AS(db.finish_campaign(campaign.id + 1, "finished"), std::logic_error);
  CHECK_THROWS_AS(db.add_duplicate_skipped(campaign.id + 1), std::logic_error);
  db.finish_campaign(campaign.id, "finished");
  CHECK(db.campaign(campaign.id)->status == "finished");
}

TEST_CASE("database: a Database can be moved") {
  TempDir dir("ratchet-db-");
  Database first = Database::open(dir.path() / "a.db", true);
  CampaignRecord campaign = make_campaign();
  first.create_campaign(campaign);
  Database second = std::move(first);
  CHECK(second.campaign(campaign.id).has_value());
  Database third = Database::open(dir.path() / "b.db", true);
  third = std::move(second);
  CHECK(third.path() == dir.path() / "a.db");
  CHECK(third.campaigns().size() == 1);
}

TEST_CASE("database: two connections share one file") {
  TempDir dir("ratchet-db-");
  auto path = dir.path() / "ratchet.db";
  Database writer = Database::open(path, true);
  Database reader = Database::open(path, false);
  CampaignRecord campaign = make_campaign();
  writer.create_campaign(campaign);
  auto candidate = evaluated(campaign.id, "x", 1.5);
  writer.insert_candidate(candidate);
  CHECK(reader.candidate(candidate.id)->program == candidate.program);
  CHECK(reader.stats().candidates == 1);
}

TEST_CASE("database: status names round-trip") {
  for (int code = 0; code <= 5; ++code) {
    auto stage = static_cast<StageStatus>(code);
    CHECK(stage_status_from_string(to_string(stage)) == stage);
    auto status = static_cast<CandidateStatus>(code);
    CHECK(candidate_status_from_string(to_string(status)) == status);
  }
  CHECK(std::string(to_string(StageStatus::timeout)) == "timeout");
  CHECK(std::string(to_string(CandidateStatus::benchmark_failed)) == "benchmark_failed");
  CHECK_FALSE(stage_status_from_string("evaluated").has_value());
  CHECK_FALSE(candidate_status_from_string("ok").has_value());
}

// Hidden (run with `ratchet_unit_tests "[perf]"`): the issue's target of
// 100,000 candidates with a top-k query under 50 ms.
TEST_CASE("database: top-k over 100,000 candidates", "[.][perf]") {
  TempDir dir("ratchet-db-");
  Database db = Database::open(dir.path() / "ratchet.db", true);
  CampaignRecord sum = make_campaign("sum"), sort = make_campaign("sort");
  db.create_campaign(sum);
  db.create_campaign(sort);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100000; ++i) {
    auto candidate = evaluated(i % 10 == 0 ? sort.id : sum.id, "int v = " + std::to_string(i) + ";",
                               1.0 + (i * 7919 % 100000) / 100000.0);
    if (i % 3 == 0) candidate.status = CandidateStatus::build_failed;
    db.insert_candidate(candidate);
  }
  auto inserted = std::chrono::steady_clock::now();
  auto best = db.top(std::nullopt, 10);
  auto ranked = std::chrono::steady_clock::now();
  auto best_sort = db.top(std::string("sort"), 10);
  auto ranked_task = std::chrono::steady_clock::now();
  DatabaseStats stats = db.stats();
  auto counted = std::chrono::steady_clock::now();
  using ms = std::chrono::duration<double, std::milli>;
  WARN("insert " << ms(inserted - start).count() / 100000 << " ms each; top " 
                 << ms(ranked - inserted).count() << " ms; top(task) "
                 << ms(ranked_task - ranked).count() << " ms; stats "
                 << ms(counted - ranked_task).count() << " ms");
  CHECK(best.size() == 10);
  CHECK(best_sort.size() == 10);
  CHECK(stats.candidates == 100000);
  CHECK(ms(ranked - inserted).count() < 50);
  CHECK(ms(ranked_task - ranked).count() < 50);
}

}  // namespace ratchet
