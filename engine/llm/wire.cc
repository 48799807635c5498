#include "engine/llm/wire.h"

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
  nlohmann::json body;
  body["model"] = model.model;
  body[model.kind == "anthropic" ? "max_tokens" : model.token_limit_field] = request.max_tokens;
  body["temperature"] = request.temperature;
  if (model.kind == "anthropic") {
    if (!key.empty()) http.headers.push_back("x-api-key: " + key);
    http.headers.push_back("anthropic-version: 2023-06-01");
    std::string system;
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& message : request.messages) {
      if (message.role == "system") {
        system += (system.empty() ? "" : "\n\n") + message.content;
      } else {
        messages.push_back({{"role", message.role}, {"content", message.content}});
      }
    }
    if (!system.empty()) body["system"] = system;
    body["messages"] = std::move(messages);
  } else {
    if (!key.empty()) http.headers.push_back("Authorization: Bearer " + key);
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& message : request.messages) {
      messages.push_back({{"role", message.role}, {"content", message.content}});
    }
    body["messages"] = std::move(messages);
  }
  http.body = dump(body);
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
