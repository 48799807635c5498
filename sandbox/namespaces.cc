#include "sandbox/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "sandbox/fd.h"

namespace ratchet::sandbox {
namespace {

bool write_proc_file(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd.valid() && write(fd.get(), text.data(), text.size()) == ssize_t(text.size());
}

}  // namespace

int namespace_clone_flags(bool keep_network) {
  int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  return keep_network ? flags : flags | CLONE_NEWNET;
}

pid_t clone_into_namespaces(int flags) {
  // The raw call: glibc's clone() wants a new stack, and fork() cannot take
  // namespace flags. The child continues on a copy of this stack, like fork.
  return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

ratchet::Status write_id_maps(pid_t pid, bool rootless) {
  uid_t outer_uid = rootless ? geteuid() : kSandboxUid;
  gid_t outer_gid = rootless ? getegid() : kSandboxGid;
  std::string uid_line = std::to_string(kSandboxUid) + " " + std::to_string(outer_uid) + " 1\n";
  std::string gid_line = std::to_string(kSandboxGid) + " " + std::to_string(outer_gid) + " 1\n";
  if (rootless && !write_proc_file(pid, "setgroups", "deny")) {
    return ratchet::fail("cannot deny setgroups in the user namespace: " + error_text(errno));
  }
  if (!write_proc_file(pid, "uid_map", uid_line) || !write_proc_file(pid, "gid_map", gid_line)) {
    return ratchet::fail("cannot write the user namespace's id maps: " + error_text(errno));
  }
  return ratchet::Ok{};
}

ratchet::Status give_workdir(const std::filesystem::path& workdir) {
  Fd dir(open(workdir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat info;
  if (!dir.valid() || fstat(dir.get(), &info) < 0) {
    return ratchet::fail("cannot open workdir '" + workdir.string() + "': " + error_text(errno));
  }
  if (info.st_uid == kSandboxUid && info.st_gid == kSandboxGid) return ratchet::Ok{};
  if (fchown(dir.get(), kSandboxUid, kSandboxGid) < 0) {
    return ratchet::fail("cannot hand workdir '" + workdir.string() +
                         "' to the sandbox uid: " + error_text(errno));
  }
  return ratchet::Ok{};
}

}  // namespace ratchet::sandbox
