// Why the gathered WAL writes are safe.
//
// SQLite commits a write transaction in WAL mode like this (wal.c,
// walFrames), with the WAL write lock held throughout:
//
//   1. append the frames to the WAL file: for each page, a 24-byte frame
//      header, then the page. The last frame's header carries the database's
//      size after the commit (nonzero): it is the commit frame;
//   2. (synchronous = FULL only) sync the WAL file;
//   3. add the frames to the wal-index (shared memory, no file operation);
//   4. publish the new wal-index header: write its second copy, call
//      xShmBarrier, write its first copy. A reader trusts the header only
//      when both copies agree, so no reader, in this process or another, can
//      see the commit before the barrier.
//
// This VFS gathers the bytes of step 1 in memory, from the moment the
// connection takes the write lock, and writes them with one pwrite as soon as
// the page of the commit frame arrives: that write's result is the result of
// the commit frame's write, so a failure (disk full, I/O error) fails the
// commit before anything is published, exactly as a failed frame write does
// in the default VFS. The gathered bytes are also written, before the
// operation, whenever SQLite could observe the file: a read (a page spilled
// earlier in the transaction, or the checksum pass after a rewritten frame),
// a sync, a truncation, a size query, a file control, a close; and before a
// write that does not continue them (SQLite rewriting a page it spilled
// earlier in the transaction), which starts a new gathering. The commit frame
// is always SQLite's last append, so it ends the last gathering. More than
// 1 MiB gathered (a transaction spilling its page cache) is written too.
// After the commit frame, writes go straight to the file (the checksum pass
// over rewritten frames, the padding of synchronous = FULL).
//
// The release of the write lock writes what a rolled-back transaction left
// gathered (frames it spilled; no reader will look at them, but the default
// VFS would have written them, so this VFS does too). xShmBarrier writes
// anything still gathered and counts it in wal_vfs_late_writes(): in SQLite's
// write path nothing is left at that point (tests check the count stays
// zero). It only keeps writes ahead of publication should a future SQLite
// write frames in a pattern this file does not expect; it cannot report an
// error, which is why the commit frame, not the barrier, is the point of
// writing.
//
// Worked example, one candidate's insert (8 pages): the default VFS makes 16
// pwrite calls of 24 and 4,096 bytes at consecutive offsets; this VFS makes
// one of 32,960 bytes at the first offset.
#include "engine/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <mutex>
#include <new>
#include <string>

namespace ratchet {
namespace {

constexpr int kFrameHeaderBytes = 24;
constexpr size_t kMaxGathered = 1 << 20;
constexpr size_t kMaxWrite = 124 * 1024;
constexpr size_t kKeptCapacity = 256 * 1024;
constexpr int kWriteLock = 0;  // wal.c WAL_WRITE_LOCK: the first shm lock slot

std::atomic<long long> late_writes{0};

sqlite3_vfs* real_vfs = nullptr;  // set once, before registration

// Our sqlite3_file: SQLite allocates szOsFile bytes, this struct first, then
// the real VFS's file.
struct File {
  sqlite3_file base;  // must stay first: SQLite sees a sqlite3_file*
  sqlite3_file* real;
  File* wal = nullptr;   // a main database file: its connection's WAL file
  File* main = nullptr;  // a WAL file: its connection's main database file
  bool is_wal = false;
  // WAL files only.
  bool gathering = false;         // the write lock is held and no commit frame written yet
  bool commit_frame_open = false; // the commit frame's header is gathered, its page not yet
  sqlite3_int64 gathered_at = 0;  // file offset of gathered[0]
  std::string gathered;
};

File* as_file(sqlite3_file* file) { return reinterpret_cast<File*>(file); }

// Writes what is gathered at its offset. The unix VFS's xWrite takes at most
// 128 KiB - 1 bytes per call (os_unix.c masks the count with 0x1ffff), so a
// large transaction takes one call per 124 KiB.
int write_gathered(File& file) {
  int rc = SQLITE_OK;
  for (size_t done = 0; done < file.gathered.size() && rc == SQLITE_OK; done += kMaxWrite) {
    size_t amount = std::min(kMaxWrite, file.gathered.size() - done);
    rc = file.real->pMethods->xWrite(file.real, file.gathered.data() + done,
                                     static_cast<int>(amount),
                                     file.gathered_at + static_cast<sqlite3_int64>(done));
  }
  file.gathered.clear();
  // A spilling transaction's megabyte is not kept for the next small ones.
  if (file.gathered.capacity() > kKeptCapacity) std::string().swap(file.gathered);
  file.commit_frame_open = false;
  return rc;
}

// Runs before an operation that could observe the WAL file.
int write_gathered_if_wal(File& file) { return file.is_wal ? write_gathered(file) : SQLITE_OK; }

void write_late(File& file) {
  if (file.gathered.empty()) return;
  late_writes.fetch_add(1, std::memory_order_relaxed);
  write_gathered(file);  // nowhere to report an error: see the essay above
}

// ---- file methods ----------------------------------------------------------

int file_close(sqlite3_file* base) {
  File& file = *as_file(base);
  int rc = write_gathered_if_wal(file);
  if (file.main) file.main->wal = nullptr;
  if (file.wal) file.wal->main = nullptr;
  int close_rc = file.real->pMethods ? file.real->pMethods->xClose(file.real) : SQLITE_OK;
  file.~File();
  return rc != SQLITE_OK ? rc : close_rc;
}

int file_read(sqlite3_file* base, void* buffer, int amount, sqlite3_int64 offset) {
  File& file = *as_file(base);
  if (int rc = write_gathered_if_wal(file); rc != SQLITE_OK) return rc;
  return file.real->pMethods->xRead(file.real, buffer, amount, offset);
}

int file_write(sqlite3_file* base, const void* buffer, int amount, sqlite3_int64 offset) {
  File& file = *as_file(base);
  if (!file.is_wal || !file.gathering) {
    return file.real->pMethods->xWrite(file.real, buffer, amount, offset);
  }
  if (!file.gathered.empty() &&
      offset != file.gathered_at + static_cast<sqlite3_int64>(file.gathered.size())) {
    // Not a continuation (SQLite rewrites a page it spilled earlier in this
    // transaction, or appends after one): write what is gathered, gather anew.
    if (int rc = write_gathered(file); rc != SQLITE_OK) return rc;
  }
  if (file.gathered.empty()) file.gathered_at = offset;
  bool completes_commit = file.commit_frame_open;
  try {
    file.gathered.append(static_cast<const char*>(buffer), static_cast<size_t>(amount));
  } catch (const std::bad_alloc&) {  // never through SQLite's C frames
    if (int rc = write_gathered(file); rc != SQLITE_OK) return rc;
    file.gathering = false;
    return file.real->pMethods->xWrite(file.real, buffer, amount, offset);
  }
  if (amount == kFrameHeaderBytes) {
    const auto* header = static_cast<const unsigned char*>(buffer);
    // Bytes 4-7: the database size in pages after a commit, zero otherwise.
    file.commit_frame_open = (header[4] | header[5] | header[6] | header[7]) != 0;
  }
  if (completes_commit) {
    file.gathering = false;
    return write_gathered(file);
  }
  // Never between a commit frame's header and its page: the page's arrival is
  // the point of writing.
  if (file.gathered.size() > kMaxGathered && !file.commit_frame_open) return write_gathered(file);
  return SQLITE_OK;
}

int file_truncate(sqlite3_file* base, sqlite3_int64 size) {
  File& file = *as_file(base);
  if (int rc = write_gathered_if_wal(file); rc != SQLITE_OK) return rc;
  return file.real->pMethods->xTruncate(file.real, size);
}

int file_sync(sqlite3_file* base, int flags) {
  File& file = *as_file(base);
  if (int rc = write_gathered_if_wal(file); rc != SQLITE_OK) return rc;
  return file.real->pMethods->xSync(file.real, flags);
}

int file_size(sqlite3_file* base, sqlite3_int64* size) {
  File& file = *as_file(base);
  if (int rc = write_gathered_if_wal(file); rc != SQLITE_OK) return rc;
  return file.real->pMethods->xFileSize(file.real, size);
}

int file_lock(sqlite3_file* base, int level) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xLock(real, level);
}

int file_unlock(sqlite3_file* base, int level) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xUnlock(real, level);
}

int file_check_reserved_lock(sqlite3_file* base, int* reserved) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xCheckReservedLock(real, reserved);
}

int file_control(sqlite3_file* base, int op, void* argument) {
  File& file = *as_file(base);
  if (int rc = write_gathered_if_wal(file); rc != SQLITE_OK) return rc;
  return file.real->pMethods->xFileControl(file.real, op, argument);
}

int file_sector_size(sqlite3_file* base) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xSectorSize(real);
}

int file_device_characteristics(sqlite3_file* base) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xDeviceCharacteristics(real);
}

// The shared-memory methods are called on the main database file; the WAL
// file they concern is its connection's.
int file_shm_map(sqlite3_file* base, int region, int size, int extend, void volatile** memory) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xShmMap(real, region, size, extend, memory);
}

int file_shm_lock(sqlite3_file* base, int offset, int count, int flags) {
  File& file = *as_file(base);
  bool write_lock = offset <= kWriteLock && kWriteLock < offset + count &&
                    (flags & SQLITE_SHM_EXCLUSIVE) != 0;
  if (write_lock && (flags & SQLITE_SHM_UNLOCK) != 0 && file.wal) {
    write_gathered(*file.wal);  // a rolled-back transaction's frames: nobody reads them
    file.wal->gathering = false;
  }
  int rc = file.real->pMethods->xShmLock(file.real, offset, count, flags);
  if (write_lock && (flags & SQLITE_SHM_LOCK) != 0 && rc == SQLITE_OK && file.wal) {
    file.wal->gathering = true;
  }
  return rc;
}

void file_shm_barrier(sqlite3_file* base) {
  File& file = *as_file(base);
  if (file.wal) write_late(*file.wal);
  file.real->pMethods->xShmBarrier(file.real);
}

int file_shm_unmap(sqlite3_file* base, int delete_flag) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xShmUnmap(real, delete_flag);
}

int file_fetch(sqlite3_file* base, sqlite3_int64 offset, int amount, void** pointer) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xFetch(real, offset, amount, pointer);
}

int file_unfetch(sqlite3_file* base, sqlite3_int64 offset, void* pointer) {
  sqlite3_file* real = as_file(base)->real;
  return real->pMethods->xUnfetch(real, offset, pointer);
}

// Our methods at each version (1: files only, 2: shared memory, 3: memory-
// mapped reads): a file gets the real file's version, so that SQLite never
// calls a method the real file lacks.
constexpr sqlite3_io_methods methods_at(int version) {
  return {version,
          file_close,
          file_read,
          file_write,
          file_truncate,
          file_sync,
          file_size,
          file_lock,
          file_unlock,
          file_check_reserved_lock,
          file_control,
          file_sector_size,
          file_device_characteristics,
          file_shm_map,
          file_shm_lock,
          file_shm_barrier,
          file_shm_unmap,
          file_fetch,
          file_unfetch};
}
const sqlite3_io_methods kMethods[3] = {methods_at(1), methods_at(2), methods_at(3)};

bool is_ours(const sqlite3_file* file) {
  return std::any_of(std::begin(kMethods), std::end(kMethods),
                     [&](const sqlite3_io_methods& methods) { return file->pMethods == &methods; });
}

// ---- the VFS ---------------------------------------------------------------

int vfs_open(sqlite3_vfs*, const char* name, sqlite3_file* base, int flags, int* out_flags) {
  auto* file = new (base) File;
  file->base.pMethods = nullptr;  // until the real file is open: then SQLite calls xClose
  file->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(base) + sizeof(File));
  file->real->pMethods = nullptr;
  int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
  if (file->real->pMethods == nullptr) {
    file->~File();
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  file->base.pMethods = &kMethods[std::clamp(file->real->pMethods->iVersion, 1, 3) - 1];
  if (rc != SQLITE_OK) return rc;  // SQLite still calls xClose
  if ((flags & SQLITE_OPEN_WAL) != 0 && name != nullptr) {
    file->is_wal = true;
    sqlite3_file* main = sqlite3_database_file_object(name);
    if (main != nullptr && is_ours(main)) {
      file->main = as_file(main);
      file->main->wal = file;
    }
  }
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int vfs_access(sqlite3_vfs*, const char* name, int flags, int* result) {
  return real_vfs->xAccess(real_vfs, name, flags, result);
}
int vfs_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, size, out);
}
void* vfs_dl_open(sqlite3_vfs*, const char* name) { return real_vfs->xDlOpen(real_vfs, name); }
void vfs_dl_error(sqlite3_vfs*, int size, char* message) {
  real_vfs->xDlError(real_vfs, size, message);
}
void (*vfs_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return real_vfs->xDlSym(real_vfs, handle, symbol);
}
void vfs_dl_close(sqlite3_vfs*, void* handle) { real_vfs->xDlClose(real_vfs, handle); }
int vfs_randomness(sqlite3_vfs*, int size, char* out) {
  return real_vfs->xRandomness(real_vfs, size, out);
}
int vfs_sleep(sqlite3_vfs*, int microseconds) { return real_vfs->xSleep(real_vfs, microseconds); }
int vfs_current_time(sqlite3_vfs*, double* now) { return real_vfs->xCurrentTime(real_vfs, now); }
int vfs_get_last_error(sqlite3_vfs*, int size, char* message) {
  return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, size, message) : 0;
}
int vfs_current_time_int64(sqlite3_vfs*, sqlite3_int64* now) {
  return real_vfs->xCurrentTimeInt64(real_vfs, now);
}

sqlite3_vfs make_vfs() {
  sqlite3_vfs vfs{};
  vfs.iVersion = 2;  // no system-call overrides: those belong to the real VFS
  vfs.szOsFile = static_cast<int>(sizeof(File)) + real_vfs->szOsFile;
  vfs.mxPathname = real_vfs->mxPathname;
  vfs.zName = "ratchet-wal-coalescing";
  vfs.xOpen = vfs_open;
  vfs.xDelete = vfs_delete;
  vfs.xAccess = vfs_access;
  vfs.xFullPathname = vfs_full_pathname;
  vfs.xDlOpen = vfs_dl_open;
  vfs.xDlError = vfs_dl_error;
  vfs.xDlSym = vfs_dl_sym;
  vfs.xDlClose = vfs_dl_close;
  vfs.xRandomness = vfs_randomness;
  vfs.xSleep = vfs_sleep;
  vfs.xCurrentTime = vfs_current_time;
  vfs.xGetLastError = vfs_get_last_error;
  vfs.xCurrentTimeInt64 = vfs_current_time_int64;
  return vfs;
}

}  // namespace

const char* wal_coalescing_vfs() {
  static sqlite3_vfs vfs;
  static std::once_flag registered;
  std::call_once(registered, [] {
    real_vfs = sqlite3_vfs_find(nullptr);
    vfs = make_vfs();
    sqlite3_vfs_register(&vfs, 0);
  });
  return vfs.zName;
}

long long wal_vfs_late_writes() { return late_writes.load(std::memory_order_relaxed); }

}  // namespace ratchet
