// Rootless mode, for real: `ratchet sandbox run` started as uid/gid 65534 (a
// forked child drops root with setgroups/setgid/setuid and execs ratchet), so
// the sandbox sees exactly what an unprivileged user's ratchet sees. Each test
// checks the isolation level reported, that limits and kills still hold, and
// that nothing is left running. The children stay in the suite's outer cgroup.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/adversarial/helpers.h"
#include "tests/adversarial/outer_cgroup.h"

namespace {

using ratchet::testing::Attack;
constexpr uid_t kNobody = 65534;

struct Outcome {
  nlohmann::json result;  // ratchet's JSON on stdout
  std::string warnings;   // ratchet's stderr
  int exit_status = -1;
};

// Reads both pipes to EOF (ratchet's output is small, but never risk a
// full-pipe deadlock).
void drain(int out, int err, std::string& out_text, std::string& err_text) {
  pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
  std::string* texts[2] = {&out_text, &err_text};
  int open = 2;
  while (open > 0) {
    if (poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        texts[i]->append(buffer, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

// `ratchet sandbox run ARGS...` as uid/gid 65534 with no supplementary groups.
Outcome run_unprivileged(std::vector<std::string> args) {
  REQUIRE(ratchet::testing::in_outer_cgroup());
  int out[2], err[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(pipe2(err, O_CLOEXEC) == 0);
  args.insert(args.begin(), {"ratchet", "sandbox", "run"});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(126);
    if (setgroups(0, nullptr) < 0 || setgid(kNobody) < 0 || setuid(kNobody) < 0) _exit(125);
    if (setuid(0) == 0) _exit(124);  // root must really be gone
    execv(RATCHET_BINARY, argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  Outcome outcome;
  std::string out_text;
  drain(out[0], err[0], out_text, outcome.warnings);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  outcome.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  INFO("ratchet's stderr: " << outcome.warnings << "\nstdout: " << out_text);
  REQUIRE(outcome.exit_status == 0);
  outcome.result = nlohmann::json::parse(out_text);
  return outcome;
}

// An attack built by the suite (as root, in the sandbox), its dir handed to
// 65534 so that the unprivileged ratchet can use it as the work dir.
std::vector<std::string> in_attack_dir(const Attack& attack, std::vector<std::string> limits) {
  REQUIRE(chown(attack.dir().c_str(), kNobody, kNobody) == 0);
  limits.insert(limits.end(), {"--workdir", attack.dir().string(), "--", "./attack"});
  return limits;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("rootless: an unprivileged ratchet gets namespaces, the mount tree and seccomp",
          "[adversarial][rootless]") {
  Outcome outcome = run_unprivileged(
      {"--", "sh", "-c",
       "id -u; hostname; echo pid $$; grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/self/status; "
       "ls /work /root 2>&1; test -e /proc/1/environ && echo INIT-VISIBLE; "
       "echo x > /usr/probe; touch here && echo wrote-workdir"});
  const auto& result = outcome.result;
  INFO(result.dump(2));
  CHECK(result["termination"] == "ok");
  CHECK(result["isolation"] == "rootless");
  CHECK(count(outcome.warnings, "rootless mode") == 1);  // one warning, naming the mode
  std::string out = result["stdout"];
  CHECK(out.find("61000\nratchet\n") == 0);  // the sandbox uid inside, its own hostname
  CHECK(out.find("NoNewPrivs:\t1") != std::string::npos);
  CHECK(out.find("Seccomp:\t2") != std::string::npos);
  CHECK(out.find("CapEff:\t0000000000000000") != std::string::npos);
  CHECK(out.find("/work': No such file") != std::string::npos);
  CHECK(out.find("/root': No such file") != std::string::npos);
  CHECK(out.find("pid 2\n") != std::string::npos);  // own pid namespace, under our init
  CHECK(out.find("INIT-VISIBLE") == std::string::npos);   // hidepid: the init is not ours
  CHECK(result["stderr"].get<std::string>().find("Read-only file system") != std::string::npos);
  CHECK(out.find("wrote-workdir") != std::string::npos);
}

TEST_CASE("rootless: the deadline kills the whole tree, setsid or not", "[adversarial][rootless]") {
  Attack attack(R"(#include <unistd.h>
int main(void) {
  if (fork() == 0) { setsid(); if (fork() == 0) { for (;;) pause(); } for (;;) pause(); }
  for (;;) pause();
})");
  Outcome outcome = run_unprivileged(in_attack_dir(attack, {"--wall-ms", "400"}));
  INFO(outcome.result.dump(2));
  CHECK(outcome.result["isolation"] == "rootless");
  CHECK(outcome.result["termination"] == "wall-timeout");
  CHECK(outcome.result["wall_ms"].get<double>() < 2000);
  CHECK(attack.nothing_left());
}

TEST_CASE("rootless: the process limit holds per run", "[adversarial][rootless]") {
  // Forks until refused, then reports how many it got; the children wait.
  Attack attack(R"(#include <stdio.h>
#include <unistd.h>
int main(void) {
  int n = 0;
  while (n < 10000) { pid_t pid = fork(); if (pid < 0) break; if (pid == 0) { for (;;) pause(); } n++; }
  printf("forked %d\n", n);
  return 0;
})");
  Outcome outcome = run_unprivileged(in_attack_dir(attack, {"--procs", "16"}));
  INFO(outcome.result.dump(2));
  CHECK(outcome.result["isolation"] == "rootless");
  REQUIRE(outcome.result["termination"] == "ok");
  std::string out = outcome.result["stdout"];
  int forked = std::atoi(out.c_str() + 7);
  CHECK(forked > 0);
  CHECK(forked < 16);  // RLIMIT_NPROC, counted in the run's own user namespace
  CHECK(attack.nothing_left());
}

TEST_CASE("rootless: the memory limit holds", "[adversarial][rootless]") {
  Attack attack(R"(#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  for (int mb = 0;; ++mb) {
    char* p = malloc(1 << 20);
    if (!p) { fprintf(stderr, "out of memory after %d MB\n", mb); return 1; }
    memset(p, 1, 1 << 20);
  }
})");
  Outcome outcome = run_unprivileged(in_attack_dir(attack, {"--mem-mb", "64"}));
  INFO(outcome.result.dump(2));
  CHECK(outcome.result["isolation"] == "rootless");
  CHECK(outcome.result["termination"] == "memory");
  CHECK(outcome.result["peak_memory_kb"].get<int64_t>() < 64 * 1024);
  CHECK(attack.nothing_left());
}
