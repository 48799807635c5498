// Calls to LLM endpoints with the faults handled: many calls in flight on one
// thread (HttpClient), per-endpoint concurrency and requests/tokens-per-minute
// limits, retries with exponential backoff and jitter on 429, 5xx, timeouts,
// connection errors, truncated or malformed bodies (Retry-After honoured),
// bounded in attempts and time; an endpoint that keeps failing is paused
// while the others keep working.
//
// Backoff: attempt k (k = 1 for the first retry) waits a uniform draw in
// [d/2, d] with d = min(30 s, 0.5 s * 2^(k-1)); a Retry-After of s seconds
// (or an HTTP-date s seconds away)
// replaces the draw with s (and pauses the endpoint for s). A retry that
// would end after max_retry_seconds since the call began is not made.
// Pause: after 3 failed attempts in a row an endpoint rests 2 s, doubling per
// further failure up to 60 s; a success clears it.
//
// The API key is read from the environment at each attempt and exists only in
// the request headers handed to curl; anything recorded (error messages,
// bodies) has the key's text replaced by "[redacted]".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/llm/http_client.h"
#include "engine/llm/wire.h"

namespace ratchet::llm {

struct RetryPolicy {
  int max_attempts = 5;
  double max_seconds = 120;
  double base_backoff_seconds = 0.5;
  double max_backoff_seconds = 30;
  double max_retry_after_seconds = 60;
};

struct CallResult {
  // ok | http_error | timeout | connection | truncated | malformed | no_key | transport
  std::string status = "ok";
  ChatAnswer answer;
  long http_status = 0;
  int retries = 0;
  double seconds = 0;  // first attempt to the end, backoff included
  std::string error;   // empty when ok
  size_t model = 0;
  bool ok() const { return status == "ok"; }
};

class LlmClient {
 public:
  using Callback = std::function<void(CallResult)>;
  using Clock = std::chrono::steady_clock;

  LlmClient(std::vector<LlmModelConfig> models, RetryPolicy policy, uint64_t seed = 1);

  // Queues a call to `models[model]`; `done` runs on a later poll().
  void submit(size_t model, ChatRequest request, Callback done);
  // Starts what the limits allow, drives transfers and retry timers for up to
  // `timeout_ms`, runs callbacks of finished calls.
  void poll(int timeout_ms);
  // submit + poll until done. Thread-safe, unlike submit and poll: calls from
  // several threads share the one multi handle, so their transfers are in
  // flight together (within each endpoint's concurrency); whichever caller
  // polls drives them all, and the lock is let go between short polls.
  CallResult call(size_t model, ChatRequest request);

  size_t pending() const { return queue_.size() + http_.in_flight(); }
  // False while the endpoint is paused after failures. Thread-safe.
  bool available(size_t model) const;
  // Why it is paused ("" when available): "paused 8s after 3 failures: HTTP 500 …".
  // Thread-safe.
  std::string status_line(size_t model) const;
  const std::vector<LlmModelConfig>& models() const { return models_; }

 private:
  struct Call {
    uint64_t id = 0;
    size_t model = 0;
    ChatRequest request;
    Callback done;
    int attempts = 0;
    int64_t estimated_tokens = 0;
    Clock::time_point first_start{};
    Clock::time_point not_before{};
    CallResult last;
  };
  struct Endpoint {
    int in_flight = 0;
    int failures_in_a_row = 0;
    Clock::time_point paused_until{};
    std::string last_error;
    std::deque<Clock::time_point> requests;                     // last minute
    std::deque<std::pair<Clock::time_point, int64_t>> tokens;  // last minute
  };

  std::unique_lock<std::mutex> enter() const;  // mutex_, handed over by a polling call()
  void dispatch();
  bool can_start(size_t model, int64_t tokens, Clock::time_point now);
  void start(Call call);
  void on_response(Call call, HttpResponse response, const std::string& key);
  void retry_or_finish(Call call, double retry_after);
  void endpoint_failed(size_t model, const std::string& error);
  Clock::time_point next_wake() const;

  std::vector<LlmModelConfig> models_;
  RetryPolicy policy_;
  std::mt19937_64 rng_;
  HttpClient http_;
  std::vector<Endpoint> endpoints_;
  std::deque<Call> queue_;
  uint64_t next_id_ = 1;
  mutable std::mutex mutex_;  // call(), available(), status_line()
  mutable std::atomic<int> waiting_{0};       // threads in enter(), waiting for mutex_
  mutable std::atomic<uint64_t> entries_{0};  // times a thread got mutex_ in enter()
  std::atomic<bool> polling_{false};          // a call() waits in http_.poll(), holding mutex_
};

// Cost in USD of `answer` at the model's prices per million tokens.
double call_cost(const LlmModelConfig& model, const ChatAnswer& answer);

// Retry-After's value (RFC 9110 10.2.3) as seconds to wait from `now`:
// delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", and
// the obsolete RFC 850 and asctime forms); a date in the past is 0. -1 when
// the value is neither.
double parse_retry_after(const std::string& value, std::time_t now);

// `text` with every occurrence of `secret` replaced by "[redacted]".
std::string redact(std::string text, const std::string& secret);

}  // namespace ratchet::llm
