#include "engine/flag_mutator.h"

namespace ratchet {

FlagMutator::FlagMutator(const Task& task, int max_genes)
    : genes_(flag_genes(compiler_family(task.compiler), task.allows_unsafe_math())),
      max_genes_(max_genes) {}

std::optional<Proposal> FlagMutator::propose(const ProposalContext& context) {
  FlagMutation mutation = mutate_flags(context.parent.program.flags, genes_, context.rng,
                                       max_genes_);
  Proposal proposal;
  proposal.edit.kind = EditKind::flags;
  proposal.edit.flags = std::move(mutation.flags);
  proposal.edit.summary = std::move(mutation.summary);
  proposal.proposer = kind();
  return proposal;
}

}  // namespace ratchet
