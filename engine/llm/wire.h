// The two wire formats ratchet speaks, as their providers document them:
//
// OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp server, Ollama,
// OpenRouter, …): POST {base_url}/chat/completions with
//   Authorization: Bearer KEY
//   {"model", "messages": [{"role": "system"|"user", "content"}], "temperature",
//    "max_tokens" (or "max_completion_tokens", which OpenAI's own API wants)}
// answered by {"choices": [{"message": {"content", "refusal"}, "finish_reason"}],
//              "usage": {"prompt_tokens", "completion_tokens"}}.
//
// Anthropic messages: POST {base_url}/v1/messages (or {base_url}/messages
// when base_url already ends in /v1) with
//   x-api-key: KEY
//   anthropic-version: 2023-06-01
//   {"model", "max_tokens", "system", "messages": [{"role": "user", "content"}], "temperature"}
// answered by {"content": [{"type": "text", "text"}], "stop_reason",
//              "usage": {"input_tokens", "output_tokens"}}.
//
// Errors come back as {"error": {"message", …}} in both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/config.h"
#include "engine/llm/http_client.h"

namespace ratchet::llm {

struct Message {
  std::string role;  // system | user | assistant
  std::string content;
};

struct ChatRequest {
  std::vector<Message> messages;
  double temperature = 0.7;
  int max_tokens = 4096;
};

struct ChatAnswer {
  std::string text;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  std::string stop_reason;  // "stop"/"end_turn", "length"/"max_tokens", …
};

// The endpoint URL for `model` (no key in it).
std::string endpoint_url(const LlmModelConfig& model);

// The HTTP request; `key` empty sends no credentials.
HttpRequest build_request(const LlmModelConfig& model, const ChatRequest& request,
                          const std::string& key);

// A 2xx body as an answer, or why it is not one ("malformed response: …").
Result<ChatAnswer> parse_answer(const std::string& kind, const std::string& body);

// The provider's error message in an error body, or the start of the body.
std::string error_detail(const std::string& body);

// Cache key of an exchange: hash of kind, model, messages and sampling params.
std::string request_key(const LlmModelConfig& model, const ChatRequest& request);

}  // namespace ratchet::llm
