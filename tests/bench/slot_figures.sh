#!/usr/bin/env bash
# Figures for docs/measurement.md: what a benchmark on the other core costs.
# The same A/A (identical programs) and A/B (the candidate does 5% more work)
# trials as measurement_figures.sh, run two ways:
#   one slot:  one `ratchet measure` at a time, holding the whole machine;
#   two slots: two at once, pinned to cores 0 and 1 (`--cpu`), as a campaign
#              with `benchmark.slots: 2` runs them.
#
#   tests/bench/slot_figures.sh [BUILD_DIR] [TRIALS]
#
# Not a test: it prints figures. Takes a few minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
trials="${2:-20}"
ratchet="$build/engine/ratchet"
[ -x "$ratchet" ] || { echo "no ratchet binary at $ratchet (build first)" >&2; exit 2; }
[ "$(nproc)" -ge 2 ] || { echo "needs two cores" >&2; exit 2; }

source "$here/tests/bench/trials.sh"

run() {  # LABEL BASE CAND
  local label="$1" base="$2" cand="$3" i start
  start=$SECONDS
  for ((i = 1; i <= trials; ++i)); do measure "$work/one-$i" "$i" "$base" "$cand"; done
  local one_wall=$((SECONDS - start))
  start=$SECONDS
  for ((i = 1; i <= trials; ++i)); do
    measure "$work/two-a-$i" "$i" "$base" "$cand" --cpu 0 &
    measure "$work/two-b-$i" "$((i + 1000))" "$base" "$cand" --cpu 1 &
    wait
  done
  local two_wall=$((SECONDS - start))
  summarize "$label, one slot" "$work"/one-*
  printf '  wall: %d s for %d decisions\n' "$one_wall" "$trials"
  summarize "$label, two slots" "$work"/two-*
  printf '  wall: %d s for %d decisions\n' "$two_wall" "$((2 * trials))"
  rm -f "$work"/one-* "$work"/two-*
}

machine_line
run "A/A (identical)" "$n" "$n"
run "A/B (candidate does 5% more work)" "$n" "$n5"
