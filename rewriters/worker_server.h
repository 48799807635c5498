// The rewriter worker's side of the protocol (worker_protocol.h): it answers
// one request at a time with the in-process rewriters (apply_edit.h,
// clang_parse.h, transform_rule.h, function_edit.h, llvm_ir.h). It runs in the
// `ratchet-rewriter` process, so that clang and LLVM (their 67 MB of shared
// libraries, their ASTs and preambles, and their crashes) stay out of the
// controller.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ratchet {

// The reply to one request: {"ok": true, "value": …} or {"ok": false,
// "error": …}. An unknown op or malformed arguments are an error reply.
nlohmann::json handle_worker_request(const nlohmann::json& request);

// Faults the tests inject (`ratchet-rewriter --fault KIND:TEXT`): when a
// request's bytes contain TEXT, `crash` raises SIGSEGV, `stall` sleeps
// forever, `garble` replies with bytes that are not a message, `exit` exits
// with status 3.
struct WorkerFault {
  std::string kind;
  std::string trigger;
};

// Serves requests on `fd` (a stream socket) until the controller closes it:
// 0, or 1 when the stream broke (a truncated or oversized message).
int serve_worker(int fd, const WorkerFault& fault = {});

}  // namespace ratchet
