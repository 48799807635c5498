// Attack programs, each compiled and run inside the sandbox (full isolation
// required). Every one must end contained, with the right termination, no
// process left behind, and the host unchanged.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/files.h"
#include "tests/adversarial/helpers.h"

namespace {

namespace fs = std::filesystem;
using ratchet::testing::Attack;
using ratchet::sandbox::Result;
using ratchet::sandbox::Termination;

bool mentions(const Result& result, const std::string& text) {
  return result.stdout_text.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("attack: fork bomb", "[adversarial]") {
  Attack attack(R"(#include <unistd.h>
int main(void) { for (;;) fork(); })");
  Result result = attack.run();
  CHECK(result.termination == Termination::wall_timeout);
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: memory bomb", "[adversarial]") {
  Attack attack(R"(#include <stdlib.h>
#include <string.h>
int main(void) { for (;;) { char* p = malloc(1 << 20); if (p) memset(p, 1, 1 << 20); } })");
  Result result = attack.run();
  CHECK(result.termination == Termination::memory);
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: memory bomb spread over processes", "[adversarial]") {
  // No single process is big; only the cgroup sees the total.
  Attack attack(R"(#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 8; ++i) if (fork() == 0) { char* p = malloc(64 << 20); memset(p, 1, 64 << 20); pause(); }
  while (wait(0) > 0) {}
  return 0;
})");
  auto spec = attack.spec();
  spec.limits.memory_mb = 160;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::memory);
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: busy loop", "[adversarial]") {
  Attack attack("int main(void) { for (volatile int i = 0;; ) i++; }");
  auto spec = attack.spec();
  spec.limits.cpu_ms = 300;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::cpu_timeout);
  CHECK(result.cpu_ms >= 250);  // the CPU time stays accounted
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: sleep forever", "[adversarial]") {
  Attack attack("#include <unistd.h>\nint main(void) { for (;;) pause(); }");
  auto spec = attack.spec();
  spec.limits.wall_ms = 500;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::wall_timeout);
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: orphans left after the parent exits, also after setsid", "[adversarial]") {
  Attack attack(R"(#include <unistd.h>
int main(void) {
  if (fork() == 0) { for (;;) pause(); }
  if (fork() == 0) { setsid(); if (fork() == 0) { for (;;) pause(); } return 0; }
  sleep(1);
  return 0;
})");
  Result result = attack.run();
  CHECK(result.exited_ok());
  CHECK(result.wall_ms < 3000);
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: thread bomb", "[adversarial]") {
  Attack attack(R"(#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void* idle(void* arg) { (void)arg; for (;;) pause(); return 0; }
int main(void) {
  int n = 0; pthread_t t;
  while (n < 100000 && pthread_create(&t, 0, idle, 0) == 0) n++;
  printf("threads %d\n", n);
  return 0;
})", {"-pthread"});
  Result result = attack.run();
  REQUIRE(result.exited_ok());
  int threads = std::atoi(result.stdout_text.c_str() + 8);
  CHECK(threads > 0);    // threads work (clone3 answers ENOSYS, glibc falls back)
  CHECK(threads <= 32);  // limits.processes
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: descriptor flood", "[adversarial]") {
  Attack attack(R"(#include <fcntl.h>
#include <stdio.h>
int main(void) { int n = 0; while (n < 1000000 && open("/dev/null", O_RDONLY) >= 0) n++;
  printf("%d\n", n); return 0; })");
  auto spec = attack.spec();
  spec.limits.open_files = 64;
  Result result = ratchet::sandbox::run(spec);
  REQUIRE(result.exited_ok());
  CHECK(std::atoi(result.stdout_text.c_str()) <= 64);
}

TEST_CASE("attack: huge output", "[adversarial]") {
  Attack attack(R"(#include <stdio.h>
int main(void) { for (;;) fputs("spam spam spam spam\n", stdout); })");
  Result result = attack.run();
  CHECK(result.termination == Termination::output_limit);
  CHECK(result.stdout_text.size() == 64 * 1024);
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: disk fill in the work dir and in /tmp", "[adversarial]") {
  Attack attack(R"(#include <stdio.h>
#include <string.h>
int main(int argc, char** argv) {
  static char block[1 << 20]; memset(block, 7, sizeof block);
  FILE* f = fopen(argv[1], "w");
  if (!f) return 3;
  for (;;) if (fwrite(block, 1, sizeof block, f) != sizeof block) return 4;
})");
  auto spec = attack.spec({"fill"});
  spec.limits.file_size_mb = 8;
  Result in_workdir = ratchet::sandbox::run(spec);
  CHECK(in_workdir.termination == Termination::signal);  // SIGXFSZ
  CHECK(fs::file_size(attack.dir() / "fill") <= (8u << 20));

  spec = attack.spec({"/tmp/fill"});
  spec.limits.file_size_mb = 0;  // the tmpfs is charged to the memory cgroup
  Result in_tmp = ratchet::sandbox::run(spec);
  CHECK_FALSE(in_tmp.exited_ok());
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: writes outside the work dir", "[adversarial]") {
  ratchet::TempDir host_dir("ratchet-attack-host-");
  std::string host_file = (host_dir.path() / "planted").string();
  Attack attack(R"(#include <fcntl.h>
#include <stdio.h>
int main(int argc, char** argv) {
  const char* targets[] = {"/etc/ratchet-planted", "/root/planted", "/usr/planted",
                           "/planted", "../planted", argv[1]};
  for (int i = 0; i < 6; ++i) {
    int fd = open(targets[i], O_WRONLY | O_CREAT, 0644);
    printf("%s %s\n", targets[i], fd >= 0 ? "WROTE" : "refused");
  }
  return 0;
})");
  Result result = attack.run({host_file});
  REQUIRE(result.exited_ok());
  INFO(result.stdout_text);
  for (const std::string& target : {std::string("/etc/ratchet-planted"), std::string("/root/planted"),
                                    std::string("/usr/planted"), std::string("/planted"), host_file}) {
    CHECK(mentions(result, target + " refused"));
  }
  // ../planted lands in the run's private /tmp, which vanishes with the run.
  CHECK_FALSE(fs::exists("/etc/ratchet-planted"));
  CHECK_FALSE(fs::exists("/root/planted"));
  CHECK_FALSE(fs::exists("/planted"));
  CHECK_FALSE(fs::exists(attack.dir().parent_path() / "planted"));
  CHECK_FALSE(fs::exists(host_file));
}

TEST_CASE("attack: secrets from the environment and /proc/1/environ", "[adversarial]") {
  REQUIRE(setenv("RATCHET_FAKE_API_KEY", "sk-hunter2", 1) == 0);
  Attack attack(R"(#include <stdio.h>
extern char** environ;
int main(void) {
  for (char** e = environ; *e; ++e) puts(*e);
  const char* files[] = {"/proc/1/environ", "/proc/self/environ", "/proc/2/environ"};
  for (int i = 0; i < 3; ++i) {
    FILE* f = fopen(files[i], "r");
    if (!f) { printf("%s refused\n", files[i]); continue; }
    int c; while ((c = fgetc(f)) != EOF) putchar(c ? c : '\n');
    fclose(f);
  }
  return 0;
})");
  Result result = attack.run();
  unsetenv("RATCHET_FAKE_API_KEY");
  REQUIRE(result.exited_ok());
  CHECK_FALSE(mentions(result, "hunter2"));
  CHECK(mentions(result, "/proc/1/environ refused"));
}

TEST_CASE("attack: connect to a listener on 127.0.0.1", "[adversarial]") {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(listener, 8) == 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  Attack attack(R"(#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(int argc, char** argv) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) { perror("socket"); return 0; }
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  printf("%s\n", connect(s, (struct sockaddr*)&a, sizeof a) == 0 ? "CONNECTED" : "refused");
  return 0;
})");
  Result result = attack.run({std::to_string(ntohs(address.sin_port))});
  CHECK(result.exited_ok());
  CHECK_FALSE(mentions(result, "CONNECTED"));
  CHECK(accept(listener, nullptr, nullptr) < 0);  // nobody knocked
  close(listener);
}

TEST_CASE("attack: ptrace of the parent", "[adversarial]") {
  Attack attack(R"(#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(void) {
  long attach = ptrace(PTRACE_ATTACH, getppid(), 0, 0);
  long me = ptrace(PTRACE_TRACEME, 0, 0, 0);
  printf("%s\n", attach == 0 || me == 0 ? "TRACED" : "refused");
  return 0;
})");
  Result result = attack.run();
  REQUIRE(result.exited_ok());
  CHECK(result.stdout_text == "refused\n");
}

TEST_CASE("attack: killing the parent and every process", "[adversarial]") {
  Attack attack(R"(#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
  int parent = kill(getppid(), SIGKILL), init = kill(1, SIGKILL), all = kill(-1, SIGKILL);
  printf("%d %d %d\n", parent, init, all);
  return 0;
})");
  Result result = attack.run();
  CHECK(result.exited_ok());  // the init survived to report the exit
  CHECK(kill(getpid(), 0) == 0);  // and so did we
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: /proc snooping", "[adversarial]") {
  Attack attack(R"(#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  DIR* d = opendir("/proc"); struct dirent* e; int n = 0;
  while ((e = readdir(d))) if (atoi(e->d_name) > 0) { n++; printf("pid %s\n", e->d_name); }
  FILE* f = fopen("/proc/1/cmdline", "r");
  printf("visible %d init %s\n", n, f ? "READABLE" : "hidden");
  return 0;
})");
  Result result = attack.run();
  REQUIRE(result.exited_ok());
  CHECK(mentions(result, "visible 1 init hidden"));  // only itself
}

TEST_CASE("attack: a symlink planted where the harness reads results", "[adversarial]") {
  ratchet::TempDir secret_dir("ratchet-attack-secret-");
  REQUIRE(ratchet::write_file(secret_dir.path() / "expected.txt", "the answer\n").ok());
  std::string secret = (secret_dir.path() / "expected.txt").string();
  // The "build" leaves prog as a symlink to the reference output...
  Attack attack(R"(#include <unistd.h>
int main(int argc, char** argv) { return symlink(argv[1], "prog") == 0 ? 0 : 1; })");
  Result planted = attack.run({secret});
  REQUIRE(planted.exited_ok());
  REQUIRE(fs::is_symlink(attack.dir() / "prog"));
  // ...and the next run asks for prog read-only: refused, nothing exposed.
  ratchet::TempDir next("ratchet-attack-next-");
  ratchet::sandbox::Spec spec;
  spec.argv = {"cat", (attack.dir() / "prog").string()};
  spec.workdir = next.path();
  spec.read_only = {attack.dir() / "prog"};
  Result read = ratchet::sandbox::run(spec);
  CHECK(read.termination == Termination::setup_error);
  CHECK(read.stdout_text.find("the answer") == std::string::npos);
  CHECK(read.setup_error.find("symbolic link") != std::string::npos);
}

TEST_CASE("attack: an answer cached by one run for the next", "[adversarial]") {
  Attack attack(R"(#include <stdio.h>
#include <string.h>
#include <sys/shm.h>
int main(int argc, char** argv) {
  int id = shmget(4242, 4096, argc > 1 ? IPC_CREAT | 0666 : 0666);
  FILE* f = fopen("/tmp/cache", argc > 1 ? "w" : "r");
  if (argc > 1) { if (f) fputs("42", f); if (id >= 0) strcpy(shmat(id, 0, 0), "42"); return 0; }
  printf("tmp %s shm %s\n", f ? "HIT" : "miss", id >= 0 ? "HIT" : "miss");
  return 0;
})");
  REQUIRE(attack.run({"store"}).exited_ok());
  Result second = attack.run();
  REQUIRE(second.exited_ok());
  CHECK(second.stdout_text == "tmp miss shm miss\n");
}

TEST_CASE("attack: nested namespaces and other escape calls", "[adversarial]") {
  Attack attack(R"(#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
static void report(const char* name, long r) { printf("%s %s\n", name, r < 0 ? "refused" : "ALLOWED"); }
int main(void) {
  report("unshare-user", unshare(CLONE_NEWUSER));
  report("unshare-ns", unshare(CLONE_NEWNS));
  report("clone-newuser", syscall(SYS_clone, CLONE_NEWUSER | 17, 0, 0, 0, 0) == 0 ? (_exit(0), 0) : -1);
  report("setns", setns(open("/proc/self/ns/mnt", O_RDONLY), 0));
  report("mount", mount("tmpfs", "/tmp", "tmpfs", 0, 0));
  report("chroot", chroot("/tmp"));
  report("bpf", syscall(SYS_bpf, 0, 0, 0));
  report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  report("io_uring", syscall(SYS_io_uring_setup, 1, 0));
  report("perf", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0));
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  report("ptrace", syscall(SYS_ptrace, 0, 0, 0, 0));
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int cpu = 0; cpu < 64; ++cpu) CPU_SET(cpu, &all);
  report("sched_setaffinity", sched_setaffinity(0, sizeof all, &all));
  return 0;
})");
  Result result = attack.run();
  REQUIRE(result.exited_ok());
  INFO(result.stdout_text);
  CHECK_FALSE(mentions(result, "ALLOWED"));
  CHECK(attack.nothing_left());
}

TEST_CASE("attack: the compiler cannot include the verifier's data", "[adversarial]") {
  ratchet::TempDir secret_dir("ratchet-attack-secret-");
  REQUIRE(ratchet::write_file(secret_dir.path() / "expected.txt", "42").ok());
  std::string secret = (secret_dir.path() / "expected.txt").string();
  ratchet::TempDir work("ratchet-attack-build-");
  REQUIRE(ratchet::write_file(work.path() / "a.c",
                              "int x =\n#include \"" + secret + "\"\n;\n"
                              "__asm__(\".incbin \\\"" + secret + "\\\"\");\n"
                              "int main(void) { return x; }\n")
              .ok());
  ratchet::sandbox::Spec spec;
  spec.argv = {"gcc", "a.c", "-o", "prog"};
  spec.workdir = work.path();
  spec.required = ratchet::sandbox::Isolation::full;
  Result result = ratchet::sandbox::run(spec);
  CHECK(result.termination == Termination::ok);
  CHECK(result.exit_code != 0);
  CHECK(result.stderr_text.find("No such file") != std::string::npos);
  CHECK_FALSE(fs::exists(work.path() / "prog"));
}

TEST_CASE("attack: perf counters opened from inside", "[adversarial]") {
  // Self-monitoring of user space, which perf_event_paranoid=2 would allow an
  // ordinary process: only the filter stands in the way. The harness counts
  // the same run meanwhile.
  Attack attack(R"(#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  struct perf_event_attr attr; memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr; attr.type = PERF_TYPE_SOFTWARE; attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1; attr.exclude_hv = 1;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  printf(fd >= 0 ? "OPENED\n" : "refused %d\n", errno);
  return 0;
})");
  auto spec = attack.spec();
  spec.count_events = true;
  Result result = ratchet::sandbox::run(spec);
  REQUIRE(result.exited_ok());
  CHECK(result.stdout_text == "refused " + std::to_string(EPERM) + "\n");
  bool harness_counted = false;
  for (const auto& counter : result.counters) harness_counted |= counter.name == "task-clock";
  CHECK(harness_counted);
  CHECK(attack.nothing_left());
}
