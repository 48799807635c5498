#include "engine/transform_proposer.h"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/remote_rewriters.h"
#include "rewriters/transform_rule.h"

namespace ratchet {

namespace {

// Rule outcomes change slowly; re-reading them every proposal would scan
// every transform candidate each time.
constexpr int kRefreshEvery = 8;

std::string builtin_rule(const std::string& name) {
  return nlohmann::json{{"builtin", name}}.dump();
}

// One draw from Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
double beta_draw(double a, double b, std::mt19937_64& rng) {
  double x = std::gamma_distribution<double>(a, 1.0)(rng);
  double y = std::gamma_distribution<double>(b, 1.0)(rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

}  // namespace

TransformProposer::TransformProposer(const Task& task, int attempts)
    : language_(task.language),
      compiler_(task.compiler),
      fixed_flags_(task.fixed_flags),
      dir_(task.dir),
      attempts_(attempts) {}

RewriteContext TransformProposer::rewrite_context(const Program& program) const {
  RewriteContext context;
  context.language = language_;
  context.flags = fixed_flags_;
  context.flags.insert(context.flags.end(), program.flags.begin(), program.flags.end());
  context.compiler = compiler_;
  context.directory = dir_;
  context.validate = true;
  return context;
}

void TransformProposer::refresh(Database* db) {
  proposals_since_refresh_ = 0;
  bool c_task = language_ == "c";
  choices_.clear();
  if (!db) {
    for (const auto& builtin : remote::builtin_transforms()) {
      if (!(c_task && builtin.cxx_only)) {
        choices_.push_back({builtin.name, builtin_rule(builtin.name), "builtin"});
      }
    }
    return;
  }
  if (!builtins_stored_) {
    for (const auto& builtin : remote::builtin_transforms()) {
      TransformRecord record{0, builtin.name, builtin_rule(builtin.name), "builtin"};
      db->add_transform(record);
    }
    builtins_stored_ = true;
  }
  db->adopt_transform_edits();  // rules LLMs answered with become drawable here
  for (const auto& rule : db->transforms()) {
    const BuiltinTransform* builtin = nullptr;
    for (const auto& b : remote::builtin_transforms()) {
      if (rule.rule_json == builtin_rule(b.name)) builtin = &b;
    }
    if (c_task && builtin && builtin->cxx_only) continue;
    choices_.push_back({rule.name, rule.rule_json, rule.origin, rule.wins, rule.losses});
  }
}

std::optional<Proposal> TransformProposer::propose(const ProposalContext& context) {
  std::lock_guard lock(mutex_);
  if (choices_.empty() || ++proposals_since_refresh_ >= kRefreshEvery) refresh(context.db);
  std::vector<std::pair<double, const Choice*>> ranked;
  for (const auto& choice : choices_) {
    if (tried_.count({context.parent.id, choice.rule_json})) continue;
    double a = static_cast<double>(choice.wins) + 1, b = static_cast<double>(choice.losses) + 1;
    ranked.push_back({beta_draw(a, b, context.rng), &choice});
  }
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& x, const auto& y) { return x.first > y.first; });
  RewriteContext rewrite = rewrite_context(context.parent.program);
  int attempts = 0;
  for (const auto& [score, choice] : ranked) {
    if (attempts++ >= attempts_) break;
    // Tried once per parent, whatever the outcome: a rule that did not match
    // will not match now, and one that did would give the same child.
    tried_.insert({context.parent.id, choice->rule_json});
    Edit edit;
    edit.kind = EditKind::transform;
    edit.text = choice->rule_json;
    if (!remote::apply_edit(context.parent.program, edit, {}, rewrite)) continue;
    edit.summary = fmt::format("transform {} ({}, {} won / {} lost)", choice->name,
                               choice->origin, choice->wins, choice->losses);
    Proposal proposal;
    proposal.edit = std::move(edit);
    proposal.proposer = kind();
    return proposal;
  }
  return std::nullopt;
}

}  // namespace ratchet
