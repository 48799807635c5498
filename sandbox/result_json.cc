#include "sandbox/result_json.h"

#include <string>
#include <string_view>

namespace ratchet::sandbox {
namespace {

// Length of the well-formed UTF-8 sequence starting at text[i], or 0.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  auto continuation = [&](size_t k) { return k < text.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + 1 >= text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = i + 2; k < i + length; ++k) {
    if (!continuation(k)) return 0;
  }
  return length;
}

// nlohmann::json::dump() throws on invalid UTF-8; command output is arbitrary
// bytes (and a truncated stream may end mid-character).
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace

nlohmann::json to_json(const Result& result) {
  nlohmann::json json = {
      {"termination", to_string(result.termination)},
      {"exit_code", result.exit_code},
      {"signal", result.signal},
      {"wall_ms", result.wall_ms},
      {"cpu_ms", result.cpu_ms},
      {"user_ms", result.user_ms},
      {"sys_ms", result.sys_ms},
      {"peak_memory_kb", result.peak_memory_kb},
      {"stdout", valid_utf8(result.stdout_text)},
      {"stderr", valid_utf8(result.stderr_text)},
      {"stdout_truncated", result.stdout_truncated},
      {"stderr_truncated", result.stderr_truncated},
      {"isolation", result.isolation},
  };
  if (!result.setup_error.empty()) json["setup_error"] = result.setup_error;
  if (!result.counters.empty() || !result.unavailable_counters.empty()) {
    nlohmann::json counters = nlohmann::json::object();
    for (const auto& counter : result.counters) counters[counter.name] = counter.value;
    json["counters"] = counters;
    json["unavailable_counters"] = result.unavailable_counters;
  }
  return json;
}

}  // namespace ratchet::sandbox
