// The offline transforms proposer ("don't transform the code, code the
// transforms"): draws a built-in codified transform or a transform rule stored
// in the database (by any campaign, for any task) and proposes it for the
// parent only where it changes code inside the evolvable regions.
//
// Which rule: Thompson sampling. Each rule's chance of winning is a
// Beta(wins + 1, losses + 1) belief over its record in the database (every
// campaign and task, see Database::transforms); one draw per rule ranks them,
// and the rules are tried in that order. A rule with 9 wins and 1 loss usually
// ranks first, yet a rule never tried (Beta(1, 1): any chance is as likely)
// still ranks first now and then: exploration without a tuning knob.
//
// Which parent: a rule is applied to the parent (rewriters/apply_edit.h) before
// it is proposed. A rule that matches nothing inside the regions, or whose
// result does not parse, is not proposed for that parent and not tried on it
// again; nor is a rule already proposed for it.
//
// With a database, the built-in transforms are stored in it (origin builtin)
// so that their wins and losses are counted like every other rule's, and so
// are the rules other candidates' transform edits carry (an LLM's answer):
// Database::adopt_transform_edits.
#pragma once

#include <mutex>
#include <set>
#include <utility>

#include "engine/proposer.h"
#include "rewriters/rewrite_context.h"

namespace ratchet {

class TransformProposer final : public Proposer {
 public:
  // `attempts`: rules tried on one parent per proposal before giving up.
  explicit TransformProposer(const Task& task, int attempts = 6);
  std::string kind() const override { return "transforms"; }
  // std::nullopt when no rule tried changes the parent.
  std::optional<Proposal> propose(const ProposalContext& context) override;

  // A rule as the proposer draws it: its edit text is what the database
  // counts outcomes by (a canonical rule, or {"builtin":"NAME"}).
  struct Choice {
    std::string name;
    std::string rule_json;
    std::string origin;
    int64_t wins = 0;
    int64_t losses = 0;
  };
  // The rules of the latest refresh (built-ins first without a database).
  const std::vector<Choice>& choices() const { return choices_; }

 private:
  void refresh(Database* db);
  RewriteContext rewrite_context(const Program& program) const;

  std::string language_;
  std::string compiler_;
  std::vector<std::string> fixed_flags_;
  std::filesystem::path dir_;
  int attempts_;
  std::vector<Choice> choices_;
  int proposals_since_refresh_ = 0;
  bool builtins_stored_ = false;
  std::set<std::pair<int64_t, std::string>> tried_;  // (parent id, rule_json)
  // propose() may be called from several threads (the campaign's parallel
  // proposal stage): one proposal at a time, over the state above.
  std::mutex mutex_;
};

}  // namespace ratchet
