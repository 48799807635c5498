#include "engine/proposer.h"

#include "engine/flag_mutator.h"
#include "engine/llm_proposer.h"
#include "engine/pipeline_mutator.h"
#include "engine/transform_proposer.h"

namespace ratchet {

const std::vector<ProposerKind>& proposer_kinds() {
  static const std::vector<ProposerKind> kinds = {
      {"flags", "mutates the compiler flag genome (offline)",
       [](const ProposerConfig& config, const LlmConfig&,
          const Task& task) -> std::unique_ptr<Proposer> {
         return std::make_unique<FlagMutator>(task, config.max_genes);
       }},
      {"llm", "asks the LLM endpoints of the config's \"llm\" section for SEARCH/REPLACE edits",
       [](const ProposerConfig& config, const LlmConfig& llm,
          const Task& task) -> std::unique_ptr<Proposer> {
         return std::make_unique<LlmProposer>(llm, task, config.max_genes);
       }},
      {"transforms",
       "applies built-in codified transforms and the database's transform rules, favouring "
       "rules that won (offline)",
       [](const ProposerConfig&, const LlmConfig&, const Task& task) -> std::unique_ptr<Proposer> {
         return std::make_unique<TransformProposer>(task);
       }},
      {"pipeline",
       "mutates the opt pass pipeline every source then goes through (offline; sources are "
       "compiled with clang-19 and opt-19)",
       [](const ProposerConfig&, const LlmConfig&, const Task&) -> std::unique_ptr<Proposer> {
         return std::make_unique<PipelineMutator>();
       }},
  };
  return kinds;
}

std::vector<WeightedProposer> make_proposers(const std::vector<ProposerConfig>& configs,
                                             const Task& task, const LlmConfig& llm) {
  std::vector<WeightedProposer> proposers;
  for (const auto& config : configs) {
    for (const auto& kind : proposer_kinds()) {
      if (config.kind == kind.name) proposers.push_back({kind.make(config, llm, task), config.weight});
    }
  }
  return proposers;
}

Proposer& pick_proposer(std::vector<WeightedProposer>& proposers, std::mt19937_64& rng) {
  double total = 0;
  for (const auto& entry : proposers) total += entry.weight;
  double x = std::uniform_real_distribution<double>(0, total)(rng);
  for (auto& entry : proposers) {
    if (x < entry.weight) return *entry.proposer;
    x -= entry.weight;
  }
  return *proposers.back().proposer;
}

}  // namespace ratchet
