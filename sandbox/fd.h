// A move-only file descriptor and a pipe, shared by the sandbox's parts.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "common/result.h"

namespace ratchet::sandbox {

inline std::string error_text(int error) {
  // strerrordesc_np is thread-safe, unlike strerror.
  const char* text = strerrordesc_np(error);
  return text ? text : "error " + std::to_string(error);
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // close() errors are not actionable: on Linux the descriptor is released
  // even when close reports EINTR or EIO.
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// Both ends close-on-exec so that a concurrent run's child never keeps our
// pipe open past its own execve; the read end is non-blocking for poll()
// unless `blocking_read`.
inline ratchet::Result<Pipe> make_pipe(bool blocking_read = false) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return ratchet::fail("cannot create a pipe: " + error_text(errno));
  Pipe pipe{Fd(fds[0]), Fd(fds[1])};
  if (blocking_read) return pipe;
  int flags = fcntl(pipe.read.get(), F_GETFL);
  if (flags < 0 || fcntl(pipe.read.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return ratchet::fail("cannot make a pipe non-blocking: " + error_text(errno));
  }
  return pipe;
}

}  // namespace ratchet::sandbox
