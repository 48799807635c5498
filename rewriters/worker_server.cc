#include "rewriters/worker_server.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "rewriters/apply_edit.h"
#include "rewriters/clang_parse.h"
#include "rewriters/function_edit.h"
#include "rewriters/llvm_ir.h"
#include "rewriters/transform_rule.h"
#include "rewriters/worker_protocol.h"

namespace ratchet {

namespace {

using nlohmann::json;
using Handler = std::function<json(const json& args)>;

json reply(const Status& status, json value = json::object()) {
  if (!status) return {{"ok", false}, {"error", status.error()}};
  return {{"ok", true}, {"value", std::move(value)}};
}

template <class T>
json reply(const Result<T>& result, const char* key) {
  if (!result) return {{"ok", false}, {"error", result.error()}};
  return {{"ok", true}, {"value", {{key, *result}}}};
}

RewriteContext context_of(const json& args) {
  return rewrite_context_from_json(args.at("context"));
}
std::string text_of(const json& args, const char* key) { return args.at(key).get<std::string>(); }

// The ops: one line each, the in-process rewriter with the same arguments.
const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> table = {
      {"apply_edit",  // parent, edit, context → program (non-flag edits need no genes)
       [](const json& a) {
         auto child = apply_edit(program_from_json(a.at("parent")), edit_from_json(a.at("edit")),
                                 {}, context_of(a));
         if (!child) return reply(Status(fail(child.error())));
         return reply(Ok{}, {{"program", to_json(*child)}});
       }},
      {"token_hashes",  // texts, contexts → hashes (one per text)
       [](const json& a) {
         json hashes = json::array();
         const json& texts = a.at("texts");
         const json& contexts = a.at("contexts");
         for (size_t i = 0; i < texts.size(); ++i) {
           hashes.push_back(token_hash(texts.at(i).get<std::string>(),
                                       rewrite_context_from_json(contexts.at(i))));
         }
         return reply(Ok{}, {{"hashes", hashes}});
       }},
      {"validate_source",  // file, text, context
       [](const json& a) {
         return reply(validate_source(text_of(a, "file"), text_of(a, "text"), context_of(a)));
       }},
      {"check_matcher", [](const json& a) { return reply(check_matcher(text_of(a, "match"))); }},
      {"apply_rule",  // file, text, rule, context → text
       [](const json& a) {
         return reply(apply_rule(text_of(a, "file"), text_of(a, "text"),
                                 transform_rule_from_json(a.at("rule")), context_of(a)),
                      "text");
       }},
      {"apply_builtin",  // name, file, text, context → text
       [](const json& a) {
         return reply(apply_builtin(text_of(a, "name"), text_of(a, "file"), text_of(a, "text"),
                                    context_of(a)),
                      "text");
       }},
      {"builtin_transforms",  // → list of {name, description, cxx_only}
       [](const json&) {
         json list = json::array();
         for (const auto& t : builtin_transforms()) {
           list.push_back({{"name", t.name}, {"description", t.description},
                           {"cxx_only", t.cxx_only}});
         }
         return reply(Ok{}, {{"list", list}});
       }},
      {"replace_function",  // file, text, symbol, definition, context → text
       [](const json& a) {
         return reply(replace_function(text_of(a, "file"), text_of(a, "text"),
                                       text_of(a, "symbol"), text_of(a, "definition"),
                                       context_of(a)),
                      "text");
       }},
      {"check_pipeline",
       [](const json& a) { return reply(check_pipeline(text_of(a, "pipeline"))); }},
      {"mutate_pipeline",  // pipeline, rng (the generator's state) → pipeline, rng
       [](const json& a) {
         std::mt19937_64 rng;
         std::istringstream(text_of(a, "rng")) >> rng;
         std::string mutated = mutate_pipeline(text_of(a, "pipeline"), rng);
         std::ostringstream state;
         state << rng;
         return reply(Ok{}, {{"pipeline", mutated}, {"rng", state.str()}});
       }},
      {"verify_ir",  // module → functions (the number of definitions)
       [](const json& a) { return reply(verify_ir(text_of(a, "module")), "functions"); }},
      {"run_pipeline",  // module, pipeline → module
       [](const json& a) {
         return reply(run_pipeline(text_of(a, "module"), text_of(a, "pipeline")), "module");
       }},
  };
  return table;
}

// Reads exactly `n` bytes; false at end of stream or on an error.
bool read_exactly(int fd, char* out, size_t n) {
  while (n > 0) {
    ssize_t got = read(fd, out, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool write_all(int fd, const std::string& bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    ssize_t put = write(fd, p, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    p += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

void inject(const WorkerFault& fault, const std::string& request, int fd) {
  if (fault.kind.empty() || request.find(fault.trigger) == std::string::npos) return;
  if (fault.kind == "crash") std::raise(SIGSEGV);
  if (fault.kind == "exit") _exit(3);
  if (fault.kind == "stall") {
    while (true) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  if (fault.kind == "garble") {
    write_all(fd, std::string("\x05\x00\x00\x00garbl", 9));
  }
}

}  // namespace

json handle_worker_request(const json& request) {
  try {
    const std::string op = request.at("op").get<std::string>();
    auto handler = handlers().find(op);
    if (handler == handlers().end()) return reply(Status(fail("unknown op '" + op + "'")));
    return handler->second(request.at("args"));
  } catch (const json::exception& e) {
    return reply(Status(fail(std::string("malformed request: ") + e.what())));
  } catch (const std::exception& e) {
    return reply(Status(fail(std::string("the rewriter failed: ") + e.what())));
  }
}

int serve_worker(int fd, const WorkerFault& fault) {
  while (true) {
    unsigned char prefix[4];
    if (!read_exactly(fd, reinterpret_cast<char*>(prefix), 4)) return 0;  // controller gone
    uint32_t length = worker_message_length(prefix);
    if (length > kMaxWorkerMessage) return 1;
    std::string bytes(length, '\0');
    if (!read_exactly(fd, bytes.data(), length)) return 1;
    inject(fault, bytes, fd);
    if (fault.kind == "garble" && bytes.find(fault.trigger) != std::string::npos) continue;
    auto request = decode_worker_message(bytes);
    json answer = request ? handle_worker_request(*request)
                          : reply(Status(fail("malformed request: " + request.error())));
    if (!write_all(fd, encode_worker_message(answer))) return 1;
  }
}

}  // namespace ratchet
