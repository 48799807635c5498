#include "engine/population.h"

#include <fmt/format.h>
#include <stdexcept>

namespace ratchet {

namespace {

double metric(const CandidateRecord& candidate, const char* name) {
  const auto& value = candidate.metrics.find(name);
  return value != candidate.metrics.end() && value->is_number() ? value->get<double>() : 0;
}

}  // namespace

std::string format_speedup(const Member& member) {
  return fmt::format("{:.3f}x [{:.3f}, {:.3f}]", member.speedup, member.ci_low, member.ci_high);
}

Member Population::member_of(const CandidateRecord& candidate) const {
  Member member;
  member.id = candidate.id;
  member.island = candidate.island;
  member.baseline = candidate.proposer == "baseline";
  member.speedup = candidate.speedup().value_or(0);
  member.ci_low = metric(candidate, "ci_low");
  member.ci_high = metric(candidate, "ci_high");
  member.fitness = fitness_ ? fitness_(candidate) : member.speedup;
  return member;
}

void Population::add(const CandidateRecord& candidate) {
  if (candidate.status != CandidateStatus::evaluated) return;
  add(member_of(candidate));
}

void Population::add(const Member& member) {
  members_.push_back(member);
  int64_t added = static_cast<int64_t>(members_.size()) - 1;
  const Member& m = members_.back();
  if (highest_ < 0 || m.speedup > members_[highest_].speedup) highest_ = added;
  if (fittest_ < 0 || m.fitness > members_[fittest_].fitness) fittest_ = added;
  // An improvement must show it: its interval's lower bound clears the
  // baseline (1) and then the current best, each by min_effect. A luckier
  // measurement of an equally fast program does not take the title.
  double bar = (best_ >= 0 ? members_[best_].speedup : 1.0) * (1.0 + min_effect_);
  if (!m.baseline && m.ci_low > bar) best_ = added;
  if (m.objectives.empty()) return;
  for (int64_t i : front_) {
    if (dominates(members_[i], m)) return;
  }
  std::erase_if(front_, [&](int64_t i) { return dominates(m, members_[i]); });
  front_.push_back(added);
}

bool dominates(const Member& a, const Member& b) {
  bool better = false;
  for (size_t i = 0; i < a.objectives.size() && i < b.objectives.size(); ++i) {
    if (a.objectives[i] < b.objectives[i]) return false;
    if (a.objectives[i] > b.objectives[i]) better = true;
  }
  return better;
}

std::vector<const Member*> Population::front() const {
  std::vector<const Member*> out;
  for (int64_t i : front_) out.push_back(&members_[i]);
  return out;
}

const Member& Population::select_parent(const SearchConfig& search, std::mt19937_64& rng) const {
  if (members_.empty()) throw std::logic_error("select_parent on an empty population");
  std::uniform_int_distribution<size_t> pick(0, members_.size() - 1);
  if (std::uniform_real_distribution<double>(0, 1)(rng) < search.exploration) {
    return members_[pick(rng)];
  }
  const Member* winner = &members_[pick(rng)];
  for (int i = 1; i < search.tournament_size; ++i) {
    const Member* challenger = &members_[pick(rng)];
    if (challenger->fitness > winner->fitness) winner = challenger;
  }
  return *winner;
}

bool Population::contains(int64_t id) const {
  for (const auto& member : members_) {
    if (member.id == id) return true;
  }
  return false;
}

}  // namespace ratchet
