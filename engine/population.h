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
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "engine/config.h"
#include "engine/database.h"

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
  bool empty() const { return members_.empty(); }
  size_t size() const { return members_.size(); }

  const CandidateRecord& select_parent(const SearchConfig& search, std::mt19937_64& rng) const;

  // The latest candidate whose interval's lower bound cleared the previous
  // best's speedup (the baseline's 1 at first) by min_effect: each new best
  // is faster with confidence. nullptr when none has cleared the baseline.
  const CandidateRecord* best() const;
  // Highest speedup regardless of confidence; nullptr when empty.
  const CandidateRecord* highest() const;
  // Highest fitness (the tournament's measure); nullptr when empty.
  const CandidateRecord* fittest() const { return fittest_; }

 private:
  double fitness_of(const CandidateRecord& candidate) const;
  // All members, in the order they were added (for archives and migration).
 public:
  const std::vector<std::shared_ptr<const CandidateRecord>>& members() const { return members_; }
  bool contains(int64_t id) const;

 private:
  double min_effect_;
  Fitness fitness_;
  // Kept up to date by add(): the progress line asks after every candidate,
  // and a scan would make each step O(population).
  const CandidateRecord* best_ = nullptr;
  const CandidateRecord* highest_ = nullptr;
  const CandidateRecord* fittest_ = nullptr;
  std::vector<std::shared_ptr<const CandidateRecord>> members_;
};

}  // namespace ratchet
