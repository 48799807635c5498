// A loopback OpenAI-compatible (and Anthropic messages) test server for the
// LLM path: cpp-httplib on 127.0.0.1, an ephemeral port, started by the
// constructor and stopped by the destructor. Its behaviour is scripted per
// test: request i is answered by step i, later ones by the fallback. Steps
// inject the faults real endpoints show: 429 with Retry-After, 500, a body cut
// short, a slow answer; ResetServer (plain sockets) resets connections.
// Header-only: shared by the unit and the integration tests.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace ratchet::testing {

class LoopbackLlmServer {
 public:
  using Step = std::function<void(const httplib::Request&, httplib::Response&)>;

  LoopbackLlmServer() {
    auto handle = [this](const httplib::Request& request, httplib::Response& response) {
      Step step;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        size_t index = requests_.size();
        requests_.push_back({request.path, request.get_header_value("Authorization"),
                             request.get_header_value("x-api-key"),
                             request.get_header_value("anthropic-version"), request.body});
        step = index < steps_.size() ? steps_[index] : fallback_;
      }
      if (step) {
        step(request, response);
      } else {
        response.status = 500;
        response.set_content(R"({"error":{"message":"no scripted answer"}})", kJson);
      }
    };
    server_.Post("/v1/chat/completions", handle);
    server_.Post("/v1/messages", handle);
    // Without TCP_NODELAY the response's header and body writes meet the
    // client's delayed ACK: 40 ms per answer that a real endpoint would not add.
    server_.set_tcp_nodelay(true);
    // httplib's default closes a keep-alive connection after 5 requests; real
    // endpoints (uvicorn, nginx) keep one open for hundreds or without limit.
    server_.set_keep_alive_max_count(1000);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackLlmServer() {
    server_.stop();
    thread_.join();
  }
  LoopbackLlmServer(const LoopbackLlmServer&) = delete;
  LoopbackLlmServer& operator=(const LoopbackLlmServer&) = delete;

  void script(std::vector<Step> steps, Step fallback = {}) {
    std::lock_guard<std::mutex> lock(mutex_);
    steps_ = std::move(steps);
    fallback_ = std::move(fallback);
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  struct Seen {
    std::string path, authorization, x_api_key, anthropic_version, body;
  };
  std::vector<Seen> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  // ---- steps ----------------------------------------------------------------

  // llama.cpp's server (also httplib) answers with this content type, which
  // httplib does not compress. Plain "application/json" it compresses with
  // brotli at quality 11 for any client that accepts br, as curl does: about
  // 1.5 cores of this 2-core machine at benchmark rates, a cost no real
  // endpoint puts on the controller's machine. compressed() keeps that path.
  static constexpr const char* kJson = "application/json; charset=utf-8";

  static std::string openai_body(const std::string& text, int tokens_in = 120, int tokens_out = 40) {
    nlohmann::json body = {
        {"id", "chatcmpl-test"},
        {"object", "chat.completion"},
        {"choices",
         {{{"index", 0},
           {"message", {{"role", "assistant"}, {"content", text}}},
           {"finish_reason", "stop"}}}},
        {"usage",
         {{"prompt_tokens", tokens_in},
          {"completion_tokens", tokens_out},
          {"total_tokens", tokens_in + tokens_out}}}};
    return body.dump();
  }

  static Step ok(const std::string& text, int tokens_in = 120, int tokens_out = 40) {
    return [=](const httplib::Request&, httplib::Response& response) {
      response.set_content(openai_body(text, tokens_in, tokens_out), kJson);
    };
  }
  // As ok(), compressed as httplib does for "application/json" (brotli, or gzip
  // for a client that accepts only that): real providers compress.
  static Step compressed(const std::string& text) {
    return [=](const httplib::Request&, httplib::Response& response) {
      response.set_content(openai_body(text), "application/json");
    };
  }
  static Step anthropic_ok(const std::string& text) {
    return [=](const httplib::Request&, httplib::Response& response) {
      nlohmann::json body = {{"id", "msg_test"},
                             {"type", "message"},
                             {"role", "assistant"},
                             {"content", {{{"type", "text"}, {"text", text}}}},
                             {"stop_reason", "end_turn"},
                             {"usage", {{"input_tokens", 200}, {"output_tokens", 50}}}};
      response.set_content(body.dump(), kJson);
    };
  }
  static Step status(int code, const std::string& retry_after = "",
                     const std::string& message = "scripted failure") {
    return [=](const httplib::Request&, httplib::Response& response) {
      response.status = code;
      if (!retry_after.empty()) response.set_header("Retry-After", retry_after);
      nlohmann::json body = {{"error", {{"message", message}, {"type", "test"}}}};
      response.set_content(body.dump(), kJson);
    };
  }
  // Announces the whole body, sends half of it, closes the connection.
  static Step truncated(const std::string& text = "never seen") {
    return [=](const httplib::Request&, httplib::Response& response) {
      auto full = std::make_shared<std::string>(openai_body(text));
      response.set_content_provider(
          full->size(), kJson,
          [full](size_t offset, size_t, httplib::DataSink& sink) {
            if (offset > 0) return false;
            sink.write(full->data(), full->size() / 2);
            return false;  // abort: the client sees a body shorter than announced
          });
    };
  }
  // A 200 whose body is not JSON at all.
  static Step garbage() {
    return [](const httplib::Request&, httplib::Response& response) {
      response.set_content("{\"choices\": [ <html>oops", kJson);
    };
  }
  static Step slow(std::chrono::milliseconds delay, const std::string& text) {
    return [=](const httplib::Request& request, httplib::Response& response) {
      std::this_thread::sleep_for(delay);
      ok(text)(request, response);
    };
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::vector<Step> steps_;
  Step fallback_;
  std::vector<Seen> requests_;
};

// Plain sockets on 127.0.0.1: the first `resets` connections are reset (RST,
// no response); later ones get one 200 answer with `body`, then close.
class ResetServer {
 public:
  ResetServer(int resets, std::string body) : resets_(resets), body_(std::move(body)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd_, 16);
    socklen_t size = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ResetServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  int connections() const { return connections_; }

 private:
  void serve() {
    while (!stop_) {
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      int n = ++connections_;
      std::string request;
      char buffer[4096];
      // Read the headers and the announced body.
      while (true) {
        ssize_t got = recv(client, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        request.append(buffer, static_cast<size_t>(got));
        auto end = request.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        size_t length = 0;
        auto at = request.find("Content-Length:");
        if (at == std::string::npos) at = request.find("content-length:");
        if (at != std::string::npos) length = std::stoul(request.substr(at + 15));
        if (request.size() >= end + 4 + length) break;
      }
      if (n <= resets_) {
        linger reset{1, 0};  // close with RST
        setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      } else {
        std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Connection: close\r\nContent-Length: " +
                               std::to_string(body_.size()) + "\r\n\r\n" + body_;
        send(client, response.data(), response.size(), MSG_NOSIGNAL);
      }
      close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  int resets_;
  std::string body_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace ratchet::testing
