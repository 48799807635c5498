#include <dirent.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/files.h"
#include "sandbox/result_json.h"
#include "sandbox/sandbox.h"

namespace {

namespace fs = std::filesystem;
using ratchet::TempDir;
using ratchet::sandbox::Result;
using ratchet::sandbox::Spec;
using ratchet::sandbox::Termination;

Spec make_spec(const TempDir& dir, std::vector<std::string> argv) {
  Spec spec;
  spec.argv = std::move(argv);
  spec.workdir = dir.path();
  spec.limits.wall_ms = 10'000;
  return spec;
}

Result run_sh(const TempDir& dir, const std::string& script) {
  return ratchet::sandbox::run(make_spec(dir, {"sh", "-c", script}));
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Pids of live processes whose command line contains `marker` (zombies have
// an empty cmdline and do not count).
std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  REQUIRE(proc != nullptr);
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == getpid()) continue;
    std::string cmdline = slurp(fs::path("/proc") / entry->d_name / "cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(marker) != std::string::npos) found.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return found;
}

bool process_gone(pid_t pid) { return kill(pid, 0) < 0 && errno == ESRCH; }

const ratchet::sandbox::Counter* find_counter(const Result& result, const std::string& name) {
  for (const auto& counter : result.counters) {
    if (counter.name == name) return &counter;
  }
  return nullptr;
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// What this kernel says about counting a hardware event on this process:
// true when it can (a PMU), false when it has no such event here.
bool kernel_counts(uint64_t hardware_event) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = hardware_event;
  attr.disabled = 1;
  attr.exclude_hv = 1;
  int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd >= 0) {
    close(fd);
    return true;
  }
  INFO("perf_event_open: " << std::strerror(errno));
  REQUIRE((errno == ENOENT || errno == EOPNOTSUPP || errno == ENODEV));
  return false;
}

using ratchet::sandbox::Isolation;

}  // namespace

TEST_CASE("sandbox: exit code is captured", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Result three = run_sh(dir, "exit 3");
  CHECK(three.termination == Termination::ok);
  CHECK(three.exit_code == 3);
  CHECK_FALSE(three.exited_ok());
  CHECK(three.describe() == "exit 3");
  CHECK(three.isolation == "full");

  Result zero = ratchet::sandbox::run(make_spec(dir, {"true"}));
  CHECK(zero.exited_ok());
  CHECK(zero.describe() == "exit 0");
}

TEST_CASE("sandbox: stdout and stderr are captured separately", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Result result = run_sh(dir, "echo out; echo err >&2; echo more-out");
  REQUIRE(result.exited_ok());
  CHECK(result.stdout_text == "out\nmore-out\n");
  CHECK(result.stderr_text == "err\n");
  CHECK_FALSE(result.stdout_truncated);
  CHECK_FALSE(result.stderr_truncated);
}

TEST_CASE("sandbox: stdin comes from the given file, else /dev/null", "[sandbox]") {
  TempDir dir("sandbox-test-");
  REQUIRE(ratchet::write_file(dir.path() / "input.txt", "hello\nworld\n").ok());
  Spec spec = make_spec(dir, {"cat"});
  spec.stdin_file = dir.path() / "input.txt";
  Result with_file = ratchet::sandbox::run(spec);
  REQUIRE(with_file.exited_ok());
  CHECK(with_file.stdout_text == "hello\nworld\n");

  Result without = ratchet::sandbox::run(make_spec(dir, {"cat"}));
  REQUIRE(without.exited_ok());
  CHECK(without.stdout_text.empty());

  spec.stdin_file = dir.path() / "missing.txt";
  Result missing = ratchet::sandbox::run(spec);
  CHECK(missing.termination == Termination::setup_error);
  CHECK(missing.setup_error.find("missing.txt") != std::string::npos);
}

TEST_CASE("sandbox: environment is scrubbed, HOME is the workdir, extras are added",
          "[sandbox]") {
  TempDir dir("sandbox-test-");
  REQUIRE(setenv("RATCHET_TEST_SECRET", "hunter2", 1) == 0);
  Spec spec = make_spec(dir, {"env"});
  spec.env = {{"RATCHET_EXTRA", "value with spaces"}, {"LANG", "C.UTF-8"}};
  Result result = ratchet::sandbox::run(spec);
  unsetenv("RATCHET_TEST_SECRET");
  REQUIRE(result.exited_ok());
  const std::string& env = result.stdout_text;
  CHECK(env.find("RATCHET_TEST_SECRET") == std::string::npos);
  CHECK(env.find("hunter2") == std::string::npos);
  CHECK(env.find("HOME=" + dir.path().string() + "\n") != std::string::npos);
  CHECK(env.find("PATH=/usr/local/bin:/usr/bin:/bin\n") != std::string::npos);
  CHECK(env.find("RATCHET_EXTRA=value with spaces\n") != std::string::npos);
  CHECK(env.find("LANG=C.UTF-8\n") != std::string::npos);  // overridden, not duplicated
  CHECK(env.find("LANG=C\n") == std::string::npos);
}

TEST_CASE("sandbox: the command runs in the workdir", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Result result = ratchet::sandbox::run(make_spec(dir, {"pwd"}));
  REQUIRE(result.exited_ok());
  CHECK(result.stdout_text == dir.path().string() + "\n");
}

TEST_CASE("sandbox: argv[0] is looked up in the spec's PATH", "[sandbox]") {
  TempDir dir("sandbox-test-");
  fs::create_directory(dir.path() / "tools");
  fs::path tool = dir.path() / "tools" / "ratchet-hello";
  REQUIRE(ratchet::write_file(tool, "#!/bin/sh\necho hello from tool\n").ok());
  fs::permissions(tool, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);

  Spec spec = make_spec(dir, {"ratchet-hello"});
  spec.env = {{"PATH", (dir.path() / "tools").string() + ":/usr/bin:/bin"}};
  Result found = ratchet::sandbox::run(spec);
  REQUIRE(found.exited_ok());
  CHECK(found.stdout_text == "hello from tool\n");

  // With the default PATH the tool is not visible, and a PATH without /bin
  // hides sh even though ratchet's own PATH has it.
  Result default_path = ratchet::sandbox::run(make_spec(dir, {"ratchet-hello"}));
  CHECK(default_path.termination == Termination::setup_error);
  Spec no_sh = make_spec(dir, {"sh", "-c", "true"});
  no_sh.env = {{"PATH", "/nonexistent"}};
  CHECK(ratchet::sandbox::run(no_sh).termination == Termination::setup_error);
}

TEST_CASE("sandbox: a missing executable is a setup error naming it", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Result result = ratchet::sandbox::run(make_spec(dir, {"ratchet-no-such-tool", "x"}));
  CHECK(result.termination == Termination::setup_error);
  CHECK(result.setup_error ==
        "cannot execute 'ratchet-no-such-tool': No such file or directory");
  CHECK(result.describe() ==
        "sandbox setup failed: cannot execute 'ratchet-no-such-tool': No such file or directory");
}

TEST_CASE("sandbox: exec failures in the child are reported", "[sandbox]") {
  TempDir dir("sandbox-test-");
  // Paths with a slash are not looked up, so these fail in execve itself and
  // travel back over the status pipe.
  Result missing = ratchet::sandbox::run(make_spec(dir, {"./missing-program"}));
  CHECK(missing.termination == Termination::setup_error);
  CHECK(missing.setup_error == "cannot execute './missing-program': No such file or directory");

  REQUIRE(ratchet::write_file(dir.path() / "data.txt", "not a program\n").ok());
  fs::permissions(dir.path() / "data.txt", fs::perms::owner_read | fs::perms::owner_write);
  Result denied = ratchet::sandbox::run(make_spec(dir, {"./data.txt"}));
  CHECK(denied.termination == Termination::setup_error);
  CHECK(denied.setup_error == "cannot execute './data.txt': Permission denied");
}

TEST_CASE("sandbox: a missing workdir is a setup error", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"true"});
  spec.workdir = dir.path() / "does-not-exist";
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::setup_error);
  CHECK(result.setup_error.find("does-not-exist") != std::string::npos);
  CHECK_FALSE(result.exited_ok());
}

TEST_CASE("sandbox: wall-clock timeout kills a sleeping command", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"sleep", "30"});
  spec.limits.wall_ms = 1000;
  auto start = std::chrono::steady_clock::now();
  Result result = ratchet::sandbox::run(spec);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(result.termination == Termination::wall_timeout);
  CHECK(elapsed < std::chrono::seconds(3));
  CHECK(result.wall_ms >= 1000);
  CHECK(result.wall_ms < 3000);
  CHECK(result.describe() == "wall-clock timeout after 1000 ms");
}

TEST_CASE("sandbox: background children are killed with the command", "[sandbox]") {
  TempDir dir("sandbox-test-");
  SECTION("when the command is killed at the deadline") {
    Spec spec = make_spec(dir, {"sh", "-c", "sleep 100.123 & sleep 100.123 & wait"});
    spec.limits.wall_ms = 1000;
    Result result = ratchet::sandbox::run(spec);
    CHECK(result.termination == Termination::wall_timeout);
    CHECK(processes_with("100.123").empty());
  }
  SECTION("when the command exits and leaves them behind") {
    auto start = std::chrono::steady_clock::now();
    Result result = run_sh(dir, "sleep 100.124 & echo $! > bg.pid; exit 0");
    CHECK(result.exited_ok());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
    // The pid is the one inside the sandbox's pid namespace: look by name.
    CHECK(std::atoi(slurp(dir.path() / "bg.pid").c_str()) > 0);
    CHECK(processes_with("100.124").empty());
  }
}

TEST_CASE("sandbox: double-forked setsid grandchildren are killed", "[sandbox]") {
  TempDir dir("sandbox-test-");
  // The grandchild leaves the process group and its parent exits, so it is
  // reparented to ratchet (subreaper) and only orphan collection can find it.
  Result result = run_sh(
      dir, "setsid sh -c 'echo $$ > grandchild.pid; exec sleep 100.456' & sleep 0.5; exit 0");
  CHECK(result.exited_ok());
  CHECK(std::atoi(slurp(dir.path() / "grandchild.pid").c_str()) > 0);  // it did start
  CHECK(processes_with("100.456").empty());
}

TEST_CASE("sandbox: without namespaces, orphans are still collected", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"sh", "-c",
                              "sleep 100.457 & echo $! > bg.pid; "
                              "setsid sh -c 'echo $$ > grandchild.pid; exec sleep 100.457' & "
                              "sleep 0.5; exit 0"});
  spec.isolation = ratchet::sandbox::Isolation::process_group;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.exited_ok());
  CHECK(result.isolation == "process-group+rlimits");
  for (const char* file : {"bg.pid", "grandchild.pid"}) {
    pid_t pid = std::atoi(slurp(dir.path() / file).c_str());
    REQUIRE(pid > 0);
    CHECK(process_gone(pid));
  }
  CHECK(processes_with("100.457").empty());
}

TEST_CASE("sandbox: CPU limit stops a busy loop", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"sh", "-c", "while :; do :; done"});
  spec.limits.cpu_ms = 500;
  spec.limits.wall_ms = 20'000;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::cpu_timeout);
  CHECK(result.wall_ms < 10'000);
  CHECK(result.cpu_ms >= 400);
  CHECK(result.describe() == "CPU time limit (500 ms) exceeded");
}

TEST_CASE("sandbox: CPU time is measured", "[sandbox]") {
  TempDir dir("sandbox-test-");
  // timeout(1) reaps the loop, so its CPU time reaches our wait4 rusage.
  Result result = ratchet::sandbox::run(
      make_spec(dir, {"timeout", "0.4", "sh", "-c", "while :; do :; done"}));
  CHECK(result.termination == Termination::ok);
  CHECK(result.exit_code == 124);
  CHECK(result.cpu_ms > 100);
  CHECK(result.cpu_ms < 2000);
  CHECK(result.cpu_ms == Approx(result.user_ms + result.sys_ms));
  CHECK(result.peak_memory_kb > 0);
}

TEST_CASE("sandbox: output flood is capped", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"yes"});
  spec.limits.output_bytes = 4096;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::output_limit);
  CHECK(result.stdout_truncated);
  CHECK_FALSE(result.stderr_truncated);
  CHECK(result.stdout_text.size() == 4096);
  CHECK(result.stdout_text.substr(0, 4) == "y\ny\n");
  CHECK(result.describe() == "output limit (4096 bytes) exceeded");

  // Exactly the cap is allowed.
  Spec exact = make_spec(dir, {"head", "-c", "4096", "/dev/zero"});
  exact.limits.output_bytes = 4096;
  Result at_cap = ratchet::sandbox::run(exact);
  CHECK(at_cap.exited_ok());
  CHECK_FALSE(at_cap.stdout_truncated);
  CHECK(at_cap.stdout_text.size() == 4096);
}

TEST_CASE("sandbox: cancel flag stops the run quickly", "[sandbox]") {
  TempDir dir("sandbox-test-");
  std::atomic<bool> cancel{false};
  Spec spec = make_spec(dir, {"sleep", "30"});
  spec.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  Result result = ratchet::sandbox::run(spec);
  canceller.join();
  CHECK(result.termination == Termination::cancelled);
  CHECK(result.wall_ms < 2000);
  CHECK(result.describe() == "cancelled");
}

TEST_CASE("sandbox: death by a signal is reported", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Result result = run_sh(dir, "kill -SEGV $$");
  CHECK(result.termination == Termination::signal);
  CHECK(result.signal == SIGSEGV);
  CHECK(result.describe() == "killed by SIGSEGV");
}

TEST_CASE("sandbox: file size limit stops a large write", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"sh", "-c", "head -c 10M /dev/zero > f"});
  spec.limits.file_size_mb = 1;
  Result result = ratchet::sandbox::run(spec);
  CHECK_FALSE(result.exited_ok());
  CHECK(fs::file_size(dir.path() / "f") <= 1u << 20);
}

TEST_CASE("sandbox: running out of memory is reported as memory", "[sandbox]") {
  TempDir dir("sandbox-test-");
  // awk doubles a string until an allocation fails under RLIMIT_AS.
  Spec spec = make_spec(dir, {"awk", "BEGIN { s = \"x\"; while (1) s = s s }"});
  spec.limits.memory_mb = 64;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::memory);
  CHECK(result.describe() == "out of memory (limit 64 MB)");
}

TEST_CASE("sandbox: ratchet's descriptors and ignored signals do not leak", "[sandbox]") {
  TempDir dir("sandbox-test-");
  int leaked = open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(leaked >= 0);
  Result fds = run_sh(dir, "test -e /proc/$$/fd/" + std::to_string(leaked) +
                               " && echo leaked || echo clean");
  close(leaked);
  REQUIRE(fds.exited_ok());
  CHECK(fds.stdout_text == "clean\n");

  // With SIGPIPE inherited as ignored, yes would complain about EPIPE.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGPIPE, &ignore, &previous) == 0);
  Result pipe = run_sh(dir, "yes | head -c 4");
  sigaction(SIGPIPE, &previous, nullptr);
  REQUIRE(pipe.exited_ok());
  CHECK(pipe.stdout_text == "y\ny\n");
  CHECK(pipe.stderr_text.empty());
}

TEST_CASE("sandbox: concurrent runs do not reap each other's children", "[sandbox]") {
  TempDir dir_a("sandbox-test-"), dir_b("sandbox-test-");
  std::vector<Result> slow;
  std::thread a([&] {
    for (int i = 0; i < 3; ++i) slow.push_back(run_sh(dir_a, "sleep 0.3; echo A"));
  });
  // Meanwhile another slot keeps leaving orphans for its collector to kill.
  for (int i = 0; i < 8; ++i) {
    Result orphaning = run_sh(dir_b, "setsid sleep 100.789 & sleep 0.05; exit 0");
    CHECK(orphaning.exited_ok());
  }
  a.join();
  REQUIRE(slow.size() == 3);
  for (const Result& result : slow) {
    CHECK(result.exited_ok());
    CHECK(result.stdout_text == "A\n");
  }
  CHECK(processes_with("100.789").empty());
}

TEST_CASE("sandbox: results serialize to JSON", "[sandbox]") {
  Result timeout;
  timeout.termination = Termination::wall_timeout;
  timeout.limit = 2000;
  timeout.stdout_text = "partial \xff output";
  timeout.isolation = "process-group+rlimits";
  nlohmann::json json = ratchet::sandbox::to_json(timeout);
  CHECK(json["termination"] == "wall-timeout");
  CHECK(json["exit_code"] == -1);
  CHECK(json["stdout"] == "partial \xEF\xBF\xBD output");
  CHECK(json["isolation"] == "process-group+rlimits");
  CHECK_FALSE(json.contains("setup_error"));
  for (const char* key : {"signal", "wall_ms", "cpu_ms", "user_ms", "sys_ms", "peak_memory_kb",
                          "stderr", "stdout_truncated", "stderr_truncated"}) {
    CHECK(json.contains(key));
  }
  CHECK_NOTHROW(json.dump());
  CHECK(timeout.describe() == "wall-clock timeout after 2000 ms");

  Result setup;
  setup.setup_error = "cannot execute 'x': No such file or directory";
  nlohmann::json setup_json = ratchet::sandbox::to_json(setup);
  CHECK(setup_json["termination"] == "setup-error");
  CHECK(setup_json["setup_error"] == setup.setup_error);
}

TEST_CASE("sandbox: perf counters count the command's whole process tree", "[sandbox]") {
  TempDir dir("sandbox-test-");
  for (Isolation level : {Isolation::process_group, Isolation::full}) {
    // The work is in a subshell (a child of the command), then a sleep.
    Spec spec = make_spec(dir, {"sh", "-c",
                                "(i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done); sleep 0.02"});
    spec.isolation = level;
    spec.count_events = true;
    Result result = ratchet::sandbox::run(spec);
    INFO(to_string(level) << ": " << result.describe() << " " << result.stderr_text);
    REQUIRE(result.exited_ok());
    CHECK(result.isolation == to_string(level));
    for (const char* name : {"task-clock", "page-faults", "context-switches", "cpu-migrations"}) {
      INFO(name);
      CHECK(find_counter(result, name) != nullptr);  // software events are always there
      CHECK_FALSE(listed(result.unavailable_counters, name));
    }
    REQUIRE(find_counter(result, "task-clock") != nullptr);
    double task_clock_ms = find_counter(result, "task-clock")->value / 1e6;
    INFO("task-clock " << task_clock_ms << " ms, cpu " << result.cpu_ms << " ms");
    CHECK(result.cpu_ms > 20);
    // The subshell's loop counts: the counter follows every process of the tree.
    CHECK(task_clock_ms > 0.7 * result.cpu_ms);
    CHECK(task_clock_ms < 1.3 * result.cpu_ms + 5);
    CHECK(find_counter(result, "page-faults")->value > 0);
    CHECK(find_counter(result, "context-switches")->value > 0);  // the sleep, at least
    CHECK(result.counters.size() + result.unavailable_counters.size() == 9);
  }
}

TEST_CASE("sandbox: hardware counters are unavailable exactly where the kernel has none",
          "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"true"});
  spec.count_events = true;
  Result result = ratchet::sandbox::run(spec);
  REQUIRE(result.exited_ok());
  const std::pair<const char*, uint64_t> hardware[] = {
      {"cycles", PERF_COUNT_HW_CPU_CYCLES},
      {"instructions", PERF_COUNT_HW_INSTRUCTIONS},
      {"cache-references", PERF_COUNT_HW_CACHE_REFERENCES},
      {"cache-misses", PERF_COUNT_HW_CACHE_MISSES},
      {"branch-misses", PERF_COUNT_HW_BRANCH_MISSES}};
  for (const auto& [name, event] : hardware) {
    INFO(name);
    bool counted = kernel_counts(event);
    CHECK(listed(result.unavailable_counters, name) == !counted);
    CHECK((find_counter(result, name) != nullptr) == counted);
  }
  auto json = ratchet::sandbox::to_json(result);
  CHECK(json["counters"].contains("task-clock"));
  CHECK(json["unavailable_counters"].size() == result.unavailable_counters.size());
}

TEST_CASE("sandbox: no counters unless asked", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Result result = run_sh(dir, "true");
  REQUIRE(result.exited_ok());
  CHECK(result.counters.empty());
  CHECK(result.unavailable_counters.empty());
  CHECK_FALSE(ratchet::sandbox::to_json(result).contains("counters"));
}

TEST_CASE("sandbox: each run's peak memory is its own", "[sandbox]") {
  TempDir dir("sandbox-test-");
  // 48 MB in the run's private /tmp: tmpfs pages, charged to the slot's
  // cgroup but in no process's RSS.
  Result big = run_sh(dir, "head -c 50000000 /dev/zero > /tmp/fill");
  REQUIRE(big.exited_ok());
  REQUIRE(big.isolation == "full");
  CHECK(big.peak_memory_kb > 45 * 1024);
  Result small = run_sh(dir, "true");
  REQUIRE(small.exited_ok());
  CHECK(small.peak_memory_kb < 16 * 1024);  // the slot's peak was reset, /tmp is gone
}

TEST_CASE("sandbox: a run's peak memory is not the size of the process that started it",
          "[sandbox]") {
  // The sandbox's processes are forked from this one: the kernel's ru_maxrss
  // of a forked and exec'd child keeps the parent's resident size from
  // before the exec, so a big controller would make every run look big.
  std::vector<char> ballast(160 << 20);
  for (size_t i = 0; i < ballast.size(); i += 4096) ballast[i] = static_cast<char>(i);
  TempDir dir("sandbox-test-");
  Result small = run_sh(dir, "true");
  REQUIRE(small.exited_ok());
  CHECK(ballast[4096] == static_cast<char>(4096));
  if (small.isolation == "full") CHECK(small.peak_memory_kb < 16 * 1024);
}

TEST_CASE("sandbox: network namespaces: empty without network, ratchet's with it", "[sandbox]") {
  TempDir dir("sandbox-test-");
  const std::string interfaces = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '";
  Result off = run_sh(dir, interfaces);
  REQUIRE(off.exited_ok());
  CHECK(off.stdout_text == "lo\n");  // the slot's own namespace: loopback only
  Spec spec = make_spec(dir, {"sh", "-c", interfaces});
  spec.network = true;
  Result on = ratchet::sandbox::run(spec);
  REQUIRE(on.exited_ok());
  CHECK(on.isolation == "full");
  std::string host = slurp("/proc/net/dev");
  CHECK(on.stdout_text.size() > off.stdout_text.size());
  CHECK(on.stdout_text.find("lo\n") != std::string::npos);
  std::string first_other = on.stdout_text.substr(on.stdout_text.find('\n') + 1);
  first_other = first_other.substr(0, first_other.find('\n'));
  CHECK(host.find(first_other + ":") != std::string::npos);  // the host's interfaces
}

TEST_CASE("sandbox: concurrent runs cannot meet through abstract unix sockets", "[sandbox]") {
  // Slots have separate network namespaces, and a slot's namespace keeps
  // nothing from one run to the next.
  TempDir dir_a("sandbox-test-"), dir_b("sandbox-test-");
  const std::string bind_and_wait =
      "import socket, time\n"
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
      "s.bind('\\0ratchet-meeting'); s.listen(1); print('bound', flush=True); time.sleep(1.5)\n";
  const std::string try_connect =
      "import socket\n"
      "c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
      "try:\n  c.connect('\\0ratchet-meeting'); print('MET')\n"
      "except OSError as e:\n  print('alone')\n";
  Result listener;
  std::thread a([&] {
    listener = ratchet::sandbox::run(make_spec(dir_a, {"python3", "-c", bind_and_wait}));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Result other = ratchet::sandbox::run(make_spec(dir_b, {"python3", "-c", try_connect}));
  a.join();
  REQUIRE(listener.exited_ok());
  CHECK(listener.stdout_text == "bound\n");
  REQUIRE(other.exited_ok());
  CHECK(other.stdout_text == "alone\n");
  // The next run in the listener's slot finds the name free again.
  Result next = ratchet::sandbox::run(make_spec(dir_a, {"python3", "-c", try_connect}));
  REQUIRE(next.exited_ok());
  CHECK(next.stdout_text == "alone\n");
}

TEST_CASE("sandbox: the command is born in its slot's cgroups", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Result result = run_sh(dir, "grep -E ':(memory|pids):' /proc/self/cgroup");
  REQUIRE(result.exited_ok());
  REQUIRE(result.isolation == "full");
  std::string slot = "/ratchet-sandbox-" + std::to_string(getpid()) + "-";
  std::istringstream lines(result.stdout_text);
  int in_slot = 0;
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.find(slot) != std::string::npos);
    ++in_slot;
  }
  CHECK(in_slot == 2);
}

TEST_CASE("sandbox: a pinned command and its children run only on the given CPU", "[sandbox]") {
  TempDir dir("sandbox-test-");
  int cpu = std::thread::hardware_concurrency() > 1 ? 1 : 0;
  for (Isolation level : {Isolation::process_group, Isolation::full}) {
    Spec spec = make_spec(dir, {"sh", "-c", "grep Cpus_allowed_list /proc/self/status; "
                                            "sh -c 'grep Cpus_allowed_list /proc/self/status'"});
    spec.isolation = level;
    spec.cpus = {cpu};
    Result result = ratchet::sandbox::run(spec);
    INFO(result.setup_error << result.stderr_text);
    REQUIRE(result.exited_ok());
    std::string line = "Cpus_allowed_list:\t" + std::to_string(cpu) + "\n";
    CHECK(result.stdout_text == line + line);
  }
  // Unpinned, the command may run wherever ratchet may.
  Result free_run = run_sh(dir, "grep Cpus_allowed_list /proc/self/status");
  REQUIRE(free_run.exited_ok());
  if (std::thread::hardware_concurrency() > 1) {
    CHECK(free_run.stdout_text != "Cpus_allowed_list:\t" + std::to_string(cpu) + "\n");
  }
}

TEST_CASE("sandbox: a CPU ratchet may not use is a setup error naming it", "[sandbox]") {
  TempDir dir("sandbox-test-");
  Spec spec = make_spec(dir, {"true"});
  spec.cpus = {4000};
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::setup_error);
  CHECK_THAT(result.setup_error, Catch::Contains("cpu 4000 is not one ratchet may run on"));
  spec.cpus = {-1};
  CHECK_THAT(ratchet::sandbox::run(spec).setup_error, Catch::Contains("cpu -1"));
}
