#include "rewriters/worker_protocol.h"

namespace ratchet {

std::string encode_worker_message(const nlohmann::json& message) {
  std::vector<uint8_t> body = nlohmann::json::to_cbor(message);
  auto n = static_cast<uint32_t>(body.size());
  std::string out;
  out.reserve(4 + body.size());
  for (int i = 0; i < 4; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out.append(body.begin(), body.end());
  return out;
}

uint32_t worker_message_length(const unsigned char prefix[4]) {
  return uint32_t{prefix[0]} | uint32_t{prefix[1]} << 8 | uint32_t{prefix[2]} << 16 |
         uint32_t{prefix[3]} << 24;
}

Result<nlohmann::json> decode_worker_message(const std::string& bytes) {
  nlohmann::json message = nlohmann::json::from_cbor(bytes, /*strict=*/true,
                                                     /*allow_exceptions=*/false);
  if (message.is_discarded()) return fail("not a CBOR message");
  if (!message.is_object()) return fail("not an object");
  return message;
}

nlohmann::json to_json(const RewriteContext& context) {
  return {{"language", context.language},
          {"flags", context.flags},
          {"compiler", context.compiler},
          {"directory", context.directory.string()},
          {"evolvable_functions", context.evolvable_functions},
          {"validate", context.validate}};
}

RewriteContext rewrite_context_from_json(const nlohmann::json& json) {
  RewriteContext context;
  context.language = json.at("language").get<std::string>();
  context.flags = json.at("flags").get<std::vector<std::string>>();
  context.compiler = json.at("compiler").get<std::string>();
  context.directory = json.at("directory").get<std::string>();
  context.evolvable_functions = json.at("evolvable_functions").get<std::vector<std::string>>();
  context.validate = json.at("validate").get<bool>();
  return context;
}

nlohmann::json to_json(const TransformRule& rule) {
  return {{"name", rule.name},
          {"match", rule.match},
          {"replace", rule.replace},
          {"target", rule.target},
          {"description", rule.description}};
}

TransformRule transform_rule_from_json(const nlohmann::json& json) {
  TransformRule rule;
  rule.name = json.at("name").get<std::string>();
  rule.match = json.at("match").get<std::string>();
  rule.replace = json.at("replace").get<std::string>();
  rule.target = json.at("target").get<std::string>();
  rule.description = json.at("description").get<std::string>();
  return rule;
}

}  // namespace ratchet
