#include "engine/population.h"

#include <map>
#include <random>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

using ratchet::CandidateRecord;
using ratchet::CandidateStatus;
using ratchet::Population;
using ratchet::SearchConfig;

namespace {

CandidateRecord candidate(int64_t id, double speedup, double ci_low, double ci_high,
                          const std::string& proposer = "flags",
                          CandidateStatus status = CandidateStatus::evaluated) {
  CandidateRecord record;
  record.id = id;
  record.proposer = proposer;
  record.status = status;
  record.metrics = {{"speedup", speedup}, {"ci_low", ci_low}, {"ci_high", ci_high}};
  return record;
}

Population sample_population() {
  Population population;
  population.add(candidate(1, 1.00, 0.98, 1.02, "baseline"));
  population.add(candidate(2, 1.04, 0.99, 1.08));
  population.add(candidate(3, 1.31, 1.20, 1.40));
  population.add(candidate(4, 0.97, 0.95, 0.99));
  return population;
}

}  // namespace

TEST_CASE("population: add keeps only evaluated candidates") {
  Population population;
  CHECK(population.empty());
  population.add(candidate(1, 1.0, 1.0, 1.0, "baseline"));
  for (auto status : {CandidateStatus::pending, CandidateStatus::refused,
                      CandidateStatus::build_failed, CandidateStatus::verify_failed,
                      CandidateStatus::benchmark_failed}) {
    population.add(candidate(9, 5.0, 4.0, 6.0, "flags", status));
  }
  CHECK(population.size() == 1);
  REQUIRE(population.highest() != nullptr);
  CHECK(population.highest()->id == 1);
}

TEST_CASE("population: select_parent on an empty population throws") {
  Population population;
  std::mt19937_64 rng(1);
  CHECK_THROWS_AS(population.select_parent(SearchConfig{}, rng), std::logic_error);
}

TEST_CASE("population: a pure tournament of many picks the highest speedup") {
  Population population = sample_population();
  SearchConfig search;
  search.exploration = 0;
  search.tournament_size = 200;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 50; ++i) CHECK(population.select_parent(search, rng).id == 3);
}

TEST_CASE("population: a tournament of one picks uniformly") {
  Population population = sample_population();
  SearchConfig search;
  search.exploration = 0;
  search.tournament_size = 1;
  std::mt19937_64 rng(8);
  std::map<int64_t, int> picks;
  for (int i = 0; i < 4000; ++i) ++picks[population.select_parent(search, rng).id];
  REQUIRE(picks.size() == 4);
  for (const auto& [id, count] : picks) {
    CAPTURE(id);
    CHECK(count > 800);
    CHECK(count < 1200);
  }
}

TEST_CASE("population: tournaments favour the best as the header's example says") {
  // Speedups {1.00, 1.04, 1.31, 0.97}, tournament of 3: the 1.31 candidate
  // wins 1 - (3/4)^3 ≈ 58% of tournaments.
  Population population = sample_population();
  SearchConfig search;
  search.exploration = 0;
  search.tournament_size = 3;
  std::mt19937_64 rng(13);
  int wins = 0;
  constexpr int kDraws = 10000;
  for (int i = 0; i < kDraws; ++i) wins += population.select_parent(search, rng).id == 3;
  CHECK(static_cast<double>(wins) / kDraws == Approx(1 - 27.0 / 64).margin(0.02));
}

TEST_CASE("population: full exploration picks every member") {
  Population population = sample_population();
  SearchConfig search;
  search.exploration = 1;
  search.tournament_size = 1000;  // ignored when exploring
  std::mt19937_64 rng(21);
  std::map<int64_t, int> picks;
  for (int i = 0; i < 2000; ++i) ++picks[population.select_parent(search, rng).id];
  REQUIRE(picks.size() == 4);
  for (const auto& [id, count] : picks) {
    CAPTURE(id);
    CHECK(count > 350);
  }
}

TEST_CASE("population: best is the highest speedup whose interval is above 1") {
  Population population = sample_population();
  population.add(candidate(5, 1.50, 0.90, 2.10));  // highest, but not confidently faster
  population.add(candidate(6, 1.10, 1.05, 1.15));
  REQUIRE(population.best() != nullptr);
  CHECK(population.best()->id == 3);
  REQUIRE(population.highest() != nullptr);
  CHECK(population.highest()->id == 5);
}

TEST_CASE("population: best is nullptr when no interval is above 1") {
  Population population;
  CHECK(population.best() == nullptr);
  population.add(candidate(1, 1.00, 0.98, 1.02, "baseline"));
  population.add(candidate(2, 1.04, 0.99, 1.08));
  population.add(candidate(3, 1.20, 1.00, 1.40));  // ci_low == 1 is not above 1
  CHECK(population.best() == nullptr);
  REQUIRE(population.highest() != nullptr);
  CHECK(population.highest()->id == 3);
}

TEST_CASE("population: best ignores the baseline") {
  Population population;
  population.add(candidate(1, 1.30, 1.10, 1.50, "baseline"));
  CHECK(population.best() == nullptr);
  CHECK(population.highest()->id == 1);
  population.add(candidate(2, 1.05, 1.01, 1.09));
  REQUIRE(population.best() != nullptr);
  CHECK(population.best()->id == 2);
}

TEST_CASE("population: a candidate without metrics counts as speedup 0") {
  Population population;
  CandidateRecord bare;
  bare.id = 1;
  bare.status = CandidateStatus::evaluated;
  bare.proposer = "flags";
  population.add(bare);
  population.add(candidate(2, 0.5, 0.4, 0.6));
  CHECK(population.best() == nullptr);
  CHECK(population.highest()->id == 2);
}

TEST_CASE("population: highest is nullptr when empty") {
  Population population;
  CHECK(population.highest() == nullptr);
}

TEST_CASE("population: a new best must clear the current best with its lower bound") {
  Population population(0.02);
  population.add(candidate(1, 1.00, 0.98, 1.02, "baseline"));
  population.add(candidate(2, 1.30, 1.25, 1.35));
  REQUIRE(population.best() != nullptr);
  CHECK(population.best()->id == 2);
  population.add(candidate(3, 1.34, 1.29, 1.39));  // faster, but 1.29 < 1.30 * 1.02
  CHECK(population.best()->id == 2);
  CHECK(population.highest()->id == 3);
  population.add(candidate(4, 1.45, 1.40, 1.50));  // 1.40 > 1.326: a real improvement
  CHECK(population.best()->id == 4);
}
