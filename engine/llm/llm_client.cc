#include "engine/llm/llm_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <cstdlib>
#include <thread>

namespace ratchet::llm {

namespace {

constexpr int kFailuresBeforePause = 3;
constexpr double kFirstPauseSeconds = 2;
constexpr double kMaxPauseSeconds = 60;

double seconds_between(LlmClient::Clock::time_point a, LlmClient::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

LlmClient::Clock::duration seconds(double s) {
  return std::chrono::duration_cast<LlmClient::Clock::duration>(std::chrono::duration<double>(s));
}

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

double retry_after(const HttpResponse& response) {
  auto it = response.headers.find("retry-after");
  if (it == response.headers.end()) return -1;
  return parse_retry_after(it->second, std::time(nullptr));
}

bool retryable(const std::string& status, long http_status) {
  if (status == "http_error") return http_status == 429 || http_status == 408 || http_status >= 500;
  return status == "timeout" || status == "connection" || status == "truncated" ||
         status == "malformed";
}

}  // namespace

double parse_retry_after(const std::string& value, std::time_t now) {
  std::string text = trim(value);
  if (text.empty()) return -1;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    char* end = nullptr;
    double seconds = std::strtod(text.c_str(), &end);
    // "120" is delay-seconds; "120abc" is neither form.
    return *end == '\0' && seconds >= 0 ? seconds : -1;
  }
  // An HTTP-date: IMF-fixdate, RFC 850 or asctime, all of which curl reads.
  std::time_t at = curl_getdate(text.c_str(), nullptr);
  if (at == -1) return -1;
  return at > now ? static_cast<double>(at - now) : 0;
}

std::string redact(std::string text, const std::string& secret) {
  if (secret.size() < 4) return text;
  for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "[redacted]");
  }
  return text;
}

double call_cost(const LlmModelConfig& model, const ChatAnswer& answer) {
  return (static_cast<double>(answer.tokens_in) * model.price_in +
          static_cast<double>(answer.tokens_out) * model.price_out) / 1e6;
}

LlmClient::LlmClient(std::vector<LlmModelConfig> models, RetryPolicy policy, uint64_t seed)
    : models_(std::move(models)), policy_(policy), rng_(seed), endpoints_(models_.size()) {}

void LlmClient::submit(size_t model, ChatRequest request, Callback done) {
  Call call;
  call.id = next_id_++;
  call.model = model;
  int64_t chars = 0;
  for (const auto& message : request.messages) chars += static_cast<int64_t>(message.content.size());
  call.estimated_tokens = chars / 4 + request.max_tokens;
  call.request = std::move(request);
  call.done = std::move(done);
  call.first_start = call.not_before = Clock::now();
  call.last.model = model;
  queue_.push_back(std::move(call));
}

std::unique_lock<std::mutex> LlmClient::enter() const {
  // The thread in call() holds mutex_ while it waits on the sockets: count
  // this thread as waiting (that thread then hands the lock over instead of
  // taking it straight back, which a mutex allows) and end its wait now.
  ++waiting_;
  if (polling_.load()) http_.wakeup();
  std::unique_lock lock(mutex_);
  --waiting_;
  ++entries_;
  return lock;
}

bool LlmClient::available(size_t model) const {
  auto lock = enter();
  return Clock::now() >= endpoints_[model].paused_until;
}

std::string LlmClient::status_line(size_t model) const {
  auto lock = enter();
  const Endpoint& e = endpoints_[model];
  auto now = Clock::now();
  if (now >= e.paused_until) return "";
  return fmt::format("{} at {}: paused {:.0f}s after {} failures in a row: {}", models_[model].model,
                     models_[model].base_url, std::ceil(seconds_between(now, e.paused_until)),
                     e.failures_in_a_row, e.last_error);
}

bool LlmClient::can_start(size_t model, int64_t tokens, Clock::time_point now) {
  Endpoint& e = endpoints_[model];
  const LlmModelConfig& config = models_[model];
  if (now < e.paused_until || e.in_flight >= config.concurrency) return false;
  auto minute_ago = now - std::chrono::minutes(1);
  while (!e.requests.empty() && e.requests.front() <= minute_ago) e.requests.pop_front();
  while (!e.tokens.empty() && e.tokens.front().first <= minute_ago) e.tokens.pop_front();
  if (config.requests_per_minute > 0 &&
      static_cast<int>(e.requests.size()) >= config.requests_per_minute) {
    return false;
  }
  if (config.tokens_per_minute > 0) {
    int64_t used = 0;
    for (const auto& [when, count] : e.tokens) used += count;
    // A single call larger than the whole limit still goes out on an idle minute.
    if (used > 0 && used + tokens > config.tokens_per_minute) return false;
  }
  return true;
}

void LlmClient::dispatch() {
  auto now = Clock::now();
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (now >= it->not_before && can_start(it->model, it->estimated_tokens, now)) {
      Call call = std::move(*it);
      it = queue_.erase(it);
      start(std::move(call));
      // start() may have finished a call whose callback queued more: restart.
      it = queue_.begin();
      now = Clock::now();
    } else {
      ++it;
    }
  }
}

void LlmClient::start(Call call) {
  const LlmModelConfig& config = models_[call.model];
  std::string key;
  if (!config.api_key_env.empty()) {
    const char* value = std::getenv(config.api_key_env.c_str());
    if (!value || !*value) {
      CallResult result = call.last;
      result.status = "no_key";
      result.error = "environment variable " + config.api_key_env + " is not set (it should hold "
                     "the API key for " + config.base_url + ")";
      result.seconds = seconds_between(call.first_start, Clock::now());
      endpoint_failed(call.model, result.error);
      call.done(std::move(result));
      return;
    }
    key = value;
  }
  Endpoint& e = endpoints_[call.model];
  auto now = Clock::now();
  e.in_flight++;
  e.requests.push_back(now);
  e.tokens.emplace_back(now, call.estimated_tokens);
  call.attempts++;
  HttpRequest request = build_request(config, call.request, key);
  // The callback owns the call; the key stays in this frame and curl's copy.
  auto shared = std::make_shared<Call>(std::move(call));
  http_.submit(std::move(request), [this, shared, key](HttpResponse response) {
    on_response(std::move(*shared), std::move(response), key);
  });
}

void LlmClient::on_response(Call call, HttpResponse response, const std::string& key) {
  Endpoint& e = endpoints_[call.model];
  e.in_flight--;
  CallResult& result = call.last;
  result.http_status = response.status;
  double wait = -1;
  if (response.error != TransportError::none) {
    result.status = to_string(response.error);
    result.error = fmt::format("{}: {}", result.status, redact(response.error_message, key));
  } else if (response.status < 200 || response.status >= 300) {
    result.status = "http_error";
    result.error = fmt::format("HTTP {}: {}", response.status,
                               redact(error_detail(response.body), key));
    wait = retry_after(response);
    if (wait >= 0) {
      wait = std::min(wait, policy_.max_retry_after_seconds);
      e.paused_until = std::max(e.paused_until, Clock::now() + seconds(wait));
    }
  } else {
    auto answer = parse_answer(models_[call.model].kind, response.body);
    if (answer) {
      result.status = "ok";
      result.error.clear();
      result.answer = std::move(*answer);
      result.seconds = seconds_between(call.first_start, Clock::now());
      // Replace the estimate by what the endpoint counted.
      e.tokens.emplace_back(Clock::now(), result.answer.tokens_in + result.answer.tokens_out -
                                              call.estimated_tokens);
      e.failures_in_a_row = 0;
      e.paused_until = {};
      call.done(std::move(result));
      return;
    }
    result.status = "malformed";
    result.error = redact(answer.error(), key);
  }
  endpoint_failed(call.model, result.error);
  retry_or_finish(std::move(call), wait);
}

void LlmClient::endpoint_failed(size_t model, const std::string& error) {
  Endpoint& e = endpoints_[model];
  e.last_error = error;
  if (++e.failures_in_a_row >= kFailuresBeforePause) {
    double pause = std::min(kMaxPauseSeconds,
                            kFirstPauseSeconds * std::pow(2.0, e.failures_in_a_row - kFailuresBeforePause));
    e.paused_until = std::max(e.paused_until, Clock::now() + seconds(pause));
  }
}

void LlmClient::retry_or_finish(Call call, double retry_after_seconds) {
  CallResult& result = call.last;
  auto now = Clock::now();
  double elapsed = seconds_between(call.first_start, now);
  double delay = retry_after_seconds;
  if (delay < 0) {
    double cap = std::min(policy_.max_backoff_seconds,
                          policy_.base_backoff_seconds * std::pow(2.0, call.attempts - 1));
    delay = std::uniform_real_distribution<double>(cap / 2, cap)(rng_);
  }
  bool again = retryable(result.status, result.http_status) &&
               call.attempts < policy_.max_attempts && elapsed + delay <= policy_.max_seconds;
  if (!again) {
    result.seconds = elapsed;
    if (call.attempts > 1) result.error += fmt::format(" (after {} attempts)", call.attempts);
    call.done(std::move(result));
    return;
  }
  result.retries++;
  call.not_before = now + seconds(delay);
  queue_.push_back(std::move(call));
}

LlmClient::Clock::time_point LlmClient::next_wake() const {
  auto wake = Clock::time_point::max();
  for (const auto& call : queue_) {
    auto at = std::max(call.not_before, endpoints_[call.model].paused_until);
    wake = std::min(wake, at);
  }
  return wake;
}

void LlmClient::poll(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  dispatch();
  auto wake = std::min(deadline, next_wake());
  // Rate limits free up within a minute: look again at least every 50 ms.
  wake = std::min(wake, Clock::now() + std::chrono::milliseconds(50));
  int wait = static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count()));
  if (http_.in_flight() > 0) {
    polling_ = true;
    http_.poll(wait);
    polling_ = false;
  } else if (wait > 0 && !queue_.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
  dispatch();
}

CallResult LlmClient::call(size_t model, ChatRequest request) {
  // Callbacks run inside poll(), under the lock, so `finished` needs no atomics.
  bool finished = false;
  CallResult out;
  auto lock = enter();
  submit(model, std::move(request), [&](CallResult result) {
    out = std::move(result);
    finished = true;
  });
  while (!finished) {
    poll(10);
    if (!finished && waiting_.load() > 0) {
      // Hand over: wait until a waiting thread is in, then queue up again
      // the same way (our answer may come in on its watch meanwhile).
      uint64_t entries = entries_.load();
      lock.unlock();
      while (entries_.load() == entries) std::this_thread::yield();
      lock = enter();
    }
  }
  return out;
}

}  // namespace ratchet::llm
