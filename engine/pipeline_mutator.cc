#include "engine/pipeline_mutator.h"

#include "evaluators/builder.h"
#include "engine/remote_rewriters.h"

namespace ratchet {

std::optional<Proposal> PipelineMutator::propose(const ProposalContext& context) {
  std::string current = program_pipeline(context.parent.program);
  std::string mutated =
      remote::mutate_pipeline(current.empty() ? "default<O2>" : current, context.rng);
  if (mutated == current) return std::nullopt;
  Proposal proposal;
  proposal.edit.kind = EditKind::flags;
  proposal.edit.flags = context.parent.program.flags;
  proposal.edit.text = mutated;
  proposal.edit.summary = "pipeline: " + (current.empty() ? "(compiler's own)" : current) +
                          " -> " + mutated;
  proposal.proposer = kind();
  return proposal;
}

}  // namespace ratchet
