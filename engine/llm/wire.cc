#include "engine/llm/wire.h"

#include <array>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

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

namespace {

// The fields parse_answer reads, gathered in one SAX pass over the body:
// nlohmann's tree of maps, built only to read five of its values, was most
// of the cost of an answer. The rules are the tree's: of duplicate keys the
// last wins, and a field of another type than expected counts as absent.
class AnswerFields {
 public:
  explicit AnswerFields(bool anthropic) : anthropic_(anthropic) {}

  bool root_object = false;
  // OpenAI: choices[0].message.{content, refusal} and choices[0].finish_reason.
  bool choices_array = false;
  int64_t choices = 0;
  bool choice_object = false;
  bool message_object = false;
  std::optional<std::string> content, refusal;
  // Anthropic: the text parts of content[], in order.
  bool content_array = false;
  std::string text;
  // Both: the stop reason and usage's two counts.
  std::optional<std::string> stop_reason;
  int64_t tokens_in = 0, tokens_out = 0;

  // SAX events (nlohmann::json::sax_parse).
  bool null() { return value(Kind::other); }
  bool boolean(bool) { return value(Kind::other); }
  bool number_integer(int64_t n) { return value(Kind::integer, nullptr, n); }
  bool number_unsigned(uint64_t n) {
    return value(Kind::integer, nullptr, static_cast<int64_t>(n));
  }
  bool number_float(double, const std::string&) { return value(Kind::other); }
  bool string(std::string& s) { return value(Kind::string, &s); }
  bool binary(nlohmann::json::binary_t&) { return value(Kind::other); }
  bool start_object(size_t) {
    value(Kind::object);
    frames_.push_back({false, -1, {}});
    return true;
  }
  bool key(std::string& k) {
    frames_.back().key = k;
    return true;
  }
  bool end_object() {
    frames_.pop_back();
    // An Anthropic content part is complete: its text counts if it is text.
    if (anthropic_ && frames_.size() == 2 && in_key(0, "content") && frames_[1].array) {
      if (part_type_ == "text" && part_text_) text += *part_text_;
    }
    return true;
  }
  bool start_array(size_t) {
    value(Kind::array);
    frames_.push_back({true, -1, {}});
    return true;
  }
  bool end_array() {
    frames_.pop_back();
    return true;
  }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  enum class Kind { object, array, string, integer, other };
  struct Frame {
    bool array;
    int64_t index;    // the element being read, in an array
    std::string key;  // the member being read, in an object
  };

  bool in_key(size_t depth, std::string_view name) const {
    return !frames_[depth].array && frames_[depth].key == name;
  }
  bool in_index(size_t depth, int64_t index) const {
    return frames_[depth].array && frames_[depth].index == index;
  }
  static std::optional<std::string> text_of(Kind kind, const std::string* s) {
    return kind == Kind::string ? std::optional<std::string>(*s) : std::nullopt;
  }

  // A value begins (a scalar, or a container before its members) where the
  // frames point.
  bool value(Kind kind, const std::string* s = nullptr, int64_t n = 0) {
    size_t depth = frames_.size();
    if (depth > 0 && frames_.back().array) ++frames_.back().index;
    if (depth == 0) {
      root_object = kind == Kind::object;
    } else if (in_key(0, "usage")) {
      if (depth == 1) {
        tokens_in = tokens_out = 0;
      } else if (depth == 2 && !frames_[1].array) {
        int64_t count = kind == Kind::integer ? n : 0;
        const std::string& name = frames_[1].key;
        if (name == (anthropic_ ? "input_tokens" : "prompt_tokens")) tokens_in = count;
        if (name == (anthropic_ ? "output_tokens" : "completion_tokens")) tokens_out = count;
      }
    } else if (anthropic_) {
      anthropic_value(depth, kind, s);
    } else {
      openai_value(depth, kind, s);
    }
    return true;
  }

  void openai_value(size_t depth, Kind kind, const std::string* s) {
    if (!in_key(0, "choices")) return;
    if (depth == 1) {
      choices_array = kind == Kind::array;
      choices = 0;
      forget_choice();
    } else if (depth == 2 && frames_[1].array) {
      ++choices;
      if (frames_[1].index == 0) {
        forget_choice();
        choice_object = kind == Kind::object;
      }
    } else if (depth == 3 && in_index(1, 0) && !frames_[2].array) {
      if (frames_[2].key == "message") {
        message_object = kind == Kind::object;
        content.reset();
        refusal.reset();
      } else if (frames_[2].key == "finish_reason") {
        stop_reason = text_of(kind, s);
      }
    } else if (depth == 4 && in_index(1, 0) && in_key(2, "message") && !frames_[3].array) {
      if (frames_[3].key == "content") content = text_of(kind, s);
      if (frames_[3].key == "refusal") refusal = text_of(kind, s);
    }
  }
  void forget_choice() {
    choice_object = message_object = false;
    content.reset();
    refusal.reset();
    stop_reason.reset();
  }

  void anthropic_value(size_t depth, Kind kind, const std::string* s) {
    if (depth == 1 && in_key(0, "stop_reason")) stop_reason = text_of(kind, s);
    if (!in_key(0, "content")) return;
    if (depth == 1) {
      content_array = kind == Kind::array;
      text.clear();
    } else if (depth == 2 && frames_[1].array) {
      part_type_.clear();
      part_text_.reset();
    } else if (depth == 3 && frames_[1].array && !frames_[2].array) {
      if (frames_[2].key == "type") part_type_ = kind == Kind::string ? *s : "";
      if (frames_[2].key == "text") part_text_ = text_of(kind, s);
    }
  }

  bool anthropic_;
  std::vector<Frame> frames_;
  std::string part_type_;  // of the content part being read
  std::optional<std::string> part_text_;
};

}  // namespace

Result<ChatAnswer> parse_answer(const std::string& kind, const std::string& body) {
  bool anthropic = kind == "anthropic";
  AnswerFields fields(anthropic);
  if (!nlohmann::json::sax_parse(body, &fields)) {
    return fail("malformed response: not JSON (" + std::to_string(body.size()) + " bytes)");
  }
  if (!fields.root_object) return fail("malformed response: not a JSON object");
  ChatAnswer answer;
  if (anthropic) {
    if (!fields.content_array) return fail("malformed response: no 'content' array");
    answer.text = std::move(fields.text);
  } else {
    if (!fields.choices_array || fields.choices == 0) {
      return fail("malformed response: no 'choices'");
    }
    if (!fields.choice_object || !fields.message_object) {
      return fail("malformed response: 'choices[0]' has no 'message'");
    }
    if (fields.content) answer.text = std::move(*fields.content);
    // OpenAI puts a declined request in "refusal", with null content.
    if (answer.text.empty() && fields.refusal) {
      return fail("the model refused: " + fields.refusal->substr(0, 300));
    }
  }
  if (fields.stop_reason) answer.stop_reason = std::move(*fields.stop_reason);
  answer.tokens_in = fields.tokens_in;
  answer.tokens_out = fields.tokens_out;
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
