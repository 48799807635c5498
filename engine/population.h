// The population of a steady-state search: every evaluated candidate of a
// campaign, and how the next parent is chosen.
//
// Parent choice mixes exploitation and exploration. With probability
// `exploration` the parent is drawn uniformly from all evaluated candidates
// (so a mediocre program with an unusual genome can still have children);
// otherwise a tournament of `tournament_size` random candidates picks the
// one with the highest speedup. Larger tournaments press harder toward the
// current best. Example with speedups {1.00, 1.04, 1.31, 0.97} and a
// tournament of 3: the 1.31 candidate wins whenever it is drawn, which
// happens in 1 - (3/4)^3 ≈ 58% of tournaments (draws with replacement).
//
// "Best" is stricter than "highest speedup": a candidate improves on the
// baseline only when its confidence interval's lower bound is above 1.
//
// The population holds small records (Member: id, island, speedup and its
// interval, fitness, archive cell), never programs: at 100,000 candidates
// that is a few megabytes. The campaign loads a candidate from the database
// when it becomes a parent or an inspiration.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <vector>

#include "engine/config.h"
#include "engine/database.h"
#include "engine/member.h"

namespace ratchet {

class Population {
 public:
  // How tournaments rank candidates: speedup unless told otherwise.
  using Fitness = std::function<double(const CandidateRecord&)>;

  // `min_effect`: best() needs ci_low > 1 + min_effect.
  explicit Population(double min_effect = 0.0, Fitness fitness = {})
      : min_effect_(min_effect), fitness_(std::move(fitness)) {}

  // Only evaluated candidates (the baseline included) become parents.
  void add(const CandidateRecord& candidate);
  // A member as made by member_of (or a migrant from another island).
  void add(const Member& member);
  Member member_of(const CandidateRecord& candidate) const;
  bool empty() const { return members_.empty(); }
  size_t size() const { return members_.size(); }

  // Valid until the next add.
  const Member& select_parent(const SearchConfig& search, std::mt19937_64& rng) const;

  // The latest candidate whose interval's lower bound cleared the previous
  // best's speedup (the baseline's 1 at first) by min_effect: each new best
  // is faster with confidence. nullptr when none has cleared the baseline.
  // These pointers are valid until the next add.
  const Member* best() const { return at(best_); }
  // Highest speedup regardless of confidence; nullptr when empty.
  const Member* highest() const { return at(highest_); }
  // Highest fitness (the tournament's measure); nullptr when empty.
  const Member* fittest() const { return at(fittest_); }

  // The members no other member dominates over their objectives (Pareto),
  // in the order they joined the front; empty when members carry none. A
  // dominates B when it is at least as good in every objective and better
  // in one (objectives are signed so that larger is better).
  std::vector<const Member*> front() const;

  // All members, in the order they were added (for archives and migration).
  const std::deque<Member>& members() const { return members_; }
  bool contains(int64_t id) const;

 private:
  const Member* at(int64_t index) const { return index < 0 ? nullptr : &members_[index]; }

  double min_effect_;
  Fitness fitness_;
  // Indexes kept up to date by add(): the progress line asks after every
  // candidate, and a scan would make each step O(population).
  int64_t best_ = -1;
  int64_t highest_ = -1;
  int64_t fittest_ = -1;
  // A deque, not a vector: it grows by small blocks, so 100,000 members never
  // need a doubled copy of themselves (a vector's growth held 16 MB at once).
  std::deque<Member> members_;
  std::vector<int64_t> front_;  // indexes into members_
};

// True when `a` dominates `b` (see Population::front).
bool dominates(const Member& a, const Member& b);

}  // namespace ratchet
