// The built-in pass-pipeline proposer: mutates the parent's opt pipeline
// (rewriters/llvm_ir.h's mutate_pipeline: insert, delete, replace or swap a
// top-level pass, each result checked by the pass builder's parser). A parent
// without one starts from "default<O2>". The edit is a flags edit with the
// parent's flags and the new pipeline in its text (rewriters/apply_edit.h).
#pragma once

#include "engine/proposer.h"

namespace ratchet {

class PipelineMutator final : public Proposer {
 public:
  std::string kind() const override { return "pipeline"; }
  std::optional<Proposal> propose(const ProposalContext& context) override;
};

}  // namespace ratchet
