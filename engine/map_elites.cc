#include "engine/map_elites.h"

#include <algorithm>

namespace ratchet {

const std::vector<std::string>& builtin_features() {
  static const std::vector<std::string> names = {"code_size", "flag_count", "edit_kind",
                                                 "speedup"};
  return names;
}

double feature_value(const CandidateRecord& candidate, const std::string& name) {
  if (name == "code_size") {
    size_t bytes = 0;
    for (const auto& [path, text] : candidate.program.files) bytes += text.size();
    return static_cast<double>(bytes);
  }
  if (name == "flag_count") return static_cast<double>(candidate.program.flags.size());
  if (name == "edit_kind") {
    if (!candidate.edit.is_object()) return -1;  // the baseline
    auto kind = edit_kind_from_string(candidate.edit.value("kind", ""));
    return kind ? static_cast<double>(*kind) : -1;
  }
  if (name == "speedup") return candidate.speedup().value_or(0);
  auto it = candidate.metrics.find(name);
  return it != candidate.metrics.end() && it->is_number() ? it->get<double>() : 0;
}

MapElitesArchive::MapElitesArchive(std::vector<FeatureDimension> dimensions)
    : dimensions_(std::move(dimensions)) {}

std::vector<int> MapElitesArchive::cell_of(const CandidateRecord& candidate) const {
  std::vector<int> cell;
  for (const auto& dimension : dimensions_) {
    double value = feature_value(candidate, dimension.name);
    auto bin = std::upper_bound(dimension.edges.begin(), dimension.edges.end(), value);
    cell.push_back(static_cast<int>(bin - dimension.edges.begin()));
  }
  return cell;
}

int64_t MapElitesArchive::cell_index(const CandidateRecord& candidate) const {
  std::vector<int> cell = cell_of(candidate);
  int64_t index = 0;
  for (size_t i = 0; i < dimensions_.size(); ++i) {
    index = index * static_cast<int64_t>(dimensions_[i].edges.size() + 1) + cell[i];
  }
  return index;
}

bool MapElitesArchive::offer(const Member& member) {
  auto [occupant, inserted] = cells_.try_emplace(member.cell, member);
  if (inserted) return true;
  if (occupant->second.speedup >= member.speedup) return false;
  occupant->second = member;
  return true;
}

std::vector<const Member*> MapElitesArchive::elites() const {
  std::vector<const Member*> out;
  for (const auto& [cell, elite] : cells_) out.push_back(&elite);
  return out;
}

}  // namespace ratchet
