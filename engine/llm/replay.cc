#include "engine/llm/replay.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "common/files.h"
#include "common/text.h"

namespace ratchet::llm {

Result<ReplayCache> ReplayCache::load(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return fail("replay cache: " + text.error());
  ReplayCache cache;
  cache.path_ = path;
  size_t number = 0;
  for (const auto& line : split_lines(*text)) {
    ++number;
    if (line.empty()) continue;
    nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_object() || !json.contains("key") || !json.contains("text") ||
        !json["key"].is_string() || !json["text"].is_string()) {
      return fail(fmt::format("replay cache {}:{}: expected a JSON object with \"key\" and "
                              "\"text\"", path.string(), number));
    }
    Entry entry;
    entry.key = json["key"];
    entry.answer.text = json["text"];
    entry.answer.tokens_in = json.value("tokens_in", int64_t{0});
    entry.answer.tokens_out = json.value("tokens_out", int64_t{0});
    entry.answer.stop_reason = json.value("stop_reason", "");
    cache.entries_.push_back(std::move(entry));
  }
  return cache;
}

ReplayCache ReplayCache::for_recording(const std::filesystem::path& path) {
  ReplayCache cache;
  cache.path_ = path;
  return cache;
}

std::optional<ReplayHit> ReplayCache::lookup(const std::string& key) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].used && entries_[i].key == key) {
      entries_[i].used = true;
      return ReplayHit{entries_[i].answer, true, i};
    }
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].used) {
      entries_[i].used = true;
      return ReplayHit{entries_[i].answer, false, i};
    }
  }
  return std::nullopt;
}

Status ReplayCache::record(const std::string& key, const std::string& model,
                           const ChatAnswer& answer) {
  nlohmann::json json = {{"key", key},
                         {"model", model},
                         {"text", answer.text},
                         {"tokens_in", answer.tokens_in},
                         {"tokens_out", answer.tokens_out},
                         {"stop_reason", answer.stop_reason}};
  std::ofstream out(path_, std::ios::app | std::ios::binary);
  out << json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  out.flush();
  if (!out) return fail("replay cache: cannot append to " + path_.string());
  entries_.push_back({key, answer, true});
  return Ok{};
}

}  // namespace ratchet::llm
