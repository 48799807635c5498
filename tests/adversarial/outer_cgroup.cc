#include "tests/adversarial/outer_cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ratchet::testing {
namespace {

namespace fs = std::filesystem;

std::string own_cgroup(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (second != std::string::npos && line.substr(first + 1, second - first - 1) == controller) {
      return line.substr(second + 1);
    }
  }
  return {};
}

bool write_value(const fs::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

// Set up before main (static initialization), removed after the last test.
class OuterCgroup {
 public:
  OuterCgroup() {
    std::string name = "ratchet-tests-" + std::to_string(getpid());
    for (const char* controller : {"pids", "memory"}) {
      fs::path base = fs::path("/sys/fs/cgroup") / controller;
      std::string own = own_cgroup(controller);
      if (own.empty() || !fs::exists(base / "cgroup.procs")) return;
      fs::path parent = base / own.substr(1);
      fs::path dir = parent / name;
      std::error_code error;
      fs::create_directory(dir, error);
      if (error) return;
      dirs_.push_back({parent, dir});
      bool limited = controller == std::string("pids")
                         ? write_value(dir / "pids.max", "512")
                         : write_value(dir / "memory.limit_in_bytes", std::to_string(2LL << 30));
      if (!limited || !write_value(dir / "cgroup.procs", std::to_string(getpid()))) return;
    }
    active_ = dirs_.size() == 2;
  }

  ~OuterCgroup() {
    for (const auto& [parent, dir] : dirs_) {
      write_value(parent / "cgroup.procs", std::to_string(getpid()));
      std::error_code error;
      // The sandbox's slot cgroups nest here; they are empty by now.
      for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.is_directory()) rmdir(entry.path().c_str());
      }
      rmdir(dir.c_str());
    }
  }

  bool active() const { return active_; }

 private:
  std::vector<std::pair<fs::path, fs::path>> dirs_;
  bool active_ = false;
};

OuterCgroup g_outer;

}  // namespace

bool in_outer_cgroup() { return g_outer.active(); }

}  // namespace ratchet::testing
