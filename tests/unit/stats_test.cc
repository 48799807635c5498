#include "evaluators/stats.h"

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

using ratchet::bootstrap_median_ci;
using ratchet::Interval;
using ratchet::median;
using ratchet::quantile;

TEST_CASE("stats: median of an odd count is the middle value") {
  CHECK(median({3.0, 1.0, 2.0}) == 2.0);
  CHECK(median({1.10, 1.12, 1.08, 1.30, 1.11}) == Approx(1.11));
}

TEST_CASE("stats: median of an even count is the mean of the two middle values") {
  CHECK(median({4.0, 1.0, 3.0, 2.0}) == 2.5);
  CHECK(median({10.0, 0.0}) == 5.0);
}

TEST_CASE("stats: median of a single value is that value") { CHECK(median({7.5}) == 7.5); }

TEST_CASE("stats: median and quantile of an empty sample throw") {
  CHECK_THROWS_AS(median({}), std::invalid_argument);
  CHECK_THROWS_AS(quantile({}, 0.5), std::invalid_argument);
}

TEST_CASE("stats: quantile interpolates linearly between order statistics") {
  std::vector<double> values = {40, 10, 30, 20, 50};  // sorted: 10 20 30 40 50
  CHECK(quantile(values, 0.0) == 10);
  CHECK(quantile(values, 1.0) == 50);
  CHECK(quantile(values, 0.25) == 20);
  CHECK(quantile(values, 0.5) == 30);
  CHECK(quantile(values, 0.125) == Approx(15));
  CHECK(quantile(values, 0.9) == Approx(46));
  CHECK(quantile({5.0}, 0.3) == 5.0);
}

TEST_CASE("stats: bootstrap_median_ci is deterministic for a seed") {
  std::vector<double> values = {1.10, 1.12, 1.08, 1.30, 1.11, 1.09, 1.13, 1.07};
  Interval a = bootstrap_median_ci(values, 0.95, 2000, 42);
  Interval b = bootstrap_median_ci(values, 0.95, 2000, 42);
  CHECK(a.low == b.low);
  CHECK(a.high == b.high);
}

TEST_CASE("stats: bootstrap_median_ci contains the median and lies within the data") {
  std::vector<double> values = {1.10, 1.12, 1.08, 1.30, 1.11};
  Interval ci = bootstrap_median_ci(values, 0.95, 2000, 7);
  double m = median(values);
  CHECK(ci.low <= m);
  CHECK(m <= ci.high);
  CHECK(ci.low >= 1.08);
  CHECK(ci.high <= 1.30);
  CHECK(ci.low < ci.high);
}

TEST_CASE("stats: bootstrap_median_ci of constant data is a point") {
  std::vector<double> values(12, 1.25);
  Interval ci = bootstrap_median_ci(values, 0.95, 500, 3);
  CHECK(ci.low == 1.25);
  CHECK(ci.high == 1.25);
}

TEST_CASE("stats: bootstrap_median_ci is wider for noisier data") {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> quiet;
  std::vector<double> noisy;
  for (int i = 0; i < 30; ++i) {
    double z = noise(rng);
    quiet.push_back(1.0 + 0.01 * z);
    noisy.push_back(1.0 + 0.10 * z);
  }
  Interval narrow = bootstrap_median_ci(quiet, 0.95, 2000, 5);
  Interval wide = bootstrap_median_ci(noisy, 0.95, 2000, 5);
  CHECK(wide.high - wide.low > 5 * (narrow.high - narrow.low));
}

TEST_CASE("stats: a higher confidence gives a wider interval") {
  std::vector<double> values = {0.9, 1.3, 1.0, 1.2, 1.05, 0.95, 1.1, 1.15, 1.02, 0.98};
  Interval ci80 = bootstrap_median_ci(values, 0.80, 4000, 9);
  Interval ci99 = bootstrap_median_ci(values, 0.99, 4000, 9);
  CHECK(ci99.low <= ci80.low);
  CHECK(ci99.high >= ci80.high);
  CHECK(ci99.high - ci99.low > ci80.high - ci80.low);
}

TEST_CASE("stats: bootstrap_median_ci of an empty sample throws") {
  CHECK_THROWS_AS(bootstrap_median_ci({}, 0.95, 100, 1), std::invalid_argument);
}

TEST_CASE("stats: the 95% bootstrap interval covers the true median in most samples") {
  // Lognormal(0, 0.1) has median exactly 1.0: timing ratios around "no change".
  std::mt19937_64 rng(2024);
  std::lognormal_distribution<double> ratio(0.0, 0.1);
  int covered = 0;
  constexpr int kSamples = 200;
  for (int s = 0; s < kSamples; ++s) {
    std::vector<double> values(15);
    for (auto& value : values) value = ratio(rng);
    Interval ci = bootstrap_median_ci(values, 0.95, 1000, 1000 + s);
    if (ci.low <= 1.0 && 1.0 <= ci.high) ++covered;
  }
  double coverage = static_cast<double>(covered) / kSamples;
  CAPTURE(coverage);
  CHECK(coverage >= 0.85);
  CHECK(coverage <= 1.0);
}
