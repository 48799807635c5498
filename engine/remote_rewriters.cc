#include "engine/remote_rewriters.h"

#include <mutex>
#include <sstream>
#include <unordered_map>

#include "common/hash.h"
#include "common/program_files.h"
#include "engine/rewriter_client.h"
#include "rewriters/semantic_hash.h"
#include "rewriters/worker_protocol.h"

namespace ratchet::remote {

namespace {

using nlohmann::json;

Result<json> call(const std::string& op, json args, const std::string& what = "") {
  return rewriter_client().call(op, args, what);
}

// `key` of a reply's value: a reply without it is an error, not a crash.
template <class T>
Result<T> field(const Result<json>& reply, const char* key) {
  if (!reply) return fail(reply.error());
  try {
    return reply->at(key).get<T>();
  } catch (const json::exception& e) {
    return fail(std::string("the rewriter's reply is malformed (") + key + ": " + e.what() + ")");
  }
}

Result<std::string> text_reply(const Result<json>& reply, const char* key) {
  return field<std::string>(reply, key);
}

Status status_reply(const Result<json>& reply) {
  if (!reply) return fail(reply.error());
  return Ok{};
}

// Token hashes by (language, -std flags, content): a campaign re-hashes the
// same few files at every flag edit.
class TokenHashCache {
 public:
  static constexpr size_t kMaxEntries = 1 << 16;  // about 4 MB at the limit

  static std::string key(const std::string& text, const RewriteContext& lexing) {
    Hasher hasher;
    hasher.add(lexing.language);
    for (const auto& flag : lexing.flags) {
      if (flag.rfind("-std=", 0) == 0) hasher.add(flag);
    }
    hasher.add(text);
    return hasher.hex();
  }
  std::optional<std::string> find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = hashes_.find(key);
    if (it == hashes_.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& key, const std::string& hash) {
    std::lock_guard lock(mutex_);
    if (hashes_.size() >= kMaxEntries) hashes_.clear();  // a new campaign phase: start again
    hashes_[key] = hash;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::string> hashes_;
};

TokenHashCache& token_cache() {
  static TokenHashCache cache;
  return cache;
}

}  // namespace

Result<Program> apply_edit(const Program& parent, const Edit& edit,
                           const std::vector<Gene>& genes, const RewriteContext& context) {
  if (edit.kind == EditKind::flags) {
    if (!is_plain_flags_edit(edit)) {
      if (Status ok = check_pipeline(edit.text); !ok) {
        return fail("the pass pipeline '" + edit.text + "' is refused: " + ok.error());
      }
    }
    return apply_flags_edit(parent, edit, genes);
  }
  Program sent = parent;
  if (edit.kind == EditKind::ir && !edit.symbol.empty()) {
    // The worker cannot run a build step: lower the source here when needed.
    auto file = ir_edit_source(parent, edit);
    if (!file) return fail(file.error());
    if (!parent.files.count(ir_file_of(*file))) {
      if (!context.lower_to_ir) {
        return fail("cannot lower " + *file + " to IR here: no IR lowering step is configured");
      }
      auto lowered = context.lower_to_ir(parent, *file);
      if (!lowered) return fail(lowered.error());
      sent.files[ir_file_of(*file)] = std::move(*lowered);
    }
  }
  auto reply = call(
      "apply_edit",
      {{"parent", to_json(sent)}, {"edit", to_json(edit)}, {"context", to_json(context)}},
      "this edit");
  auto program = field<json>(reply, "program");
  if (!program) return fail(program.error());
  try {
    return program_from_json(*program);
  } catch (const json::exception& e) {
    return fail(std::string("the rewriter's reply is malformed (program: ") + e.what() + ")");
  }
}

std::string semantic_hash(const Program& program, const RewriteContext& context) {
  // The files whose token hash is not cached, asked for in one request.
  std::map<std::string, std::string> known;  // cache key → token hash
  json texts = json::array(), contexts = json::array();
  std::vector<std::string> asked;
  RewriteContext lexing = context;
  for (const auto& [path, content] : program.files) {
    lexing.language = lexing_language(path, context.language);
    if (lexing.language.empty()) continue;
    std::string key = TokenHashCache::key(content, lexing);
    if (known.count(key)) continue;
    if (auto hash = token_cache().find(key)) {
      known[key] = *hash;
      continue;
    }
    known[key] = "";
    asked.push_back(key);
    texts.push_back(content);
    contexts.push_back(to_json(lexing));
  }
  if (!asked.empty()) {
    auto hashes = field<std::vector<std::string>>(
        call("token_hashes", {{"texts", texts}, {"contexts", contexts}}), "hashes");
    if (hashes && hashes->size() == asked.size()) {
      for (size_t i = 0; i < asked.size(); ++i) {
        known[asked[i]] = (*hashes)[i];
        token_cache().put(asked[i], known[asked[i]]);
      }
    }
  }
  return ratchet::semantic_hash(program, context,
                                [&](const std::string& text, const RewriteContext& lex) {
                                  const std::string& hash = known[TokenHashCache::key(text, lex)];
                                  return hash.empty() ? normalize_source(text) : hash;
                                });
}

Status validate_source(const std::string& file, const std::string& text,
                       const RewriteContext& context) {
  return status_reply(
      call("validate_source", {{"file", file}, {"text", text}, {"context", to_json(context)}}));
}

Status check_matcher(const std::string& match) {
  return status_reply(call("check_matcher", {{"match", match}}));
}

Result<std::string> apply_rule(const std::string& file, const std::string& text,
                               const TransformRule& rule, const RewriteContext& context) {
  return text_reply(call("apply_rule", {{"file", file}, {"text", text}, {"rule", to_json(rule)},
                                        {"context", to_json(context)}}, "this rule"),
                    "text");
}

Result<std::string> apply_builtin(const std::string& name, const std::string& file,
                                  const std::string& text, const RewriteContext& context) {
  return text_reply(call("apply_builtin", {{"name", name}, {"file", file}, {"text", text},
                                           {"context", to_json(context)}}, "this transform"),
                    "text");
}

const std::vector<BuiltinTransform>& builtin_transforms() {
  static std::mutex mutex;
  static std::vector<BuiltinTransform> list;
  std::lock_guard lock(mutex);
  if (list.empty()) {
    auto reply = field<json>(call("builtin_transforms", json::object()), "list");
    try {
      for (const auto& t : reply ? *reply : json::array()) {
        list.push_back({t.at("name"), t.at("description"), t.at("cxx_only")});
      }
    } catch (const json::exception&) {
      list.clear();  // a malformed reply: asked again next time
    }
  }
  return list;
}

Result<std::string> replace_function(const std::string& file, const std::string& text,
                                     const std::string& symbol, const std::string& definition,
                                     const RewriteContext& context) {
  return text_reply(call("replace_function",
                         {{"file", file}, {"text", text}, {"symbol", symbol},
                          {"definition", definition}, {"context", to_json(context)}},
                         "this edit"),
                    "text");
}

Result<int> verify_ir(const std::string& module_text) {
  return field<int>(call("verify_ir", {{"module", module_text}}), "functions");
}

Status check_pipeline(const std::string& pipeline) {
  return status_reply(call("check_pipeline", {{"pipeline", pipeline}}));
}

Result<std::string> run_pipeline(const std::string& module_text, const std::string& pipeline) {
  return text_reply(call("run_pipeline", {{"module", module_text}, {"pipeline", pipeline}}),
                    "module");
}

std::string mutate_pipeline(const std::string& pipeline, std::mt19937_64& rng) {
  std::ostringstream state;
  state << rng;
  auto reply = call("mutate_pipeline", {{"pipeline", pipeline}, {"rng", state.str()}});
  auto mutated = field<std::string>(reply, "pipeline");
  auto advanced = field<std::string>(reply, "rng");
  if (!mutated || !advanced) return pipeline;
  std::istringstream(*advanced) >> rng;
  return *mutated;
}

}  // namespace ratchet::remote
