// Islands: several populations that evolve apart and trade their best.
//
// Each island keeps its own members and its own MAP-Elites archive. A new
// candidate lives on its parent's island; the island a step works on turns
// round-robin, so every island advances. Every `migration_interval`
// evaluated candidates, each island's best joins the next island in a ring
// (a reference, not a re-evaluation). Islands keep lineages diverse; the
// ring lets a real improvement spread.
//
// A parent is drawn by one of three moves, in the configured ratios:
// exploitation (a tournament on fitness), exploration (uniform over the
// island) or diversity (uniform over the island's archive elites).
// Inspirations for prompts are the island's best and a few archive elites.
//
// Ablations: strategy "best_of_n" always takes the baseline as parent (N
// independent tries), "hill_climb" always the fittest candidate so far.
// Everything is deterministic for a given seed and order of additions, so a
// resumed campaign rebuilds the same islands from the database.
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/map_elites.h"
#include "engine/population.h"

namespace ratchet {

// The island settings are the campaign config's search section.
using IslandSettings = SearchConfig;

// Ids only: the campaign loads the records from the database.
struct ParentChoice {
  int64_t parent = 0;
  int island = 0;
  std::vector<int64_t> inspirations;
};

class Islands {
 public:
  Islands(IslandSettings settings, double min_effect);
  // The populations' fitness refers back to this object.
  Islands(const Islands&) = delete;
  Islands& operator=(const Islands&) = delete;

  // The baseline joins every island; other candidates their own
  // (CandidateRecord::island). Only evaluated candidates become members.
  void add(const CandidateRecord& candidate);

  // The step's island is `turn` modulo the island count; the overload
  // without a turn takes the islands round-robin.
  ParentChoice select(std::mt19937_64& rng, int64_t turn);
  ParentChoice select(std::mt19937_64& rng);

  double fitness(const CandidateRecord& candidate) const;
  // Pointers valid until the next add.
  const Member* best() const;     // interval above 1 + min_effect
  const Member* highest() const;  // highest speedup
  // Up to `n` distinct candidates (not the baseline) of all islands, highest
  // speedup first (ties: lowest id first).
  std::vector<Member> top(int n) const;
  // The non-dominated candidates of all islands together (objective
  // "pareto"), by id; empty otherwise.
  std::vector<Member> pareto_front() const;
  size_t archive_cells(int island) const;
  int count() const { return static_cast<int>(populations_.size()); }
  const Population& island(int index) const { return populations_[index]; }

 private:
  void migrate();
  void add_to(int island, const Member& member);

  IslandSettings settings_;
  std::vector<Population> populations_;
  std::vector<MapElitesArchive> archives_;
  int64_t baseline_ = 0;
  int64_t evaluated_ = 0;
  int next_island_ = 0;
};

}  // namespace ratchet
