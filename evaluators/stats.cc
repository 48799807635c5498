#include "evaluators/stats.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace ratchet {

double quantile(std::vector<double> values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile of an empty sample");
  std::sort(values.begin(), values.end());
  double position = q * static_cast<double>(values.size() - 1);
  size_t lower = static_cast<size_t>(std::floor(position));
  size_t upper = std::min(lower + 1, values.size() - 1);
  double fraction = position - static_cast<double>(lower);
  return values[lower] + (values[upper] - values[lower]) * fraction;
}

double median(std::vector<double> values) { return quantile(std::move(values), 0.5); }

Interval bootstrap_median_ci(const std::vector<double>& values, double confidence,
                             int resamples, uint64_t seed) {
  if (values.empty()) throw std::invalid_argument("bootstrap of an empty sample");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  std::vector<double> medians;
  medians.reserve(resamples);
  std::vector<double> resample(values.size());
  for (int r = 0; r < resamples; ++r) {
    for (auto& value : resample) value = values[pick(rng)];
    size_t middle = resample.size() / 2;
    std::nth_element(resample.begin(), resample.begin() + middle, resample.end());
    double m = resample[middle];
    if (resample.size() % 2 == 0) {
      double below = *std::max_element(resample.begin(), resample.begin() + middle);
      m = (m + below) / 2;
    }
    medians.push_back(m);
  }
  double tail = (1.0 - confidence) / 2;
  return {quantile(medians, tail), quantile(medians, 1.0 - tail)};
}

}  // namespace ratchet
