// The controller's side of the rewriter worker: every clang or LLVM call the
// engine makes goes to a `ratchet-rewriter` process over a socket
// (rewriters/worker_protocol.h), so that the controller never loads clang and
// LLVM (67 MB of shared libraries before any parse, hundreds more for ASTs and
// preambles) and a clang crash on an odd edit costs one candidate, not the
// campaign.
//
// The worker is started on first use and restarted transparently when it died
// between two requests. A request during which it died, stalled past the
// timeout or answered with bytes that are not a reply fails with the reason
// ("the rewriter crashed (signal 11, Segmentation fault) on this edit"); the
// worker is then started again by the next request.
//
// Thread-safe: requests are serialized by one mutex (one worker, one request
// at a time).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace ratchet {

struct RewriterOptions {
  std::filesystem::path executable;  // empty = rewriter_executable()
  std::vector<std::string> arguments;  // after the executable (tests: --fault KIND:TEXT)
  double timeout_seconds = 300;        // per request; a first parse of a big C++ file
                                       // under load takes seconds, not minutes
};

// Where `ratchet-rewriter` is: $RATCHET_REWRITER when set, else beside the
// running executable (/proc/self/exe), else the build tree's (for test
// binaries elsewhere in the build tree).
std::filesystem::path rewriter_executable();

class RewriterClient {
 public:
  explicit RewriterClient(RewriterOptions options = {});
  ~RewriterClient();  // closes the socket (the worker exits) and reaps the worker
  RewriterClient(const RewriterClient&) = delete;
  RewriterClient& operator=(const RewriterClient&) = delete;

  // One request: the reply's value, or the op's own error, or why the worker
  // gave no reply. `what` names the request in those messages ("this edit").
  Result<nlohmann::json> call(const std::string& op, const nlohmann::json& args,
                              const std::string& what = "");

  pid_t pid() const;      // the running worker's, or -1
  int starts() const;     // how many workers were started
  int requests() const;   // how many requests were sent

 private:
  Status start();
  Result<nlohmann::json> exchange(const std::string& request, const std::string& what);
  std::string stop(bool kill_first);  // reaps the worker: how it ended
  bool alive();

  RewriterOptions options_;
  mutable std::mutex mutex_;
  pid_t pid_ = -1;
  int socket_ = -1;
  int starts_ = 0;
  int requests_ = 0;
};

// The process-wide client the engine's call sites use (engine/remote_rewriters.h).
RewriterClient& rewriter_client();

// Replaces the process-wide client (tests: a faulty worker, a short timeout).
void configure_rewriter_client(RewriterOptions options);

}  // namespace ratchet
