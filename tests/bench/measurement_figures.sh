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

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A compute loop whose work is proportional to its argument.
cat > "$work/work.c" <<'C'
#include <stdlib.h>
int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 0;
  volatile double sum = 0;
  for (long i = 0; i < n; ++i) sum += (double)i * 0.5;
  return 0;
}
C
gcc -O1 "$work/work.c" -o "$work/work"
n=15000000                   # about 50 ms of CPU here
n5=$((n + n / 20))           # 5% more work

run_trials() {  # LABEL BASELINE_ARGS CANDIDATE_ARGS
  local label="$1" base="$2" cand="$3" faster=0 slower=0 same=0 i
  local ratios=() seconds=()
  for ((i = 1; i <= trials; ++i)); do
    local json verdict
    json="$("$ratchet" measure --format json --seed "$i" --baseline "$work/work $base" -- "$work/work" $cand)"
    verdict="$(grep -o '"verdict": "[a-z]*"' <<<"$json" | cut -d'"' -f4)"
    ratios+=("$(grep -o '"speedup": [0-9.e-]*' <<<"$json" | awk '{print $2}')")
    seconds+=("$(grep -o '"seconds": [0-9.e-]*' <<<"$json" | awk '{print $2}')")
    case "$verdict" in faster) ((++faster)) ;; slower) ((++slower)) ;; *) ((++same)) ;; esac
  done
  printf '%s: %d trials: faster %d, slower %d, same %d\n' "$label" "$trials" "$faster" "$slower" "$same"
  printf '  speedup ratios: %s\n' "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '
    {v[NR]=$1} END {printf "min %.4f  median %.4f  max %.4f", v[1], v[int((NR+1)/2)], v[NR]}')"
  printf '  seconds per decision: %s\n' "$(printf '%s\n' "${seconds[@]}" | sort -g | awk '
    {v[NR]=$1} END {printf "min %.1f  median %.1f  max %.1f", v[1], v[int((NR+1)/2)], v[NR]}')"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
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
