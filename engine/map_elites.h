// A MAP-Elites archive: candidates placed in a grid of cells by feature
// values, keeping the best candidate (highest speedup) of each cell. Good
// programs that differ in kind (small vs large code, few vs many flags,
// flag vs code edits) survive side by side instead of the search
// collapsing onto one lineage.
//
// Bins are fixed by the config and never drift during a run: a dimension
// with edges {1000, 4000} has three bins (< 1000, 1000..3999, >= 4000).
// Example: with dimensions code_size {2000} and flag_count {2, 4}, a
// candidate of 1,500 source bytes and 3 flags lands in cell (0, 1).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/database.h"
#include "engine/member.h"

namespace ratchet {

struct FeatureDimension {
  std::string name;           // a built-in feature or a numeric metric key
  std::vector<double> edges;  // ascending bin edges
};

// Built-in features: "code_size" (bytes of the program's files),
// "flag_count", "edit_kind" (0 flags, 1 diff, 2 rewrite, … as EditKind),
// "speedup"; any other name reads metrics[name] (0 when absent).
double feature_value(const CandidateRecord& candidate, const std::string& name);

// The names feature_value knows without looking into metrics.
const std::vector<std::string>& builtin_features();

class MapElitesArchive {
 public:
  explicit MapElitesArchive(std::vector<FeatureDimension> dimensions);

  std::vector<int> cell_of(const CandidateRecord& candidate) const;
  // The cell as one number: the bins read as digits of a mixed-radix number
  // (dimension i has edges_i + 1 bins), so a member carries 8 bytes, not a
  // vector. Every island's archive has the same dimensions and numbering.
  int64_t cell_index(const CandidateRecord& candidate) const;
  // True when the member (whose `cell` is its cell_index) became its cell's
  // elite: the highest speedup of the cell, the first one on ties.
  bool offer(const Member& member);
  size_t cells_filled() const { return cells_.size(); }
  // The elites in cell order; valid until the next offer.
  std::vector<const Member*> elites() const;

 private:
  std::vector<FeatureDimension> dimensions_;
  std::map<int64_t, Member> cells_;
};

}  // namespace ratchet
