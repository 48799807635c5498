#include "tests/adversarial/helpers.h"

#include <dirent.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/adversarial/outer_cgroup.h"

namespace ratchet::testing {

namespace fs = std::filesystem;

Attack::Attack(const std::string& source, std::vector<std::string> flags)
    : dir_("ratchet-attack-") {
  REQUIRE(in_outer_cgroup());  // never run attacks without the outer limits
  REQUIRE(write_file(dir_.path() / "attack.c", source).ok());
  sandbox::Spec build;
  build.argv = {"gcc", "-O1", "-o", "attack", "attack.c"};
  build.argv.insert(build.argv.end(), flags.begin(), flags.end());
  build.workdir = dir_.path();
  build.limits.wall_ms = 60'000;
  build.required = sandbox::Isolation::full;
  sandbox::Result result = sandbox::run(build);
  INFO(result.describe() << "\n" << result.stderr_text);
  REQUIRE(result.exited_ok());
}

sandbox::Spec Attack::spec(std::vector<std::string> args) const {
  sandbox::Spec spec;
  spec.argv = {(dir_.path() / "attack").string()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.workdir = dir_.path();
  spec.limits.wall_ms = 5'000;
  spec.limits.cpu_ms = 5'000;
  spec.limits.memory_mb = 256;
  spec.limits.processes = 32;
  spec.limits.output_bytes = 64 * 1024;
  spec.required = sandbox::Isolation::full;
  return spec;
}

sandbox::Result Attack::run(std::vector<std::string> args) const {
  return sandbox::run(spec(std::move(args)));
}

bool Attack::nothing_left() const { return processes_with(dir_.path().filename()).empty(); }

std::vector<int> processes_with(const std::string& marker) {
  std::vector<int> found;
  DIR* proc = opendir("/proc");
  if (!proc) return found;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == getpid()) continue;
    std::ifstream in(fs::path("/proc") / entry->d_name / "cmdline", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(marker) != std::string::npos) found.push_back(static_cast<int>(pid));
  }
  closedir(proc);
  return found;
}

}  // namespace ratchet::testing
