#include "tests/integration/cli_helpers.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace ratchet::testing {

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& cwd,
            const std::filesystem::path& out, const std::filesystem::path& err) {
  std::vector<std::string> argv{RATCHET_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& arg : argv) raw.push_back(arg.data());
  raw.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // its own group, so the test can kill everything it started
    int in = open("/dev/null", O_RDONLY);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0 || e < 0 || chdir(cwd.c_str()) != 0) _exit(127);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    execv(raw[0], raw.data());
    _exit(127);
  }
  return pid;
}

std::string slurp(const std::filesystem::path& path) {
  auto text = read_file(path);
  return text ? *text : "";
}

}  // namespace

Background::Background(pid_t pid, std::filesystem::path out, std::filesystem::path err)
    : pid_(pid), out_(std::move(out)), err_(std::move(err)) {}

Background::~Background() {
  if (reaped_ || pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

void Background::signal(int signo) const { kill(pid_, signo); }

CommandResult Background::wait(std::chrono::milliseconds timeout) {
  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (std::chrono::steady_clock::now() >= deadline) return result;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  reaped_ = true;
  kill(-pid_, SIGKILL);  // anything the process group left behind
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(out_);
  result.err = slurp(err_);
  return result;
}

Ratchet::Ratchet() : dir_("ratchet-it-") {}

CommandResult Ratchet::run(const std::vector<std::string>& args) const {
  auto background = start(args);
  CommandResult result = background->wait(std::chrono::minutes(10));
  return result;
}

std::unique_ptr<Background> Ratchet::start(const std::vector<std::string>& args) const {
  static int counter = 0;
  ++counter;
  auto out = dir_.path() / ("out-" + std::to_string(counter));
  auto err = dir_.path() / ("err-" + std::to_string(counter));
  return std::make_unique<Background>(spawn(args, dir_.path(), out, err), out, err);
}

std::filesystem::path Ratchet::write_config(const std::string& name,
                                            const nlohmann::json& config) const {
  auto path = dir_.path() / name;
  auto written = write_file(path, config.dump(2));
  if (!written) throw std::runtime_error(written.error());
  return path;
}

std::filesystem::path source_path(const std::string& relative) {
  return std::filesystem::path(RATCHET_SOURCE_DIR) / relative;
}

nlohmann::json tiny_config(int max_evals) {
  return {{"name", "tiny-test"},
          {"task", source_path("tests/data/tasks/tiny").string()},
          {"seed", 7},
          {"budget", {{"max_evals", max_evals}}},
          {"benchmark", {{"warmup_runs", 0}, {"min_pairs", 3}, {"max_pairs", 4}}}};
}

}  // namespace ratchet::testing
