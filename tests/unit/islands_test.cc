#include "engine/islands.h"

#include <catch2/catch.hpp>

#include <random>
#include <set>

using namespace ratchet;

namespace {

CandidateRecord candidate(int64_t id, double speedup, int island = 0, int flags = 1,
                          size_t code_bytes = 500, const std::string& proposer = "flags") {
  CandidateRecord record;
  record.id = id;
  record.island = island;
  record.proposer = proposer;
  record.status = CandidateStatus::evaluated;
  record.program.files["a.c"] = std::string(code_bytes, 'x');
  record.program.flags.assign(flags, "-O2");
  record.edit = {{"kind", "flags"}};
  record.metrics = {{"speedup", speedup}, {"ci_low", speedup - 0.02}, {"ci_high", speedup + 0.02}};
  return record;
}

}  // namespace

TEST_CASE("map_elites: fixed bins place candidates and keep the fastest per cell") {
  MapElitesArchive archive({{"code_size", {1000, 2000}}, {"flag_count", {2, 4}}});
  CHECK(archive.cell_of(candidate(1, 1.0, 0, 3, 1500)) == std::vector<int>{1, 1});
  CHECK(archive.cell_of(candidate(1, 1.0, 0, 0, 999)) == std::vector<int>{0, 0});
  CHECK(archive.cell_of(candidate(1, 1.0, 0, 9, 2000)) == std::vector<int>{2, 2});

  Population population;
  auto member = [&](const CandidateRecord& record) {
    Member m = population.member_of(record);
    m.cell = archive.cell_index(record);
    return m;
  };
  Member slow = member(candidate(1, 1.1, 0, 3, 1500));
  Member fast = member(candidate(2, 1.3, 0, 3, 1600));
  Member slower = member(candidate(3, 1.2, 0, 3, 1700));
  CHECK(slow.cell == 1 * 3 + 1);  // (1, 1) with three bins per dimension
  CHECK(archive.offer(slow));
  CHECK(archive.offer(fast));
  CHECK_FALSE(archive.offer(slower));
  REQUIRE(archive.cells_filled() == 1);
  CHECK(archive.elites()[0]->id == 2);
  CHECK(archive.offer(member(candidate(4, 1.0, 0, 0, 100))));  // another cell
  CHECK(archive.cells_filled() == 2);
}

TEST_CASE("map_elites: features read built-ins and metrics") {
  CandidateRecord c = candidate(1, 1.5, 0, 2, 300);
  c.metrics["binary_size"] = 4096;
  CHECK(feature_value(c, "code_size") == 300);
  CHECK(feature_value(c, "flag_count") == 2);
  CHECK(feature_value(c, "edit_kind") == 0);
  CHECK(feature_value(c, "speedup") == 1.5);
  CHECK(feature_value(c, "binary_size") == 4096);
  CHECK(feature_value(c, "absent") == 0);
}

TEST_CASE("islands: new candidates stay on their island and the step turns round-robin") {
  SearchConfig settings;
  settings.islands = 3;
  settings.migration_interval = 0;
  Islands islands(settings, 0.0);
  islands.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
  islands.add(candidate(2, 1.2, 1));
  islands.add(candidate(3, 1.4, 2));
  CHECK(islands.island(0).size() == 1);  // the baseline is everywhere
  CHECK(islands.island(1).size() == 2);
  CHECK(islands.island(2).size() == 2);
  std::mt19937_64 rng(1);
  CHECK(islands.select(rng).island == 0);
  CHECK(islands.select(rng).island == 1);
  CHECK(islands.select(rng).island == 2);
  CHECK(islands.select(rng).island == 0);
}

TEST_CASE("islands: migration moves each island's best to the next in a ring") {
  SearchConfig settings;
  settings.islands = 2;
  settings.migration_interval = 2;
  Islands islands(settings, 0.0);
  islands.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
  islands.add(candidate(2, 1.5, 0));
  CHECK_FALSE(islands.island(1).contains(2));
  islands.add(candidate(3, 1.1, 1));  // the second evaluation triggers migration
  CHECK(islands.island(1).contains(2));
  CHECK(islands.island(0).contains(3));
}

TEST_CASE("islands: ablation strategies pick the baseline or the fittest") {
  for (const std::string strategy : {"best_of_n", "hill_climb"}) {
    SearchConfig settings;
    settings.strategy = strategy;
    Islands islands(settings, 0.0);
    islands.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
    islands.add(candidate(2, 1.3, 0));
    islands.add(candidate(3, 1.1, 0));
    std::mt19937_64 rng(5);
    for (int i = 0; i < 20; ++i) {
      CHECK(islands.select(rng).parent == (strategy == "best_of_n" ? 1 : 2));
    }
  }
}

TEST_CASE("islands: a weighted score can trade speed for code size") {
  SearchConfig settings;
  settings.strategy = "hill_climb";
  settings.weights = {{"speedup", 1.0}, {"code_size", -0.001}};
  Islands islands(settings, 0.0);
  islands.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
  islands.add(candidate(2, 1.3, 0, 1, 1000));  // 1.3 - 1.0 = 0.3
  islands.add(candidate(3, 1.2, 0, 1, 200));   // 1.2 - 0.2 = 1.0
  std::mt19937_64 rng(1);
  CHECK(islands.select(rng).parent == 3);
  CHECK(islands.best()->id == 2);  // "best" still means fastest with confidence
}

TEST_CASE("islands: the same seed and additions give the same parents") {
  auto run = [](uint64_t seed) {
    SearchConfig settings;
    settings.islands = 2;
    Islands islands(settings, 0.0);
    islands.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
    for (int i = 2; i < 30; ++i) islands.add(candidate(i, 1.0 + i * 0.01, i % 2, i % 7, 100 * i));
    std::mt19937_64 rng(seed);
    std::vector<int64_t> parents;
    for (int i = 0; i < 50; ++i) parents.push_back(islands.select(rng).parent);
    return parents;
  };
  CHECK(run(9) == run(9));
  CHECK(run(9) != run(10));
}

TEST_CASE("islands: inspirations are the fittest and archive elites, never the parent") {
  SearchConfig settings;
  settings.inspirations = 3;
  Islands islands(settings, 0.0);
  islands.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
  for (int i = 2; i < 12; ++i) islands.add(candidate(i, 1.0 + i * 0.02, 0, i % 5, 700 * i));
  std::mt19937_64 rng(3);
  for (int k = 0; k < 20; ++k) {
    ParentChoice choice = islands.select(rng);
    CHECK(choice.inspirations.size() <= 3);
    CHECK_FALSE(choice.inspirations.empty());
    std::set<int64_t> ids;
    for (int64_t inspiration : choice.inspirations) {
      CHECK(inspiration != choice.parent);
      ids.insert(inspiration);
    }
    CHECK(ids.size() == choice.inspirations.size());
  }
}

TEST_CASE("islands: a Pareto objective keeps the non-dominated candidates as elites") {
  SearchConfig settings;
  settings.objective = "pareto";
  settings.pareto = {{"speedup", true}, {"code_size", false}};
  settings.exploitation = 1.0;
  settings.exploration = settings.diversity = 0.0;
  Islands islands(settings, 0.0);
  islands.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
  islands.add(candidate(2, 1.3, 0, 1, 900));  // faster, larger: on the front
  islands.add(candidate(3, 0.9, 0, 1, 600));  // slower and larger than the baseline
  islands.add(candidate(4, 1.1, 0, 1, 300));  // faster and smaller: beats the baseline
  islands.add(candidate(5, 1.3, 0, 1, 900));  // the same as #2: neither dominates
  std::set<int64_t> front;
  for (const Member& member : islands.pareto_front()) front.insert(member.id);
  CHECK(front == std::set<int64_t>{2, 4, 5});
  std::mt19937_64 rng(2);
  std::set<int64_t> parents;
  for (int i = 0; i < 200; ++i) parents.insert(islands.select(rng).parent);
  CHECK(parents == front);  // exploitation draws from the front only
  // A weighted objective keeps no front.
  Islands weighted(SearchConfig{}, 0.0);
  weighted.add(candidate(1, 1.0, 0, 1, 500, "baseline"));
  CHECK(weighted.pareto_front().empty());
}

TEST_CASE("population: dominance needs one strictly better objective") {
  Member a, b;
  a.objectives = {1.0, -500};
  b.objectives = {1.0, -500};
  CHECK_FALSE(dominates(a, b));
  b.objectives = {1.0, -600};
  CHECK(dominates(a, b));
  CHECK_FALSE(dominates(b, a));
  b.objectives = {1.2, -600};
  CHECK_FALSE(dominates(a, b));
  CHECK_FALSE(dominates(b, a));
}
