// Shared helpers of the adversarial suite: build an attack program inside the
// sandbox, run it inside the sandbox, look for what it left behind.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/files.h"
#include "sandbox/sandbox.h"

namespace ratchet::testing {

// An attack: its own fresh work dir holding attack.c and the built ./attack.
class Attack {
 public:
  // Compiles `source` with gcc, in the sandbox; REQUIREs success.
  explicit Attack(const std::string& source, std::vector<std::string> flags = {});

  sandbox::Spec spec(std::vector<std::string> args = {}) const;
  sandbox::Result run(std::vector<std::string> args = {}) const;
  const std::filesystem::path& dir() const { return dir_.path(); }

  // No live process runs this attack's binary (their command lines hold the
  // work dir's unique name).
  bool nothing_left() const;

 private:
  TempDir dir_;
};

// Live (non-zombie) processes whose command line contains `marker`.
std::vector<int> processes_with(const std::string& marker);

}  // namespace ratchet::testing
