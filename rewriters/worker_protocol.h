// The rewriter worker's wire format, shared by the worker (rewriters/
// worker_server.h, the `ratchet-rewriter` executable) and the controller's
// client (engine/rewriter_client.h). Plain C++: no clang.
//
// One request, then its reply, over one stream socket. Each message is a
// 4-byte little-endian length, then that many bytes of CBOR (JSON's binary
// form, RFC 8949, through nlohmann::json): CBOR carries a source's bytes as
// they are, where JSON text would need them to be valid UTF-8.
//
//   request  {"op": "apply_edit", "args": {"parent": …, "edit": …, "context": …}}
//   reply    {"ok": true, "value": {"program": …}}
//            {"ok": false, "error": "the edited k.c does not parse: …"}
//
// The ops and their arguments are listed in worker_server.cc.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "rewriters/rewrite_context.h"
#include "rewriters/transform_rule.h"

namespace ratchet {

// A message longer than this is a broken stream, not a message.
inline constexpr uint32_t kMaxWorkerMessage = 512u << 20;

// The length prefix and the CBOR bytes of `message`.
std::string encode_worker_message(const nlohmann::json& message);

// The length a 4-byte prefix announces.
uint32_t worker_message_length(const unsigned char prefix[4]);

// The message of `bytes` (the part after the prefix), or why it is not one.
Result<nlohmann::json> decode_worker_message(const std::string& bytes);

// JSON forms (RewriteContext::lower_to_ir is a callback and does not travel:
// the controller lowers a source itself before it sends an ir edit).
nlohmann::json to_json(const RewriteContext& context);
RewriteContext rewrite_context_from_json(const nlohmann::json& json);
nlohmann::json to_json(const TransformRule& rule);
TransformRule transform_rule_from_json(const nlohmann::json& json);

}  // namespace ratchet
