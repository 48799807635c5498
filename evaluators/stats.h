// Statistics for A/B timing.
//
// A speedup is the median of per-pair ratios baseline_time / candidate_time,
// where each pair times the baseline and the candidate back to back in random
// order. Pairing cancels slow drifts of the machine (another tenant waking
// up hits both runs of a pair); the median ignores the occasional pair that a
// burst of noise spoiled. Its 95% confidence interval comes from the
// percentile bootstrap: resample the pairs with replacement, take the median
// of each resample, and read the 2.5th and 97.5th percentiles.
//
// Worked example: ratios {1.10, 1.12, 1.08, 1.30, 1.11} → median 1.11; the
// bootstrap medians mostly fall in [1.08, 1.12] (1.30 rarely moves a median),
// so the candidate is "faster" at 95% with a lower bound of 1.08.
#pragma once

#include <cstdint>
#include <vector>

namespace ratchet {

double median(std::vector<double> values);
// Linear interpolation between order statistics; `q` in [0, 1].
double quantile(std::vector<double> values, double q);

struct Interval {
  double low = 0;
  double high = 0;
};

// Percentile-bootstrap interval of the median. Deterministic for a seed.
Interval bootstrap_median_ci(const std::vector<double>& values, double confidence,
                             int resamples, uint64_t seed);

}  // namespace ratchet
