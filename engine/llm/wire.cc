#include "engine/llm/wire.h"

#include <array>
#include <map>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <nlohmann/json.hpp>

#include "common/hash.h"

namespace ratchet::llm {

namespace {

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_sequence(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t left = text.size() - i;
  auto cont = [&](size_t k) { return (byte(i + k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && byte(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && byte(i + 1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && byte(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && byte(i + 1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// The first index from `i` whose byte is not printable ASCII or is a quote
// or backslash, sixteen bytes at a time; near the end, or without SSE2, it
// stops early and the caller's byte loop finishes.
size_t skip_plain(const unsigned char* bytes, size_t i, size_t size) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x1f), quote = _mm_set1_epi8('"'),
                backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= size; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i));
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, space), space);  // v <= 0x1f
    __m128i special = _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                          _mm_cmpeq_epi8(v, backslash)));
    // The sign bit of each byte marks non-ASCII.
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(special, v)));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  (void)bytes;
  (void)size;
  return i;
}

// `text` as a JSON string, exactly as dump() writes it (ensure_ascii off,
// invalid UTF-8 replaced), but in runs: a prompt is kilobytes of code, and
// nlohmann's byte-by-byte escaper was a seventh of a proposal's controller time.
void append_json_string(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + text.size() / 16 + 2);
  size_t start = out.size();
  out += '"';
  // Bytes copied as they are: printable ASCII but the quote and backslash.
  static constexpr auto plain = [] {
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x80; ++c) table[c] = c != '"' && c != '\\';
    return table;
  }();
  size_t run = 0;  // start of the bytes not yet copied
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    i = skip_plain(bytes, i, text.size());
    while (i < text.size() && plain[bytes[i]]) ++i;
    if (i == text.size()) break;
    unsigned char c = bytes[i];
    if (c >= 0x80) {
      size_t length = utf8_sequence(text, i);
      if (length == 0) {  // invalid UTF-8: nlohmann's own replacement rules
        out.resize(start);
        out += dump(nlohmann::json(std::string(text)));
        return;
      }
      i += length;
      continue;
    }
    out.append(text.data() + run, i - run);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static const char* hex = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    run = ++i;
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// [{"content": …, "role": …}, …], keys in nlohmann's (sorted) order.
std::string json_messages(const std::vector<std::pair<const std::string*, const std::string*>>& messages) {
  std::string out = "[";
  for (const auto& [role, content] : messages) {
    if (out.size() > 1) out += ',';
    out += "{\"content\":";
    append_json_string(out, *content);
    out += ",\"role\":";
    append_json_string(out, *role);
    out += '}';
  }
  out += ']';
  return out;
}

int64_t count(const nlohmann::json& usage, const char* key) {
  if (!usage.is_object()) return 0;
  auto it = usage.find(key);
  return it != usage.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

std::string endpoint_url(const LlmModelConfig& model) {
  std::string base = trim_slash(model.base_url);
  if (model.kind == "anthropic") return base + (base.ends_with("/v1") ? "/messages" : "/v1/messages");
  return base + "/chat/completions";
}

HttpRequest build_request(const LlmModelConfig& model, const ChatRequest& request,
                          const std::string& key) {
  HttpRequest http;
  http.url = endpoint_url(model);
  http.timeout_ms = model.timeout_ms;
  http.headers = {"Content-Type: application/json", "Accept: application/json"};
  // The body as dump() would write it (keys sorted, compact), assembled from
  // serialized members so that the messages' text is escaped in runs.
  std::map<std::string, std::string> body;
  body["model"] = json_string(model.model);
  body[model.kind == "anthropic" ? "max_tokens" : model.token_limit_field] =
      nlohmann::json(request.max_tokens).dump();
  body["temperature"] = nlohmann::json(request.temperature).dump();
  std::vector<std::pair<const std::string*, const std::string*>> messages;
  if (model.kind == "anthropic") {
    if (!key.empty()) http.headers.push_back("x-api-key: " + key);
    http.headers.push_back("anthropic-version: 2023-06-01");
    std::string system;
    for (const auto& message : request.messages) {
      if (message.role == "system") {
        system += (system.empty() ? "" : "\n\n") + message.content;
      } else {
        messages.emplace_back(&message.role, &message.content);
      }
    }
    if (!system.empty()) body["system"] = json_string(system);
  } else {
    if (!key.empty()) http.headers.push_back("Authorization: Bearer " + key);
    for (const auto& message : request.messages) messages.emplace_back(&message.role, &message.content);
  }
  body["messages"] = json_messages(messages);
  size_t size = 2;
  for (const auto& [name, value] : body) size += name.size() + value.size() + 4;
  http.body.reserve(size);
  http.body += '{';
  for (const auto& [name, value] : body) {
    if (http.body.size() > 1) http.body += ',';
    append_json_string(http.body, name);
    http.body += ':';
    http.body += value;
  }
  http.body += '}';
  return http;
}

Result<ChatAnswer> parse_answer(const std::string& kind, const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return fail("malformed response: not JSON (" + std::to_string(body.size()) + " bytes)");
  }
  if (!json.is_object()) return fail("malformed response: not a JSON object");
  ChatAnswer answer;
  if (kind == "anthropic") {
    auto content = json.find("content");
    if (content == json.end() || !content->is_array()) {
      return fail("malformed response: no 'content' array");
    }
    for (const auto& part : *content) {
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
          part["text"].is_string()) {
        answer.text += part["text"].get<std::string>();
      }
    }
    if (json.contains("stop_reason") && json["stop_reason"].is_string()) {
      answer.stop_reason = json["stop_reason"];
    }
    const nlohmann::json usage = json.value("usage", nlohmann::json::object());
    answer.tokens_in = count(usage, "input_tokens");
    answer.tokens_out = count(usage, "output_tokens");
  } else {
    auto choices = json.find("choices");
    if (choices == json.end() || !choices->is_array() || choices->empty()) {
      return fail("malformed response: no 'choices'");
    }
    const nlohmann::json& choice = (*choices)[0];
    if (!choice.is_object() || !choice.contains("message") || !choice["message"].is_object()) {
      return fail("malformed response: 'choices[0]' has no 'message'");
    }
    const nlohmann::json& message = choice["message"];
    const nlohmann::json& content = message.value("content", nlohmann::json());
    if (content.is_string()) answer.text = content.get<std::string>();
    // OpenAI puts a declined request in "refusal", with null content.
    if (answer.text.empty() && message.contains("refusal") && message["refusal"].is_string()) {
      return fail("the model refused: " + message["refusal"].get<std::string>().substr(0, 300));
    }
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
      answer.stop_reason = choice["finish_reason"];
    }
    const nlohmann::json usage = json.value("usage", nlohmann::json::object());
    answer.tokens_in = count(usage, "prompt_tokens");
    answer.tokens_out = count(usage, "completion_tokens");
  }
  if (answer.text.empty()) return fail("malformed response: the answer has no text");
  return answer;
}

std::string error_detail(const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error")) {
    const auto& error = json["error"];
    if (error.is_object() && error.contains("message") && error["message"].is_string()) {
      return error["message"];
    }
    if (error.is_string()) return error;
  }
  std::string start = body.substr(0, 200);
  for (char& c : start) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return start;
}

std::string request_key(const LlmModelConfig& model, const ChatRequest& request) {
  Hasher hasher;
  hasher.add(model.kind);
  hasher.add(model.model);
  hasher.add(std::to_string(request.temperature));
  hasher.add(std::to_string(request.max_tokens));
  for (const auto& message : request.messages) {
    hasher.add(message.role);
    hasher.add(message.content);
  }
  return hasher.hex();
}

}  // namespace ratchet::llm
