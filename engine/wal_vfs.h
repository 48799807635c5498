// A SQLite VFS that writes each transaction's WAL frames in one system call.
#pragma once

namespace ratchet {

// The name of a VFS, registered on first call (never as the default), for
// sqlite3_open_v2. It is the platform's default VFS in every respect but one:
// the frames that a write transaction appends to its WAL file, a 24-byte
// header and a page each, reach the file in one write (one per 124 KiB) when
// the transaction commits, instead of in two writes per page as they are
// made. The bytes, the offsets, the locks and the syncs are the default VFS's
// own; only the number of writes changes (a candidate's two transactions:
// about 20 pwrite calls down to 2). Thread-safe.
const char* wal_coalescing_vfs();

// How many times, in this process, gathered bytes were written late: at the
// wal-index barrier rather than with their commit frame (wal_vfs.cc says why
// that should never happen). For tests.
long long wal_vfs_late_writes();

}  // namespace ratchet
