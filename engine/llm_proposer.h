// The LLM proposer: builds a prompt from the parent and the campaign's
// evidence, asks a model drawn by weight (engine/llm/llm_client.h), parses the
// answer into a diff or rewrite Edit (rewriters/search_replace.h), and records
// the call (tokens, cost, latency, status, text unless disabled) in llm_calls.
//
// It blocks on its call, and may be called from several threads at once (each
// with its own rng): their calls share one client, so they are in flight
// together while the campaign builds and benchmarks.
//
// Budgets with calls in flight together: a call starts only while the spend
// plus the calls in flight, each counted as the largest call so far, is below
// the budget (before the first answer, one call at a time); otherwise the
// proposal waits for a call to end. With in_flight 1 that is the sequential
// rule (a call starts while the spend is below the budget), and with more the
// budget is not overshot by calls issued together.
//
// Faults: a failed call (after the client's retries) yields a proposal from
// the built-in flag mutator instead, noted in the progress log; when every
// endpoint is paused, on_all_down "continue" keeps using the flag mutator and
// "stop" ends the campaign with the endpoints' status. Budgets (tokens, USD,
// counted over the whole campaign from llm_calls, so --resume keeps them)
// end the campaign once reached.
//
// Replay: mode "record" appends every answered exchange to the cache file;
// mode "replay" answers from it and never opens a connection.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "engine/flag_mutator.h"
#include "engine/llm/llm_client.h"
#include "engine/llm/prompt.h"
#include "engine/llm/replay.h"
#include "engine/proposer.h"

namespace ratchet {

class LlmProposer final : public Proposer {
 public:
  // Throws a usage FatalError when replay mode cannot read its cache.
  LlmProposer(const LlmConfig& config, const Task& task, int fallback_max_genes);
  std::string kind() const override { return "llm"; }
  std::optional<Proposal> propose(const ProposalContext& context) override;
  std::string stop_reason() const override;

 private:
  std::optional<size_t> pick_model(std::mt19937_64& rng) const;
  llm::PromptInput gather(const ProposalContext& context, const std::string& file) const;
  llm::CallResult exchange(size_t model, const llm::ChatRequest& request, const std::string& key);
  std::optional<Proposal> fallback(const ProposalContext& context, const std::string& why);
  void check_budget();
  // With a budget, whether another call may start now: the spend plus the
  // calls in flight (each counted as the largest call so far) is below it.
  // Caller holds mutex_.
  bool room_for_a_call() const;

  LlmConfig config_;
  const Task& task_;
  FlagMutator fallback_;
  std::unique_ptr<llm::LlmClient> client_;
  std::optional<llm::ReplayCache> replay_;
  std::optional<int64_t> usage_campaign_;  // campaign whose usage is loaded
  LlmUsage usage_;
  std::string stop_reason_;
  bool said_all_down_ = false;
  // Calls started and not yet counted in usage_, and the largest call so far
  // (its tokens and cost; none before the first answer).
  int calls_in_flight_ = 0;
  std::optional<std::pair<int64_t, double>> largest_call_;
  std::condition_variable call_done_;
  // Recent failures as the prompt shows them, by candidate id.
  mutable std::map<int64_t, llm::PromptFailure> failures_;
  // Guards usage_, usage_campaign_, stop_reason_, said_all_down_, replay_,
  // the calls in flight and failures_.
  mutable std::mutex mutex_;
};

}  // namespace ratchet
