// A content-addressed cache of built binaries, kept beside the candidate
// database, so a program built by an earlier campaign (or run) is not
// compiled again. The key covers everything that decides the bytes: the
// normalized sources and flags (program_hash), the task's fixed flags and
// libraries, and the compiler's version line.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/program.h"
#include "evaluators/task.h"

namespace ratchet {

class BuildCache {
 public:
  // An empty `dir` disables the cache.
  explicit BuildCache(std::filesystem::path dir = {});

  bool enabled() const { return !dir_.empty(); }
  std::string key(const Task& task, const Program& program,
                  const std::string& compiler_version) const;
  // The cached binary for `key`, if any.
  std::optional<std::filesystem::path> find(const std::string& key) const;
  // Copies a freshly built binary in; a symlink or a non-regular file is
  // ignored (a build may have planted one). Failures only cost the cache.
  void store(const std::string& key, const std::filesystem::path& binary) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace ratchet
