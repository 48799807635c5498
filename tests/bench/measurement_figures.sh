#!/usr/bin/env bash
# Figures for docs/measurement.md: how often `ratchet measure` claims a
# difference between identical programs (A/A), how often it finds a 5%
# slowdown (A/B), and whether instruction counts repeat exactly.
#
#   tests/bench/measurement_figures.sh [BUILD_DIR] [TRIALS]
#
# Not a test: it prints figures. Takes a few minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
trials="${2:-20}"
ratchet="$build/engine/ratchet"
[ -x "$ratchet" ] || { echo "no ratchet binary at $ratchet (build first)" >&2; exit 2; }

source "$here/tests/bench/trials.sh"

run_trials() {  # LABEL BASELINE_ARGS CANDIDATE_ARGS
  local i
  for ((i = 1; i <= trials; ++i)); do measure "$work/trial-$i" "$i" "$2" "$3"; done
  summarize "$1" "$work"/trial-*
  rm -f "$work"/trial-*
}

machine_line
run_trials "A/A (identical)" "$n" "$n"
run_trials "A/B (candidate does 5% more work)" "$n" "$n5"

echo "instructions mode, 5 runs of the same pair:"
small=300000
for i in 1 2 3 4 5; do
  "$ratchet" measure --mode instructions --format json --baseline "$work/work $small" -- "$work/work" "$small" |
    grep -o '"estimated_cycles": [0-9.e+]*' | awk '{printf "%s ", $2}'
  echo
done
start=$(date +%s%N)
"$work/work" $((small * 100))
plain=$(( $(date +%s%N) - start ))
start=$(date +%s%N)
valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file=/dev/null "$work/work" $((small * 100)) 2>/dev/null
counted=$(( $(date +%s%N) - start ))
awk -v c="$counted" -v p="$plain" 'BEGIN {printf "callgrind slowdown on this loop: %.1fx (wall; %.0f ms plain)\n", c / p, p / 1e6}'
