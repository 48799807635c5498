#include "engine/config.h"

#include <fmt/format.h>

#include "common/json_config.h"
#include "common/result.h"

namespace ratchet {

namespace {

void read_budget(JsonObjectReader budget, CampaignConfig& config) {
  config.max_evals = budget.integer_or("max_evals", config.max_evals, 0, 100'000'000);
  config.max_wall_seconds = budget.number_or("max_wall_seconds", 0.0, 0.0, 1e9);
  budget.finish();
}

void read_search(JsonObjectReader search, SearchConfig& config) {
  config.exploration = search.number_or("exploration", config.exploration, 0.0, 1.0);
  config.tournament_size =
      static_cast<int>(search.integer_or("tournament_size", config.tournament_size, 1, 1000));
  search.finish();
}

ProposerConfig read_proposer(JsonObjectReader reader) {
  ProposerConfig proposer;
  proposer.kind = reader.choice_or("kind", {"flags"}, "flags");
  proposer.weight = reader.number_or("weight", 1.0, 0.0, 1e6);
  proposer.max_genes = static_cast<int>(reader.integer_or("max_genes", 2, 1, 16));
  reader.finish();
  return proposer;
}

void read_benchmark(JsonObjectReader reader, BenchmarkSettings& settings) {
  settings.warmup_runs = static_cast<int>(reader.integer_or("warmup_runs", settings.warmup_runs, 0, 100));
  settings.min_pairs = static_cast<int>(reader.integer_or("min_pairs", settings.min_pairs, 2, 10'000));
  settings.max_pairs = static_cast<int>(reader.integer_or(
      "max_pairs", std::max(settings.max_pairs, settings.min_pairs), 2, 10'000));
  settings.target_ci = reader.number_or("target_ci", settings.target_ci, 0.0, 1.0);
  settings.max_seconds = reader.number_or("max_seconds", settings.max_seconds, 0.1, 86'400);
  settings.confidence = reader.number_or("confidence", settings.confidence, 0.5, 0.999);
  settings.mode = reader.choice_or("mode", {"time", "instructions"}, settings.mode);
  settings.min_effect = reader.number_or("min_effect", settings.min_effect, 0.0, 1.0);
  settings.count_functions = reader.strings_or("count_functions", settings.count_functions);
  if (settings.max_pairs < settings.min_pairs) {
    reader.fail("max_pairs", fmt::format("an integer >= min_pairs ({})", settings.min_pairs));
  }
  reader.finish();
}

void read_verification(JsonObjectReader reader, VerifySettings& settings) {
  settings.hidden_inputs =
      static_cast<int>(reader.integer_or("hidden_inputs", settings.hidden_inputs, 0, 100));
  settings.sanitizers = reader.boolean_or("sanitizers", settings.sanitizers);
  settings.determinism = reader.boolean_or("determinism", settings.determinism);
  reader.finish();
}

}  // namespace

CampaignConfig load_config(const std::filesystem::path& file) {
  CampaignConfig config;
  config.file = file;
  config.raw = parse_json_file(file);
  JsonObjectReader root(config.raw, file.string(), "");

  config.name = root.string_or("name", file.stem().string());
  std::string task = root.string("task");
  std::filesystem::path task_path = task;
  if (task_path.is_relative()) task_path = file.parent_path() / task_path;
  std::error_code ec;
  if (!std::filesystem::is_directory(task_path, ec)) {
    usage_error(fmt::format("{}: key 'task': task folder \"{}\" not found (looked in {})",
                            file.string(), task, task_path.lexically_normal().string()));
  }
  config.task_dir = std::filesystem::canonical(task_path);
  config.seed = static_cast<uint64_t>(root.integer_or("seed", 1, 0, INT64_MAX));

  if (auto budget = root.object("budget")) read_budget(*budget, config);
  if (auto search = root.object("search")) read_search(*search, config.search);
  for (auto& reader : root.objects("proposers")) config.proposers.push_back(read_proposer(reader));
  if (config.proposers.empty()) config.proposers.push_back(ProposerConfig{});
  double total_weight = 0;
  for (const auto& proposer : config.proposers) total_weight += proposer.weight;
  if (total_weight <= 0) root.fail("proposers", "at least one proposer with weight above 0");
  if (auto benchmark = root.object("benchmark")) read_benchmark(*benchmark, config.benchmark);
  if (auto verification = root.object("verification")) {
    read_verification(*verification, config.verification);
  }
  root.finish();
  return config;
}

}  // namespace ratchet
