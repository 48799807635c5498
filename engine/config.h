// Campaign configuration, loaded strictly from a JSON file (comments
// allowed). Paths in the file are relative to the file's folder. Every
// error is one line naming the file, the key path and what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluators/benchmark.h"
#include "evaluators/cascade.h"

namespace ratchet {

struct SearchConfig {
  double exploration = 0.2;  // chance of a uniformly random parent
  int tournament_size = 3;   // otherwise: best of this many random candidates
};

struct ProposerConfig {
  std::string kind = "flags";
  double weight = 1.0;
  int max_genes = 2;  // flags: genes changed per mutation, 1..max_genes
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
  nlohmann::json raw;  // as written, for the database
};

// Throws a usage FatalError (exit 2) for anything wrong with the file.
CampaignConfig load_config(const std::filesystem::path& file);

}  // namespace ratchet
