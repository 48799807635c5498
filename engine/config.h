// Campaign configuration, loaded strictly from a JSON file (comments
// allowed). Paths in the file are relative to the file's folder. Every
// error is one line naming the file, the key path and what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/benchmark.h"
#include "engine/map_elites.h"
#include "evaluators/cascade.h"

namespace ratchet {

// How parents are chosen (engine/islands.h explains the moves).
struct SearchConfig {
  std::string strategy = "evolution";  // evolution | best_of_n | hill_climb
  int islands = 1;
  int migration_interval = 20;  // evaluated candidates between migrations; 0: never
  double exploitation = 0.6;    // tournament on fitness
  double exploration = 0.2;     // uniform over the island
  double diversity = 0.2;       // uniform over the island's MAP-Elites elites
  int tournament_size = 3;
  int inspirations = 3;
  std::vector<FeatureDimension> features = {{"code_size", {1000, 2000, 4000, 8000}},
                                            {"flag_count", {2, 4, 6}}};
  // Fitness = sum of weight * feature; negative weights minimize.
  std::map<std::string, double> weights = {{"speedup", 1.0}};
  // "weighted": parents ranked by the weighted score above. "pareto": the
  // non-dominated candidates over `pareto` objectives are each island's
  // elites, and exploitation picks among them.
  std::string objective = "weighted";
  // Objective name (a feature, as in weights) and whether to maximize it.
  std::vector<std::pair<std::string, bool>> pareto;
  // Candidates between proposal and learning (engine/campaign.h): 1 is the
  // sequential loop, deterministic for a seed; more overlap LLM calls,
  // builds and benchmarks.
  int in_flight = 3;
  // Elites re-measured at higher precision after the search (the best and
  // the next fastest), reported in the confirmed ranking.
  int confirm_top = 3;
};

struct ProposerConfig {
  std::string kind = "flags";
  double weight = 1.0;
  int max_genes = 2;  // flags: genes changed per mutation, 1..max_genes
};

// One LLM endpoint + model. The key is never in the config: `api_key_env`
// names the environment variable read at request time ("" = no key, for
// local servers).
struct LlmModelConfig {
  std::string base_url;  // e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1
  std::string model;
  std::string api_key_env;
  std::string kind = "openai";  // openai (chat completions) | anthropic (messages)
  double weight = 1.0;          // how often this model is drawn (ensembles)
  double temperature = 0.7;
  int max_tokens = 4096;        // per answer
  // The request field that carries max_tokens on the openai kind: OpenAI's own
  // API wants max_completion_tokens (its reasoning models refuse max_tokens);
  // vLLM, llama.cpp, Ollama and most other servers read max_tokens.
  std::string token_limit_field = "max_tokens";  // max_tokens | max_completion_tokens
  int timeout_ms = 120'000;     // per attempt
  int concurrency = 4;          // requests in flight to this endpoint
  int requests_per_minute = 0;  // 0: no limit
  int64_t tokens_per_minute = 0;
  double price_in = 0;   // USD per million prompt tokens
  double price_out = 0;  // USD per million completion tokens
};

struct LlmConfig {
  std::vector<LlmModelConfig> models;
  int64_t max_tokens = 0;     // campaign budget, prompt + completion; 0: none
  double max_cost_usd = 0;    // 0: none
  std::string on_all_down = "continue";  // continue (built-in proposers) | stop
  bool store_text = true;     // keep prompt and response text in llm_calls
  std::string system_template;  // "" = built-in (engine/llm/prompt.h)
  std::string user_template;
  std::string replay_mode = "off";  // off | record | replay
  std::filesystem::path replay_path;
  int max_attempts = 5;            // per call, first attempt included
  double max_retry_seconds = 120;  // per call, backoff included
};

struct CampaignConfig {
  std::filesystem::path file;
  std::string name;
  std::filesystem::path task_dir;
  uint64_t seed = 1;
  int64_t max_evals = 50;
  double max_wall_seconds = 0;  // 0: no limit
  SearchConfig search;
  std::vector<ProposerConfig> proposers;
  BenchmarkSettings benchmark;
  VerifySettings verification;
  LlmConfig llm;
  nlohmann::json raw;  // as written, for the database
};

// Throws a usage FatalError (exit 2) for anything wrong with the file.
CampaignConfig load_config(const std::filesystem::path& file);

// `ratchet run --llm-base-url URL --llm-model NAME --llm-api-key-env VAR`:
// adds one OpenAI-compatible model and, when no proposer of kind "llm" is
// configured, an "llm" proposer. Throws a usage FatalError for a bad value.
void add_llm_shortcut(CampaignConfig& config, const std::string& base_url,
                      const std::string& model, const std::string& api_key_env);

}  // namespace ratchet
