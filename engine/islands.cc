#include "engine/islands.h"

#include <algorithm>

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

void Islands::add(const CandidateRecord& candidate) {
  if (candidate.status != CandidateStatus::evaluated) return;
  if (candidate.proposer == "baseline") {
    for (size_t i = 0; i < populations_.size(); ++i) {
      populations_[i].add(candidate);
      archives_[i].offer(populations_[i].members().back());
    }
    baseline_ = populations_[0].members().back().get();
    return;
  }
  int island = std::clamp(candidate.island, 0, count() - 1);
  populations_[island].add(candidate);
  archives_[island].offer(populations_[island].members().back());
  ++evaluated_;
  if (settings_.migration_interval > 0 && count() > 1 &&
      evaluated_ % settings_.migration_interval == 0) {
    migrate();
  }
}

const CandidateRecord* Islands::fittest(const Population& population) const {
  return population.fittest();
}

void Islands::migrate() {
  std::vector<std::shared_ptr<const CandidateRecord>> emigrants;
  for (const auto& population : populations_) {
    const CandidateRecord* best = fittest(population);
    for (const auto& member : population.members()) {
      if (member.get() == best) emigrants.push_back(member);
    }
  }
  for (int i = 0; i < count(); ++i) {
    const auto& migrant = emigrants[i];
    int to = (i + 1) % count();
    if (!migrant || populations_[to].contains(migrant->id)) continue;
    populations_[to].add(*migrant);
    archives_[to].offer(populations_[to].members().back());
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
    choice.parent = fittest(population);
  } else {
    double total = settings_.exploitation + settings_.exploration + settings_.diversity;
    double x = std::uniform_real_distribution<double>(0, total > 0 ? total : 1)(rng);
    if (x < settings_.diversity && !elites.empty()) {
      choice.parent = elites[std::uniform_int_distribution<size_t>(0, elites.size() - 1)(rng)].get();
    } else {
      SearchConfig move;
      move.tournament_size = settings_.tournament_size;
      move.exploration = x < settings_.diversity + settings_.exploration ? 1.0 : 0.0;
      choice.parent = &population.select_parent(move, rng);
    }
  }
  // Inspirations: the island's fittest, then archive elites, never the parent.
  if (const CandidateRecord* best = fittest(population); best && best != choice.parent) {
    choice.inspirations.push_back(best);
  }
  for (const auto& elite : elites) {
    if (static_cast<int>(choice.inspirations.size()) >= settings_.inspirations) break;
    if (elite.get() == choice.parent) continue;
    if (std::find(choice.inspirations.begin(), choice.inspirations.end(), elite.get()) !=
        choice.inspirations.end()) {
      continue;
    }
    choice.inspirations.push_back(elite.get());
  }
  return choice;
}

const CandidateRecord* Islands::best() const {
  const CandidateRecord* best = nullptr;
  for (const auto& population : populations_) {
    const CandidateRecord* candidate = population.best();
    if (candidate && (!best || candidate->speedup() > best->speedup())) best = candidate;
  }
  return best;
}

const CandidateRecord* Islands::highest() const {
  const CandidateRecord* best = nullptr;
  for (const auto& population : populations_) {
    const CandidateRecord* candidate = population.highest();
    if (candidate && (!best || candidate->speedup() > best->speedup())) best = candidate;
  }
  return best;
}

std::vector<const CandidateRecord*> Islands::top(int n) const {
  std::vector<const CandidateRecord*> all;
  for (const auto& population : populations_) {
    for (const auto& member : population.members()) {
      if (member->proposer != "baseline") all.push_back(member.get());
    }
  }
  std::sort(all.begin(), all.end(), [](const CandidateRecord* a, const CandidateRecord* b) {
    double sa = a->speedup().value_or(0), sb = b->speedup().value_or(0);
    return sa != sb ? sa > sb : a->id < b->id;
  });
  all.erase(std::unique(all.begin(), all.end(),
                        [](const CandidateRecord* a, const CandidateRecord* b) {
                          return a->id == b->id;
                        }),
            all.end());
  if (all.size() > static_cast<size_t>(std::max(n, 0))) all.resize(static_cast<size_t>(std::max(n, 0)));
  return all;
}

size_t Islands::archive_cells(int island) const { return archives_[island].cells_filled(); }

}  // namespace ratchet
