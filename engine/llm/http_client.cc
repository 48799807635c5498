#include "engine/llm/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

namespace ratchet::llm {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Bodies larger than this are cut off and reported (a runaway server).
constexpr size_t kMaxBody = 64 << 20;

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpRequest request;
  HttpResponse response;
  HttpClient::Callback done;
  char error[CURL_ERROR_SIZE] = {};
  std::chrono::steady_clock::time_point started;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->response.body.size() + bytes > kMaxBody) return 0;  // aborts the transfer
  transfer->response.body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) transfer->response.headers.clear();  // a new response (100, redirect)
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!value.empty() && blank(value.front())) value.remove_prefix(1);
    while (!value.empty() && blank(value.back())) value.remove_suffix(1);
    transfer->response.headers[std::move(name)] = value;
  }
  return bytes;
}

TransportError classify(CURLcode code) {
  switch (code) {
    case CURLE_OK: return TransportError::none;
    case CURLE_OPERATION_TIMEDOUT: return TransportError::timeout;
    case CURLE_PARTIAL_FILE: return TransportError::truncated;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY: return TransportError::connection;
    default: return TransportError::other;
  }
}

}  // namespace

const char* to_string(TransportError error) {
  switch (error) {
    case TransportError::none: return "none";
    case TransportError::connection: return "connection";
    case TransportError::timeout: return "timeout";
    case TransportError::truncated: return "truncated";
    case TransportError::other: return "transport";
  }
  return "transport";
}

struct HttpClient::Impl {
  CURLM* multi = nullptr;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  // Finished easy handles, reset and kept for the next requests (their
  // buffers and state are reused; connections live in the multi handle's
  // cache either way).
  std::vector<CURL*> idle;
  static constexpr size_t kMaxIdle = 16;
  std::atomic<bool> woken{false};  // set by wakeup(), from any thread

  CURL* take_handle() {
    if (idle.empty()) return curl_easy_init();
    CURL* easy = idle.back();
    idle.pop_back();
    return easy;
  }
  void give_back(CURL* easy) {
    if (idle.size() >= kMaxIdle) {
      curl_easy_cleanup(easy);
      return;
    }
    curl_easy_reset(easy);
    idle.push_back(easy);
  }

  void finish(CURL* easy, CURLcode code) {
    auto it = transfers.find(easy);
    if (it == transfers.end()) return;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    transfers.erase(it);
    curl_multi_remove_handle(multi, easy);
    HttpResponse& response = transfer->response;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
    response.error = classify(code);
    if (code != CURLE_OK) {
      response.error_message = transfer->error[0] ? transfer->error : curl_easy_strerror(code);
      if (code == CURLE_WRITE_ERROR) response.error_message = "response body larger than 64 MiB";
    }
    response.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                     transfer->started).count();
    give_back(easy);
    curl_slist_free_all(transfer->headers);
    // The callback may submit new requests: it runs after the bookkeeping.
    transfer->done(std::move(response));
  }
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->multi = curl_multi_init();
  if (!impl_->multi) throw std::runtime_error("curl_multi_init failed");
}

HttpClient::~HttpClient() {
  for (auto& [easy, transfer] : impl_->transfers) {
    curl_multi_remove_handle(impl_->multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(transfer->headers);
  }
  for (CURL* easy : impl_->idle) curl_easy_cleanup(easy);
  curl_multi_cleanup(impl_->multi);
}

void HttpClient::submit(HttpRequest request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->started = std::chrono::steady_clock::now();
  CURL* easy = impl_->take_handle();
  if (!easy) {
    HttpResponse response;
    response.error = TransportError::other;
    response.error_message = "curl_easy_init failed";
    transfer->done(std::move(response));
    return;
  }
  transfer->easy = easy;
  for (const auto& header : transfer->request.headers) {
    transfer->headers = curl_slist_append(transfer->headers, header.c_str());
  }
  // No "Expect: 100-continue" round trip for large prompts.
  transfer->headers = curl_slist_append(transfer->headers, "Expect:");
  const HttpRequest& r = transfer->request;
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, r.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
  // gzip alone: every provider offers it (curl still decodes whatever comes),
  // and curl formats this header twice, a byte at a time, at about 100
  // instructions a byte: its full list, "deflate, gzip, br, zstd", cost 4k of
  // the roughly 600k instructions an LLM candidate costs the controller.
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  impl_->transfers.emplace(easy, std::move(transfer));
  CURLMcode added = curl_multi_add_handle(impl_->multi, easy);
  if (added != CURLM_OK) impl_->finish(easy, CURLE_FAILED_INIT);
}

int HttpClient::poll(int timeout_ms) {
  int finished = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int running = 0;
    curl_multi_perform(impl_->multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(impl_->multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      impl_->finish(message->easy_handle, message->data.result);
      ++finished;
    }
    auto now = std::chrono::steady_clock::now();
    if (finished > 0 || impl_->transfers.empty() || now >= deadline) return finished;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    curl_multi_poll(impl_->multi, nullptr, 0, static_cast<int>(std::max<int64_t>(1, left)), nullptr);
    if (impl_->woken.exchange(false)) return finished;
  }
}

size_t HttpClient::in_flight() const { return impl_->transfers.size(); }

void HttpClient::wakeup() const {
  impl_->woken = true;
  curl_multi_wakeup(impl_->multi);
}

}  // namespace ratchet::llm
