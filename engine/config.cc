#include "engine/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/json_config.h"
#include "common/result.h"
#include "sandbox/sandbox.h"

namespace ratchet {

namespace {

void read_budget(JsonObjectReader budget, CampaignConfig& config) {
  config.max_evals = budget.integer_or("max_evals", config.max_evals, 0, 100'000'000);
  config.max_wall_seconds = budget.number_or("max_wall_seconds", 0.0, 0.0, 1e9);
  budget.finish();
}

std::vector<double> read_bins(JsonObjectReader& feature) {
  const nlohmann::json* bins = feature.raw("bins");
  const char* expected = "a non-empty array of ascending numbers";
  if (!bins || !bins->is_array() || bins->empty()) feature.fail("bins", expected);
  std::vector<double> edges;
  for (const auto& edge : *bins) {
    if (!edge.is_number()) feature.fail("bins", expected);
    if (!edges.empty() && edge.get<double>() <= edges.back()) feature.fail("bins", expected);
    edges.push_back(edge.get<double>());
  }
  return edges;
}

void read_search(JsonObjectReader search, SearchConfig& config) {
  config.strategy =
      search.choice_or("strategy", {"evolution", "best_of_n", "hill_climb"}, config.strategy);
  config.islands = static_cast<int>(search.integer_or("islands", config.islands, 1, 64));
  config.migration_interval = static_cast<int>(
      search.integer_or("migration_interval", config.migration_interval, 0, 1'000'000));
  config.exploitation = search.number_or("exploitation", config.exploitation, 0.0, 1.0);
  config.exploration = search.number_or("exploration", config.exploration, 0.0, 1.0);
  config.diversity = search.number_or("diversity", config.diversity, 0.0, 1.0);
  if (config.exploitation + config.exploration + config.diversity <= 0) {
    search.fail("exploitation", "exploitation, exploration and diversity not all 0");
  }
  config.tournament_size =
      static_cast<int>(search.integer_or("tournament_size", config.tournament_size, 1, 1000));
  config.inspirations =
      static_cast<int>(search.integer_or("inspirations", config.inspirations, 0, 16));
  if (search.has("features")) {
    config.features.clear();
    for (auto& feature : search.objects("features")) {
      config.features.push_back({feature.string("name"), read_bins(feature)});
      feature.finish();
    }
  }
  if (const nlohmann::json* weights = search.raw("weights")) {
    const char* expected = "an object of feature name to number";
    if (!weights->is_object() || weights->empty()) search.fail("weights", expected);
    config.weights.clear();
    for (const auto& [name, weight] : weights->items()) {
      if (!weight.is_number()) search.fail("weights", expected);
      config.weights[name] = weight.get<double>();
    }
  }
  config.objective = search.choice_or("objective", {"weighted", "pareto"}, config.objective);
  if (const nlohmann::json* pareto = search.raw("pareto")) {
    const char* expected = "an object of two or more feature names to \"max\" or \"min\"";
    if (!pareto->is_object() || pareto->size() < 2) search.fail("pareto", expected);
    config.pareto.clear();
    for (const auto& [name, goal] : pareto->items()) {
      if (!goal.is_string() || (goal != "max" && goal != "min")) search.fail("pareto", expected);
      config.pareto.emplace_back(name, goal == "max");
    }
  }
  if (config.objective == "pareto" && config.pareto.empty()) {
    config.pareto = {{"speedup", true}, {"code_size", false}};
  }
  config.in_flight = static_cast<int>(search.integer_or("in_flight", config.in_flight, 1, 64));
  config.confirm_top =
      static_cast<int>(search.integer_or("confirm_top", config.confirm_top, 0, 100));
  search.finish();
}

ProposerConfig read_proposer(JsonObjectReader reader) {
  ProposerConfig proposer;
  proposer.kind = reader.choice_or("kind", {"flags", "llm", "pipeline", "transforms"}, "flags");
  proposer.weight = reader.number_or("weight", 1.0, 0.0, 1e6);
  proposer.max_genes = static_cast<int>(reader.integer_or("max_genes", 2, 1, 16));
  reader.finish();
  return proposer;
}

// ---- llm -------------------------------------------------------------------

bool valid_env_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Refuses what looks like a key pasted where its variable's name belongs,
// without repeating the value (it may be a real key).
std::optional<std::string> check_api_key_env(const std::string& name) {
  if (name.empty()) return std::nullopt;
  bool looks_like_key = name.starts_with("sk-") || name.starts_with("sk_") || name.size() > 64;
  if (looks_like_key || !valid_env_name(name)) {
    return std::string("the NAME of an environment variable holding the key (letters, digits, "
                       "_), not the key itself; got a value of ") +
           std::to_string(name.size()) + " characters";
  }
  return std::nullopt;
}

std::optional<std::string> check_base_url(const std::string& url) {
  if (url.starts_with("http://") || url.starts_with("https://")) return std::nullopt;
  return std::string("an http:// or https:// URL");
}

// OpenAI's own endpoint (not a compatible server): it takes max_completion_tokens.
bool is_openai_api(const std::string& url) {
  return url.starts_with("https://api.openai.com/") || url == "https://api.openai.com";
}

LlmModelConfig read_llm_model(JsonObjectReader reader) {
  LlmModelConfig model;
  model.base_url = reader.string("base_url");
  if (auto problem = check_base_url(model.base_url)) {
    reader.fail("base_url", *problem + ", got \"" + model.base_url + "\"");
  }
  model.model = reader.string("model");
  if (model.model.empty()) reader.fail("model", "a model name");
  model.api_key_env = reader.string_or("api_key_env", "");
  if (auto problem = check_api_key_env(model.api_key_env)) {
    usage_error(fmt::format("{}: key '{}': expected {}", reader.file(),
                            reader.key_path("api_key_env"), *problem));
  }
  model.kind = reader.choice_or("kind", {"openai", "anthropic"}, "openai");
  model.weight = reader.number_or("weight", model.weight, 0.0, 1e6);
  model.temperature = reader.number_or("temperature", model.temperature, 0.0, 2.0);
  model.max_tokens =
      static_cast<int>(reader.integer_or("max_tokens", model.max_tokens, 1, 1'000'000));
  model.token_limit_field = reader.choice_or(
      "token_limit_field", {"max_tokens", "max_completion_tokens"},
      is_openai_api(model.base_url) ? "max_completion_tokens" : "max_tokens");
  if (model.kind == "anthropic" && model.token_limit_field != "max_tokens") {
    reader.fail("token_limit_field", "\"max_tokens\" for kind \"anthropic\" (its only form)");
  }
  model.timeout_ms =
      static_cast<int>(reader.integer_or("timeout_ms", model.timeout_ms, 100, 3'600'000));
  model.concurrency =
      static_cast<int>(reader.integer_or("concurrency", model.concurrency, 1, 1024));
  model.requests_per_minute =
      static_cast<int>(reader.integer_or("requests_per_minute", 0, 0, 1'000'000));
  model.tokens_per_minute = reader.integer_or("tokens_per_minute", 0, 0, INT64_MAX);
  model.price_in = reader.number_or("price_in", 0.0, 0.0, 1e6);
  model.price_out = reader.number_or("price_out", 0.0, 0.0, 1e6);
  reader.finish();
  return model;
}

void read_llm(JsonObjectReader reader, LlmConfig& llm, const std::filesystem::path& base) {
  for (auto& model : reader.objects("models")) llm.models.push_back(read_llm_model(model));
  if (auto budget = reader.object("budget")) {
    llm.max_tokens = budget->integer_or("max_tokens", 0, 0, INT64_MAX);
    llm.max_cost_usd = budget->number_or("max_cost_usd", 0.0, 0.0, 1e9);
    budget->finish();
  }
  llm.on_all_down = reader.choice_or("on_all_down", {"continue", "stop"}, "continue");
  llm.store_text = reader.boolean_or("store_text", true);
  if (auto templates = reader.object("templates")) {
    llm.system_template = templates->string_or("system", "");
    llm.user_template = templates->string_or("user", "");
    templates->finish();
  }
  if (auto replay = reader.object("replay")) {
    llm.replay_mode = replay->choice_or("mode", {"off", "record", "replay"}, "off");
    std::string path = replay->string_or("path", "");
    if (llm.replay_mode != "off" && path.empty()) {
      replay->fail("path", "a file path for the exchange cache");
    }
    if (!path.empty()) {
      llm.replay_path = path;
      if (llm.replay_path.is_relative()) llm.replay_path = base / llm.replay_path;
    }
    replay->finish();
  }
  if (auto retries = reader.object("retries")) {
    llm.max_attempts =
        static_cast<int>(retries->integer_or("max_attempts", llm.max_attempts, 1, 100));
    llm.max_retry_seconds = retries->number_or("max_seconds", llm.max_retry_seconds, 0.0, 86'400);
    retries->finish();
  }
  double total = 0;
  for (const auto& model : llm.models) total += model.weight;
  if (!llm.models.empty() && total <= 0) {
    reader.fail("models", "at least one model with weight above 0");
  }
  reader.finish();
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
  // "auto": a slot per core ratchet may run on.
  size_t cpus = std::max<size_t>(sandbox::allowed_cpus().size(), 1);
  if (const nlohmann::json* slots = reader.raw("slots"); slots && *slots == "auto") {
    settings.slots = static_cast<int>(std::min<size_t>(cpus, 64));
  } else if (slots) {
    if (!slots->is_number_integer() || *slots < 1 || *slots > 64) {
      reader.fail("slots", "an integer from 1 to 64, or \"auto\"");
    }
    settings.slots = slots->get<int>();
    if (settings.slots > 1 && static_cast<size_t>(settings.slots) > cpus) {
      reader.fail("slots", fmt::format(
                               "at most the {} CPUs ratchet may run on (a slot owns a core), or "
                               "\"auto\"",
                               cpus));
    }
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
  if (auto llm = root.object("llm")) read_llm(*llm, config.llm, file.parent_path());
  bool wants_llm = false;
  for (const auto& proposer : config.proposers) wants_llm = wants_llm || proposer.kind == "llm";
  if (wants_llm && config.llm.models.empty()) {
    root.fail("llm", "an \"llm\" section with at least one model (a proposer of kind \"llm\" "
                     "is configured)");
  }
  root.finish();
  return config;
}

void add_llm_shortcut(CampaignConfig& config, const std::string& base_url,
                      const std::string& model, const std::string& api_key_env) {
  if (auto problem = check_base_url(base_url)) {
    usage_error("--llm-base-url: expected " + *problem + ", got \"" + base_url + "\"");
  }
  if (model.empty()) usage_error("--llm-model: expected a model name");
  if (auto problem = check_api_key_env(api_key_env)) {
    usage_error("--llm-api-key-env: expected " + *problem);
  }
  LlmModelConfig entry;
  entry.base_url = base_url;
  entry.model = model;
  entry.api_key_env = api_key_env;
  config.llm.models.push_back(entry);
  for (const auto& proposer : config.proposers) {
    if (proposer.kind == "llm") return;
  }
  ProposerConfig llm;
  llm.kind = "llm";
  config.proposers.push_back(llm);
}

}  // namespace ratchet
