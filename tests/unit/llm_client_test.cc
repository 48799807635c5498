// The LLM client against a real HTTP server on 127.0.0.1 whose faults are
// scripted per test: 429 with Retry-After, 500, a truncated body, a slow
// answer, a connection reset, garbage. The client survives each.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <thread>
#include <atomic>

#include "engine/llm/llm_client.h"
#include "tests/llm_test_server.h"

using namespace ratchet;
using namespace ratchet::llm;
using ratchet::testing::LoopbackLlmServer;
using ratchet::testing::ResetServer;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kKeyVar = "RATCHET_TEST_LLM_KEY";
constexpr const char* kKey = "made-up-key-5d41402abc4b2a76";

LlmModelConfig model_at(const std::string& base_url, const std::string& kind = "openai") {
  LlmModelConfig model;
  model.base_url = base_url;
  model.model = "test-model";
  model.api_key_env = kKeyVar;
  model.kind = kind;
  model.timeout_ms = 5'000;
  model.price_in = 2.0;
  model.price_out = 8.0;
  return model;
}

// Fast retries: the test suite should not sleep for real backoffs.
RetryPolicy fast_policy(int attempts = 4) {
  RetryPolicy policy;
  policy.max_attempts = attempts;
  policy.base_backoff_seconds = 0.02;
  policy.max_backoff_seconds = 0.1;
  policy.max_seconds = 20;
  return policy;
}

ChatRequest hello() {
  ChatRequest request;
  request.messages = {{"system", "be brief"}, {"user", "hello"}};
  request.max_tokens = 64;
  return request;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct KeyInEnvironment {
  KeyInEnvironment() { setenv(kKeyVar, kKey, 1); }
  ~KeyInEnvironment() { unsetenv(kKeyVar); }
};

}  // namespace

TEST_CASE("llm client: an answer, its usage and cost, the key sent as a Bearer token") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({LoopbackLlmServer::ok("hi there", 1000, 500)});
  LlmClient client({model_at(server.base_url())}, fast_policy());
  CallResult result = client.call(0, hello());
  REQUIRE(result.ok());
  CHECK(result.answer.text == "hi there");
  CHECK(result.answer.tokens_in == 1000);
  CHECK(result.answer.tokens_out == 500);
  CHECK(result.retries == 0);
  CHECK(call_cost(model_at(""), result.answer) == Approx((1000 * 2.0 + 500 * 8.0) / 1e6));
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "/v1/chat/completions");
  CHECK(seen[0].authorization == std::string("Bearer ") + kKey);
  auto body = nlohmann::json::parse(seen[0].body);
  CHECK(body["model"] == "test-model");
  CHECK(body["messages"][0]["role"] == "system");
  CHECK(body["messages"][1]["content"] == "hello");
  CHECK(body["max_tokens"] == 64);
}

TEST_CASE("llm client: a compressed answer is decoded") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  std::string accepted;
  server.script({[&accepted](const httplib::Request& request, httplib::Response& response) {
    accepted = request.get_header_value("Accept-Encoding");
    LoopbackLlmServer::compressed("an answer long enough to be worth compressing, twice: "
                                  "an answer long enough to be worth compressing")(request, response);
  }});
  LlmClient client({model_at(server.base_url())}, fast_policy());
  CallResult result = client.call(0, hello());
  REQUIRE(result.ok());
  CHECK(result.answer.text ==
        "an answer long enough to be worth compressing, twice: an answer long enough to be worth compressing");
  // httplib compresses only for a client that accepts it.
  CHECK(accepted.find("gzip") != std::string::npos);
}

TEST_CASE("llm client: 429 with Retry-After is honoured, then the call succeeds") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({LoopbackLlmServer::status(429, "1", "rate limited"), LoopbackLlmServer::ok("after wait")});
  LlmClient client({model_at(server.base_url())}, fast_policy());
  auto start = Clock::now();
  CallResult result = client.call(0, hello());
  REQUIRE(result.ok());
  CHECK(result.answer.text == "after wait");
  CHECK(result.retries == 1);
  CHECK(seconds_since(start) >= 0.95);  // waited the server's second, not the 20 ms backoff
}

TEST_CASE("llm client: Retry-After as delay-seconds or an HTTP-date") {
  // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT (the RFC's example).
  const std::time_t now = 1445412480;
  CHECK(parse_retry_after("120", now) == 120);
  CHECK(parse_retry_after(" 7 ", now) == 7);
  CHECK(parse_retry_after("0", now) == 0);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30);
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now) == 60);  // RFC 850
  CHECK(parse_retry_after("Wed Oct 21 07:28:05 2015", now) == 5);             // asctime
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0);        // already past
  CHECK(parse_retry_after("", now) == -1);
  CHECK(parse_retry_after("soon", now) == -1);
  CHECK(parse_retry_after("12abc", now) == -1);
  CHECK(parse_retry_after("-5", now) == -1);
}

TEST_CASE("llm client: 429 with an HTTP-date Retry-After waits until that date") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  // Two seconds ahead, whole seconds: the wait is 1 to 2 s, never the 20 ms backoff.
  char date[64];
  std::time_t at = std::time(nullptr) + 2;
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&at));
  server.script({LoopbackLlmServer::status(429, date, "rate limited"),
                 LoopbackLlmServer::ok("after the date")});
  LlmClient client({model_at(server.base_url())}, fast_policy());
  auto start = Clock::now();
  CallResult result = client.call(0, hello());
  REQUIRE(result.ok());
  CHECK(result.answer.text == "after the date");
  CHECK(result.retries == 1);
  CHECK(seconds_since(start) >= 0.9);
}

TEST_CASE("llm client: 500, a truncated body, garbage and a slow answer are retried") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({LoopbackLlmServer::status(500), LoopbackLlmServer::truncated(),
                 LoopbackLlmServer::garbage(),
                 LoopbackLlmServer::slow(std::chrono::milliseconds(1500), "too late"),
                 LoopbackLlmServer::ok("finally")});
  LlmModelConfig model = model_at(server.base_url());
  model.timeout_ms = 400;
  LlmClient client({model}, fast_policy(6));
  CallResult result = client.call(0, hello());
  REQUIRE(result.ok());
  CHECK(result.answer.text == "finally");
  CHECK(result.retries == 4);
}

TEST_CASE("llm client: a connection reset is retried") {
  KeyInEnvironment key;
  ResetServer server(2, LoopbackLlmServer::openai_body("after resets"));
  LlmClient client({model_at(server.base_url())}, fast_policy());
  CallResult result = client.call(0, hello());
  REQUIRE(result.ok());
  CHECK(result.answer.text == "after resets");
  CHECK(result.retries == 2);
  CHECK(server.connections() == 3);
}

TEST_CASE("llm client: failures that persist are recorded results, never crashes") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  SECTION("truncated every time") {
    server.script({}, LoopbackLlmServer::truncated());
    LlmClient client({model_at(server.base_url())}, fast_policy(3));
    CallResult result = client.call(0, hello());
    CHECK(result.status == "truncated");
    CHECK(result.retries == 2);
    CHECK_THAT(result.error, Catch::Contains("(after 3 attempts)"));
  }
  SECTION("malformed every time") {
    server.script({}, LoopbackLlmServer::garbage());
    LlmClient client({model_at(server.base_url())}, fast_policy(2));
    CallResult result = client.call(0, hello());
    CHECK(result.status == "malformed");
    CHECK(result.error == "malformed response: not JSON (24 bytes) (after 2 attempts)");
  }
  SECTION("a 400 is not retried and keeps the provider's message") {
    server.script({LoopbackLlmServer::status(400, "", "max_tokens is too large")});
    LlmClient client({model_at(server.base_url())}, fast_policy());
    CallResult result = client.call(0, hello());
    CHECK(result.status == "http_error");
    CHECK(result.http_status == 400);
    CHECK(result.retries == 0);
    CHECK(result.error == "HTTP 400: max_tokens is too large");
  }
  SECTION("an error message that echoes the key is redacted") {
    server.script({LoopbackLlmServer::status(401, "", std::string("Incorrect API key: ") + kKey)});
    LlmClient client({model_at(server.base_url())}, fast_policy());
    CallResult result = client.call(0, hello());
    CHECK(result.error == "HTTP 401: Incorrect API key: [redacted]");
  }
  SECTION("nobody listening") {
    int port = server.port();
    LlmClient client({model_at("http://127.0.0.1:" + std::to_string(port + 1) + "/v1")},
                     fast_policy(2));
    CallResult result = client.call(0, hello());
    CHECK(result.status == "connection");
  }
}

TEST_CASE("llm client: a missing key is a clear failure, and the request is never sent") {
  unsetenv(kKeyVar);
  LoopbackLlmServer server;
  server.script({}, LoopbackLlmServer::ok("x"));
  LlmClient client({model_at(server.base_url())}, fast_policy());
  CallResult result = client.call(0, hello());
  CHECK(result.status == "no_key");
  CHECK(result.error == std::string("environment variable ") + kKeyVar +
                            " is not set (it should hold the API key for " + server.base_url() +
                            ")");
  CHECK(server.requests().empty());
}

TEST_CASE("llm client: many calls in flight on one thread, up to the endpoint's concurrency") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({}, LoopbackLlmServer::slow(std::chrono::milliseconds(400), "slow"));
  LlmModelConfig model = model_at(server.base_url());
  model.concurrency = 6;
  LlmClient client({model}, fast_policy());
  int done = 0;
  auto start = Clock::now();
  for (int i = 0; i < 6; ++i) {
    client.submit(0, hello(), [&](CallResult result) { done += result.ok() ? 1 : 0; });
  }
  while (client.pending() > 0) client.poll(100);
  CHECK(done == 6);
  CHECK(seconds_since(start) < 1.5);  // 6 x 400 ms in series would be 2.4 s
}

TEST_CASE("llm client: requests per minute hold calls back") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({}, LoopbackLlmServer::ok("x"));
  LlmModelConfig model = model_at(server.base_url());
  model.requests_per_minute = 2;
  LlmClient client({model}, fast_policy());
  int done = 0;
  for (int i = 0; i < 3; ++i) client.submit(0, hello(), [&](CallResult) { ++done; });
  auto start = Clock::now();
  while (seconds_since(start) < 0.8) client.poll(50);
  CHECK(done == 2);
  CHECK(client.pending() == 1);
}

TEST_CASE("llm client: a failing endpoint is paused while another keeps working") {
  KeyInEnvironment key;
  LoopbackLlmServer bad, good;
  bad.script({}, LoopbackLlmServer::status(503));
  good.script({}, LoopbackLlmServer::ok("fine"));
  LlmClient client({model_at(bad.base_url()), model_at(good.base_url())}, fast_policy(3));
  CallResult failed = client.call(0, hello());
  CHECK(failed.status == "http_error");
  CHECK(failed.http_status == 503);
  CHECK_FALSE(client.available(0));
  CHECK_THAT(client.status_line(0),
             Catch::Contains("paused") && Catch::Contains("3 failures in a row: HTTP 503"));
  CHECK(client.available(1));
  CHECK(client.call(1, hello()).answer.text == "fine");
}

TEST_CASE("llm client: Anthropic messages wire format") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  server.script({LoopbackLlmServer::anthropic_ok("bonjour")});
  std::string base = server.base_url();
  base.resize(base.size() - 3);  // http://127.0.0.1:PORT, as Anthropic's base URL
  LlmClient client({model_at(base, "anthropic")}, fast_policy());
  CallResult result = client.call(0, hello());
  REQUIRE(result.ok());
  CHECK(result.answer.text == "bonjour");
  CHECK(result.answer.tokens_in == 200);
  CHECK(result.answer.tokens_out == 50);
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "/v1/messages");
  CHECK(seen[0].x_api_key == kKey);
  CHECK(seen[0].authorization.empty());
  CHECK(seen[0].anthropic_version == "2023-06-01");
  auto body = nlohmann::json::parse(seen[0].body);
  CHECK(body["system"] == "be brief");
  CHECK(body["messages"].size() == 1);
  CHECK(body["messages"][0]["role"] == "user");
}

TEST_CASE("llm client: calls from several threads are in flight together") {
  KeyInEnvironment key;
  LoopbackLlmServer server;
  // Each request waits (up to 5 s) until all three have arrived: calls made
  // one after another would each answer "alone".
  auto arrived = std::make_shared<std::atomic<int>>(0);
  auto rendezvous = [arrived](const httplib::Request& request, httplib::Response& response) {
    ++*arrived;
    auto until = Clock::now() + std::chrono::seconds(5);
    while (*arrived < 3 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    LoopbackLlmServer::ok(*arrived >= 3 ? "together" : "alone")(request, response);
  };
  server.script({}, rendezvous);
  LlmModelConfig model = model_at(server.base_url());
  model.concurrency = 3;
  LlmClient client({model}, fast_policy());
  std::vector<CallResult> results(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] { results[i] = client.call(0, hello()); });
  }
  for (auto& thread : threads) thread.join();
  for (const CallResult& result : results) {
    REQUIRE(result.ok());
    CHECK(result.answer.text == "together");
  }
}
