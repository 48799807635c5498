// An HTTP client on libcurl's multi interface: many requests in flight on
// one thread. submit() queues a transfer and returns at once; poll() drives
// every transfer for up to `timeout_ms` and calls each finished request's
// callback (on the polling thread). Transport failures (connection refused
// or reset, timeout, a body cut short) are results, never exceptions.
//
// Headers are handed to curl and never logged: HttpResponse carries no
// request headers, so an API key cannot travel further than the socket.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ratchet::llm {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POSTed as is
  long timeout_ms = 60'000;          // whole transfer
  long connect_timeout_ms = 10'000;
};

enum class TransportError {
  none,        // an HTTP status arrived (look at `status`)
  connection,  // refused, reset, DNS, TLS
  timeout,
  truncated,   // the body ended before its announced length
  other,
};

struct HttpResponse {
  TransportError error = TransportError::none;
  std::string error_message;                   // curl's, with no request headers in it
  long status = 0;                             // 0 when no status line arrived
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  double seconds = 0;
};

class HttpClient {
 public:
  using Callback = std::function<void(HttpResponse)>;

  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void submit(HttpRequest request, Callback done);
  // Drives transfers until one finishes or `timeout_ms` passes; returns how
  // many finished (their callbacks have run).
  int poll(int timeout_ms);
  size_t in_flight() const;
  // Makes a poll() waiting in another thread return now, with what has
  // finished so far. The one call that may come from any thread
  // (curl_multi_wakeup).
  void wakeup() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

const char* to_string(TransportError error);

}  // namespace ratchet::llm
