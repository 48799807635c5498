// File-system helpers that report failures as values naming the path.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace ratchet {

Result<std::string> read_file(const std::filesystem::path& path);
Status write_file(const std::filesystem::path& path, const std::string& content);

// A fresh, randomly named directory removed (recursively) on destruction.
class TempDir {
 public:
  // Creates <parent>/<prefix>XXXXXX; parent defaults to $TMPDIR or /tmp.
  explicit TempDir(const std::string& prefix = "ratchet-",
                   const std::filesystem::path& parent = {});
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;

  const std::filesystem::path& path() const { return path_; }
  // Keep the directory after destruction (for debugging).
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace ratchet
