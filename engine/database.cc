// The candidate database on SQLite. Layout of this file: the schema and its
// migrations; a small layer over the SQLite C API (Statement, Transaction,
// Connection: every return code checked, statements prepared once per
// Database and reused); then Database itself, one short function per query.
//
// Storage notes:
// - File contents live in `blobs`, keyed by hash_hex(content); a candidate's
//   program_json is a manifest {"files": {path: blobhash}, "flags": [...]}.
//   A flag or one-line edit adds a candidate row and no file content.
// - speedup / ci_low / ci_high mirror metrics["speedup"|"ci_low"|"ci_high"] as
//   columns so that top-k is an index scan of (status, speedup DESC).
#include "engine/database.h"

#include <sqlite3.h>

#include <time.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "common/hash.h"
#include "common/result.h"
#include "engine/wal_vfs.h"

namespace ratchet {
namespace {

// ISO-8601 UTC with milliseconds, e.g. 2025-01-31T12:00:00.123Z. SQLite keeps
// 'now' fixed within one statement, so created_at == updated_at on insert.
#define RATCHET_SQL_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

// The same timestamp, made here: the statements of every candidate bind it
// instead of having SQLite parse and format a date for each row.
std::string utc_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char text[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
  auto digits = [&](size_t at, int width, long value) {
    for (int i = width - 1; i >= 0; --i, value /= 10) {
      text[at + static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    }
  };
  digits(0, 4, utc.tm_year + 1900L);
  digits(5, 2, utc.tm_mon + 1);
  digits(8, 2, utc.tm_mday);
  digits(11, 2, utc.tm_hour);
  digits(14, 2, utc.tm_min);
  digits(17, 2, utc.tm_sec);
  digits(20, 3, now.tv_nsec / 1'000'000);
  return text;
}

// Migration i (counting from 1) brings PRAGMA user_version from i-1 to i.
// Append only: never edit a migration that has shipped. The `meta` table and
// its ('application', 'ratchet') row are permanent: open() relies on them to
// recognise our files, whatever the version.
constexpr std::array<const char*, 4> kMigrations = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('application', 'ratchet');

CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  task_name TEXT NOT NULL,
  task_dir TEXT NOT NULL,
  config_json TEXT NOT NULL,
  environment_json TEXT NOT NULL,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  duplicates_skipped INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_by_task ON campaigns (task_name);

CREATE TABLE blobs (
  hash TEXT PRIMARY KEY,
  content BLOB NOT NULL
);

CREATE TABLE candidates (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
  parent_id INTEGER REFERENCES candidates (id),
  program_hash TEXT NOT NULL,
  program_json TEXT NOT NULL,
  edit_json TEXT NOT NULL,
  proposer TEXT NOT NULL,
  model TEXT NOT NULL,
  status INTEGER NOT NULL,
  build_status INTEGER NOT NULL,
  verify_status INTEGER NOT NULL,
  benchmark_status INTEGER NOT NULL,
  speedup REAL,
  ci_low REAL,
  ci_high REAL,
  metrics_json TEXT NOT NULL,
  artifacts_json TEXT NOT NULL,
  island INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  -- Its index (campaign_id, program_hash) also serves every lookup by
  -- campaign_id, so there is no separate index on campaign_id.
  UNIQUE (campaign_id, program_hash)
);
-- top-k: ORDER BY speedup DESC, id ASC is this index's order (rowid last).
CREATE INDEX candidates_by_rank ON candidates (status, speedup DESC);

CREATE TABLE samples (
  candidate_id INTEGER NOT NULL REFERENCES candidates (id),
  pair INTEGER NOT NULL,
  candidate_first INTEGER NOT NULL,
  baseline_cpu_ms REAL NOT NULL,
  candidate_cpu_ms REAL NOT NULL,
  baseline_wall_ms REAL NOT NULL,
  candidate_wall_ms REAL NOT NULL,
  PRIMARY KEY (candidate_id, pair)
) WITHOUT ROWID;
)sql",
    // 2: LLM calls (accounting and audit) and the failure lookup for prompts.
    R"sql(
CREATE TABLE llm_calls (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
  candidate_id INTEGER REFERENCES candidates (id),
  model TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  tokens_in INTEGER NOT NULL,
  tokens_out INTEGER NOT NULL,
  latency_ms REAL NOT NULL,
  retries INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  request_key TEXT NOT NULL,
  prompt TEXT,
  response TEXT,
  error TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX llm_calls_by_campaign ON llm_calls (campaign_id);
-- recent_failures: newest rows of one status within a campaign (rowid last).
CREATE INDEX candidates_by_campaign_status ON candidates (campaign_id, status);
)sql",
    // 3: reusable transform rules. Their wins and losses are not stored: they
    // are derived from the candidates whose edit carries the rule.
    R"sql(
CREATE TABLE transforms (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  rule_json TEXT NOT NULL UNIQUE,
  origin TEXT NOT NULL,
  candidate_id INTEGER REFERENCES candidates (id),
  created_at TEXT NOT NULL
);
)sql",
    // 4: the two status indexes become partial. A candidate is inserted pending
    // and so was written into both, then moved in both when its status changed:
    // four index pages of the two write transactions of each candidate. Now an
    // evaluated candidate enters the rank index once and a failed one the
    // failure index once. Queries name these WHERE terms literally (SQLite
    // uses a partial index only when the query's WHERE contains its terms).
    R"sql(
DROP INDEX candidates_by_rank;
DROP INDEX candidates_by_campaign_status;
-- top-k: ORDER BY speedup DESC, id ASC is this index's order (rowid last).
CREATE INDEX candidates_by_rank ON candidates (speedup DESC) WHERE status = 1;
-- recent_failures: a campaign's newest failed candidates (rowid last).
CREATE INDEX candidates_failed ON candidates (campaign_id) WHERE status >= 2;
)sql",
};

// Migration 4's partial indexes are used only by queries whose WHERE contains
// the index's own terms, as SQL text: these are written in the queries, never
// bound. The status numbers are fixed (database.h).
#define RATCHET_SQL_EVALUATED "c.status = 1"
#define RATCHET_SQL_FAILED "c.status >= 2"
static_assert(static_cast<int>(CandidateStatus::evaluated) == 1);
static_assert(static_cast<int>(CandidateStatus::refused) == 2 &&
              static_cast<int>(CandidateStatus::build_failed) == 3 &&
              static_cast<int>(CandidateStatus::verify_failed) == 4 &&
              static_cast<int>(CandidateStatus::benchmark_failed) == 5);

constexpr int kBusyTimeoutMs = 5000;

bool is_constraint(int rc) { return (rc & 0xff) == SQLITE_CONSTRAINT; }

// Compact JSON; invalid UTF-8 (compiler output, program output in a diff) is
// replaced with U+FFFD instead of throwing.
std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<double> number_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

class Connection;

// A prepared statement, borrowed from the Connection's cache (reset and
// unbound on destruction, ready for the next use) or, when the cached one is
// already in use further up the stack, prepared for this use only.
class Statement {
 public:
  Statement(const Connection& connection, sqlite3_stmt* stmt, bool* in_use, const char* what)
      : connection_(connection), stmt_(stmt), in_use_(in_use), what_(what) {}
  ~Statement() {
    if (in_use_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      *in_use_ = false;
    } else {
      sqlite3_finalize(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_int(int index, int64_t value) {
    return check(sqlite3_bind_int64(stmt_, index, value));
  }
  Statement& bind_real(int index, std::optional<double> value) {
    return check(value ? sqlite3_bind_double(stmt_, index, *value) : sqlite3_bind_null(stmt_, index));
  }
  Statement& bind_text(int index, std::string_view value) {
    return check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8));
  }
  Statement& bind_text_or_null(int index, std::string_view value) {
    return value.empty() ? check(sqlite3_bind_null(stmt_, index)) : bind_text(index, value);
  }
  Statement& bind_blob(int index, std::string_view value) {
    // data() of a std::string is never null, so an empty value stays a
    // zero-length blob rather than becoming NULL.
    return check(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT));
  }
  Statement& bind_optional_int(int index, std::optional<int64_t> value) {
    return value ? bind_int(index, *value) : check(sqlite3_bind_null(stmt_, index));
  }

  // True when a row is ready, false when the statement is done.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail();
  }
  // Like step(), but hands back a constraint violation (its extended code)
  // instead of throwing, for callers that turn it into a logic_error.
  int step_or_constraint() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE || is_constraint(rc)) return rc;
    fail();
  }
  // Runs to completion, ignoring any rows.
  void run() {
    while (step()) {
    }
  }

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::optional<int64_t> optional_integer(int column) const {
    if (is_null(column)) return std::nullopt;
    return integer(column);
  }
  std::string text(int column) const {
    auto data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    int size = sqlite3_column_bytes(stmt_, column);
    return data ? std::string(data, static_cast<size_t>(size)) : std::string();
  }
  std::string blob(int column) const {
    auto data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    int size = sqlite3_column_bytes(stmt_, column);
    return data ? std::string(data, static_cast<size_t>(size)) : std::string();
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) fail();
    return *this;
  }
  [[noreturn]] void fail() const;

  const Connection& connection_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // null: owned, finalize on destruction
  const char* what_;
};

// The helpers every query uses: the statement cache and error reporting.
// Does not own the sqlite3 handle (Database does).
class Connection {
 public:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  // `sql` is one statement, a string literal: the cache keys on its address,
  // so that a lookup hashes a pointer, not the statement's text. `what`
  // completes "(while …)" in error messages.
  template <size_t N>
  Statement prepare(const char (&sql)[N], const char* what) {
    return prepare_cached(sql, what);
  }
  // A statement whose text is built at run time, once: `sql` must live as
  // long as the connection (a static), since the cache keys on its address.
  Statement prepare_built(const std::string& sql, const char* what) {
    return prepare_cached(sql.c_str(), what);
  }

  // Runs a script of one or more statements (pragmas, migrations).
  void exec(const char* sql, const char* what) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(what);
  }

  // "database 'PATH': <sqlite message> (while <what>)"
  [[noreturn]] void fail(const char* what) const {
    throw FatalError(kExitRuntime, "database '" + path_ + "': " + sqlite3_errmsg(db_) +
                                       " (while " + what + ")");
  }
  [[noreturn]] void corrupt(const std::string& detail) const {
    throw FatalError(kExitRuntime, "database '" + path_ + "' is damaged: " + detail);
  }

 private:
  Statement prepare_cached(const char* sql, const char* what) {
    auto [it, inserted] = cache_.try_emplace(sql);
    Cached& cached = it->second;
    if (inserted) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        cache_.erase(it);
        fail(what);
      }
      cached.stmt.reset(stmt);
    } else if (cached.in_use) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) fail(what);
      return Statement(*this, stmt, nullptr, what);
    }
    cached.in_use = true;
    return Statement(*this, cached.stmt.get(), &cached.in_use, what);
  }

  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  struct Cached {
    std::unique_ptr<sqlite3_stmt, Finalize> stmt;
    bool in_use = false;
  };
  sqlite3* db_;
  std::string path_;
  // Keyed by the SQL literal's address. Nodes never move, so Statement may
  // point at in_use.
  std::unordered_map<const char*, Cached> cache_;
};

void Statement::fail() const { connection_.fail(what_); }

// BEGIN … COMMIT, rolled back on destruction unless committed. `immediate`
// takes the write lock up front, so a concurrent writer is waited for (busy
// timeout) at BEGIN rather than failing halfway through.
class Transaction {
 public:
  Transaction(Connection& connection, bool immediate, const char* what)
      : connection_(connection), what_(what) {
    if (immediate) {
      connection_.prepare("BEGIN IMMEDIATE", what_).run();
    } else {
      connection_.prepare("BEGIN", what_).run();
    }
  }
  ~Transaction() {
    if (!committed_ && !sqlite3_get_autocommit(connection_.db())) {
      sqlite3_exec(connection_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    connection_.prepare("COMMIT", what_).run();
    committed_ = true;
  }

 private:
  Connection& connection_;
  const char* what_;
  bool committed_ = false;
};

using BlobCache = std::unordered_map<std::string, std::string>;

#define RATCHET_CAMPAIGN_COLUMNS                                                         \
  "id, name, task_name, task_dir, config_json, environment_json, seed, status, "         \
  "started_at, finished_at, duplicates_skipped"

#define RATCHET_CANDIDATE_COLUMNS                                                        \
  "c.id, c.campaign_id, c.parent_id, c.program_hash, c.program_json, c.edit_json, "      \
  "c.proposer, c.model, c.status, c.build_status, c.verify_status, c.benchmark_status, " \
  "c.metrics_json, c.artifacts_json, c.island, c.created_at, c.updated_at"

}  // namespace

struct Database::Impl : Connection {
  using Connection::Connection;

  int64_t user_version() {
    Statement query = prepare("PRAGMA user_version", "reading the schema version");
    query.step();
    return query.integer(0);
  }

  [[noreturn]] void too_new(int64_t version) const {
    throw FatalError(kExitRuntime, "database '" + path() + "' has schema version " +
                                       std::to_string(version) + "; this ratchet reads up to " +
                                       std::to_string(schema_version()) + ": upgrade ratchet");
  }

  // Recognises the file before anything is written to it: a file that is not
  // SQLite fails on its first read ("file is not a database"); an SQLite file
  // with tables must carry our meta row; a newer schema is refused.
  void identify() {
    const char* what = "reading the schema";
    int64_t tables = 0;
    {
      Statement query = prepare(
          "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
          what);
      query.step();
      tables = query.integer(0);
    }
    int64_t version = user_version();
    if (tables > 0 && (version < 1 || !has_ratchet_meta())) {
      throw FatalError(kExitRuntime, "database '" + path() +
                                         "' is not a ratchet database: it holds tables of "
                                         "another application");
    }
    if (version > schema_version()) too_new(version);
  }

  bool has_ratchet_meta() {
    // Prepared directly: a foreign `meta` table may lack our columns, which is
    // an answer ("not ours"), not an error.
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db(), "SELECT value FROM meta WHERE key = 'application'", -1, &raw,
                           nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      return false;
    }
    Statement query(*this, raw, nullptr, "reading the meta table");
    return query.step() && query.text(0) == "ratchet";
  }

  void configure() {
    if (sqlite3_busy_timeout(db(), kBusyTimeoutMs) != SQLITE_OK) fail("setting the busy timeout");
    identify();
    {
      Statement query = prepare("PRAGMA journal_mode = WAL", "enabling WAL mode");
      std::string mode = query.step() ? query.text(0) : "";
      if (mode != "wal") {
        throw FatalError(kExitRuntime, "database '" + path() +
                                           "': cannot use WAL journal mode (SQLite kept '" +
                                           mode + "'); is the file on a network file system?");
      }
    }
    // A 4 MB page cache (SQLite's default is 2 MB): at 100,000 candidates
    // each candidate's writes touch random pages of the dedupe, content and
    // rank indexes. ratchet_engine_bench 100000 1 1: 1,908 -> 2,318
    // candidates/s, peak RSS 23.2 -> 25.4 MB. The cache fills only as pages
    // are used, so a connection that reads little stays small.
    // Checkpoints every 16,000 WAL frames (about 1,450 candidates; SQLite's
    // default is 1,000). Each candidate lands on a random leaf of the dedupe,
    // content and rank indexes; at 100,000 candidates those are thousands of
    // leaves, so a checkpoint every 100 candidates copies nearly one page per
    // index per candidate, and a longer interval lets candidates share them.
    // ratchet_llm_bench 100000 2000, 4 interleaved rounds each: controller CPU
    // at 100,000 candidates over that at 50, 1.11 -> 1.01. The WAL grows to
    // about 66 MB between checkpoints. With synchronous = NORMAL a power loss
    // can roll back commits the kernel had not written back yet (it does so
    // within about 30 s); in a campaign either interval spans minutes, so
    // that bound does not change.
    exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -4096; "
         "PRAGMA wal_autocheckpoint = 16000",
         "configuring the connection");
    migrate();
  }

  void migrate() {
    if (user_version() == schema_version()) return;
    Transaction transaction(*this, true, "migrating the schema");
    // Re-read under the write lock: another process may have migrated since.
    int64_t version = user_version();
    if (version > schema_version()) too_new(version);
    if (version == schema_version()) return;
    for (auto i = static_cast<size_t>(version); i < kMigrations.size(); ++i) {
      std::string what = "applying schema migration " + std::to_string(i + 1);
      exec(kMigrations[i], what.c_str());
    }
    std::string set_version = "PRAGMA user_version = " + std::to_string(schema_version());
    exec(set_version.c_str(), "setting the schema version");
    transaction.commit();
  }

  nlohmann::json parse(const std::string& text, const std::string& what) const {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& error) {
      corrupt("invalid JSON in " + what + ": " + error.what());
    }
  }

  // Stores `content` under its hash unless present. An existing blob with the
  // same hash but other bytes (a 64-bit collision) is refused rather than
  // silently aliased.
  std::string store_blob(const std::string& content) {
    std::string hash = hash_hex(content);
    const char* what = "storing file contents";
    prepare("INSERT INTO blobs (hash, content) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING", what)
        .bind_text(1, hash)
        .bind_blob(2, content)
        .run();
    if (sqlite3_changes(db()) == 0) {
      Statement same = prepare("SELECT content = ?2 FROM blobs WHERE hash = ?1", what);
      same.bind_text(1, hash).bind_blob(2, content);
      if (!same.step() || same.integer(0) != 1) {
        throw FatalError(kExitRuntime, "database '" + path() + "': two different file contents "
                                           "have the hash " + hash + "; cannot store both");
      }
    }
    return hash;
  }

  const std::string& load_blob(const std::string& hash, BlobCache& blobs) {
    auto it = blobs.find(hash);
    if (it != blobs.end()) return it->second;
    Statement query = prepare("SELECT content FROM blobs WHERE hash = ?1", "reading file contents");
    query.bind_text(1, hash);
    if (!query.step()) corrupt("file contents " + hash + " are missing");
    return blobs.emplace(hash, query.blob(0)).first->second;
  }

  Program load_program(const std::string& manifest_text, int64_t id, BlobCache& blobs) {
    std::string what = "the program of candidate " + std::to_string(id);
    nlohmann::json manifest = parse(manifest_text, what);
    Program program;
    try {
      for (const auto& [file, hash] : manifest.at("files").items()) {
        program.files.emplace(file, load_blob(hash.get<std::string>(), blobs));
      }
      program.flags = manifest.at("flags").get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& error) {
      corrupt("malformed manifest for " + what + ": " + error.what());
    }
    return program;
  }

  // One row of RATCHET_CANDIDATE_COLUMNS.
  CandidateRecord read_candidate(const Statement& row, BlobCache& blobs) {
    CandidateRecord c;
    c.id = row.integer(0);
    std::string of = " of candidate " + std::to_string(c.id);
    c.campaign_id = row.integer(1);
    c.parent_id = row.optional_integer(2);
    c.program_hash = row.text(3);
    c.program = load_program(row.text(4), c.id, blobs);
    c.edit = parse(row.text(5), "the edit" + of);
    c.proposer = row.text(6);
    c.model = row.text(7);
    c.status = static_cast<CandidateStatus>(row.integer(8));
    c.build = static_cast<StageStatus>(row.integer(9));
    c.verify = static_cast<StageStatus>(row.integer(10));
    c.benchmark = static_cast<StageStatus>(row.integer(11));
    c.metrics = parse(row.text(12), "the metrics" + of);
    c.artifacts = parse(row.text(13), "the artifacts" + of);
    c.island = static_cast<int>(row.integer(14));
    c.created_at = row.text(15);
    c.updated_at = row.text(16);
    return c;
  }

  std::vector<CandidateRecord> read_candidates(Statement& query) {
    std::vector<CandidateRecord> result;
    BlobCache blobs;  // candidates of one task share most of their files
    while (query.step()) result.push_back(read_candidate(query, blobs));
    return result;
  }

  // One row of RATCHET_CAMPAIGN_COLUMNS.
  CampaignRecord read_campaign(const Statement& row) {
    CampaignRecord c;
    c.id = row.integer(0);
    std::string of = " of campaign " + std::to_string(c.id);
    c.name = row.text(1);
    c.task_name = row.text(2);
    c.task_dir = row.text(3);
    c.config = parse(row.text(4), "the config" + of);
    c.environment = parse(row.text(5), "the environment" + of);
    c.seed = row.integer(6);
    c.status = row.text(7);
    c.started_at = row.text(8);
    c.finished_at = row.text(9);
    c.duplicates_skipped = row.integer(10);
    return c;
  }

  // An UPDATE that matched no row means the caller passed an unknown id.
  void expect_changed(const char* function, const char* table, int64_t id) const {
    if (sqlite3_changes(db()) == 0) {
      throw std::logic_error(std::string("Database::") + function + ": no " + table +
                             " with id " + std::to_string(id) + " in '" + path() + "'");
    }
  }
};

// ---- status names ----------------------------------------------------------

namespace {
constexpr std::array kStageStatuses = {StageStatus::pending, StageStatus::ok,
                                       StageStatus::failed,  StageStatus::timeout,
                                       StageStatus::crashed, StageStatus::skipped};
constexpr std::array kCandidateStatuses = {
    CandidateStatus::pending,       CandidateStatus::evaluated,     CandidateStatus::refused,
    CandidateStatus::build_failed,  CandidateStatus::verify_failed, CandidateStatus::benchmark_failed};
}  // namespace

const char* to_string(CandidateStatus status) {
  switch (status) {
    case CandidateStatus::pending: return "pending";
    case CandidateStatus::evaluated: return "evaluated";
    case CandidateStatus::refused: return "refused";
    case CandidateStatus::build_failed: return "build_failed";
    case CandidateStatus::verify_failed: return "verify_failed";
    case CandidateStatus::benchmark_failed: return "benchmark_failed";
  }
  return "unknown";
}

std::optional<StageStatus> stage_status_from_string(std::string_view name) {
  for (StageStatus status : kStageStatuses) {
    if (name == to_string(status)) return status;
  }
  return std::nullopt;
}

std::optional<CandidateStatus> candidate_status_from_string(std::string_view name) {
  for (CandidateStatus status : kCandidateStatuses) {
    if (name == to_string(status)) return status;
  }
  return std::nullopt;
}

std::optional<double> CandidateRecord::speedup() const { return number_at(metrics, "speedup"); }

// ---- lifetime --------------------------------------------------------------

namespace {

// Before SQLite initializes (the first open): no memory statistics, which
// ratchet never reads and which cost a global mutex round trip per SQLite
// allocation. A process that initialized SQLite already keeps its settings.
void configure_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Database Database::open(const std::filesystem::path& path, bool create) {
  configure_sqlite();
  std::error_code ignored;
  if (!create && !std::filesystem::exists(path, ignored)) {
    throw FatalError(kExitUsage, "no database at '" + path.string() +
                                     "' (run `ratchet run` first, or pass --db PATH)");
  }
  sqlite3* handle = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &handle, flags, wal_coalescing_vfs()) != SQLITE_OK) {
    std::string message = handle ? sqlite3_errmsg(handle) : "out of memory";
    sqlite3_close_v2(handle);
    throw FatalError(kExitRuntime,
                     "database '" + path.string() + "': " + message + " (while opening)");
  }
  sqlite3_extended_result_codes(handle, 1);
  Database database(handle, path);  // owns the handle from here on
  database.impl_->configure();
  return database;
}

Database::Database(sqlite3* db, std::filesystem::path path)
    : db_(db), path_(std::move(path)), impl_(std::make_unique<Impl>(db, path_.string())) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      impl_(std::move(other.impl_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    impl_.reset();
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Database::~Database() {
  impl_.reset();  // finalizes the cached statements first
  if (db_) sqlite3_close_v2(db_);
}

int Database::schema_version() { return static_cast<int>(kMigrations.size()); }

// ---- campaigns -------------------------------------------------------------

int64_t Database::create_campaign(CampaignRecord& campaign) {
  Statement insert = impl_->prepare(
      "INSERT INTO campaigns (name, task_name, task_dir, config_json, environment_json, seed, "
      "status, started_at, finished_at, duplicates_skipped) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " RATCHET_SQL_NOW ", ?8, ?9) "
      "RETURNING id, started_at",
      "creating a campaign");
  insert.bind_text(1, campaign.name)
      .bind_text(2, campaign.task_name)
      .bind_text(3, campaign.task_dir)
      .bind_text(4, dump(campaign.config))
      .bind_text(5, dump(campaign.environment))
      .bind_int(6, campaign.seed)
      .bind_text(7, campaign.status)
      .bind_text_or_null(8, campaign.finished_at)
      .bind_int(9, campaign.duplicates_skipped);
  insert.step();
  int64_t id = insert.integer(0);
  std::string started_at = insert.text(1);
  insert.run();
  campaign.id = id;
  campaign.started_at = std::move(started_at);
  return id;
}

std::optional<CampaignRecord> Database::campaign(int64_t id) const {
  Statement query = impl_->prepare(
      "SELECT " RATCHET_CAMPAIGN_COLUMNS " FROM campaigns WHERE id = ?1", "reading a campaign");
  query.bind_int(1, id);
  if (!query.step()) return std::nullopt;
  return impl_->read_campaign(query);
}

std::vector<CampaignRecord> Database::campaigns() const {
  Statement query = impl_->prepare(
      "SELECT " RATCHET_CAMPAIGN_COLUMNS " FROM campaigns ORDER BY id", "listing campaigns");
  std::vector<CampaignRecord> result;
  while (query.step()) result.push_back(impl_->read_campaign(query));
  return result;
}

void Database::finish_campaign(int64_t id, const std::string& status) {
  if (status != "finished" && status != "interrupted" && status != "failed") {
    throw std::logic_error("Database::finish_campaign: status '" + status +
                           "' is not one of finished, interrupted, failed");
  }
  impl_->prepare("UPDATE campaigns SET status = ?2, finished_at = " RATCHET_SQL_NOW
                 " WHERE id = ?1",
                 "finishing a campaign")
      .bind_int(1, id)
      .bind_text(2, status)
      .run();
  impl_->expect_changed("finish_campaign", "campaign", id);
}

void Database::add_duplicate_skipped(int64_t campaign_id) {
  impl_->prepare("UPDATE campaigns SET duplicates_skipped = duplicates_skipped + 1 WHERE id = ?1",
                 "counting a skipped duplicate")
      .bind_int(1, campaign_id)
      .run();
  impl_->expect_changed("add_duplicate_skipped", "campaign", campaign_id);
}

// ---- candidates ------------------------------------------------------------

// A row just inserted: what the database gave it. Written into the caller's
// record only once the transaction has committed.
struct Database::Inserted {
  int64_t id = 0;
  std::string created_at;
  std::string updated_at;
};

namespace {

// A candidate's outcome: status, the three stage statuses, the rank columns,
// metrics and artifacts, bound to nine parameters from `first` on, in the
// candidates table's column order (insert and update write the same ones).
Statement& bind_outcome(Statement& statement, int first, const CandidateRecord& candidate) {
  return statement.bind_int(first, static_cast<int>(candidate.status))
      .bind_int(first + 1, static_cast<int>(candidate.build))
      .bind_int(first + 2, static_cast<int>(candidate.verify))
      .bind_int(first + 3, static_cast<int>(candidate.benchmark))
      .bind_real(first + 4, number_at(candidate.metrics, "speedup"))
      .bind_real(first + 5, number_at(candidate.metrics, "ci_low"))
      .bind_real(first + 6, number_at(candidate.metrics, "ci_high"))
      .bind_text(first + 7, dump(candidate.metrics))
      .bind_text(first + 8, dump(candidate.artifacts));
}

}  // namespace

Database::Inserted Database::insert_candidate_row(const CandidateRecord& candidate) {
  const char* what = "inserting a candidate";
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [file, content] : candidate.program.files) {
    files[file] = impl_->store_blob(content);
  }
  nlohmann::json manifest = {{"files", std::move(files)}, {"flags", candidate.program.flags}};
  Statement insert = impl_->prepare(
      "INSERT INTO candidates (campaign_id, parent_id, program_hash, program_json, edit_json, "
      "proposer, model, status, build_status, verify_status, benchmark_status, speedup, "
      "ci_low, ci_high, metrics_json, artifacts_json, island, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
      "?18, ?18)",
      what);
  std::string now = utc_now();
  insert.bind_int(1, candidate.campaign_id)
      .bind_optional_int(2, candidate.parent_id)
      .bind_text(3, candidate.program_hash)
      .bind_text(4, dump(manifest))
      .bind_text(5, dump(candidate.edit))
      .bind_text(6, candidate.proposer)
      .bind_text(7, candidate.model);
  bind_outcome(insert, 8, candidate).bind_int(17, candidate.island).bind_text(18, now);
  int rc = insert.step_or_constraint();
  if (is_constraint(rc)) {
    std::string reason = sqlite3_errmsg(impl_->db());
    std::string subject = "campaign " + std::to_string(candidate.campaign_id);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      throw std::logic_error("Database::insert_candidate: " + subject +
                             " already has a candidate with program hash " +
                             candidate.program_hash + " (check find_by_hash first)");
    }
    throw std::logic_error("Database::insert_candidate: " + reason + " (" + subject +
                           ", parent " +
                           (candidate.parent_id ? std::to_string(*candidate.parent_id) : "none") +
                           ")");
  }
  return {sqlite3_last_insert_rowid(impl_->db()), now, now};
}

int64_t Database::insert_candidate(CandidateRecord& candidate) {
  if (candidate.program_hash.empty()) candidate.program_hash = program_hash(candidate.program);
  Transaction transaction(*impl_, true, "inserting a candidate");
  Inserted row = insert_candidate_row(candidate);
  transaction.commit();
  candidate.id = row.id;
  candidate.created_at = std::move(row.created_at);
  candidate.updated_at = std::move(row.updated_at);
  return candidate.id;
}

bool Database::record_step(CandidateRecord& candidate, const std::string& step_key,
                           int64_t step, LlmCallRecord* call) {
  if (candidate.program_hash.empty()) candidate.program_hash = program_hash(candidate.program);
  Transaction transaction(*impl_, true, "recording a campaign step");
  bool known = find_by_hash(candidate.campaign_id, candidate.program_hash).has_value();
  Inserted row;
  if (known) {
    add_duplicate_skipped(candidate.campaign_id);
    set_meta(step_key, std::to_string(step));
  } else {
    row = insert_candidate_row(candidate);
  }
  Inserted call_row;
  if (call) {
    if (!known) call->candidate_id = row.id;
    call_row = insert_llm_call_row(*call);
  }
  transaction.commit();
  if (call) {
    call->id = call_row.id;
    call->created_at = std::move(call_row.created_at);
  }
  if (known) return false;
  candidate.id = row.id;
  candidate.created_at = std::move(row.created_at);
  candidate.updated_at = std::move(row.updated_at);
  return true;
}

void Database::update_candidate(const CandidateRecord& candidate) {
  Statement update = impl_->prepare(
      "UPDATE candidates SET status = ?2, build_status = ?3, verify_status = ?4, "
      "benchmark_status = ?5, speedup = ?6, ci_low = ?7, ci_high = ?8, metrics_json = ?9, "
      "artifacts_json = ?10, updated_at = ?11 WHERE id = ?1",
      "updating a candidate");
  update.bind_int(1, candidate.id);
  bind_outcome(update, 2, candidate).bind_text(11, utc_now()).run();
  impl_->expect_changed("update_candidate", "candidate", candidate.id);
}

std::optional<CandidateRecord> Database::candidate(int64_t id) const {
  Statement query = impl_->prepare(
      "SELECT " RATCHET_CANDIDATE_COLUMNS " FROM candidates c WHERE c.id = ?1",
      "reading a candidate");
  query.bind_int(1, id);
  if (!query.step()) return std::nullopt;
  BlobCache blobs;
  return impl_->read_candidate(query, blobs);
}

std::vector<CandidateRecord> Database::candidates(int64_t campaign_id) const {
  Statement query = impl_->prepare(
      "SELECT " RATCHET_CANDIDATE_COLUMNS " FROM candidates c WHERE c.campaign_id = ?1 "
      "ORDER BY c.id",
      "listing candidates");
  query.bind_int(1, campaign_id);
  return impl_->read_candidates(query);
}

std::optional<int64_t> Database::find_by_hash(int64_t campaign_id, const std::string& hash) const {
  Statement query = impl_->prepare(
      "SELECT id FROM candidates WHERE campaign_id = ?1 AND program_hash = ?2",
      "looking up a program hash");
  query.bind_int(1, campaign_id).bind_text(2, hash);
  if (!query.step()) return std::nullopt;
  return query.integer(0);
}

std::vector<CandidateRecord> Database::top(const std::optional<std::string>& task,
                                           int limit) const {
  if (limit <= 0) return {};
  const char* what = "ranking candidates";
  if (!task) {
    Statement query = impl_->prepare(
        "SELECT " RATCHET_CANDIDATE_COLUMNS " FROM candidates c INDEXED BY candidates_by_rank "
        "WHERE " RATCHET_SQL_EVALUATED " AND c.proposer <> 'baseline' "
        "ORDER BY c.speedup DESC, c.id ASC LIMIT ?1",
        what);
    query.bind_int(1, limit);
    return impl_->read_candidates(query);
  }
  Statement query = impl_->prepare(
      "SELECT " RATCHET_CANDIDATE_COLUMNS " FROM candidates c INDEXED BY candidates_by_rank "
      "JOIN campaigns p ON p.id = c.campaign_id "
      "WHERE " RATCHET_SQL_EVALUATED " AND c.proposer <> 'baseline' AND p.task_name = ?2 "
      "ORDER BY c.speedup DESC, c.id ASC LIMIT ?1",
      what);
  query.bind_int(1, limit).bind_text(2, *task);
  return impl_->read_candidates(query);
}

// ---- samples ---------------------------------------------------------------

namespace {

// Rows per INSERT: a statement's setup and halt cost about as much as the row
// it writes, and a candidate's benchmark stores 5-20 pairs.
constexpr size_t kSampleRowsPerInsert = 8;

// The INSERT of `rows` samples (1 to kSampleRowsPerInsert), built once: the
// statement cache keys on the text's address.
const std::string& sample_insert_sql(size_t rows) {
  static const std::array<std::string, kSampleRowsPerInsert> texts = [] {
    std::array<std::string, kSampleRowsPerInsert> out;
    for (size_t n = 1; n <= kSampleRowsPerInsert; ++n) {
      std::string sql =
          "INSERT INTO samples (candidate_id, pair, candidate_first, baseline_cpu_ms, "
          "candidate_cpu_ms, baseline_wall_ms, candidate_wall_ms) VALUES ";
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) sql += ", ";
        sql += "(?, ?, ?, ?, ?, ?, ?)";
      }
      out[n - 1] = std::move(sql);
    }
    return out;
  }();
  return texts[rows - 1];
}

}  // namespace

void Database::record_evaluation(const CandidateRecord& candidate,
                                 const std::vector<SampleRecord>& samples) {
  if (samples.empty()) {
    update_candidate(candidate);  // one statement: its own transaction
    return;
  }
  const char* what = "recording an evaluation";
  Transaction transaction(*impl_, true, what);
  update_candidate(candidate);
  for (size_t first = 0; first < samples.size(); first += kSampleRowsPerInsert) {
    size_t rows = std::min(kSampleRowsPerInsert, samples.size() - first);
    Statement insert = impl_->prepare_built(sample_insert_sql(rows), what);
    for (size_t i = 0; i < rows; ++i) {
      const SampleRecord& sample = samples[first + i];
      int at = static_cast<int>(i) * 7;
      insert.bind_int(at + 1, candidate.id)
          .bind_int(at + 2, sample.pair)
          .bind_int(at + 3, sample.candidate_first ? 1 : 0)
          .bind_real(at + 4, sample.baseline_cpu_ms)
          .bind_real(at + 5, sample.candidate_cpu_ms)
          .bind_real(at + 6, sample.baseline_wall_ms)
          .bind_real(at + 7, sample.candidate_wall_ms);
    }
    if (is_constraint(insert.step_or_constraint())) {
      std::string pairs;
      for (size_t i = 0; i < rows; ++i) {
        pairs += (i == 0 ? "" : ", ") + std::to_string(samples[first + i].pair);
      }
      throw std::logic_error("Database::record_evaluation: cannot store pairs " + pairs +
                             " of candidate " + std::to_string(candidate.id) + ": " +
                             sqlite3_errmsg(impl_->db()));
    }
  }
  transaction.commit();
}

std::vector<SampleRecord> Database::samples(int64_t candidate_id) const {
  Statement query = impl_->prepare(
      "SELECT pair, candidate_first, baseline_cpu_ms, candidate_cpu_ms, baseline_wall_ms, "
      "candidate_wall_ms FROM samples WHERE candidate_id = ?1 ORDER BY pair",
      "reading benchmark samples");
  query.bind_int(1, candidate_id);
  std::vector<SampleRecord> result;
  while (query.step()) {
    result.push_back({static_cast<int>(query.integer(0)), query.integer(1) != 0, query.real(2),
                      query.real(3), query.real(4), query.real(5)});
  }
  return result;
}

// ---- stats -----------------------------------------------------------------

DatabaseStats Database::stats() const {
  const char* what = "computing statistics";
  Transaction snapshot(*impl_, false, what);  // one consistent read snapshot
  DatabaseStats stats;
  {
    Statement query = impl_->prepare(
        "SELECT count(*), coalesce(sum(duplicates_skipped), 0) FROM campaigns", what);
    query.step();
    stats.campaigns = query.integer(0);
    stats.duplicates_skipped = query.integer(1);
  }
  {
    // One scan for every count: ?1, ?2: the stage never ran; ?3..?5: the
    // stage failed; then one count per candidate status, 0 to 5 (the status
    // indexes are partial, so a GROUP BY status would be a second scan).
    Statement query = impl_->prepare(
        "SELECT count(*), "
        "coalesce(sum(build_status NOT IN (?1, ?2)), 0), "
        "coalesce(sum(build_status IN (?3, ?4, ?5)), 0), "
        "coalesce(sum(verify_status IN (?3, ?4, ?5)), 0), "
        "coalesce(sum(benchmark_status IN (?3, ?4, ?5)), 0), "
        "coalesce(sum(json_extract(metrics_json, '$.binary_reused') = 1), 0), "
        "coalesce(sum(json_extract(metrics_json, '$.build_cache_hit') = 1), 0), "
        "coalesce(sum(status = 0), 0), coalesce(sum(status = 1), 0), coalesce(sum(status = 2), 0), "
        "coalesce(sum(status = 3), 0), coalesce(sum(status = 4), 0), coalesce(sum(status = 5), 0) "
        "FROM candidates",
        what);
    query.bind_int(1, static_cast<int>(StageStatus::pending))
        .bind_int(2, static_cast<int>(StageStatus::skipped))
        .bind_int(3, static_cast<int>(StageStatus::failed))
        .bind_int(4, static_cast<int>(StageStatus::timeout))
        .bind_int(5, static_cast<int>(StageStatus::crashed));
    query.step();
    stats.candidates = query.integer(0);
    stats.evaluations = query.integer(1);
    stats.failures_by_stage = {{"build", query.integer(2)},
                               {"verify", query.integer(3)},
                               {"benchmark", query.integer(4)}};
    stats.binary_reuses = query.integer(5);
    stats.build_cache_hits = query.integer(6);
    for (int status = 0; status <= 5; ++status) {  // pending to benchmark_failed (database.h)
      int64_t count = query.integer(7 + status);
      if (count > 0) stats.by_status.push_back({to_string(static_cast<CandidateStatus>(status)), count});
    }
  }
  {
    // One top-1 walk of the rank index per task: a window function over every
    // evaluated candidate costs ~300 ms at 100,000 candidates, this ~1 ms.
    Statement query = impl_->prepare(
        "SELECT t.task_name, best.id, best.speedup, coalesce(best.ci_low, 0), "
        "coalesce(best.ci_high, 0) "
        "FROM (SELECT DISTINCT task_name FROM campaigns) t "
        "JOIN candidates best ON best.id = ("
        "  SELECT c.id FROM candidates c INDEXED BY candidates_by_rank"
        "  JOIN campaigns p ON p.id = c.campaign_id"
        "  WHERE " RATCHET_SQL_EVALUATED " AND c.proposer <> 'baseline' AND c.speedup > 0"
        "    AND p.task_name = t.task_name"
        "  ORDER BY c.speedup DESC, c.id ASC LIMIT 1) "
        "ORDER BY t.task_name",
        what);
    while (query.step()) {
      stats.best_per_task.push_back(
          {query.text(0), query.integer(1), query.real(2), query.real(3), query.real(4)});
    }
  }
  {
    Statement query = impl_->prepare(
        "SELECT model, count(*), coalesce(sum(status <> 'ok'), 0), coalesce(sum(tokens_in), 0), "
        "coalesce(sum(tokens_out), 0), coalesce(sum(cost_usd), 0), coalesce(avg(latency_ms), 0) "
        "FROM llm_calls GROUP BY model ORDER BY model",
        what);
    while (query.step()) {
      stats.llm_by_model.push_back({query.text(0), query.integer(1), query.integer(2),
                                    query.integer(3), query.integer(4), query.real(5),
                                    query.real(6)});
    }
  }
  snapshot.commit();
  return stats;
}

// ---- LLM calls -------------------------------------------------------------

Database::Inserted Database::insert_llm_call_row(const LlmCallRecord& call) {
  Statement insert = impl_->prepare(
      "INSERT INTO llm_calls (campaign_id, candidate_id, model, endpoint, kind, status, "
      "http_status, tokens_in, tokens_out, latency_ms, retries, cost_usd, request_key, prompt, "
      "response, error, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
      "?13, ?14, ?15, ?16, ?17)",
      "recording an LLM call");
  std::string now = utc_now();
  insert.bind_int(1, call.campaign_id)
      .bind_optional_int(2, call.candidate_id)
      .bind_text(3, call.model)
      .bind_text(4, call.endpoint)
      .bind_text(5, call.kind)
      .bind_text(6, call.status)
      .bind_int(7, call.http_status)
      .bind_int(8, call.tokens_in)
      .bind_int(9, call.tokens_out)
      .bind_real(10, call.latency_ms)
      .bind_int(11, call.retries)
      .bind_real(12, call.cost_usd)
      .bind_text(13, call.request_key);
  if (call.prompt) insert.bind_text(14, *call.prompt);
  if (call.response) insert.bind_text(15, *call.response);
  insert.bind_text(16, call.error).bind_text(17, now);
  insert.run();
  return {sqlite3_last_insert_rowid(impl_->db()), now, {}};
}

int64_t Database::insert_llm_call(LlmCallRecord& call) {
  Inserted row = insert_llm_call_row(call);  // one statement: its own transaction
  call.id = row.id;
  call.created_at = std::move(row.created_at);
  return call.id;
}

std::vector<LlmCallRecord> Database::llm_calls(int64_t campaign_id) const {
  Statement query = impl_->prepare(
      "SELECT id, campaign_id, candidate_id, model, endpoint, kind, status, http_status, "
      "tokens_in, tokens_out, latency_ms, retries, cost_usd, request_key, prompt, response, "
      "error, created_at FROM llm_calls WHERE campaign_id = ?1 ORDER BY id",
      "listing LLM calls");
  query.bind_int(1, campaign_id);
  std::vector<LlmCallRecord> calls;
  while (query.step()) {
    LlmCallRecord c;
    c.id = query.integer(0);
    c.campaign_id = query.integer(1);
    c.candidate_id = query.optional_integer(2);
    c.model = query.text(3);
    c.endpoint = query.text(4);
    c.kind = query.text(5);
    c.status = query.text(6);
    c.http_status = query.integer(7);
    c.tokens_in = query.integer(8);
    c.tokens_out = query.integer(9);
    c.latency_ms = query.real(10);
    c.retries = query.integer(11);
    c.cost_usd = query.real(12);
    c.request_key = query.text(13);
    if (!query.is_null(14)) c.prompt = query.text(14);
    if (!query.is_null(15)) c.response = query.text(15);
    c.error = query.text(16);
    c.created_at = query.text(17);
    calls.push_back(std::move(c));
  }
  return calls;
}

LlmUsage Database::llm_usage(int64_t campaign_id) const {
  Statement query = impl_->prepare(
      "SELECT count(*), coalesce(sum(status <> 'ok'), 0), coalesce(sum(tokens_in), 0), "
      "coalesce(sum(tokens_out), 0), coalesce(sum(cost_usd), 0), coalesce(avg(latency_ms), 0) "
      "FROM llm_calls WHERE campaign_id = ?1",
      "summing LLM usage");
  query.bind_int(1, campaign_id);
  query.step();
  return {"", query.integer(0), query.integer(1), query.integer(2), query.integer(3),
          query.real(4), query.real(5)};
}

std::vector<int64_t> Database::recent_failure_ids(int64_t campaign_id, int limit) const {
  if (limit <= 0) return {};
  Statement query = impl_->prepare(
      "SELECT c.id FROM candidates c INDEXED BY candidates_failed "
      "WHERE c.campaign_id = ?1 AND " RATCHET_SQL_FAILED " ORDER BY c.id DESC LIMIT ?2",
      "reading recent failures");
  query.bind_int(1, campaign_id).bind_int(2, limit);
  std::vector<int64_t> ids;
  while (query.step()) ids.push_back(query.integer(0));
  return ids;
}

std::optional<CandidateRecord> Database::failure_record(int64_t id) const {
  // Evidence needs the edit and the artifacts only: reading whole candidates
  // (their programs above all) was most of an LLM proposal's controller time.
  Statement query = impl_->prepare(
      "SELECT c.id, c.campaign_id, c.parent_id, c.edit_json, c.proposer, c.model, "
      "c.build_status, c.verify_status, c.benchmark_status, c.artifacts_json, c.status "
      "FROM candidates c WHERE c.id = ?1",
      "reading a failure's evidence");
  query.bind_int(1, id);
  if (!query.step()) return std::nullopt;
  CandidateRecord c;
  c.id = query.integer(0);
  std::string of = " of candidate " + std::to_string(c.id);
  c.campaign_id = query.integer(1);
  c.parent_id = query.optional_integer(2);
  c.edit = impl_->parse(query.text(3), "the edit" + of);
  c.proposer = query.text(4);
  c.model = query.text(5);
  c.build = static_cast<StageStatus>(query.integer(6));
  c.verify = static_cast<StageStatus>(query.integer(7));
  c.benchmark = static_cast<StageStatus>(query.integer(8));
  c.artifacts = impl_->parse(query.text(9), "the artifacts" + of);
  c.status = static_cast<CandidateStatus>(query.integer(10));
  return c;
}

std::vector<CandidateRecord> Database::recent_failures(int64_t campaign_id, int limit) const {
  std::vector<CandidateRecord> result;
  for (int64_t id : recent_failure_ids(campaign_id, limit)) {
    if (auto c = failure_record(id)) result.push_back(std::move(*c));
  }
  return result;
}

// ---- Transform rules -------------------------------------------------------

std::string Database::canonical_rule_json(const std::string& rule_json) {
  nlohmann::json json = nlohmann::json::parse(rule_json, nullptr, false);
  return json.is_discarded() ? std::string() : dump(json);  // nlohmann sorts keys
}

int64_t Database::add_transform(TransformRecord& rule) {
  std::string canonical = canonical_rule_json(rule.rule_json);
  if (canonical.empty()) throw std::logic_error("add_transform: the rule is not JSON");
  if (rule.origin != "builtin" && rule.origin != "llm" && rule.origin != "user") {
    throw std::logic_error("add_transform: origin '" + rule.origin +
                           "' is not builtin, llm or user");
  }
  rule.rule_json = canonical;
  // DO UPDATE (a no-op) rather than DO NOTHING so that RETURNING yields the
  // existing row: the first origin, candidate and time are kept.
  Statement insert = impl_->prepare(
      "INSERT INTO transforms (name, rule_json, origin, candidate_id, created_at) "
      "VALUES (?1, ?2, ?3, ?4, " RATCHET_SQL_NOW ") ON CONFLICT (rule_json) DO UPDATE SET "
      "name = name RETURNING id, name, origin, candidate_id, created_at",
      "adding a transform rule");
  insert.bind_text(1, rule.name)
      .bind_text(2, rule.rule_json)
      .bind_text(3, rule.origin)
      .bind_optional_int(4, rule.candidate_id);
  insert.step();
  rule.id = insert.integer(0);
  rule.name = insert.text(1);
  rule.origin = insert.text(2);
  rule.candidate_id = insert.optional_integer(3);
  rule.created_at = insert.text(4);
  insert.run();
  return rule.id;
}

std::vector<TransformRecord> Database::transforms() const {
  std::vector<TransformRecord> rules;
  std::unordered_map<std::string, size_t> by_rule;
  {
    Statement query = impl_->prepare(
        "SELECT id, name, rule_json, origin, candidate_id, created_at FROM transforms "
        "ORDER BY id",
        "listing transform rules");
    while (query.step()) {
      by_rule[query.text(2)] = rules.size();
      rules.push_back({query.integer(0), query.text(1), query.text(2), query.text(3),
                       query.optional_integer(4), query.text(5)});
    }
  }
  // Outcomes, every campaign and task: a win beat its parent's speedup with
  // its interval's lower bound; evaluated but not better, refused or failed is
  // a loss; pending candidates are not counted yet.
  Statement query = impl_->prepare(
      "SELECT json_extract(c.edit_json, '$.text'), c.status = ?1 AND c.ci_low > "
      "coalesce(p.speedup, 1.0) FROM candidates c LEFT JOIN candidates p ON p.id = c.parent_id "
      "WHERE json_extract(c.edit_json, '$.kind') = 'transform' AND c.status <> ?2",
      "counting transform outcomes");
  query.bind_int(1, static_cast<int>(CandidateStatus::evaluated))
      .bind_int(2, static_cast<int>(CandidateStatus::pending));
  while (query.step()) {
    auto it = by_rule.find(canonical_rule_json(query.text(0)));
    if (it == by_rule.end()) continue;
    (query.integer(1) ? rules[it->second].wins : rules[it->second].losses) += 1;
  }
  return rules;
}

int64_t Database::adopt_transform_edits() {
  std::unordered_map<std::string, bool> known;
  for (const auto& rule : transforms()) known[rule.rule_json] = true;
  std::vector<TransformRecord> found;
  {
    Statement query = impl_->prepare(
        "SELECT id, proposer, json_extract(edit_json, '$.text') FROM candidates "
        "WHERE json_extract(edit_json, '$.kind') = 'transform' ORDER BY id",
        "looking for transform rules in edits");
    while (query.step()) {
      std::string canonical = canonical_rule_json(query.text(2));
      if (canonical.empty() || known.count(canonical)) continue;
      nlohmann::json rule = nlohmann::json::parse(canonical);
      if (!rule.is_object() || !rule.contains("match") || !rule.value("name", nlohmann::json()).is_string()) {
        continue;
      }
      known[canonical] = true;
      found.push_back({0, rule["name"].get<std::string>(), canonical,
                       query.text(1) == "llm" ? "llm" : "user", query.integer(0)});
    }
  }
  for (auto& rule : found) add_transform(rule);
  return static_cast<int64_t>(found.size());
}

// ---- small campaign state in meta (no schema change) -------------------------

void Database::set_meta(const std::string& key, const std::string& value) {
  impl_->prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", "writing meta")
      .bind_text(1, key)
      .bind_text(2, value)
      .run();
}

std::optional<std::string> Database::meta(const std::string& key) const {
  Statement query = impl_->prepare("SELECT value FROM meta WHERE key = ?1", "reading meta");
  query.bind_text(1, key);
  if (!query.step()) return std::nullopt;
  return query.text(0);
}

void Database::for_each_candidate(int64_t campaign_id,
                                  const std::function<void(CandidateRecord&&)>& visit) const {
  Statement query = impl_->prepare(
      "SELECT " RATCHET_CANDIDATE_COLUMNS " FROM candidates c WHERE c.campaign_id = ?1 "
      "ORDER BY c.id",
      "streaming candidates");
  query.bind_int(1, campaign_id);
  BlobCache blobs;  // candidates of one task share most of their files
  while (query.step()) visit(impl_->read_candidate(query, blobs));
}

#undef RATCHET_SQL_NOW
#undef RATCHET_CAMPAIGN_COLUMNS
#undef RATCHET_CANDIDATE_COLUMNS

}  // namespace ratchet
