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

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
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

measure() {  # OUT SEED BASE CAND [--cpu N]
  local out="$1" seed="$2" base="$3" cand="$4"
  shift 4
  "$ratchet" measure --format json --seed "$seed" "$@" --baseline "$work/work $base" \
    -- "$work/work" "$cand" > "$out"
}

summarize() {  # LABEL FILES...
  local label="$1" faster=0 slower=0 same=0 f
  shift
  local ratios=() seconds=()
  for f in "$@"; do
    case "$(grep -o '"verdict": "[a-z]*"' "$f" | cut -d'"' -f4)" in
      faster) ((++faster)) ;; slower) ((++slower)) ;; *) ((++same)) ;;
    esac
    ratios+=("$(grep -o '"speedup": [0-9.e-]*' "$f" | awk '{print $2}')")
    seconds+=("$(grep -o '"seconds": [0-9.e-]*' "$f" | awk '{print $2}')")
  done
  printf '%s: %d decisions: faster %d, slower %d, same %d\n' "$label" "$#" "$faster" "$slower" "$same"
  printf '  speedup ratios: %s\n' "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '
    {v[NR]=$1} END {printf "min %.4f  median %.4f  max %.4f", v[1], v[int((NR+1)/2)], v[NR]}')"
  printf '  seconds per decision: %s\n' "$(printf '%s\n' "${seconds[@]}" | sort -g | awk '
    {v[NR]=$1} END {printf "min %.1f  median %.1f  max %.1f", v[1], v[int((NR+1)/2)], v[NR]}')"
}

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

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run "A/A (identical)" "$n" "$n"
run "A/B (candidate does 5% more work)" "$n" "$n5"
