// Wire formats, prompts, the replay cache and the "llm" config section.
#include <catch2/catch.hpp>

#include <fstream>

#include "common/files.h"
#include "engine/config.h"
#include "engine/llm/prompt.h"
#include "engine/llm/replay.h"
#include "engine/llm/wire.h"

using namespace ratchet;
using namespace ratchet::llm;

namespace {

LlmModelConfig openai_model() {
  LlmModelConfig model;
  model.base_url = "https://api.example.com/v1/";
  model.model = "m1";
  return model;
}

std::string usage_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const FatalError& error) {
    CHECK(error.exit_code() == kExitUsage);
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("llm wire: endpoints and headers per kind, and no key means no credentials") {
  LlmModelConfig model = openai_model();
  CHECK(endpoint_url(model) == "https://api.example.com/v1/chat/completions");
  ChatRequest request;
  request.messages = {{"system", "s"}, {"user", "u"}};
  HttpRequest http = build_request(model, request, "");
  for (const auto& header : http.headers) CHECK(header.find("Authorization") == std::string::npos);
  model.kind = "anthropic";
  model.base_url = "https://api.anthropic.com";
  CHECK(endpoint_url(model) == "https://api.anthropic.com/v1/messages");
  model.base_url = "https://proxy.example.com/v1";
  CHECK(endpoint_url(model) == "https://proxy.example.com/v1/messages");
  http = build_request(model, request, "k-123");
  CHECK(std::find(http.headers.begin(), http.headers.end(), "x-api-key: k-123") != http.headers.end());
  CHECK(std::find(http.headers.begin(), http.headers.end(), "anthropic-version: 2023-06-01") !=
        http.headers.end());
  // The key is in a header only, never in the body.
  CHECK(http.body.find("k-123") == std::string::npos);
}

TEST_CASE("llm wire: parsing answers and refusing malformed ones") {
  CHECK(parse_answer("openai", R"({"choices":[{"message":{"content":"x"},"finish_reason":"length"}],
                                  "usage":{"prompt_tokens":3,"completion_tokens":4}})")
            ->tokens_out == 4);
  CHECK(parse_answer("openai", R"({"choices":[]})").error() == "malformed response: no 'choices'");
  CHECK(parse_answer("openai", R"({"choices":[{"message":{"content":null}}]})").error() ==
        "malformed response: the answer has no text");
  CHECK(parse_answer("openai", "[1]").error() == "malformed response: not a JSON object");
  CHECK(parse_answer("anthropic", R"({"content":"x"})").error() ==
        "malformed response: no 'content' array");
  auto answer = parse_answer("anthropic", R"({"content":[{"type":"text","text":"a"},
      {"type":"tool_use"},{"type":"text","text":"b"}],"usage":{"input_tokens":7,"output_tokens":9}})");
  REQUIRE(answer.ok());
  CHECK(answer->text == "ab");
  CHECK(answer->tokens_in == 7);
  CHECK(error_detail(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})") ==
        "Overloaded");
  CHECK(error_detail("<html>\nBad Gateway</html>") == "<html> Bad Gateway</html>");
}

TEST_CASE("llm wire: answers are read by the JSON tree's rules: last duplicate wins, wrong types are absent") {
  auto text = [](const std::string& kind, const std::string& body) {
    Result<ChatAnswer> answer = parse_answer(kind, body);
    return answer ? answer->text : "error: " + answer.error();
  };
  // OpenAI: only choices[0].message.content, wherever lookalikes sit.
  CHECK(text("openai", R"({"choices":[{"message":{"content":"a"}},{"message":{"content":"b"}}]})") == "a");
  CHECK(text("openai", R"({"choices":[{"message":{"content":"a","content":"b"}}]})") == "b");
  CHECK(text("openai", R"({"x":{"choices":[{"message":{"content":"a"}}]},
                           "choices":[{"message":{"content":"b"}}]})") == "b");
  CHECK(text("openai", R"({"choices":[{"message":{"content":"a"}}],"choices":[]})") ==
        "error: malformed response: no 'choices'");
  CHECK(text("openai", R"({"choices":{"0":{"message":{"content":"a"}}}})") ==
        "error: malformed response: no 'choices'");
  CHECK(text("openai", R"({"choices":[{"message":{"content":["a"]}}]})") ==
        "error: malformed response: the answer has no text");
  CHECK(text("openai", R"({"choices":[{"message":"a"}]})") ==
        "error: malformed response: 'choices[0]' has no 'message'");
  CHECK(text("openai", R"({"choices":["a",{"message":{"content":"b"}}]})") ==
        "error: malformed response: 'choices[0]' has no 'message'");
  CHECK(text("openai", R"({"choices":[{"message":{"content":"","refusal":"no"}}]})") ==
        "error: the model refused: no");
  CHECK(text("openai", R"({"choices":[{"message":{"content":"a"}}]} x)") ==
        "error: malformed response: not JSON (43 bytes)");
  CHECK(text("openai", R"({"choices":)") == "error: malformed response: not JSON (11 bytes)");

  // Counts: integers only, from the top-level usage object only.
  Result<ChatAnswer> counted = parse_answer("openai", R"({"choices":[{"message":{"content":"a"},
      "finish_reason":"stop","usage":{"prompt_tokens":5}}],"usage":{"prompt_tokens":7.5,
      "completion_tokens":3}})");
  REQUIRE(counted);
  CHECK(counted->tokens_in == 0);
  CHECK(counted->tokens_out == 3);
  CHECK(counted->stop_reason == "stop");
  Result<ChatAnswer> listed = parse_answer(
      "openai", R"({"choices":[{"message":{"content":"a"}}],"usage":[{"prompt_tokens":5}]})");
  REQUIRE(listed);
  CHECK(listed->tokens_in == 0);

  // Anthropic: the text parts in order, whatever order their keys come in.
  Result<ChatAnswer> parts = parse_answer("anthropic", R"({"content":[{"text":"a","type":"text"},
      {"type":5,"text":"b"},{"type":"text","text":7},"x",{"type":"text","text":"c"},
      {"type":"text","text":"d","type":"tool_use"}],"stop_reason":"max_tokens",
      "usage":{"input_tokens":1,"output_tokens":2}})");
  REQUIRE(parts);
  CHECK(parts->text == "ac");
  CHECK(parts->stop_reason == "max_tokens");
  CHECK(parts->tokens_in == 1);
  CHECK(parts->tokens_out == 2);
  CHECK(text("anthropic", R"({"content":[]})") == "error: malformed response: the answer has no text");
}

TEST_CASE("llm wire: the request key changes with model, messages and parameters") {
  LlmModelConfig model = openai_model();
  ChatRequest request;
  request.messages = {{"user", "u"}};
  std::string key = request_key(model, request);
  CHECK(key.size() == 16);
  ChatRequest other = request;
  other.messages[0].content = "v";
  CHECK(request_key(model, other) != key);
  other = request;
  other.temperature = 0.1;
  CHECK(request_key(model, other) != key);
  model.model = "m2";
  CHECK(request_key(model, request) != key);
}

TEST_CASE("llm prompt: code, metrics with interval, inspirations, failures, format") {
  PromptInput input;
  input.task = "tiny";
  input.description = "A small task.";
  input.language = "c";
  input.file = "tiny.c";
  input.code = "int a;\n/* EVOLVE-BLOCK-START */\nint f(void) { return 1; }\n/* EVOLVE-BLOCK-END */\n";
  input.parent_id = 7;
  input.flags = {"-O2"};
  input.metrics = {{"speedup", 1.25}, {"ci_low", 1.2}, {"ci_high", 1.3}, {"pairs", 9}};
  input.inspirations.push_back({3, "speedup 1.40x", "1 SEARCH/REPLACE block", "int f(void) { return 2; }\n"});
  input.failures.push_back({9, "build_failed", "1 SEARCH/REPLACE block",
                            "build failed: compile error\ntiny.c:3: error: expected ';'\n"});
  ChatRequest request = build_prompt(input, {}, 0.5, 1000);
  REQUIRE(request.messages.size() == 2);
  CHECK(request.messages[0].role == "system");
  const std::string& user = request.messages[1].content;
  CHECK_THAT(user, Catch::Contains("# Task: tiny\nA small task."));
  CHECK_THAT(user, Catch::Contains("candidate #7, file tiny.c"));
  CHECK_THAT(user, Catch::Contains("speedup 1.250x over the baseline, 95% interval [1.200, 1.300], 9 pairs"));
  CHECK_THAT(user, Catch::Contains("```c\nint a;\n/* EVOLVE-BLOCK-START */"));
  CHECK_THAT(user, Catch::Contains("## Candidate #3: speedup 1.40x; edit: 1 SEARCH/REPLACE block"));
  CHECK_THAT(user, Catch::Contains("- #9 build_failed (edit: 1 SEARCH/REPLACE block):\nbuild failed"));
  CHECK_THAT(user, Catch::Contains("<<<<<<< SEARCH"));
  CHECK(request.temperature == 0.5);
  CHECK(request.max_tokens == 1000);

  PromptTemplates templates{"sys {{task}}", "only {{file}} and {{unknown}}"};
  request = build_prompt(input, templates, 0.5, 1000);
  CHECK(request.messages[0].content == "sys tiny");
  CHECK(request.messages[1].content == "only tiny.c and {{unknown}}");
}

TEST_CASE("llm prompt: failure evidence is taken from the artifacts and cut in the middle") {
  nlohmann::json artifacts = {
      {"build", {{"status", "failed"}, {"summary", "compile error"}, {"log", std::string(5000, 'x')}}},
      {"verify", {{"status", "skipped"}, {"summary", ""}}}};
  std::string evidence = failure_evidence(artifacts, 600);
  CHECK(evidence.size() <= 600);
  CHECK(evidence.starts_with("build failed: compile error\nxxx"));
  CHECK(evidence.find("verify") == std::string::npos);
  CHECK(failure_evidence({{"refusal", "block 1: the SEARCH text was not found"}}, 600) ==
        "refusal: block 1: the SEARCH text was not found\n");
}

TEST_CASE("llm replay: recorded exchanges come back by key, then in recorded order") {
  TempDir dir("ratchet-replay-");
  auto path = dir.path() / "cache.jsonl";
  {
    ReplayCache cache = ReplayCache::for_recording(path);
    REQUIRE(cache.record("k1", "m", {"first", 1, 2, "stop"}).ok());
    REQUIRE(cache.record("k2", "m", {"second", 3, 4, "stop"}).ok());
    REQUIRE(cache.record("k1", "m", {"third", 5, 6, "stop"}).ok());
  }
  auto cache = ReplayCache::load(path);
  REQUIRE(cache.ok());
  CHECK(cache->size() == 3);
  auto hit = cache->lookup("k1");
  CHECK((hit && hit->by_key && hit->answer.text == "first"));
  hit = cache->lookup("k1");
  CHECK((hit && hit->by_key && hit->answer.text == "third" && hit->answer.tokens_out == 6));
  hit = cache->lookup("unknown");
  CHECK((hit && !hit->by_key && hit->answer.text == "second"));
  CHECK_FALSE(cache->lookup("k2"));

  REQUIRE(write_file(path, "{\"key\":\"a\",\"text\":\"x\"}\nnot json\n").ok());
  CHECK(ReplayCache::load(path).error() ==
        "replay cache " + path.string() + ":2: expected a JSON object with \"key\" and \"text\"");
}

TEST_CASE("llm config: the section is read strictly") {
  TempDir dir("ratchet-llm-config-");
  std::filesystem::create_directory(dir.path() / "task");
  auto write = [&](const std::string& llm) {
    auto path = dir.path() / "c.json";
    REQUIRE(write_file(path, R"({"task": "task", "proposers": [{"kind": "llm"}], "llm": )" + llm +
                                 "}")
                .ok());
    return path;
  };
  auto path = write(R"({"models": [{"base_url": "http://127.0.0.1:9/v1", "model": "m",
      "api_key_env": "MY_KEY", "kind": "anthropic", "weight": 2, "price_in": 3, "price_out": 15,
      "concurrency": 8, "requests_per_minute": 50, "tokens_per_minute": 40000}],
      "budget": {"max_tokens": 100000, "max_cost_usd": 2.5}, "on_all_down": "stop",
      "store_text": false, "templates": {"system": "S"}, "replay": {"mode": "record", "path": "x.jsonl"},
      "retries": {"max_attempts": 3, "max_seconds": 30}})");
  CampaignConfig config = load_config(path);
  REQUIRE(config.llm.models.size() == 1);
  const LlmModelConfig& model = config.llm.models[0];
  CHECK(model.kind == "anthropic");
  CHECK(model.api_key_env == "MY_KEY");
  CHECK(model.price_out == 15);
  CHECK(model.tokens_per_minute == 40000);
  CHECK(config.llm.max_cost_usd == 2.5);
  CHECK(config.llm.on_all_down == "stop");
  CHECK_FALSE(config.llm.store_text);
  CHECK(config.llm.system_template == "S");
  CHECK(config.llm.replay_mode == "record");
  CHECK(config.llm.replay_path == dir.path() / "x.jsonl");
  CHECK(config.llm.max_attempts == 3);

  path = write(R"({"models": [{"base_url": "http://h/v1", "model": "m", "api_key": "X"}]})");
  CHECK(usage_error_of([&] { load_config(path); }) ==
        path.string() + ": unknown key 'llm.models[0].api_key'");
  path = write(R"({"models": [{"base_url": "http://h/v1", "model": "m", "api_key_env": "sk-abcdef"}]})");
  CHECK(usage_error_of([&] { load_config(path); }) ==
        path.string() + ": key 'llm.models[0].api_key_env': expected the NAME of an environment "
                        "variable holding the key (letters, digits, _), not the key itself; got "
                        "a value of 9 characters");
  path = write(R"({"models": [{"base_url": "ftp://h", "model": "m"}]})");
  CHECK_THAT(usage_error_of([&] { load_config(path); }),
             Catch::Contains("key 'llm.models[0].base_url': expected an http:// or https:// URL"));
  path = write(R"({"models": [], "on_all_down": "halt"})");
  CHECK_THAT(usage_error_of([&] { load_config(path); }),
             Catch::Contains("key 'llm.on_all_down': expected one of \"continue\", \"stop\""));
  path = write(R"({"models": []})");
  CHECK_THAT(usage_error_of([&] { load_config(path); }),
             Catch::Contains("key 'llm': expected an \"llm\" section with at least one model"));
}

TEST_CASE("llm config: the answer limit's field follows the endpoint, or the config") {
  TempDir dir("ratchet-llm-limit-");
  std::filesystem::create_directory(dir.path() / "task");
  auto load = [&](const std::string& model) {
    auto path = dir.path() / "c.json";
    REQUIRE(write_file(path, R"({"task": "task", "proposers": [{"kind": "llm"}], "llm": {"models": [)" +
                                 model + "]}}")
                .ok());
    return path;
  };
  CHECK(load_config(load(R"({"base_url": "http://127.0.0.1:8080/v1", "model": "m"})"))
            .llm.models[0].token_limit_field == "max_tokens");
  CHECK(load_config(load(R"({"base_url": "https://api.openai.com/v1", "model": "o4-mini"})"))
            .llm.models[0].token_limit_field == "max_completion_tokens");
  CHECK(load_config(load(R"({"base_url": "http://127.0.0.1/v1", "model": "m",
                             "token_limit_field": "max_completion_tokens"})"))
            .llm.models[0].token_limit_field == "max_completion_tokens");
  auto bad = load(R"({"base_url": "http://h/v1", "model": "m", "token_limit_field": "max_new_tokens"})");
  CHECK_THAT(usage_error_of([&] { load_config(bad); }),
             Catch::Contains("key 'llm.models[0].token_limit_field': expected one of \"max_tokens\", "
                             "\"max_completion_tokens\""));
  auto anthropic = load(R"({"base_url": "https://api.anthropic.com", "model": "m", "kind": "anthropic",
                            "token_limit_field": "max_completion_tokens"})");
  CHECK_THAT(usage_error_of([&] { load_config(anthropic); }),
             Catch::Contains("key 'llm.models[0].token_limit_field': expected \"max_tokens\" for kind "
                             "\"anthropic\""));

  LlmModelConfig model = openai_model();
  ChatRequest request;
  request.messages = {{"user", "u"}};
  request.max_tokens = 77;
  model.token_limit_field = "max_completion_tokens";
  auto body = nlohmann::json::parse(build_request(model, request, "").body);
  CHECK(body["max_completion_tokens"] == 77);
  CHECK_FALSE(body.contains("max_tokens"));
}

TEST_CASE("llm wire: an OpenAI refusal is reported as such") {
  auto refused = parse_answer(
      "openai", R"({"choices":[{"message":{"content":null,"refusal":"I can't help with that."}}]})");
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == "the model refused: I can't help with that.");
}

TEST_CASE("llm config: the run shortcut adds a model and an llm proposer") {
  CampaignConfig config;
  config.proposers.push_back(ProposerConfig{});
  add_llm_shortcut(config, "http://127.0.0.1:8080/v1", "qwen", "LOCAL_KEY");
  REQUIRE(config.llm.models.size() == 1);
  CHECK(config.llm.models[0].kind == "openai");
  REQUIRE(config.proposers.size() == 2);
  CHECK(config.proposers[1].kind == "llm");
  CHECK(usage_error_of([&] { add_llm_shortcut(config, "127.0.0.1:8080", "q", ""); }) ==
        "--llm-base-url: expected an http:// or https:// URL, got \"127.0.0.1:8080\"");
}

TEST_CASE("llm wire: the request body is what nlohmann's dump writes, byte for byte") {
  ChatRequest request;
  request.temperature = 0.7;
  request.max_tokens = 321;
  std::string awkward = "code \"quoted\" \\ back\tslash\nnew\r\b\f \x01\x1f \x7f caf\xc3\xa9 \xe2\x82\xac "
                        "\xf0\x9f\x98\x80 /slash/";
  std::string invalid = "bad \xc3 \xff \xed\xa0\x80 \xe0\x80\xaf end";
  request.messages = {{"system", "be brief"}, {"user", awkward}, {"user", invalid}};
  for (const char* kind : {"openai", "anthropic"}) {
    LlmModelConfig model = openai_model();
    model.kind = kind;
    HttpRequest http = build_request(model, request, "");
    nlohmann::json body;
    body["model"] = model.model;
    body[model.kind == "anthropic" ? "max_tokens" : model.token_limit_field] = request.max_tokens;
    body["temperature"] = request.temperature;
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& message : request.messages) {
      if (model.kind == "anthropic" && message.role == "system") {
        body["system"] = message.content;
      } else {
        messages.push_back({{"role", message.role}, {"content", message.content}});
      }
    }
    body["messages"] = messages;
    INFO(kind);
    CHECK(http.body == body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

TEST_CASE("llm wire: each byte that needs escaping is found wherever it falls in a word") {
  // The escaper checks sixteen bytes at a time: put every awkward byte at
  // every offset of a run longer than two such blocks, and compare with
  // nlohmann's dump each time.
  const std::string plain = "int total = a + b * c; return total;   ";
  const std::vector<std::string> awkward = {"\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f",
                                            "\xc3\xa9", "\xe2\x82\xac", "\xc3", "\xff", " "};
  for (const std::string& odd : awkward) {
    for (size_t at = 0; at <= plain.size(); ++at) {
      std::string text = plain;
      text.insert(at, odd);
      ChatRequest request;
      request.messages = {{"user", text}};
      HttpRequest http = build_request(openai_model(), request, "");
      std::string expected =
          "{\"content\":" +
          nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
          ",\"role\":\"user\"}";
      INFO("byte " << nlohmann::json(odd).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace)
                   << " at " << at);
      CHECK(http.body.find(expected) != std::string::npos);
    }
  }
}
