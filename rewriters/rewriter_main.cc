// ratchet-rewriter: the rewriter worker. The controller (`ratchet`) starts it
// with a stream socket as its standard input and sends it rewriting requests
// (rewriters/worker_protocol.h); it exits when the socket closes. Its standard
// output goes to its standard error, so that nothing clang or LLVM might
// print can corrupt a reply.
//
//   ratchet-rewriter [--fault KIND:TEXT]   (faults: tests only, worker_server.h)
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "rewriters/worker_server.h"

int main(int argc, char** argv) {
  ratchet::WorkerFault fault;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--fault" && i + 1 < argc) {
      std::string spec = argv[++i];
      size_t colon = spec.find(':');
      fault.kind = spec.substr(0, colon);
      fault.trigger = colon == std::string::npos ? "" : spec.substr(colon + 1);
    } else {
      std::fprintf(stderr,
                   "ratchet-rewriter: the rewriter worker of ratchet; ratchet starts it "
                   "(unknown argument '%s')\n", arg.c_str());
      return 2;
    }
  }
  // Ctrl-C is the controller's to handle: it cancels stages, and a rewrite in
  // progress simply finishes. A closed socket ends the worker instead.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return 1;
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) dup2(null, 0);
  dup2(2, 1);
  return ratchet::serve_worker(fd, fault);
}
