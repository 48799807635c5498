// The prompt of one LLM proposal: a system message, then a user message that
// carries the task, the parent's code (its evolvable regions marked), its
// metrics with their confidence interval, inspirations (the best and some
// diverse candidates' regions), the evidence of recent failures (refusal
// reasons, compiler diagnostics, verifier differences, sanitizer reports,
// each cut in the middle to a few hundred bytes) and the required edit format.
//
// Templates: `{{name}}` placeholders are replaced; unknown ones stay as
// written. Placeholders: task, description, language, file, parent_id, code,
// flags, metrics, inspirations, failures, format.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/llm/wire.h"

namespace ratchet::llm {

struct PromptCandidate {
  int64_t id = 0;
  std::string label;       // "speedup 1.31x [1.25, 1.36]"
  std::string edit;        // edit summary
  std::string regions;     // the evolvable regions' text
};

struct PromptFailure {
  int64_t id = 0;
  std::string status;      // refused, build_failed, verify_failed, …
  std::string edit;        // edit summary
  std::string evidence;    // refusal reason, diagnostics, …
};

struct PromptInput {
  std::string task;
  std::string description;
  std::string language;    // c | c++
  std::string file;        // the file to edit
  std::string code;        // its full text (or its regions when very large)
  int64_t parent_id = 0;
  std::vector<std::string> flags;
  nlohmann::json metrics = nlohmann::json::object();
  std::vector<PromptCandidate> inspirations;
  std::vector<PromptFailure> failures;
};

struct PromptTemplates {
  std::string system;  // "" = the built-in one
  std::string user;
};

const std::string& default_system_template();
const std::string& default_user_template();

// Metrics as one line: "speedup 1.12x, 95% interval [1.08, 1.15], 12 pairs; …"
std::string describe_metrics(const nlohmann::json& metrics);

// Evidence of a failed candidate from its artifacts, at most `max_bytes`.
std::string failure_evidence(const nlohmann::json& artifacts, size_t max_bytes);

// The evolvable regions of `text`, separated by "...", or `text` when it has none.
std::string region_text(const std::string& text);

std::string render_template(const std::string& text,
                            const std::vector<std::pair<std::string, std::string>>& values);

ChatRequest build_prompt(const PromptInput& input, const PromptTemplates& templates,
                         double temperature, int max_tokens);

}  // namespace ratchet::llm
