#include "engine/llm/prompt.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "common/regions.h"
#include "common/text.h"

namespace ratchet::llm {

namespace {

constexpr size_t kMaxCodeBytes = 24'000;        // larger files: regions only
constexpr size_t kMaxInspirationBytes = 4'000;  // each
constexpr size_t kMaxFailureBytes = 1'200;      // each

const char* kFormat =
    "Answer with one or more SEARCH/REPLACE blocks that change only code between "
    "EVOLVE-BLOCK-START and EVOLVE-BLOCK-END:\n"
    "\n"
    "<<<<<<< SEARCH\n"
    "(lines copied exactly from the current program, enough to be unique)\n"
    "=======\n"
    "(the new lines)\n"
    ">>>>>>> REPLACE\n"
    "\n"
    "Every SEARCH text must match the current program once; blocks must not overlap. "
    "Alternatively, give the complete new text of the first evolvable region in one fenced "
    "code block. Or, when the improvement is a pattern that may occur in many places, write "
    "it as a transform rule in a ```json block: {\"name\": \"short-name\", \"match\": "
    "\"<a clang-query AST matcher; bind nodes with .bind(\\\"x\\\")>\", \"replace\": "
    "\"<the new code for the whole match, using ${x} for bound nodes>\"}; it is applied at "
    "every match inside the evolvable regions. Keep the output byte-for-byte identical; do "
    "not add EVOLVE-BLOCK markers.";

std::string join_blocks(const std::vector<std::string>& parts, const std::string& none) {
  if (parts.empty()) return none;
  size_t size = 0;
  for (const auto& part : parts) size += part.size() + 1;
  std::string out;
  out.reserve(size);
  for (const auto& part : parts) out.append(part).push_back('\n');
  return out;
}

// Calls `piece` with each run of `text` in order, a placeholder's value in
// place of the placeholder (an unknown one stays as it is).
template <typename Piece>
void for_each_piece(std::string_view text,
                    const std::vector<std::pair<std::string, std::string>>& values, Piece piece) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    piece(text.substr(pos, open - pos));
    std::string_view name = text.substr(open + 2, close - open - 2);
    auto it = std::find_if(values.begin(), values.end(),
                           [&](const auto& pair) { return pair.first == name; });
    piece(it != values.end() ? std::string_view(it->second) : text.substr(open, close + 2 - open));
    pos = close + 2;
  }
  piece(text.substr(pos));
}

}  // namespace

const std::string& default_system_template() {
  static const std::string text =
      "You are an expert C and C++ performance engineer. You make programs faster while "
      "keeping their output exactly the same for every input. You change only the code "
      "between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END, and you answer in the exact edit "
      "format you are given.";
  return text;
}

const std::string& default_user_template() {
  static const std::string text =
      "# Task: {{task}}\n"
      "{{description}}\n"
      "\n"
      "# Current program: candidate #{{parent_id}}, file {{file}}\n"
      "Compiler flags: {{flags}}\n"
      "Performance: {{metrics}}\n"
      "\n"
      "```{{language}}\n"
      "{{code}}"
      "```\n"
      "\n"
      "# Other candidates, for inspiration\n"
      "{{inspirations}}\n"
      "# Recent attempts that failed (do not repeat them)\n"
      "{{failures}}\n"
      "# Your answer\n"
      "Propose one improvement likely to make the program faster. {{format}}\n";
  return text;
}

std::string describe_metrics(const nlohmann::json& metrics) {
  if (!metrics.is_object() || !metrics.contains("speedup") || !metrics["speedup"].is_number()) {
    return "not measured yet";
  }
  std::string out = fmt::format("speedup {:.3f}x over the baseline", metrics["speedup"].get<double>());
  if (metrics.contains("ci_low") && metrics.contains("ci_high") && metrics["ci_low"].is_number() &&
      metrics["ci_high"].is_number()) {
    out += fmt::format(", 95% interval [{:.3f}, {:.3f}]", metrics["ci_low"].get<double>(),
                       metrics["ci_high"].get<double>());
  }
  if (metrics.contains("pairs") && metrics["pairs"].is_number()) {
    out += fmt::format(", {} pairs", metrics["pairs"].get<int>());
  }
  if (metrics.contains("candidate_ms") && metrics.contains("baseline_ms") &&
      metrics["candidate_ms"].is_number() && metrics["baseline_ms"].is_number()) {
    out += fmt::format("; {:.3f} ms against the baseline's {:.3f} ms",
                       metrics["candidate_ms"].get<double>(), metrics["baseline_ms"].get<double>());
  }
  return out;
}

std::string failure_evidence(const nlohmann::json& artifacts, size_t max_bytes) {
  std::string out;
  if (!artifacts.is_object()) return out;
  for (const auto& [stage, artifact] : artifacts.items()) {
    if (artifact.is_string()) {
      out += stage + ": " + artifact.get<std::string>() + "\n";
    } else if (artifact.is_object()) {
      std::string status = artifact.value("status", "");
      if (status == "ok" || status == "skipped" || status == "pending" || status.empty()) continue;
      out += fmt::format("{} {}: {}\n", stage, status, artifact.value("summary", ""));
      if (artifact.contains("log") && artifact["log"].is_string()) {
        out += artifact["log"].get<std::string>() + "\n";
      }
    }
  }
  return truncate_middle(out, max_bytes);
}

std::string region_text(const std::string& text) {
  auto regions = find_regions(text);
  if (!regions || regions->empty()) return text;
  std::string out;
  for (size_t i = 0; i < regions->size(); ++i) {
    const Region& r = (*regions)[i];
    if (i > 0) out += "...\n";
    out += text.substr(r.begin, r.end - r.begin);
  }
  return out;
}

std::string render_template(const std::string& text,
                            const std::vector<std::pair<std::string, std::string>>& values) {
  // Measured first: the prompt is kilobytes, and grown as appended it was
  // copied several times.
  size_t size = 0;
  for_each_piece(text, values, [&](std::string_view piece) { size += piece.size(); });
  std::string out;
  out.reserve(size);
  for_each_piece(text, values, [&](std::string_view piece) { out.append(piece); });
  return out;
}

ChatRequest build_prompt(const PromptInput& input, const PromptTemplates& templates,
                         double temperature, int max_tokens) {
  std::vector<std::string> inspirations;
  for (const auto& c : input.inspirations) {
    inspirations.push_back(fmt::format("## Candidate #{}: {}; edit: {}\n```{}\n{}```", c.id, c.label,
                                       c.edit.empty() ? "-" : c.edit, input.language,
                                       truncate_middle(c.regions, kMaxInspirationBytes)));
  }
  std::vector<std::string> failures;
  for (const auto& f : input.failures) {
    failures.push_back(fmt::format("- #{} {} (edit: {}):\n{}", f.id, f.status,
                                   f.edit.empty() ? "-" : f.edit,
                                   truncate_middle(f.evidence, kMaxFailureBytes)));
  }
  std::string code = input.code.size() > kMaxCodeBytes ? region_text(input.code) : input.code;
  if (!code.empty() && code.back() != '\n') code += '\n';
  std::vector<std::pair<std::string, std::string>> values = {
      {"task", input.task},
      {"description", input.description},
      {"language", input.language == "c++" ? "cpp" : input.language},
      {"file", input.file},
      {"parent_id", std::to_string(input.parent_id)},
      {"code", code},
      {"flags", input.flags.empty() ? "(none)" : join(input.flags, " ")},
      {"metrics", describe_metrics(input.metrics)},
      {"inspirations", join_blocks(inspirations, "(none yet)\n")},
      {"failures", join_blocks(failures, "(none)\n")},
      {"format", kFormat},
  };
  ChatRequest request;
  request.temperature = temperature;
  request.max_tokens = max_tokens;
  request.messages.push_back(
      {"system", render_template(templates.system.empty() ? default_system_template()
                                                          : templates.system,
                                 values)});
  request.messages.push_back(
      {"user", render_template(templates.user.empty() ? default_user_template() : templates.user,
                               values)});
  return request;
}

}  // namespace ratchet::llm
