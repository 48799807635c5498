#include "engine/islands.h"

#include <algorithm>
#include <optional>

namespace ratchet {

Islands::Islands(IslandSettings settings, double min_effect) : settings_(std::move(settings)) {
  int count = std::max(1, settings_.islands);
  Population::Fitness fitness = [this](const CandidateRecord& c) { return this->fitness(c); };
  for (int i = 0; i < count; ++i) {
    populations_.emplace_back(min_effect, fitness);
    archives_.emplace_back(settings_.features);
  }
}

double Islands::fitness(const CandidateRecord& candidate) const {
  double score = 0;
  for (const auto& [name, weight] : settings_.weights) {
    score += weight * feature_value(candidate, name);
  }
  return score;
}

void Islands::add_to(int island, const Member& member) {
  populations_[island].add(member);
  archives_[island].offer(member);
}

void Islands::add(const CandidateRecord& candidate) {
  if (candidate.status != CandidateStatus::evaluated) return;
  Member member = populations_[0].member_of(candidate);
  member.cell = archives_[0].cell_index(candidate);
  if (settings_.objective == "pareto") {
    for (const auto& [name, maximize] : settings_.pareto) {
      double value = feature_value(candidate, name);
      member.objectives.push_back(maximize ? value : -value);
    }
  }
  if (member.baseline) {
    for (int i = 0; i < count(); ++i) add_to(i, member);
    baseline_ = member.id;
    return;
  }
  member.island = std::clamp(candidate.island, 0, count() - 1);
  add_to(member.island, member);
  ++evaluated_;
  if (settings_.migration_interval > 0 && count() > 1 &&
      evaluated_ % settings_.migration_interval == 0) {
    migrate();
  }
}

void Islands::migrate() {
  std::vector<std::optional<Member>> emigrants;
  for (const auto& population : populations_) {
    const Member* best = population.fittest();
    emigrants.push_back(best ? std::optional<Member>(*best) : std::nullopt);
  }
  for (int i = 0; i < count(); ++i) {
    const auto& migrant = emigrants[i];
    int to = (i + 1) % count();
    if (!migrant || populations_[to].contains(migrant->id)) continue;
    add_to(to, *migrant);
  }
}

ParentChoice Islands::select(std::mt19937_64& rng) {
  ParentChoice choice = select(rng, next_island_);
  next_island_ = (next_island_ + 1) % count();
  return choice;
}

ParentChoice Islands::select(std::mt19937_64& rng, int64_t turn) {
  ParentChoice choice;
  choice.island = static_cast<int>(((turn % count()) + count()) % count());
  const Population& population = populations_[choice.island];
  const auto elites = archives_[choice.island].elites();

  if (settings_.strategy == "best_of_n") {
    choice.parent = baseline_;
  } else if (settings_.strategy == "hill_climb") {
    choice.parent = population.fittest()->id;
  } else {
    double total = settings_.exploitation + settings_.exploration + settings_.diversity;
    double x = std::uniform_real_distribution<double>(0, total > 0 ? total : 1)(rng);
    const auto front = population.front();
    bool exploit = x >= settings_.diversity + settings_.exploration;
    if (x < settings_.diversity && !elites.empty()) {
      choice.parent = elites[std::uniform_int_distribution<size_t>(0, elites.size() - 1)(rng)]->id;
    } else if (exploit && !front.empty()) {
      // Pareto: any non-dominated candidate is as good a parent as another.
      choice.parent = front[std::uniform_int_distribution<size_t>(0, front.size() - 1)(rng)]->id;
    } else {
      SearchConfig move;
      move.tournament_size = settings_.tournament_size;
      move.exploration = x < settings_.diversity + settings_.exploration ? 1.0 : 0.0;
      choice.parent = population.select_parent(move, rng).id;
    }
  }
  // Inspirations: the island's fittest, then archive elites, never the parent.
  auto taken = [&](int64_t id) {
    return id == choice.parent || std::find(choice.inspirations.begin(),
                                            choice.inspirations.end(), id) !=
                                      choice.inspirations.end();
  };
  if (settings_.inspirations > 0) {
    if (const Member* best = population.fittest(); best && !taken(best->id)) {
      choice.inspirations.push_back(best->id);
    }
  }
  for (const Member* elite : elites) {
    if (static_cast<int>(choice.inspirations.size()) >= settings_.inspirations) break;
    if (!taken(elite->id)) choice.inspirations.push_back(elite->id);
  }
  return choice;
}

const Member* Islands::best() const {
  const Member* best = nullptr;
  for (const auto& population : populations_) {
    const Member* candidate = population.best();
    if (candidate && (!best || candidate->speedup > best->speedup)) best = candidate;
  }
  return best;
}

const Member* Islands::highest() const {
  const Member* best = nullptr;
  for (const auto& population : populations_) {
    const Member* candidate = population.highest();
    if (candidate && (!best || candidate->speedup > best->speedup)) best = candidate;
  }
  return best;
}

std::vector<Member> Islands::top(int n) const {
  // The n fastest, kept sorted as the members go by (not a copy of them all:
  // that was 6 MB at 100,000 candidates).
  auto faster = [](const Member& a, const Member& b) {
    return a.speedup != b.speedup ? a.speedup > b.speedup : a.id < b.id;
  };
  const size_t limit = static_cast<size_t>(std::max(n, 0));
  std::vector<Member> best;
  for (const auto& population : populations_) {
    for (const Member& member : population.members()) {
      if (member.baseline || limit == 0) continue;
      if (best.size() == limit && !faster(member, best.back())) continue;
      if (std::any_of(best.begin(), best.end(), [&](const Member& m) { return m.id == member.id; })) {
        continue;  // a migrant: the same candidate on two islands
      }
      best.insert(std::upper_bound(best.begin(), best.end(), member, faster), member);
      if (best.size() > limit) best.pop_back();
    }
  }
  return best;
}

std::vector<Member> Islands::pareto_front() const {
  std::vector<Member> front;
  for (const auto& population : populations_) {
    for (const Member* member : population.front()) {
      if (std::any_of(front.begin(), front.end(),
                      [&](const Member& m) { return m.id == member->id || dominates(m, *member); })) {
        continue;
      }
      std::erase_if(front, [&](const Member& m) { return dominates(*member, m); });
      front.push_back(*member);
    }
  }
  std::sort(front.begin(), front.end(), [](const Member& a, const Member& b) { return a.id < b.id; });
  return front;
}

size_t Islands::archive_cells(int island) const { return archives_[island].cells_filled(); }

}  // namespace ratchet
