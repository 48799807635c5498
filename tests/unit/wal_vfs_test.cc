#include "engine/wal_vfs.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/files.h"

namespace ratchet {
namespace {

// A raw connection on `vfs` (null: SQLite's default VFS, as another process
// or tool would open the file).
class Connection {
 public:
  Connection(const std::filesystem::path& path, const char* vfs) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, vfs) != SQLITE_OK) FAIL("cannot open " << path);
    exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  }
  ~Connection() { sqlite3_close_v2(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const std::string& sql) {
    int rc = try_exec(sql);
    if (rc != SQLITE_OK) FAIL(sql << ": " << sqlite3_errmsg(db_));
  }
  int try_exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      FAIL(sql << ": " << sqlite3_errmsg(db_));
    }
    std::string value = "<no row>";
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      auto column = sqlite3_column_text(stmt, 0);
      value = column ? reinterpret_cast<const char*>(column) : "NULL";
    }
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Rows of different sizes: one row can span several pages (overflow pages),
// so a transaction appends from one to about a dozen frames.
std::string insert_row(int i) {
  return "INSERT INTO t (id, body) VALUES (" + std::to_string(i) + ", randomblob(" +
         std::to_string(200 + (i * 3517) % 12000) + "))";
}

// What the reader must see after rows 1..n were committed.
std::string expected_sum(int n) {
  long long sum = 0;
  for (int i = 1; i <= n; ++i) sum += 200 + (i * 3517) % 12000;
  return std::to_string(n) + " " + std::to_string(sum);
}

// A database with table t, a writer on the VFS under test and a reader on
// the default VFS.
struct Files {
  explicit Files(const char* writer_pragmas = "")
      : dir("ratchet-wal-vfs-"),
        writer(dir.path() / "t.db", wal_coalescing_vfs()),
        reader(dir.path() / "t.db", nullptr) {
    writer.exec(writer_pragmas);
    writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  }
  // What the reader sees: "rows total-bytes", as expected_sum() writes it.
  std::string seen() {
    return reader.text("SELECT count(*) || ' ' || sum(length(body)) FROM t");
  }

  TempDir dir;
  Connection writer;
  Connection reader;
};

long long write_syscalls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  long long value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  FAIL("no syscw in /proc/self/io");
  return 0;
}

TEST_CASE("each commit is on disk before any reader can see it, in one write") {
  Files files;
  Connection& writer = files.writer;
  long long late = wal_vfs_late_writes();

  constexpr int kCommits = 300;
  long long writes_before = write_syscalls();
  for (int i = 1; i <= kCommits; ++i) {
    writer.exec(insert_row(i));
    if (i % 10 == 0) writer.exec("UPDATE t SET body = randomblob(length(body)) WHERE id = " +
                                 std::to_string(i / 2));
    // The default VFS reads the WAL with its own file descriptor: a frame
    // still in the writer's memory would read as missing or stale here.
    REQUIRE(files.seen() == expected_sum(i));
  }
  long long writes = write_syscalls() - writes_before;
  // 330 commits of 1-12 frames: the default VFS makes two writes per frame
  // (about 2,700 here); checkpoints write pages to the database file too.
  CHECK(writes < 330 + 700);
  CHECK(files.reader.text("PRAGMA integrity_check") == "ok");
  CHECK(wal_vfs_late_writes() == late);
}

TEST_CASE("a transaction larger than the page cache commits, rolls back and rewrites frames") {
  // A 20-page cache: the transactions below spill pages into the WAL before
  // they commit, read them back, and write some of them again.
  Files files("PRAGMA cache_size = 20; PRAGMA wal_autocheckpoint = 0");
  Connection& writer = files.writer;
  long long late = wal_vfs_late_writes();

  writer.exec("BEGIN");
  for (int i = 1; i <= 400; ++i) writer.exec(insert_row(i));  // about 2.4 MB: over 1 MiB gathered
  writer.exec("UPDATE t SET body = randomblob(length(body)) WHERE id % 7 = 0");
  writer.exec("COMMIT");
  CHECK(files.seen() == expected_sum(400));

  writer.exec("BEGIN");
  for (int i = 401; i <= 600; ++i) writer.exec(insert_row(i));
  writer.exec("DELETE FROM t WHERE id <= 100");
  writer.exec("ROLLBACK");
  CHECK(files.seen() == expected_sum(400));

  writer.exec(insert_row(401));
  CHECK(files.seen() == expected_sum(401));
  CHECK(files.reader.text("PRAGMA integrity_check") == "ok");
  writer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  CHECK(files.seen() == expected_sum(401));
  CHECK(wal_vfs_late_writes() == late);
}

// Lowers the process's file size limit for its lifetime (a write past it
// fails with EFBIG, as on a full disk), with SIGXFSZ ignored.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit lower = saved_;
    lower.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lower);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  sighandler_t old_handler_ = nullptr;
};

TEST_CASE("a failed WAL write fails the commit and publishes nothing") {
  Files files("PRAGMA wal_autocheckpoint = 0");
  Connection& writer = files.writer;
  for (int i = 1; i <= 3; ++i) writer.exec(insert_row(i));
  REQUIRE(files.seen() == expected_sum(3));
  long long late = wal_vfs_late_writes();

  auto wal_size = std::filesystem::file_size(files.dir.path() / "t.db-wal");
  {
    // Room for two more frames: the transaction's one write is cut short.
    FileSizeLimit limit(wal_size + 2 * (24 + 4096));
    writer.exec("BEGIN");
    for (int i = 4; i <= 40; ++i) writer.exec(insert_row(i));
    int rc = writer.try_exec("COMMIT");
    CHECK((rc & 0xff) != SQLITE_OK);
    INFO("COMMIT returned " << rc << " (" << sqlite3_errstr(rc) << ")");
    CHECK(((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR));
    writer.try_exec("ROLLBACK");
  }
  // The reader keeps its wal-index: it would see a published header.
  CHECK(files.seen() == expected_sum(3));
  CHECK(files.reader.text("PRAGMA integrity_check") == "ok");

  // The file goes on working once there is room again.
  writer.exec(insert_row(4));
  CHECK(files.seen() == expected_sum(4));
  CHECK(wal_vfs_late_writes() == late);
}

}  // namespace
}  // namespace ratchet
