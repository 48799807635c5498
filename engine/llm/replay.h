// The exchange cache behind record and replay. In record mode every answered
// call is appended to a JSON-lines file as {"key", "model", "text",
// "tokens_in", "tokens_out", "stop_reason"} (the key is request_key(): a hash
// of the model, messages and sampling parameters; no prompt text, no API
// key). In replay mode the file is read back and calls are answered from it
// with no endpoint: by key first (the same request gets the answers it got,
// in order), else by the next exchange never used, in recorded order. A
// campaign replayed with the same seed thus sees the same answers in the same
// order even when benchmark noise changed a prompt; an exhausted cache is a
// recorded failure.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/llm/wire.h"

namespace ratchet::llm {

struct ReplayHit {
  ChatAnswer answer;
  bool by_key = false;  // false: the request differed, answered in recorded order
  size_t index = 0;     // 0-based position in the file
};

class ReplayCache {
 public:
  // Replay: reads every line (a malformed line is an error naming its number).
  static Result<ReplayCache> load(const std::filesystem::path& path);
  // Record: appends to `path` (created when missing).
  static ReplayCache for_recording(const std::filesystem::path& path);

  std::optional<ReplayHit> lookup(const std::string& key);
  Status record(const std::string& key, const std::string& model, const ChatAnswer& answer);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string key;
    ChatAnswer answer;
    bool used = false;
  };
  std::filesystem::path path_;
  std::vector<Entry> entries_;
};

}  // namespace ratchet::llm
