// The built-in flag proposer: mutates the parent's flag genome
// (rewriters/flag_genome.h). Unsafe-math alleles are offered only when the
// task verifies numerically with a tolerance.
#pragma once

#include "engine/proposer.h"
#include "rewriters/flag_genome.h"

namespace ratchet {

class FlagMutator final : public Proposer {
 public:
  FlagMutator(const Task& task, int max_genes);
  std::string kind() const override { return "flags"; }
  std::optional<Proposal> propose(const ProposalContext& context) override;

 private:
  std::vector<Gene> genes_;
  int max_genes_;
};

}  // namespace ratchet
