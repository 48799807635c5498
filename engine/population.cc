#include "engine/population.h"

#include <stdexcept>

namespace ratchet {

namespace {

double speedup_of(const CandidateRecord& candidate) { return candidate.speedup().value_or(0); }

double ci_low_of(const CandidateRecord& candidate) {
  const auto& low = candidate.metrics.find("ci_low");
  return low != candidate.metrics.end() && low->is_number() ? low->get<double>() : 0;
}

}  // namespace

void Population::add(const CandidateRecord& candidate) {
  if (candidate.status != CandidateStatus::evaluated) return;
  members_.push_back(std::make_shared<const CandidateRecord>(candidate));
  const CandidateRecord* added = members_.back().get();
  if (!highest_ || speedup_of(*added) > speedup_of(*highest_)) highest_ = added;
  if (!fittest_ || fitness_of(*added) > fitness_of(*fittest_)) fittest_ = added;
  // An improvement must show it: its interval's lower bound clears the
  // baseline (1) and then the current best, each by min_effect. A luckier
  // measurement of an equally fast program does not take the title.
  double bar = (best_ ? speedup_of(*best_) : 1.0) * (1.0 + min_effect_);
  if (added->proposer != "baseline" && ci_low_of(*added) > bar) best_ = added;
}

const CandidateRecord& Population::select_parent(const SearchConfig& search,
                                                 std::mt19937_64& rng) const {
  if (members_.empty()) throw std::logic_error("select_parent on an empty population");
  std::uniform_int_distribution<size_t> pick(0, members_.size() - 1);
  if (std::uniform_real_distribution<double>(0, 1)(rng) < search.exploration) {
    return *members_[pick(rng)];
  }
  const CandidateRecord* winner = members_[pick(rng)].get();
  for (int i = 1; i < search.tournament_size; ++i) {
    const CandidateRecord* challenger = members_[pick(rng)].get();
    if (fitness_of(*challenger) > fitness_of(*winner)) winner = challenger;
  }
  return *winner;
}

double Population::fitness_of(const CandidateRecord& candidate) const {
  return fitness_ ? fitness_(candidate) : speedup_of(candidate);
}

bool Population::contains(int64_t id) const {
  for (const auto& member : members_) {
    if (member->id == id) return true;
  }
  return false;
}

const CandidateRecord* Population::best() const { return best_; }

const CandidateRecord* Population::highest() const { return highest_; }

}  // namespace ratchet
