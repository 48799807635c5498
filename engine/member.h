// Member: what the search (population, islands, MAP-Elites archives) keeps
// of an evaluated candidate. Small on purpose: the program, the edit and the
// evidence stay in the database, loaded when the candidate becomes a parent
// or an inspiration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ratchet {

// What the search keeps of an evaluated candidate.
struct Member {
  int64_t id = 0;
  int island = 0;
  bool baseline = false;
  double speedup = 0;  // 0 without metrics
  double ci_low = 0;
  double ci_high = 0;
  double fitness = 0;  // the tournament's measure
  int64_t cell = 0;    // MAP-Elites cell index (engine/map_elites.h)
  std::vector<double> objectives;  // Pareto objectives, when configured
};

// "1.423x [1.380, 1.451]", as format_speedup for a record.
std::string format_speedup(const Member& member);

}  // namespace ratchet
