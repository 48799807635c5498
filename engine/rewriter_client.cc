#include "engine/rewriter_client.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "rewriters/worker_protocol.h"

namespace ratchet {

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int error) { return std::strerror(error); }

// The worker's whole environment: no API key, no proxy, nothing of the user's
// but where temporary files go and the sanitizers' settings.
std::vector<std::string> worker_environment() {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  for (const char* name : {"TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  }
  return env;
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

enum class Io { ok, closed, timed_out };

// Waits until `fd` is ready for `events` or the deadline passes.
Io wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Io::timed_out;
    if (n < 0) return Io::closed;
    return Io::ok;  // readable, writable, or hung up (the read/send says which)
  }
}

Io send_all(int fd, const std::string& bytes, Clock::time_point deadline) {
  size_t done = 0;
  while (done < bytes.size()) {
    if (Io io = wait_for(fd, POLLOUT, deadline); io != Io::ok) return io;
    ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Io::closed;
    done += static_cast<size_t>(n);
  }
  return Io::ok;
}

Io receive_exactly(int fd, char* out, size_t size, Clock::time_point deadline) {
  size_t done = 0;
  while (done < size) {
    if (Io io = wait_for(fd, POLLIN, deadline); io != Io::ok) return io;
    ssize_t n = recv(fd, out + done, size - done, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Io::closed;
    done += static_cast<size_t>(n);
  }
  return Io::ok;
}

// "crashed (signal 11, Segmentation fault)", "exited with status 3".
std::string how_it_ended(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    bool crash = sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
                 sig == SIGABRT || sig == SIGTRAP || sig == SIGSYS;
    return fmt::format("{} (signal {}, {})", crash ? "crashed" : "was killed", sig,
                       strsignal(sig));
  }
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return "ended";
}

std::mutex& global_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::unique_ptr<RewriterClient>& global_client() {
  static std::unique_ptr<RewriterClient> client;
  return client;
}

}  // namespace

std::filesystem::path rewriter_executable() {
  if (const char* path = std::getenv("RATCHET_REWRITER"); path && *path) return path;
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  std::filesystem::path beside = self.parent_path() / "ratchet-rewriter";
  if (!error && std::filesystem::exists(beside)) return beside;
#ifdef RATCHET_REWRITER_BUILD_PATH
  if (std::filesystem::exists(RATCHET_REWRITER_BUILD_PATH)) return RATCHET_REWRITER_BUILD_PATH;
#endif
  return beside;
}

RewriterClient::RewriterClient(RewriterOptions options) : options_(std::move(options)) {
  if (options_.executable.empty()) options_.executable = rewriter_executable();
}

RewriterClient::~RewriterClient() {
  std::lock_guard lock(mutex_);
  stop(false);
}

pid_t RewriterClient::pid() const {
  std::lock_guard lock(mutex_);
  return pid_;
}

int RewriterClient::starts() const {
  std::lock_guard lock(mutex_);
  return starts_;
}

int RewriterClient::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

Status RewriterClient::start() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    return fail("cannot start the rewriter: socketpair: " + errno_text(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pair[1], 0);  // dup2 clears close-on-exec
  posix_spawn_file_actions_adddup2(&actions, 2, 1);        // stray output goes to stderr
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setpgroup(&attributes, 0);  // the terminal's Ctrl-C is the controller's
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = {options_.executable.string()};
  args.insert(args.end(), options_.arguments.begin(), options_.arguments.end());
  std::vector<std::string> env = worker_environment();
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int error = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(pair[1]);
  if (error != 0) {
    close(pair[0]);
    return fail(fmt::format("cannot start the rewriter {}: {}", args[0], errno_text(error)));
  }
  pid_ = pid;
  socket_ = pair[0];
  ++starts_;
  return Ok{};
}

bool RewriterClient::alive() {
  if (pid_ < 0) return false;
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == 0) return true;
  // Gone since the last request (killed, or reaped by someone else): forget it.
  close(socket_);
  socket_ = -1;
  pid_ = -1;
  return false;
}

std::string RewriterClient::stop(bool kill_first) {
  if (pid_ < 0) return "ended";
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
  if (kill_first) kill(pid_, SIGKILL);
  int status = 0;
  pid_t done = 0;
  // A worker whose socket closed exits at once; one that does not is killed.
  for (int i = 0; i < 200 && done == 0; ++i) {
    done = waitpid(pid_, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (done == 0) {
    kill(pid_, SIGKILL);
    while ((done = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {}
  }
  pid_ = -1;
  return done == pid_t(-1) ? "ended" : how_it_ended(status);
}

Result<nlohmann::json> RewriterClient::call(const std::string& op, const nlohmann::json& args,
                                            const std::string& what) {
  std::string request = encode_worker_message({{"op", op}, {"args", args}});
  std::lock_guard lock(mutex_);
  if (!alive()) {
    if (Status started = start(); !started) return fail(started.error());
  }
  ++requests_;
  return exchange(request, what.empty() ? "this request (" + op + ")" : what);
}

Result<nlohmann::json> RewriterClient::exchange(const std::string& request,
                                                const std::string& what) {
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(options_.timeout_seconds));
  auto broken = [&](Io io) -> Error {
    if (io == Io::timed_out) {
      stop(true);
      return fail(fmt::format("the rewriter timed out after {:g} s on {} (stopped; it is "
                              "restarted for the next request)", options_.timeout_seconds, what));
    }
    return fail(fmt::format("the rewriter {} on {}", stop(false), what));
  };
  if (Io io = send_all(socket_, request, deadline); io != Io::ok) return broken(io);
  unsigned char prefix[4];
  if (Io io = receive_exactly(socket_, reinterpret_cast<char*>(prefix), 4, deadline);
      io != Io::ok) {
    return broken(io);
  }
  auto malformed = [&](const std::string& detail) -> Error {
    stop(true);  // the stream is out of step: start afresh
    return fail(fmt::format("the rewriter's reply to {} is malformed ({}); the rewriter is "
                            "restarted", what, detail));
  };
  uint32_t length = worker_message_length(prefix);
  if (length > kMaxWorkerMessage) return malformed(fmt::format("a length of {} bytes", length));
  std::string bytes(length, '\0');
  if (Io io = receive_exactly(socket_, bytes.data(), length, deadline); io != Io::ok) {
    return broken(io);
  }
  auto reply = decode_worker_message(bytes);
  if (!reply) return malformed(reply.error());
  auto ok = reply->find("ok");
  if (ok == reply->end() || !ok->is_boolean()) return malformed("no 'ok'");
  if (!ok->get<bool>()) {
    auto error = reply->find("error");
    if (error == reply->end() || !error->is_string()) return malformed("no 'error'");
    return fail(error->get<std::string>());
  }
  auto value = reply->find("value");
  if (value == reply->end() || !value->is_object()) return malformed("no 'value'");
  return std::move(*value);
}

RewriterClient& rewriter_client() {
  std::lock_guard lock(global_mutex());
  auto& client = global_client();
  if (!client) client = std::make_unique<RewriterClient>();
  return *client;
}

void configure_rewriter_client(RewriterOptions options) {
  std::lock_guard lock(global_mutex());
  global_client() = std::make_unique<RewriterClient>(std::move(options));
}

}  // namespace ratchet
