#include "sandbox/mount_tree.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "sandbox/fd.h"

namespace ratchet::sandbox {
namespace {

namespace fs = std::filesystem;
using Kind = SystemOp::Kind;

// Mounted over /tmp in the child's own namespace: any directory would do, and
// /tmp exists everywhere. The host's /tmp is untouched.
constexpr const char* kNewRoot = "/tmp";
constexpr const char* kOldRoot = ".oldroot";
constexpr unsigned long kBindFlags = MS_NOSUID | MS_NODEV;

// Top-level host entries mirrored into the new root: symlinks are copied
// (merged-/usr systems), directories bound read-only.
constexpr const char* kTopLevel[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};
// The few /etc files that the loader, compilers and libc look at.
constexpr const char* kEtc[] = {"ld.so.cache", "alternatives", "passwd", "group", "localtime"};
struct Device {
  const char* name;
  const char* host;  // bound instead in rootless mode
  unsigned minor;
};
constexpr Device kDevices[] = {{"dev/null", "/dev/null", 3},
                               {"dev/zero", "/dev/zero", 5},
                               {"dev/full", "/dev/full", 7},
                               {"dev/random", "/dev/random", 8},
                               {"dev/urandom", "/dev/urandom", 9}};
constexpr const char* kDevLinks[][2] = {{"dev/fd", "/proc/self/fd"},
                                        {"dev/stdin", "/proc/self/fd/0"},
                                        {"dev/stdout", "/proc/self/fd/1"},
                                        {"dev/stderr", "/proc/self/fd/2"}};

struct SystemTree {
  std::vector<SystemOp> ops;
  std::deque<std::string> storage;

  const char* keep(std::string text) { return storage.emplace_back(std::move(text)).c_str(); }

  // A host entry at `relative` (from /), mirrored as a symlink or a bind.
  void mirror(const std::string& relative) {
    fs::path host = "/" + relative;
    std::error_code error;
    auto status = fs::symlink_status(host, error);
    if (error || !fs::exists(status)) return;
    const char* target = keep(relative);
    if (fs::is_symlink(status)) {
      ops.push_back({Kind::symlink, target, keep(fs::read_symlink(host, error).string())});
    } else if (fs::is_directory(status)) {
      ops.push_back({Kind::mkdir, target, nullptr});
      ops.push_back({Kind::bind, target, keep(host.string())});
    } else {
      ops.push_back({Kind::mknod, target, nullptr, 0});  // an empty file as mount point
      ops.push_back({Kind::bind, target, keep(host.string())});
    }
  }

  SystemTree() {
    for (const char* entry : kTopLevel) mirror(entry);
    ops.push_back({Kind::mkdir, "etc", nullptr});
    for (const char* entry : kEtc) mirror(std::string("etc/") + entry);
    ops.push_back({Kind::mkdir, "dev", nullptr});
    for (const auto& device : kDevices) {
      ops.push_back({Kind::mknod, device.name, device.host, makedev(1, device.minor)});
    }
    for (const auto& link : kDevLinks) ops.push_back({Kind::symlink, link[0], link[1]});
    ops.push_back({Kind::mkdir, "proc", nullptr});
    ops.push_back({Kind::proc, "proc", nullptr});
    ops.push_back({Kind::mkdir, "tmp", nullptr});
    ops.push_back({Kind::tmpfs, "tmp", "mode=1777,size=50%"});
    ops.push_back({Kind::mkdir, kOldRoot, nullptr});
  }
};

const SystemTree& system_tree() {
  static const SystemTree tree;
  return tree;
}

ratchet::Status check_path(const fs::path& path, const char* what) {
  struct stat info;
  if (lstat(path.c_str(), &info) < 0) {
    return ratchet::fail(std::string(what) + " '" + path.string() + "': " + error_text(errno));
  }
  if (S_ISLNK(info.st_mode)) {
    return ratchet::fail(std::string(what) + " '" + path.string() +
                         "' is a symbolic link; pass the path it points to");
  }
  return ratchet::Ok{};
}

// --- child side -----------------------------------------------------------

bool bind(const char* source, const char* target, bool writable) {
  if (mount(source, target, nullptr, MS_BIND | MS_REC, nullptr) < 0) return false;
  unsigned long flags = MS_BIND | MS_REMOUNT | kBindFlags | (writable ? 0 : MS_RDONLY);
  return mount(nullptr, target, nullptr, flags, nullptr) == 0;
}

bool apply_system_op(const SystemOp& op, bool rootless) {
  switch (op.kind) {
    case Kind::mkdir: return mkdir(op.target, 0755) == 0 || errno == EEXIST;
    case Kind::symlink: return symlink(op.source, op.target) == 0;
    case Kind::mknod:
      if (op.device && rootless) {
        // The host's node, read-write and without nodev (a plain bind keeps
        // the host mount's flags, which a user namespace may not clear).
        return mknod(op.target, S_IFREG | 0666, 0) == 0 &&
               mount(op.source, op.target, nullptr, MS_BIND, nullptr) == 0;
      }
      return mknod(op.target, op.device ? (S_IFCHR | 0666) : (S_IFREG | 0444), op.device) == 0;
    case Kind::bind: return bind(op.source, op.target, false);
    case Kind::proc:
      // hidepid: the candidate sees only its own processes, never the init.
      return mount("proc", op.target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") == 0;
    case Kind::tmpfs:
      return mount("tmpfs", op.target, "tmpfs", MS_NOSUID | MS_NODEV, op.source) == 0;
  }
  return false;
}

// mkdir -p of the parents of `path` (absolute, inside the new root).
bool make_parents(const char* path) {
  char buffer[PATH_MAX];
  size_t length = strnlen(path, sizeof buffer);
  if (length >= sizeof buffer) {
    errno = ENAMETOOLONG;
    return false;
  }
  memcpy(buffer, path, length + 1);
  for (size_t i = 1; i < length; ++i) {
    if (buffer[i] != '/') continue;
    buffer[i] = '\0';
    if (mkdir(buffer, 0755) < 0 && errno != EEXIST) return false;
    buffer[i] = '/';
  }
  return true;
}

bool make_mount_point(const char* path, bool directory) {
  if (!make_parents(path)) return false;
  if (directory) return mkdir(path, 0755) == 0 || errno == EEXIST;
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
  if (fd < 0) return errno == EISDIR;  // an existing mount point is fine
  close(fd);
  return true;
}

// "/proc/self/fd/N" without allocating.
void fd_path(int fd, char (&out)[32]) {
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0);
  const char prefix[] = "/proc/self/fd/";
  memcpy(out, prefix, sizeof prefix - 1);
  size_t at = sizeof prefix - 1;
  while (n > 0) out[at++] = digits[--n];
  out[at] = '\0';
}

bool bind_run_path(const RunPath& path, int fd) {
  struct stat info;
  if (fstat(fd, &info) < 0) return false;
  if (!make_mount_point(path.path, S_ISDIR(info.st_mode))) return false;
  char source[32];
  fd_path(fd, source);
  return bind(source, path.path, path.writable);
}

}  // namespace

ratchet::Result<MountPlan> plan_mounts(const fs::path& workdir,
                                       const std::vector<fs::path>& read_only,
                                       const std::vector<fs::path>& writable) {
  system_tree();  // built here, in the parent, never in a child
  std::vector<std::pair<std::string, bool>> paths{{workdir.string(), true}};
  for (const auto& [list, is_writable, what] :
       {std::tuple{&read_only, false, "read-only path"}, std::tuple{&writable, true, "writable path"}}) {
    for (const auto& path : *list) {
      fs::path absolute = fs::absolute(path).lexically_normal();
      if (auto status = check_path(absolute, what); !status) return Error{status.error()};
      std::string text = absolute.string();
      if (text.size() > 1 && text.back() == '/') text.pop_back();
      paths.emplace_back(text, is_writable);
    }
  }
  // Parents first, so that a child's bind is not hidden by its parent's.
  std::stable_sort(paths.begin(), paths.end(),
                   [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });
  MountPlan plan;
  for (const auto& [text, is_writable] : paths) {
    plan.paths.push_back({plan.storage.emplace_back(text).c_str(), is_writable});
  }
  plan.fds.assign(plan.paths.size(), -1);
  return plan;
}

int apply_mounts(MountPlan& plan, bool rootless) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return 1;
  for (size_t i = 0; i < plan.paths.size(); ++i) {
    plan.fds[i] = open(plan.paths[i].path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (plan.fds[i] < 0) return kPathStepBase + static_cast<int>(i);
  }
  // No MS_NODEV: the device nodes live in this tmpfs; it is read-only below.
  if (mount("tmpfs", kNewRoot, "tmpfs", MS_NOSUID, "mode=0755,size=1m") < 0) return 2;
  if (chdir(kNewRoot) < 0) return 3;
  const auto& ops = system_tree().ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!apply_system_op(ops[i], rootless)) return 100 + static_cast<int>(i);
  }
  if (syscall(SYS_pivot_root, ".", kOldRoot) < 0) return 4;
  if (chdir("/") < 0) return 5;
  for (size_t i = 0; i < plan.paths.size(); ++i) {
    if (!bind_run_path(plan.paths[i], plan.fds[i])) return kPathStepBase + static_cast<int>(i);
  }
  if (umount2(kOldRoot, MNT_DETACH) < 0) return 6;
  if (rmdir(kOldRoot) < 0) return 7;
  if (mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, nullptr) < 0) {
    return 8;
  }
  return 0;
}

}  // namespace ratchet::sandbox
