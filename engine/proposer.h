// Proposers turn a parent candidate into an Edit. The built-in ones need no
// network; LLM proposers implement the same interface. One table in
// proposer.cc lists every kind; `make_proposers` builds them from a config.
#pragma once

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/program.h"
#include "engine/config.h"
#include "engine/database.h"
#include "evaluators/task.h"

namespace ratchet {

// How many of a campaign's latest failures a ProposalContext carries.
constexpr int kRecentFailures = 4;

struct ProposalContext {
  const Task& task;
  const CandidateRecord& parent;
  std::mt19937_64& rng;
  // LLM proposers read the task's best candidates from the database when no
  // inspirations are given, and record there a call that ends in no proposal
  // (the others travel with their proposal); null in tests of built-ins.
  Database* db = nullptr;
  int64_t campaign_id = 0;
  // From the parent's island: its fittest and MAP-Elites elites of other
  // kinds (best and diverse), never the parent itself.
  std::vector<const CandidateRecord*> inspirations = {};
  // The campaign's latest refused or failed candidates (up to
  // kRecentFailures, newest first), kept in memory as the campaign records
  // them: their edit, status and artifacts, no program.
  std::vector<const CandidateRecord*> failures = {};
};

struct Proposal {
  Edit edit;
  std::string proposer;  // kind, stored with the candidate
  std::string model;     // LLM model, empty for built-ins
  // Non-empty: the answer could not be turned into an edit; the candidate is
  // recorded as refused with this exact reason (it feeds the next prompt).
  std::string refusal;
  // The LLM call made for it (also when it failed and a built-in proposer
  // stood in), not yet in the database: the campaign records it with the
  // step's candidate, in the step's one transaction, and counts its spend.
  std::optional<LlmCallRecord> llm_call;
  std::string note;                    // a line for the progress log ("" = none)
};

class Proposer {
 public:
  virtual ~Proposer() = default;
  virtual std::string kind() const = 0;
  // std::nullopt when it has nothing to offer for this parent. Called from
  // several threads at once when the campaign has more than one step in
  // flight (each call with its own rng and database connection): an
  // implementation guards whatever state it keeps.
  virtual std::optional<Proposal> propose(const ProposalContext& context) = 0;
  // Non-empty once the proposer wants the campaign to stop (an LLM budget
  // spent, every endpoint down with on_all_down "stop"): the reason.
  virtual std::string stop_reason() const { return ""; }
};

struct WeightedProposer {
  std::unique_ptr<Proposer> proposer;
  double weight = 1.0;
};

struct ProposerKind {
  const char* name;
  const char* help;
  std::unique_ptr<Proposer> (*make)(const ProposerConfig& config, const LlmConfig& llm,
                                    const Task& task);
};

// Every proposer kind ratchet knows, for configs and --help.
const std::vector<ProposerKind>& proposer_kinds();

// `llm` configures proposers of kind "llm" (none without it).
std::vector<WeightedProposer> make_proposers(const std::vector<ProposerConfig>& configs,
                                             const Task& task, const LlmConfig& llm = {});

// Draws a proposer by weight.
Proposer& pick_proposer(std::vector<WeightedProposer>& proposers, std::mt19937_64& rng);

}  // namespace ratchet
