#include "evaluators/build_cache.h"

#include <unistd.h>

#include "common/hash.h"

namespace ratchet {

BuildCache::BuildCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::string BuildCache::key(const Task& task, const Program& program,
                            const std::string& compiler_version) const {
  Hasher hasher;
  hasher.add(program_hash(program));
  hasher.add(task.compiler);
  hasher.add(compiler_version);
  for (const auto& flag : task.fixed_flags) hasher.add(flag);
  hasher.add("\x01libs");
  for (const auto& lib : task.libs) hasher.add(lib);
  return hasher.hex();
}

std::optional<std::filesystem::path> BuildCache::find(const std::string& key) const {
  if (!enabled()) return std::nullopt;
  std::filesystem::path binary = dir_ / key / "prog";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(binary, ec))) {
    return std::nullopt;
  }
  return binary;
}

void BuildCache::store(const std::string& key, const std::filesystem::path& binary) const {
  if (!enabled()) return;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(binary, ec))) return;
  std::filesystem::path entry = dir_ / key;
  std::filesystem::create_directories(entry, ec);
  if (ec) return;
  // Copy under a temporary name, then rename: a reader never sees half a file.
  std::filesystem::path partial = entry / ("prog.partial-" + std::to_string(getpid()));
  std::filesystem::copy_file(binary, partial, std::filesystem::copy_options::overwrite_existing,
                             ec);
  if (ec) return;
  std::filesystem::rename(partial, entry / "prog", ec);
  if (ec) std::filesystem::remove(partial, ec);
}

}  // namespace ratchet
